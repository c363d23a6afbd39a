//! What the command line's test files share: running `anxin` on a data directory with a
//! clean environment, scratch directories, valid resident IDs, and `psql` against the local
//! PostgreSQL. Each test file takes what it needs (`mod support;`), so not every item is
//! used by every file.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// The local PostgreSQL server the tests use (trust auth, as `scripts/test` sets it up).
pub const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432";

/// Settings `anxin` reads from the environment: removed so that only a test's own flags count.
const ANXIN_ENV: [&str; 9] = [
    "ANXIN_CONFIG",
    "ANXIN_ADDR",
    "ANXIN_DATA",
    "ANXIN_POLICY",
    "ANXIN_SECURE_COOKIES",
    "ANXIN_LOG",
    "ANXIN_LOG_FORMAT",
    "ANXIN_DEMO_WORKERS",
    "ANXIN_DATA_KEY",
];

/// `anxin ARGS…` with none of anxin's settings inherited from the environment.
pub fn command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_anxin"));
    c.args(args);
    for v in ANXIN_ENV {
        c.env_remove(v);
    }
    c
}

/// `anxin --data DATA ARGS…`, the environment as in [`command`].
pub fn anxin(data: &Path, args: &[&str]) -> Command {
    let mut c = command(&[]);
    c.arg("--data").arg(data).args(args);
    c
}

/// The password `anxin account add` gives the accounts these tests make.
pub const PASSWORD: &str = "a test password 1";

/// Runs `anxin --today 2026-11 --data DATA ARGS…`: (exit code, stdout, stderr).
pub fn anxin_in(data: &Path, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["--today", "2026-11"];
    all.extend_from_slice(args);
    let out = anxin(data, &all)
        .env("ANXIN_PASSWORD", PASSWORD)
        .output()
        .expect("run anxin");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh, empty directory under the system's temporary folder, removed with everything in it
/// when dropped (also when the test fails). It reads as the `Path` it is: `root.join("data")`.
pub struct Scratch(tempfile::TempDir);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

/// A [`Scratch`] directory named `anxin-{prefix}-{name}-…`.
pub fn scratch(prefix: &str, name: &str) -> Scratch {
    Scratch(
        tempfile::Builder::new()
            .prefix(&format!("anxin-{prefix}-{name}-"))
            .tempdir()
            .expect("scratch dir"),
    )
}

/// A valid resident ID: the 17-digit prefix plus its GB 11643 check digit.
pub fn id(prefix17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = prefix17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| (b - b'0') as u32 * w)
        .sum();
    format!("{prefix17}{}", b"10X98765432"[(sum % 11) as usize] as char)
}

/// Runs one SQL statement with `psql` on `database` of the local server.
pub fn psql_output(database: &str, sql: &str) -> std::process::Output {
    Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            &format!("{POSTGRES}/{database}"),
            "-c",
            sql,
        ])
        .output()
        .expect("the psql tool")
}

/// Like [`psql_output`], and the statement must succeed.
pub fn psql(database: &str, sql: &str) {
    let out = psql_output(database, sql);
    assert!(
        out.status.success(),
        "psql {sql}: {} (is PostgreSQL running? pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start)",
        String::from_utf8_lossy(&out.stderr)
    );
}
