//! The log and its audit through the API: an entry's offline bundle (inclusion proof), a
//! consistency proof between two signed checkpoints, and a full audit run; and the log served
//! read-only at the C2SP tlog-tiles paths (`/log/checkpoint`, `/log/tile/…`), so any standard
//! client can follow and verify it. The proofs are
//! `anxin_service::proofs`, the same as `anxin log prove`; the audit is `Records::audit`, the
//! same as `anxin audit` and the clerk's audit page.

use anxin_ledger::{Tile, TileKind};
use anxin_service::proofs::{self, Entry};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::auth::Caller;
use crate::{ApiError, AppState, Params};
use anxin_service::access::Action;

#[derive(Deserialize)]
pub struct InclusionQuery {
    seq: Option<String>,
    key: Option<String>,
}

/// `GET /api/log/inclusion?seq=N` or `?key=RECORD_ID`: the entry's bytes, its inclusion proof
/// and the signed checkpoint, checkable offline with the log's public key (clerks, inspectors,
/// auditors: an entry's bytes name a person by key).
pub async fn inclusion(
    State(state): State<AppState>,
    caller: Caller,
    Params(q): Params<InclusionQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.may(Action::ProveLog)?;
    let entry = match (q.seq.as_deref(), q.key) {
        (Some(s), None) => Entry::Seq(size(s, "seq")?),
        (None, Some(k)) if !k.is_empty() && k.len() <= 200 => Entry::Key(k),
        _ => {
            return Err(ApiError::bad_input(
                "请给出 seq（日志序号，从 0 起）或 key（记录号，1–200 个字符）之一",
                "give exactly one of seq (the entry's place in the log, from 0) or key (its record id, 1–200 characters)",
            ));
        }
    };
    let bundle = state
        .read(move |r| Ok(proofs::inclusion(r, &entry)?))
        .await?;
    serde_json::to_value(&bundle)
        .map(Json)
        .map_err(|_| ApiError::internal())
}

#[derive(Deserialize)]
pub struct ConsistencyQuery {
    from: Option<String>,
    to: Option<String>,
}

/// `GET /api/log/consistency?from=SIZE[&to=SIZE]`: proof that the log at `to` (default: now)
/// extends the log at `from`; both must be sizes the log signed a checkpoint at.
pub async fn consistency(
    State(state): State<AppState>,
    _caller: Caller,
    Params(q): Params<ConsistencyQuery>,
) -> Result<Json<proofs::Consistency>, ApiError> {
    let from = size(q.from.as_deref().unwrap_or(""), "from")?;
    let to = q.to.as_deref().map(|t| size(t, "to")).transpose()?;
    Ok(Json(
        state
            .read(move |r| Ok(proofs::consistency(r, from, to)?))
            .await?,
    ))
}

/// A log position or size: a whole number from 0.
fn size(text: &str, name: &str) -> Result<u64, ApiError> {
    crate::whole_number(text).ok_or_else(|| {
        let shown: String = text.chars().take(20).collect();
        ApiError::bad_input(
            format!("{name} 须为从 0 起的整数，收到「{shown}」"),
            format!("{name} must be a whole number from 0, got \"{shown}\""),
        )
    })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AuditRequest {
    /// Also rebuild every projection (persons, contributions, …) from the log and compare.
    #[serde(default)]
    projections: bool,
}

/// `POST /api/audit {"projections": bool}`: recomputes the log from the stored rows (and,
/// asked, every projection) and names every row changed behind the log's back.
pub async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.may(Action::Audit)?;
    let req: AuditRequest = if body.is_empty() {
        AuditRequest::default()
    } else {
        crate::json_object(&body).map_err(|e| {
            ApiError::bad_input(
                format!("请求须为 {{\"projections\": true 或 false}}：{e}"),
                format!("the request must be {{\"projections\": true or false}}: {e}"),
            )
        })?
    };
    let _running = state.gates.audit()?;
    let started = std::time::Instant::now();
    let projections = req.projections;
    let report = state
        .audit(anxin_records::AuditScope { projections })
        .await?;
    let mut value = report.to_json();
    value["seconds"] = serde_json::json!(started.elapsed().as_secs_f64());
    Ok(Json(value))
}

/// `GET /log/checkpoint`: the latest signed checkpoint as C2SP serves it, the signed note
/// itself with the peers' witnesses' cosignatures of it (public: a size and a root reveal no
/// entry).
pub async fn tlog_checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    // With the cosignatures the peers' witnesses gave this very checkpoint (C2SP
    // tlog-cosignature lines after the log's own signature), when it has any yet.
    let (mut head, cosignatures) = state
        .read(|r| {
            let head = r.store().head()?;
            let cosignatures = r.store().cosignatures_at(head.size)?;
            Ok((head, cosignatures))
        })
        .await?;
    for c in cosignatures {
        head.checkpoint.push_str(&c.line);
        head.checkpoint.push('\n');
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        head.checkpoint,
    )
        .into_response())
}

/// `GET /log/tile/<L>/<N>[.p/<W>]`: a hash tile, its hashes one after another (public: hashes
/// of entries that are themselves keyed or sealed reveal nothing of them).
pub async fn hash_tile(
    State(state): State<AppState>,
    Path((level, index)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let tile = tile_at(&format!("tile/{level}/{index}"))?;
    serve_tile(state, tile, true).await
}

/// `GET /log/tile/entries/<N>[.p/<W>]`: an entry bundle, each entry a big-endian u16 length
/// and the entry's canonical bytes (what is hashed as its leaf). Entries name persons by key
/// with months and amounts: inspectors and auditors only (`Action::ReadLogEntries`).
pub async fn entry_bundle(
    State(state): State<AppState>,
    caller: Caller,
    Path(index): Path<String>,
) -> Result<Response, ApiError> {
    caller.may(Action::ReadLogEntries)?;
    let tile = tile_at(&format!("tile/entries/{index}"))?;
    serve_tile(state, tile, false).await
}

fn tile_at(path: &str) -> Result<Tile, ApiError> {
    let tile = Tile::parse(path).map_err(|e| {
        ApiError::of(
            anxin_domain::ErrorKind::NotFound,
            format!("没有这个瓦片：{e}"),
            format!("no such tile: {e}"),
        )
    })?;
    if matches!(tile.kind, TileKind::Hashes { level } if level > anxin_ledger::tile::MAX_TILE_LEVEL)
    {
        return Err(no_tile());
    }
    Ok(tile)
}

fn no_tile() -> ApiError {
    ApiError::of(
        anxin_domain::ErrorKind::NotFound,
        "日志还没有这个瓦片（可先读 /log/checkpoint 的大小）",
        "the log does not hold this tile yet (read the size in /log/checkpoint first)",
    )
}

/// A tile's bytes; a full tile never changes, so it may be kept for a year (entry bundles
/// only by the one who fetched them: `public` is false).
async fn serve_tile(state: AppState, tile: Tile, public: bool) -> Result<Response, ApiError> {
    let data = state
        .read(move |r| {
            let size = r.store().head()?.size;
            Ok(anxin_records::tiles::tile(r.store(), size, tile)?)
        })
        .await?;
    let bytes = data.ok_or_else(no_tile)?;
    let cache = match (
        public,
        u64::from(tile.width) == anxin_ledger::tile::TILE_WIDTH,
    ) {
        (true, true) => "public, max-age=31536000, immutable",
        (true, false) => "public, max-age=60",
        (false, true) => "private, max-age=31536000, immutable",
        (false, false) => "private, no-store",
    };
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response())
}
