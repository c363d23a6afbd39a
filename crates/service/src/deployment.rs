//! One way to open a deployment, for the command line and the server alike: the data
//! directory (`anxin init` makes it), its keys, the backend chosen by the database URL, and
//! the signed checkpoint kept outside the database, which every committed write advances
//! whichever front end made it ([`FileCheckpoint`], set on the records [`Deployment::records`]
//! opens).
//!
//! ```text
//! anxin-data/
//!   anxin.toml        database URL, suite, origin, key file names
//!   keys/log.skey     the log signing key (0600)
//!   keys/log.vkey     its public key: give this to whoever verifies certificates
//!   keys/data.key     the data key protecting resident IDs (0600); ANXIN_DATA_KEY overrides
//!   anxin.db          the SQLite database (when not on PostgreSQL)
//!   checkpoint        the latest signed checkpoint, kept outside the database for the audit
//! ```

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anxin_ledger::Signer;
use anxin_records::records::OutsideCheckpoint;
use anxin_records::{DataKey, Records, Secrets, Store, Suite};
use serde::{Deserialize, Serialize};

pub const CONFIG_FILE: &str = "anxin.toml";
pub const CHECKPOINT_FILE: &str = "checkpoint";

/// Why a deployment could not be opened or made; each kind maps to an exit code in the CLI.
#[derive(Debug)]
pub enum Error {
    BadInput {
        zh: String,
        en: String,
    },
    NotFound {
        zh: String,
        en: String,
    },
    /// The data directory, a key or the checkpoint file could not be read or written.
    Data {
        zh: String,
        en: String,
    },
    Records(anxin_records::Error),
}

impl Error {
    fn bad_input(zh: impl Into<String>, en: impl Into<String>) -> Error {
        Error::BadInput {
            zh: zh.into(),
            en: en.into(),
        }
    }
    fn data(zh: impl Into<String>, en: impl Into<String>) -> Error {
        Error::Data {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

impl From<anxin_records::Error> for Error {
    fn from(e: anxin_records::Error) -> Error {
        Error::Records(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::BadInput { zh, en } | Error::NotFound { zh, en } | Error::Data { zh, en } => {
                write!(f, "{zh} / {en}")
            }
            Error::Records(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `sqlite:anxin.db` (relative to the data directory) or `postgres://…`.
    pub database: String,
    pub suite: String,
    pub origin: String,
    pub signing_key_file: String,
    pub public_key_file: String,
    pub data_key_file: String,
    /// The inbox: reform overlays it applies and its webhook (absent: no webhook).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbox: Option<crate::inbox::InboxConfig>,
    /// Cases: the reform overlays the deployment runs on their clocks (say
    /// `complaint-72h-response`, the seeds' 72-hour first response); absent: the law in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cases: Option<CasesConfig>,
}

/// `[cases]` of `anxin.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasesConfig {
    #[serde(default)]
    pub reforms: Vec<String>,
}

impl Config {
    /// The reforms the case engine runs (empty: the law in force).
    pub fn case_reforms(&self) -> Vec<String> {
        self.cases
            .as_ref()
            .map(|c| c.reforms.clone())
            .unwrap_or_default()
    }
}

impl Config {
    /// `sqlite` or `postgres`, for the log (never the URL: it may hold a password).
    pub fn backend(&self) -> &'static str {
        if self.database.starts_with("sqlite:") {
            "sqlite"
        } else {
            "postgres"
        }
    }
}

/// An opened data directory.
pub struct Deployment {
    pub dir: PathBuf,
    pub config: Config,
}

impl Deployment {
    /// Reads the data directory's configuration (nothing is opened yet).
    pub fn open(dir: &Path) -> Result<Deployment> {
        let path = dir.join(CONFIG_FILE);
        let text = fs::read_to_string(&path).map_err(|e| Error::NotFound {
            zh: format!(
                "找不到数据目录 {}（{e}）：先运行 anxin init，或用 --data 指定目录",
                dir.display()
            ),
            en: format!(
                "no data directory at {} ({e}): run anxin init first, or point --data at one",
                dir.display()
            ),
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| {
            Error::bad_input(
                format!("{} 格式错误：{e}", path.display()),
                format!("{} is malformed: {e}", path.display()),
            )
        })?;
        Ok(Deployment {
            dir: dir.to_path_buf(),
            config,
        })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn signer(&self) -> Result<Signer> {
        let text = read_secret(&self.file(&self.config.signing_key_file))?;
        Signer::from_skey(text.trim()).map_err(|e| {
            Error::data(
                format!("签名密钥无效：{e}"),
                format!("the signing key is invalid: {e}"),
            )
        })
    }

    pub fn data_key(&self) -> Result<DataKey> {
        let text = match std::env::var("ANXIN_DATA_KEY") {
            Ok(v) if !v.is_empty() => v,
            _ => read_secret(&self.file(&self.config.data_key_file))?,
        };
        let bytes = anxin_records::keys::unhex(text.trim())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .ok_or_else(|| {
                Error::bad_input(
                    "数据密钥须为 64 位小写十六进制",
                    "the data key must be 64 lowercase hex digits",
                )
            })?;
        Ok(DataKey::from_secret(&bytes))
    }

    /// The inbox settings (the defaults when `anxin.toml` has no `[inbox]`).
    pub fn inbox(&self) -> crate::inbox::InboxConfig {
        self.config.inbox.clone().unwrap_or_default()
    }

    /// The configured webhook, ready to post; `None` when none is configured. The secret comes
    /// from `ANXIN_WEBHOOK_SECRET`, else from the configured file.
    pub fn webhook(&self) -> Result<Option<crate::inbox::Webhook>> {
        let Some(config) = self.inbox().webhook else {
            return Ok(None);
        };
        let secret = match std::env::var("ANXIN_WEBHOOK_SECRET") {
            Ok(v) if !v.is_empty() => v,
            _ => read_secret(&self.file(&config.secret_file))?,
        };
        crate::inbox::Webhook::new(&config, secret.trim().as_bytes())
            .map(Some)
            .map_err(|e| Error::bad_input(e.zh, e.en))
    }

    pub fn public_key_text(&self) -> Result<String> {
        fs::read_to_string(self.file(&self.config.public_key_file))
            .map(|s| s.trim().to_string())
            .map_err(|e| {
                Error::data(
                    format!("读不到公钥：{e}"),
                    format!("cannot read the public key: {e}"),
                )
            })
    }

    pub fn open_store(&self) -> Result<Box<dyn Store>> {
        open_store(&self.dir, &self.config.database)
    }

    /// The records, with the outside checkpoint file attached: every commit through them
    /// advances it, and their audit requires it.
    pub fn records(&self) -> Result<Records<Box<dyn Store>>> {
        let store = self.open_store()?;
        let secrets = Secrets {
            data_key: self.data_key()?,
            signer: self.signer()?,
        };
        let mut records = Records::open(store, secrets)?;
        records.set_outside(Box::new(self.checkpoint_file()));
        Ok(records)
    }

    /// The checkpoint file kept outside the database.
    pub fn checkpoint_file(&self) -> FileCheckpoint {
        FileCheckpoint {
            path: self.file(CHECKPOINT_FILE),
        }
    }

    /// The checkpoint kept outside the database, if any.
    pub fn outside_checkpoint(&self) -> Option<String> {
        fs::read_to_string(self.file(CHECKPOINT_FILE)).ok()
    }

    /// Replaces the outside checkpoint atomically (write, fsync, rename).
    pub fn save_checkpoint(&self, text: &str) -> Result<()> {
        write_atomic(&self.file(CHECKPOINT_FILE), text).map_err(|e| {
            Error::data(
                format!("写检查点文件失败：{e}"),
                format!("writing the checkpoint file failed: {e}"),
            )
        })
    }
}

/// The data directory's `checkpoint` file: the latest signed checkpoint, kept outside the
/// database so that a database rolled back or replaced by an older copy is caught.
pub struct FileCheckpoint {
    pub path: PathBuf,
}

impl OutsideCheckpoint for FileCheckpoint {
    /// Replaces the file atomically (write a temporary file, fsync, rename, fsync the
    /// directory), unless it already holds a larger checkpoint (another process, the CLI
    /// beside a running server, committed later and wrote first).
    fn advance(&mut self, checkpoint: &str) -> anxin_records::Result<()> {
        if let (Some(new), Ok(Some(old))) = (checkpoint_size(checkpoint), self.read())
            && checkpoint_size(&old).is_some_and(|old| old > new)
        {
            return Ok(());
        }
        write_atomic(&self.path, checkpoint).map_err(|e| {
            anxin_records::Error::Store(format!(
                "写检查点文件失败 writing the checkpoint file failed: {e}"
            ))
        })
    }

    fn read(&self) -> anxin_records::Result<Option<String>> {
        match fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anxin_records::Error::Store(format!(
                "读不到检查点文件 cannot read the checkpoint file: {e}"
            ))),
        }
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn reader(&self) -> Option<Box<dyn OutsideCheckpoint>> {
        Some(Box::new(CheckpointFileReader {
            file: FileCheckpoint {
                path: self.path.clone(),
            },
        }))
    }
}

/// The `checkpoint` file for a reader beside the writer: it reads the file and never writes
/// it (only the writer, after its commits, advances it).
struct CheckpointFileReader {
    file: FileCheckpoint,
}

impl OutsideCheckpoint for CheckpointFileReader {
    fn advance(&mut self, _checkpoint: &str) -> anxin_records::Result<()> {
        Err(anxin_records::Error::Store(
            "读连接不写检查点文件 a reader does not write the checkpoint file".into(),
        ))
    }

    fn read(&self) -> anxin_records::Result<Option<String>> {
        self.file.read()
    }

    fn describe(&self) -> String {
        self.file.describe()
    }
}

/// The tree size a checkpoint note states (its second line), without checking the signature.
fn checkpoint_size(text: &str) -> Option<u64> {
    text.lines().nth(1)?.trim().parse().ok()
}

fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".checkpoint.{}.tmp", std::process::id()));
    let mut f = fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, path)?;
    #[cfg(unix)]
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

pub fn open_store(dir: &Path, database: &str) -> Result<Box<dyn Store>> {
    if let Some(file) = database.strip_prefix("sqlite:") {
        let path = dir.join(file);
        Ok(Box::new(anxin_store_sqlite::SqliteStore::open(&path)?))
    } else if database.starts_with("postgres://") || database.starts_with("postgresql://") {
        Ok(Box::new(anxin_store_postgres::PgStore::connect(database)?))
    } else {
        Err(Error::bad_input(
            format!(
                "不支持的数据库地址 {database:?}：可用 sqlite:文件名 或 postgres://用户@主机/库"
            ),
            format!(
                "unsupported database {database:?}: use sqlite:FILE or postgres://user@host/db"
            ),
        ))
    }
}

fn read_secret(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| {
        Error::data(
            format!("读不到密钥文件 {}：{e}", path.display()),
            format!("cannot read key file {}: {e}", path.display()),
        )
    })
}

fn write_private(path: &Path, text: &str) -> Result<()> {
    let io = |e: std::io::Error| {
        Error::data(
            format!("写 {} 失败：{e}", path.display()),
            format!("writing {} failed: {e}", path.display()),
        )
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path).map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)
}

/// `anxin init`: a new data directory with keys, database and the signed empty log.
pub fn init(dir: &Path, database: Option<&str>, suite: &str, origin: &str) -> Result<Deployment> {
    let suite = Suite::parse(suite)?;
    if dir.join(CONFIG_FILE).exists() {
        return Err(Error::bad_input(
            format!("{} 已经是数据目录，不会覆盖", dir.display()),
            format!(
                "{} is already a data directory; it will not be overwritten",
                dir.display()
            ),
        ));
    }
    let io = |e: std::io::Error| {
        Error::data(
            format!("建目录失败：{e}"),
            format!("creating the directory failed: {e}"),
        )
    };
    fs::create_dir_all(dir.join("keys")).map_err(io)?;
    let signer = match suite {
        Suite::Standard => Signer::generate(origin),
        Suite::Guomi => Signer::generate_sm2(origin),
    }
    .map_err(|e| {
        Error::data(
            format!("生成签名密钥失败：{e}"),
            format!("making the signing key failed: {e}"),
        )
    })?;
    let secret = DataKey::generate_secret()?;
    let config = Config {
        database: database.unwrap_or("sqlite:anxin.db").to_string(),
        suite: suite.as_str().to_string(),
        origin: origin.to_string(),
        signing_key_file: "keys/log.skey".into(),
        public_key_file: "keys/log.vkey".into(),
        data_key_file: "keys/data.key".into(),
        inbox: None,
        cases: None,
    };
    write_private(
        &dir.join(&config.signing_key_file),
        &format!("{}\n", signer.to_skey()),
    )?;
    write_private(
        &dir.join(&config.data_key_file),
        &format!("{}\n", anxin_records::keys::hex(&secret)),
    )?;
    fs::write(
        dir.join(&config.public_key_file),
        format!("{}\n", signer.verifier().to_vkey()),
    )
    .map_err(io)?;
    let store = open_store(dir, &config.database)?;
    let mut records = Records::init(
        store,
        Secrets {
            data_key: DataKey::from_secret(&secret),
            signer,
        },
        suite,
        origin,
    )?;
    let text = toml::to_string(&config).expect("plain strings serialize");
    fs::write(dir.join(CONFIG_FILE), text).map_err(io)?;
    let deployment = Deployment {
        dir: dir.to_path_buf(),
        config,
    };
    deployment.save_checkpoint(&records.store().head()?.checkpoint)?;
    Ok(deployment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_sizes_are_read_from_the_note() {
        assert_eq!(checkpoint_size("origin\n42\nroot=\n\n— sig\n"), Some(42));
        assert_eq!(checkpoint_size("origin\n"), None);
        assert_eq!(checkpoint_size(""), None);
    }
}
