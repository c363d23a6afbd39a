//! An instance's federation key, its peers, and the sealed box that carries a resident ID
//! from one instance to another.
//!
//! **One key per instance, apart from the checkpoint key.** The log's checkpoint key may be
//! SM2 (the guomi suite) and signs only checkpoints; the federation key is always Ed25519
//! (`keys/federation.key` in the data directory: 64 hex digits of its RFC 8032 seed, mode 0600)
//! and signs only federation messages (context [`super::message::CONTEXT`]), so neither
//! signature can pass as the other. A peer is trusted with both public keys: its federation
//! key (messages) and its log key (the checkpoints its inclusion proofs end in).
//!
//! **Identity crossing.** Each instance keys persons with its own data key, so the same person
//! has unrelated keys on two instances and a key is useless to the other side. The resident
//! ID itself crosses, and only sealed to the receiving instance: an ephemeral X25519 key,
//! agreed with the receiver's X25519 key — the Montgomery form of its Ed25519 federation key
//! (RFC 7748 birational map, as libsodium's `crypto_sign_ed25519_pk_to_curve25519`; the
//! secret is the clamped SHA-512 half of the seed) — a key derived by SHA-256 from the shared
//! secret and both public keys, and ChaCha20-Poly1305 with the transfer, sender and receiver
//! as associated data (a sealed ID cannot be moved into another transfer or to another
//! pair of instances). The receiver opens it and keys the person with its own secret. The ID
//! is never in clear on the wire, in a message, a stored row or a log line.

use std::path::Path;

use anxin_domain::RegionCode;
use anxin_ledger::{LogHasher, Sha256Hasher, Signer, Sm3Hasher, Verifier};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use curve25519_dalek::montgomery::MontgomeryPoint;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::{Refusal, Why};

/// The file of the instance's federation key, in the data directory.
pub const KEY_FILE: &str = "keys/federation.key";
/// The peers file, in the data directory.
pub const PEERS_FILE: &str = "peers.toml";
/// Most peers a file may list.
pub const MAX_PEERS: usize = 256;

/// This instance's federation key. `Debug` never prints the secret.
#[derive(Clone)]
pub struct InstanceKey {
    name: String,
    seed: [u8; 32],
    signer: Signer,
}

impl std::fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "InstanceKey({}, …)", self.name)
    }
}

fn internal(zh: &str, en: String) -> Refusal {
    Refusal::new(Why::Internal, zh.to_string(), en)
}

impl InstanceKey {
    /// The key of instance `name` from its 32-byte seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<InstanceKey, Refusal> {
        check_name(name)?;
        let signer = Signer::from_seed(name, &seed)
            .map_err(|e| internal("联邦密钥无效", format!("invalid federation key: {e}")))?;
        Ok(InstanceKey {
            name: name.to_string(),
            seed,
            signer,
        })
    }

    /// A fresh key from the operating system's random source.
    pub fn generate(name: &str) -> Result<InstanceKey, Refusal> {
        InstanceKey::from_seed(name, random32()?)
    }

    /// Reads `federation.key` from the data directory, creating it (0600) the first time.
    pub fn load_or_create(dir: &Path, name: &str) -> Result<InstanceKey, Refusal> {
        let path = dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let bytes = anxin_records::keys::unhex(text.trim())
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        internal(
                            "联邦密钥文件应为 64 位小写十六进制",
                            format!("{KEY_FILE} must hold 64 lowercase hex digits"),
                        )
                    })?;
                InstanceKey::from_seed(name, bytes)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = InstanceKey::generate(name)?;
                write_private(&path, &format!("{}\n", anxin_records::keys::hex(&key.seed)))
                    .map_err(|e| {
                        internal("无法写入联邦密钥", format!("cannot write {KEY_FILE}: {e}"))
                    })?;
                Ok(key)
            }
            Err(e) => Err(internal(
                "无法读取联邦密钥",
                format!("cannot read {KEY_FILE}: {e}"),
            )),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The Ed25519 public key, as peers list it.
    pub fn public(&self) -> [u8; 32] {
        ed25519_dalek::SigningKey::from_bytes(&self.seed)
            .verifying_key()
            .to_bytes()
    }

    /// The public key in standard base64 (the `key` of a peers file entry).
    pub fn public_text(&self) -> String {
        B64.encode(self.public())
    }

    /// This instance's witness (its cosigning key derives from the federation seed).
    pub fn witness(&self, name: &str) -> super::witness::Witness {
        super::witness::Witness::new(name, &self.seed)
    }

    pub(crate) fn sign(&self, context: &str, message: &[u8]) -> Result<[u8; 64], Refusal> {
        anxin_ledger::sign_bytes(&self.signer, context, message)
            .map_err(|e| internal("签名失败", format!("signing failed: {e}")))
    }

    fn x25519_secret(&self) -> [u8; 32] {
        ed25519_dalek::SigningKey::from_bytes(&self.seed).to_scalar_bytes()
    }

    /// Opens what [`seal_to`] sealed to this instance with the same associated data.
    pub fn open(&self, aad: &[u8], sealed: &str) -> Result<Vec<u8>, Refusal> {
        let cannot = || {
            Refusal::new(
                Why::IdentityDoesNotOpen,
                "加密的身份信息无法用本实例的密钥打开（不是封给本实例的，或已被改动）",
                "the sealed identity does not open with this instance's key (not sealed to it, or altered)",
            )
        };
        let bytes = B64.decode(sealed).map_err(|_| cannot())?;
        if bytes.len() < 32 + 16 || bytes.len() > 4096 {
            return Err(cannot());
        }
        let (eph, body) = bytes.split_at(32);
        let eph = MontgomeryPoint(eph.try_into().map_err(|_| cannot())?);
        let shared = eph.mul_clamped(self.x25519_secret());
        let me = MontgomeryPoint::mul_base_clamped(self.x25519_secret());
        let key = box_key(&shared, &eph, &me).ok_or_else(cannot)?;
        ChaCha20Poly1305::new((&key).into())
            .decrypt(&Nonce::default(), Payload { msg: body, aad })
            .map_err(|_| cannot())
    }
}

fn check_name(name: &str) -> Result<(), Refusal> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/'));
    if ok {
        Ok(())
    } else {
        Err(Refusal::new(
            Why::Malformed,
            "实例名只能由 1–64 个字母、数字和 . - _ / 组成",
            "an instance name is 1–64 letters, digits and . - _ /",
        ))
    }
}

fn random32() -> Result<[u8; 32], Refusal> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).map_err(|e| internal("随机数不可用", format!("random source: {e}")))?;
    Ok(b)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

fn box_key(
    shared: &MontgomeryPoint,
    eph: &MontgomeryPoint,
    to: &MontgomeryPoint,
) -> Option<[u8; 32]> {
    // A low-order point gives the all-zero secret: refuse it rather than use a known key.
    if shared.0 == [0u8; 32] {
        return None;
    }
    Some(
        Sha256::new()
            .chain_update(b"anxin/federation/seal/v1\0")
            .chain_update(shared.0)
            .chain_update(eph.0)
            .chain_update(to.0)
            .finalize()
            .into(),
    )
}

/// Seals `plaintext` to the instance whose Ed25519 federation key is `to`, bound to `aad`.
/// Output: standard base64 of the ephemeral X25519 key and the ciphertext. The key is fresh
/// for every box, so the fixed nonce is never reused under one key.
pub fn seal_to(to: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<String, Refusal> {
    let bad_key = || {
        Refusal::new(
            Why::WrongKey,
            "对方实例的公钥无效",
            "the peer's public key is not a valid Ed25519 key",
        )
    };
    let to = ed25519_dalek::VerifyingKey::from_bytes(to)
        .map_err(|_| bad_key())?
        .to_montgomery();
    let secret = random32()?;
    let eph = MontgomeryPoint::mul_base_clamped(secret);
    let shared = to.mul_clamped(secret);
    let key = box_key(&shared, &eph, &to).ok_or_else(bad_key)?;
    let body = ChaCha20Poly1305::new((&key).into())
        .encrypt(
            &Nonce::default(),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| internal("加密失败", "encryption failed".into()))?;
    let mut out = eph.0.to_vec();
    out.extend_from_slice(&body);
    Ok(B64.encode(out))
}

/// The hash function of a peer's log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogHash {
    Sha256,
    Sm3,
}

impl LogHash {
    pub fn hasher(self) -> Box<dyn LogHasher> {
        match self {
            LogHash::Sha256 => Box::new(Sha256Hasher),
            LogHash::Sm3 => Box::new(Sm3Hasher),
        }
    }
}

/// One instance this one trusts.
#[derive(Clone, Debug)]
pub struct Peer {
    pub name: String,
    /// Where its federation routes are (`http://host:port`).
    pub url: String,
    /// Its Ed25519 federation key.
    pub key: [u8; 32],
    /// Its log's checkpoint key, and the hash of its log.
    pub log_key: Verifier,
    pub log_hash: LogHash,
    /// The regions it keeps the records of (a request for a region goes to its peer).
    pub regions: Vec<RegionCode>,
    /// Its witness's Ed25519 key (`witness_key`, C2SP tlog-witness): when listed, this
    /// instance sends it its checkpoints to cosign, and checks the cosignatures with it. The
    /// witness's name is [`witness_name`] of the peer's.
    pub witness_key: Option<[u8; 32]>,
}

impl Peer {
    pub fn verifier(&self) -> Result<Verifier, Refusal> {
        Verifier::new(&self.name, &self.key).map_err(|_| {
            Refusal::new(
                Why::WrongKey,
                format!("对等实例 {} 的公钥无效", self.name),
                format!("peer {}'s key is not a valid Ed25519 key", self.name),
            )
        })
    }

    /// Whether the peer keeps `region`'s records (the region or one above it is listed).
    pub fn serves(&self, region: RegionCode) -> bool {
        let mut r = Some(region);
        while let Some(code) = r {
            if self.regions.contains(&code) {
                return true;
            }
            r = code.structural_parent();
        }
        false
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeersFile {
    #[serde(default)]
    peer: Vec<PeerEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerEntry {
    name: String,
    url: String,
    key: String,
    log_key: String,
    #[serde(default = "sha256")]
    log_hash: LogHash,
    regions: Vec<String>,
    #[serde(default)]
    witness_key: Option<String>,
}

fn sha256() -> LogHash {
    LogHash::Sha256
}

/// The instances this one trusts (`peers.toml`).
#[derive(Clone, Debug, Default)]
pub struct Peers {
    pub peers: Vec<Peer>,
}

impl Peers {
    /// Parses a peers file; every problem names the entry.
    pub fn parse(text: &str) -> Result<Peers, Refusal> {
        let bad = |zh: String, en: String| Refusal::new(Why::Malformed, zh, en);
        let file: PeersFile = toml::from_str(text).map_err(|e| {
            bad(
                format!("对等实例文件无法读取：{e}"),
                format!("the peers file cannot be read: {e}"),
            )
        })?;
        if file.peer.len() > MAX_PEERS {
            return Err(bad(
                format!("对等实例最多 {MAX_PEERS} 个"),
                format!("at most {MAX_PEERS} peers"),
            ));
        }
        let mut peers: Vec<Peer> = Vec::new();
        for e in file.peer {
            check_name(&e.name)?;
            if peers.iter().any(|p| p.name == e.name) {
                return Err(bad(
                    format!("对等实例 {} 重复", e.name),
                    format!("peer {} is listed twice", e.name),
                ));
            }
            let key = B64
                .decode(e.key.trim())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .filter(|k| ed25519_dalek::VerifyingKey::from_bytes(k).is_ok())
                .ok_or_else(|| {
                    bad(
                        format!("对等实例 {} 的 key 不是 Ed25519 公钥（base64）", e.name),
                        format!("peer {}: key is not an Ed25519 public key (base64)", e.name),
                    )
                })?;
            let log_key = Verifier::from_vkey(e.log_key.trim()).map_err(|err| {
                bad(
                    format!("对等实例 {} 的 log_key 无效：{err}", e.name),
                    format!("peer {}: invalid log_key: {err}", e.name),
                )
            })?;
            let mut regions = Vec::new();
            for r in &e.regions {
                regions.push(RegionCode::parse(r).map_err(|_| {
                    bad(
                        format!("对等实例 {} 的地区代码 {r} 无效", e.name),
                        format!("peer {}: invalid region code {r}", e.name),
                    )
                })?);
            }
            let witness_key = match e.witness_key.as_deref().map(str::trim) {
                None => None,
                Some(text) => Some(
                    B64.decode(text)
                        .ok()
                        .and_then(|b| <[u8; 32]>::try_from(b).ok())
                        .filter(|k| ed25519_dalek::VerifyingKey::from_bytes(k).is_ok())
                        .ok_or_else(|| {
                            bad(
                                format!(
                                    "对等实例 {} 的 witness_key 不是 Ed25519 公钥（base64）",
                                    e.name
                                ),
                                format!(
                                    "peer {}: witness_key is not an Ed25519 public key (base64)",
                                    e.name
                                ),
                            )
                        })?,
                ),
            };
            peers.push(Peer {
                name: e.name,
                url: e.url,
                key,
                log_key,
                log_hash: e.log_hash,
                regions,
                witness_key,
            });
        }
        Ok(Peers { peers })
    }

    /// Reads `peers.toml` from the data directory; no file: no peers.
    pub fn load(dir: &Path) -> Result<Peers, Refusal> {
        match std::fs::read_to_string(dir.join(PEERS_FILE)) {
            Ok(text) => Peers::parse(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Peers::default()),
            Err(e) => Err(internal(
                "无法读取对等实例文件",
                format!("cannot read {PEERS_FILE}: {e}"),
            )),
        }
    }

    pub fn named(&self, name: &str) -> Option<&Peer> {
        self.peers.iter().find(|p| p.name == name)
    }

    /// The peer keeping `region`'s records, or a refusal naming the region.
    pub fn for_region(&self, region: RegionCode) -> Result<&Peer, Refusal> {
        self.peers.iter().find(|p| p.serves(region)).ok_or_else(|| {
            Refusal::new(
                Why::UnknownPeer,
                format!("没有保管地区 {region} 记录的对等实例：无法向那里申请转移"),
                format!(
                    "no peer keeps region {region}'s records: a transfer cannot be asked from there"
                ),
            )
        })
    }
}

/// The name of instance `instance`'s witness (the name on its cosignatures).
pub fn witness_name(instance: &str) -> String {
    format!("{instance}/witness")
}

/// The peers-file entry that lists `key` (for the instance's operator to hand to its peers),
/// with its witness's key.
pub fn peer_entry(key: &InstanceKey, url: &str, log_vkey: &str, regions: &[RegionCode]) -> String {
    let regions: Vec<String> = regions.iter().map(|r| format!("\"{r}\"")).collect();
    let witness = key.witness(&witness_name(key.name())).public();
    format!(
        "[[peer]]\nname = \"{}\"\nurl = \"{url}\"\nkey = \"{}\"\nlog_key = \"{log_vkey}\"\nregions = [{}]\nwitness_key = \"{}\"\n",
        key.name(),
        key.public_text(),
        regions.join(", "),
        B64.encode(witness)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_box_opens_only_for_its_receiver_and_its_context() {
        let a = InstanceKey::from_seed("hz", [1; 32]).unwrap();
        let b = InstanceKey::from_seed("fy", [2; 32]).unwrap();
        let sealed = seal_to(&b.public(), b"t1", b"34122119850615123X").unwrap();
        assert_eq!(b.open(b"t1", &sealed).unwrap(), b"34122119850615123X");
        assert_eq!(
            b.open(b"t2", &sealed).unwrap_err().why,
            Why::IdentityDoesNotOpen
        );
        assert_eq!(
            a.open(b"t1", &sealed).unwrap_err().why,
            Why::IdentityDoesNotOpen
        );
        let mut bytes = B64.decode(&sealed).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(b.open(b"t1", &B64.encode(&bytes)).is_err());
        assert!(b.open(b"t1", "not base64 !").is_err());
        assert!(b.open(b"t1", "").is_err());
        // Two boxes of the same ID differ: nothing on the wire links them.
        assert_ne!(
            sealed,
            seal_to(&b.public(), b"t1", b"34122119850615123X").unwrap()
        );
        // The ID never appears in the box.
        assert!(
            !B64.decode(&sealed)
                .unwrap()
                .windows(6)
                .any(|w| w == b"341221")
        );
    }

    #[test]
    fn peers_file_is_strict_and_names_the_entry() {
        let k = InstanceKey::from_seed("fuyang", [3; 32]).unwrap();
        let log = anxin_ledger::Signer::from_seed("anxin.fuyang/log", &[4; 32])
            .unwrap()
            .verifier()
            .to_vkey();
        let text = peer_entry(
            &k,
            "http://127.0.0.1:1",
            &log,
            &[RegionCode::parse("341200").unwrap()],
        );
        let peers = Peers::parse(&text).unwrap();
        assert_eq!(peers.peers[0].key, k.public());
        assert!(
            peers
                .for_region(RegionCode::parse("341221").unwrap())
                .is_ok()
        );
        assert_eq!(
            peers
                .for_region(RegionCode::parse("440300").unwrap())
                .unwrap_err()
                .why,
            Why::UnknownPeer
        );
        let twice = format!("{text}{text}");
        assert!(Peers::parse(&twice).unwrap_err().en.contains("twice"));
        let bad_key = text.replace(&k.public_text(), "AAAA");
        assert!(Peers::parse(&bad_key).unwrap_err().en.contains("fuyang"));
        assert!(Peers::parse("[[peer]]\nname='x'\nsurprise=1\n").is_err());
    }

    #[test]
    fn key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let a = InstanceKey::load_or_create(dir.path(), "hz").unwrap();
        let b = InstanceKey::load_or_create(dir.path(), "hz").unwrap();
        assert_eq!(a.public(), b.public());
        std::fs::write(dir.path().join(KEY_FILE), "zz").unwrap();
        assert!(InstanceKey::load_or_create(dir.path(), "hz").is_err());
    }
}
