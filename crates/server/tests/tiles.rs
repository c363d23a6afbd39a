//! The log served at the C2SP tlog-tiles paths, checked with an independent implementation of
//! C2SP (the `tlog_tiles` and `signed_note` crates, not anxin's ledger): the checkpoint's
//! signature, the tree hash the fetched tiles give, and anxin's own inclusion and consistency
//! proofs. Standard suite only (SHA-256 / Ed25519); the guomi suite keeps its own checks.

use std::collections::HashMap;
use std::sync::Arc;

use anxin_domain::YearMonth;
use anxin_records::access::{NewAccount, Role};
use anxin_records::conformance::{persons, secrets};
use anxin_records::{Records, Suite};
use anxin_server::{AppState, router};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine as _;
use signed_note::{Note, StandardVerifier, VerifierList};
use tlog_tiles::{
    Checkpoint, Hash, HashReader as _, Tile, TileHashReader, TileReader, check_record, check_tree,
    prove_record, record_hash, tree_hash,
};
use tower::ServiceExt as _;

const PASSWORD: &str = "test password 1";
/// Entries per commit: three checkpoints, 4 full level-0 tiles and a partial one, a partial
/// level-1 tile.
const BATCHES: [usize; 3] = [300, 400, 333];

struct World {
    state: AppState,
    vkey: String,
}

fn world() -> World {
    let store: Box<dyn anxin_records::Store> =
        Box::new(anxin_store_sqlite::SqliteStore::in_memory().unwrap());
    let mut records = Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .unwrap();
    let mut n = 0;
    for batch in BATCHES {
        records.append(persons(n, batch)).unwrap();
        n += batch;
    }
    for (name, role) in [("auditor", Role::Auditor), ("clerk", Role::Clerk)] {
        let region = (role == Role::Clerk).then(|| anxin_records::conformance::region("330100"));
        let a = NewAccount::new(name, role, PASSWORD, region, None, None).unwrap();
        records.store().create_account(&a, 0).unwrap();
    }
    let vkey = records.verifier().to_vkey();
    let state = AppState {
        today: YearMonth::new(2026, 6),
        verifier: Some(Arc::new(records.verifier().clone())),
        records: Some(anxin_service::db::Db::start(records, anxin_service::db::READERS).unwrap()),
        ..AppState::new(anxin_policy::Policy::embedded().unwrap())
    };
    World { state, vkey }
}

async fn get(state: &AppState, uri: &str, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut b = Request::builder().method("GET").uri(uri);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let response = router(state.clone())
        .oneshot(b.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

async fn sign_in(state: &AppState, username: &str) -> String {
    let response = router(state.clone())
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/api/sessions")
                .header("content-type", "application/json")
                .body(Body::from(format!(
                    r#"{{"username":"{username}","password":"{PASSWORD}"}}"#
                )))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["token"].as_str().unwrap().to_string()
}

/// The C2SP path of a `tlog_tiles` tile: its own `path()` is Go's `tile/H/L/N`, C2SP's is
/// `tile/L/N` (height fixed at 8) and `tile/entries/N` for data.
fn c2sp_path(tile: &Tile) -> String {
    let go = tile.path();
    let rest = go.strip_prefix("tile/8/").expect("height 8");
    match rest.strip_prefix("data/") {
        Some(index) => format!("/log/tile/entries/{index}"),
        None => format!("/log/tile/{rest}"),
    }
}

/// Tiles fetched over HTTP beforehand (the reader is synchronous).
struct Fetched(HashMap<String, Vec<u8>>);

impl TileReader for Fetched {
    fn height(&self) -> u8 {
        8
    }
    fn read_tiles(&self, tiles: &[Tile]) -> Result<Vec<Vec<u8>>, tlog_tiles::Error> {
        tiles
            .iter()
            .map(|t| {
                self.0
                    .get(&c2sp_path(t))
                    .cloned()
                    .ok_or(tlog_tiles::Error::IndexesNotInTree)
            })
            .collect()
    }
    fn save_tiles(&self, _: &[Tile], _: &[Vec<u8>]) {}
}

/// Every hash tile of the log at `size`, fetched as a stranger.
async fn fetch(state: &AppState, size: u64) -> Fetched {
    let mut fetched = HashMap::new();
    for tile in Tile::new_tiles(8, 0, size) {
        let path = c2sp_path(&tile);
        let (status, bytes) = get(state, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        fetched.insert(path, bytes);
    }
    Fetched(fetched)
}

/// Verifies a signed checkpoint with `signed_note` and reads it with `tlog_tiles`.
fn checkpoint(text: &[u8], vkey: &str) -> Checkpoint {
    let note = Note::from_bytes(text).expect("a signed note");
    let verifier = StandardVerifier::new(vkey).expect("a C2SP Ed25519 verifier key");
    note.verify(&VerifierList::new(vec![Box::new(verifier)]))
        .expect("signed by the log's key");
    Checkpoint::from_bytes(note.text()).expect("a C2SP checkpoint")
}

/// A JSON list of hashes, in base64 or (`hex`) in hex.
fn hashes(list: &serde_json::Value, hex: bool) -> Vec<Hash> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let text = h.as_str().unwrap();
            let bytes: Vec<u8> = if hex {
                (0..text.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
                    .collect()
            } else {
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .unwrap()
            };
            Hash(bytes.try_into().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn a_standard_c2sp_client_follows_and_verifies_the_log() {
    let w = world();
    let size: u64 = BATCHES.iter().sum::<usize>() as u64;
    let (status, text) = get(&w.state, "/log/checkpoint", None).await;
    assert_eq!(status, StatusCode::OK);
    let cp = checkpoint(&text, &w.vkey);
    assert_eq!((cp.origin(), cp.size()), ("anxin.test/log", size));

    // Every tile a tree of this size has, fetched as a stranger (hash tiles) and as an
    // auditor (entry bundles).
    let auditor = sign_in(&w.state, "auditor").await;
    let mut fetched = HashMap::new();
    let tiles = Tile::new_tiles(8, 0, size);
    assert!(tiles.iter().any(|t| t.level() == 1 && t.width() < 256));
    for tile in &tiles {
        let path = c2sp_path(tile);
        let (status, bytes) = get(&w.state, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(bytes.len(), tile.width() as usize * 32, "{path}");
        fetched.insert(path, bytes);
        let mut data = *tile;
        data.set_is_data();
        if tile.level() == 0 {
            let path = c2sp_path(&data);
            let (status, bundle) = get(&w.state, &path, Some(&auditor)).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            fetched.insert(path, bundle);
        }
    }
    let reader = Fetched(fetched);
    // The tiles authenticate against the signed tree hash (TileHashReader checks them).
    let hash_reader = TileHashReader::new(size, *cp.hash(), &reader);
    assert_eq!(tree_hash(size, &hash_reader).unwrap(), *cp.hash());

    // Each entry in the bundles hashes to its level-0 hash.
    for n in 0..size.div_ceil(256) {
        let width = (size - n * 256).min(256) as u32;
        let data = Tile::new(8, 0, n, width, true);
        let bundle = &reader.0[&c2sp_path(&data)];
        let level0 = &reader.0[&c2sp_path(&Tile::new(8, 0, n, width, false))];
        let (mut at, mut i) = (0usize, 0usize);
        while at < bundle.len() {
            let len = u16::from_be_bytes([bundle[at], bundle[at + 1]]) as usize;
            let entry = &bundle[at + 2..at + 2 + len];
            assert_eq!(record_hash(entry).0[..], level0[i * 32..(i + 1) * 32]);
            at += 2 + len;
            i += 1;
        }
        assert_eq!(i as u32, width);
    }

    // anxin's inclusion proofs verify with tlog_tiles, and equal what it proves from tiles.
    let clerk = sign_in(&w.state, "clerk").await;
    for index in [0, 1, 255, 256, 300, 511, 700, size - 1] {
        let (status, body) = get(
            &w.state,
            &format!("/api/log/inclusion?seq={index}"),
            Some(&clerk),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let bundle: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(bundle["tree_size"], size);
        let proof = hashes(&bundle["inclusion_proof_base64"], false);
        let data = base64::engine::general_purpose::STANDARD
            .decode(bundle["leaf_data_base64"].as_str().unwrap())
            .unwrap();
        check_record(&proof, size, *cp.hash(), index, record_hash(&data)).unwrap();
        assert_eq!(prove_record(size, index, &hash_reader).unwrap(), proof);
        let wrong = if index == 0 { 1 } else { index - 1 };
        assert!(check_record(&proof, size, *cp.hash(), wrong, record_hash(&data)).is_err());
    }

    // Consistency between every pair of signed sizes.
    let sizes: Vec<u64> = BATCHES
        .iter()
        .scan(0u64, |s, b| {
            *s += *b as u64;
            Some(*s)
        })
        .collect();
    for (i, &old) in sizes.iter().enumerate() {
        for &new in &sizes[i..] {
            let (status, body) = get(
                &w.state,
                &format!("/api/log/consistency?from={old}&to={new}"),
                Some(&clerk),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let old_cp = checkpoint(v["checkpoint1"].as_str().unwrap().as_bytes(), &w.vkey);
            let new_cp = checkpoint(v["checkpoint2"].as_str().unwrap().as_bytes(), &w.vkey);
            let proof = hashes(&v["consistency_proof_hex"], true);
            check_tree(&proof, new, *new_cp.hash(), old, *old_cp.hash()).unwrap();
            if old != new {
                // The tiles of the log at that size (partial tiles as they were then: the
                // served ones are prefixes of today's) give the same proof.
                let then = fetch(&w.state, new).await;
                let reader = TileHashReader::new(new, *new_cp.hash(), &then);
                assert_eq!(tlog_tiles::prove_tree(new, old, &reader).unwrap(), proof);
            }
        }
    }
    // A hash read through the authenticated reader is the stored one.
    assert_eq!(hash_reader.read_hashes(&[0]).unwrap().len(), 1);
}

#[tokio::test]
async fn tiles_outside_the_log_and_entries_for_strangers_are_refused() {
    let w = world();
    let auditor = sign_in(&w.state, "auditor").await;
    let clerk = sign_in(&w.state, "clerk").await;
    for (path, token, want) in [
        ("/log/tile/0/004", None, StatusCode::NOT_FOUND), // only 9 entries in tile 4
        ("/log/tile/0/004.p/9", None, StatusCode::OK),
        ("/log/tile/0/004.p/10", None, StatusCode::NOT_FOUND),
        ("/log/tile/0/000.p/9", None, StatusCode::OK), // a prefix of a full tile
        ("/log/tile/1/000.p/4", None, StatusCode::OK),
        ("/log/tile/1/000.p/5", None, StatusCode::NOT_FOUND),
        ("/log/tile/2/000.p/1", None, StatusCode::NOT_FOUND),
        ("/log/tile/9/000", None, StatusCode::NOT_FOUND),
        ("/log/tile/0/0000", None, StatusCode::NOT_FOUND),
        ("/log/tile/0/x000/001", None, StatusCode::NOT_FOUND),
        ("/log/tile/entries/000", None, StatusCode::UNAUTHORIZED),
        (
            "/log/tile/entries/000",
            Some(clerk.as_str()),
            StatusCode::FORBIDDEN,
        ),
        (
            "/log/tile/entries/000",
            Some(auditor.as_str()),
            StatusCode::OK,
        ),
        (
            "/log/tile/entries/004",
            Some(auditor.as_str()),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, body) = get(&w.state, path, token).await;
        assert_eq!(status, want, "{path}: {}", String::from_utf8_lossy(&body));
        if status.is_client_error() {
            let v: serde_json::Value = serde_json::from_slice(&body).expect("the one error shape");
            assert!(v["error"]["zh"].is_string() && v["error"]["en"].is_string());
        }
    }
}
