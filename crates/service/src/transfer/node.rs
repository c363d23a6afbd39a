//! One instance's side of the federation as a server runs it: the state machine on its own
//! connection to the deployment's database ([`LedgerBook`], durable), behind a lock, with the
//! instance's key and peers file from the data directory. The server's federation route hands
//! each message a peer posts to [`Node::receive`]; the outbox worker calls [`Node::deliver`],
//! which posts what is due to each peer (`POST {peer.url}/federation/v1/messages`) and hands
//! the answers back to the machine. Both only translate: every check is the machine's.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use anxin_domain::{RegionCode, ResidentId, SharedClock};
use anxin_policy::Policy;
use anxin_records::Store;
use serde::Serialize;

use super::keys::{InstanceKey, Peers};
use super::ledger::LedgerBook;
use super::machine::{Clocks, QueueItem, Side, Transfer};
use super::message::Signed;
use super::package::LiaisonRequest;
use super::witness::{
    ADD_CHECKPOINT_PATH, AddCheckpoint, MAX_ADD_CHECKPOINT_BYTES, NotCosigned, verify_cosignature,
};
use super::{Refusal, Why};

/// The path of the federation route, on every instance.
pub const MESSAGES_PATH: &str = "/federation/v1/messages";
/// How long a peer may take to answer one message.
pub const POST_TIMEOUT_SECS: u64 = 30;

type NodeSide = Side<LedgerBook<'static, Box<dyn Store>>>;

/// One transfer as the pages show it.
#[derive(Clone, Debug)]
pub struct Detail {
    pub transfer: Transfer,
    /// The worker it moves (this instance's key), when known here.
    pub person: Option<anxin_records::PersonKey>,
    /// Destination: the regions asked from and to.
    pub from_region: Option<String>,
    pub to_region: Option<String>,
    /// Destination, once recorded: the months and figures received.
    pub received: Option<super::ledger::Received>,
    /// Working days left on the current step's clock (negative: overdue).
    pub days_left: Option<i64>,
    /// The other instance's place (Chinese, English).
    pub peer: (String, String),
    /// Why the last message of this transfer did not get through, while it is being retried.
    pub undelivered: Option<Undelivered>,
}

/// A peer's place in words: the first region it keeps, by the policy's names.
fn place_of(policy: &Policy, peer: &super::keys::Peer) -> (String, String) {
    peer.regions
        .first()
        .and_then(|r| policy.region_by_code(*r))
        .map(|r| (r.name_zh.clone(), r.name_en.clone()))
        .unwrap_or_else(|| (peer.name.clone(), peer.name.clone()))
}

pub struct Node {
    side: Mutex<NodeSide>,
    /// This instance's witness of its peers' logs (what it has seen is in the database).
    witness: Mutex<super::witness::Witness>,
    /// Each peer's witness that failed: the failures in a row and when to try it again.
    witness_retry: Mutex<std::collections::HashMap<String, (u32, i64)>>,
    /// Each transfer whose last message did not get through: why (kept until one does).
    undelivered: Mutex<std::collections::HashMap<String, Undelivered>>,
    policy: &'static Policy,
    clock: SharedClock,
    agent: ureq::Agent,
}

/// Why a request for a transfer was not taken.
#[derive(Debug)]
pub enum AskError {
    Denied(crate::access::Denied),
    Refused(Refusal),
}

/// What one round of the outbox did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Delivered {
    /// Messages posted and answered by their peer.
    pub sent: u32,
    /// Of those, answers that moved a transfer on here.
    pub answered: u32,
    /// Messages that did not reach their peer or were refused there (tried again later).
    pub failed: u32,
    /// Of those, the ones a peer refused: (peer, the reason's code it gave).
    pub refused: Vec<(String, String)>,
}

/// Why a transfer's last message did not get through to its peer: the outbox tries it again
/// (at `next_try`), and the transfer's page says why in the meantime. The reason is this
/// instance's words for the code the peer answered, never the peer's own text (an answer
/// that is not signed proves nothing, and ends nothing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Undelivered {
    /// `unreachable`, `garbage` (an answer that does not parse) or the code of the peer's
    /// refusal (`unknown_peer`, `wrong_key`, …).
    pub kind: String,
    /// The HTTP status the peer answered with, if it answered.
    pub status: Option<u16>,
    pub zh: String,
    pub en: String,
    /// Unix seconds: when it last failed, and when the outbox tries again.
    pub at: i64,
    pub next_try: Option<i64>,
}

impl Undelivered {
    /// A peer that could not be reached (no answer at all).
    fn unreachable(at: i64) -> Undelivered {
        Undelivered {
            kind: "unreachable".into(),
            status: None,
            zh: "暂时连不上对方经办机构的系统，系统会自动重试".into(),
            en: "the other office's system could not be reached; it is tried again by itself"
                .into(),
            at,
            next_try: None,
        }
    }

    /// A peer that answered `status` with an error body (`{"error": {"kind": …}}`) or with
    /// something else.
    fn answered(status: u16, body: &str, at: i64) -> Undelivered {
        let code = serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["error"]["kind"].as_str().map(str::to_string));
        let why = code.as_deref().and_then(Why::from_code);
        let (zh, en) = match why {
            Some(Why::UnknownPeer) => (
                "对方经办机构的系统不认识本机构：它的可信机构名单（peers 文件）里没有本机构，需由对方把本机构加入名单后才能办理".to_string(),
                "the other office's system does not know this office: this office is not in its peers file, and must be added there before the transfer can go on".to_string(),
            ),
            Some(Why::WrongKey) => (
                "对方经办机构记录的本机构公钥与本机构的不一致，需核对两地的 peers 文件".to_string(),
                "the other office holds another public key for this office: both peers files must be checked".to_string(),
            ),
            Some(Why::NotForUs) => (
                "对方经办机构的系统说这条消息不是发给它的，需核对本机构 peers 文件里它的名字和地址".to_string(),
                "the other office's system says the message is not addressed to it: check its name and URL in this office's peers file".to_string(),
            ),
            Some(Why::Internal) => (
                "对方经办机构的系统暂时出错，系统会自动重试".to_string(),
                "the other office's system failed for now; it is tried again by itself".to_string(),
            ),
            Some(w) => (
                format!("对方经办机构的系统拒收了这条消息（原因代码 {}），系统会继续重试；如一直拒收，请联系对方经办机构", w.code()),
                format!("the other office's system refused the message (reason code {}); it is tried again, and if it keeps refusing, contact that office", w.code()),
            ),
            None => (
                format!("对方经办机构的系统回答了无法识别的内容（HTTP {status}），系统会自动重试"),
                format!("the other office's system answered something this office cannot read (HTTP {status}); it is tried again by itself"),
            ),
        };
        Undelivered {
            kind: why.map_or("garbage", Why::code).to_string(),
            status: Some(status),
            zh,
            en,
            at,
            next_try: None,
        }
    }
}

/// What one witness round did ([`Node::witness_round`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WitnessRound {
    /// Witnesses that cosigned this log's head.
    pub cosigned: u32,
    /// Witnesses that could not be reached or answered what does not verify.
    pub failed: u32,
    /// Peers whose witness has seen more of this log than this database holds.
    pub behind: Vec<String>,
}

/// What this instance knows of witnessing ([`Node::witness_status`]).
#[derive(Clone, Debug, Serialize)]
pub struct WitnessStatus {
    /// This instance's witness: the name on its cosignatures and its Ed25519 key (base64).
    pub name: String,
    pub public_key: String,
    /// The latest checkpoint cosigned of each peer's log.
    pub seen: Vec<SeenView>,
    /// Newest first, each with the refused checkpoint signed by its log's key (the evidence).
    pub alarms: Vec<anxin_records::witness::AlarmRow>,
    /// Each witness's latest cosignature of this log.
    pub cosigned_by: Vec<CosignedView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SeenView {
    pub peer: String,
    pub size: u64,
    pub at: i64,
}

#[derive(Clone, Debug, Serialize)]
pub struct CosignedView {
    pub witness: String,
    pub size: u64,
    pub at: i64,
}

fn internal(e: impl std::fmt::Display) -> Refusal {
    Refusal::new(
        Why::Internal,
        format!("转移服务出错：{e}"),
        format!("the transfer service failed: {e}"),
    )
}

impl Node {
    /// Opens the node of the deployment in `dir` under the instance name `name` (its key is
    /// `keys/federation.key`, made the first time; its peers `peers.toml`).
    pub fn open(
        dir: &Path,
        name: &str,
        policy: Arc<Policy>,
        clock: SharedClock,
    ) -> Result<Node, Refusal> {
        let deployment = crate::deployment::Deployment::open(dir).map_err(internal)?;
        let records = deployment.records().map_err(internal)?;
        let key = InstanceKey::load_or_create(dir, name)?;
        let peers = Peers::load(dir)?;
        // The book borrows the policy for the life of the process (one node per server).
        let policy: &'static Policy = Box::leak(Box::new(policy));
        let clocks = Clocks::of(policy, clock.today())?;
        let mut book = LedgerBook::new(records, policy, key.clone());
        book.places = peers
            .peers
            .iter()
            .map(|p| (p.name.clone(), place_of(policy, p)))
            .collect();
        let witness = key.witness(&super::keys::witness_name(name));
        let side = Side::load(key, peers, book, clocks)?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(POST_TIMEOUT_SECS)))
            .build()
            .into();
        Ok(Node {
            side: Mutex::new(side),
            witness: Mutex::new(witness),
            witness_retry: Mutex::new(std::collections::HashMap::new()),
            undelivered: Mutex::new(std::collections::HashMap::new()),
            policy,
            clock,
            agent,
        })
    }

    fn side(&self) -> Result<MutexGuard<'_, NodeSide>, Refusal> {
        self.side
            .lock()
            .map_err(|_| internal("a step panicked; restart the server"))
    }

    pub fn name(&self) -> Result<String, Refusal> {
        Ok(self.side()?.key.name().to_string())
    }

    /// C2SP `tlog-witness` add-checkpoint: a peer asks this instance to cosign its log's
    /// checkpoint ([`super::witness::Witness::add_checkpoint`]). The cosignature line.
    pub fn add_checkpoint(&self, body: &str) -> Result<String, NotCosigned> {
        let request = AddCheckpoint::parse(body)?;
        let now = self.clock.unix_seconds();
        let mut guard = self.side()?;
        let side = &mut *guard;
        let mut witness = self
            .witness
            .lock()
            .map_err(|_| internal("a witness step panicked; restart the server"))?;
        witness.add_checkpoint(side.book.records.store(), &side.peers, &request, now)
    }

    /// This instance's witness: its name and public key (for its peers' `witness_key`).
    pub fn witness_identity(&self) -> Result<(String, [u8; 32]), Refusal> {
        let w = self
            .witness
            .lock()
            .map_err(|_| internal("a witness step panicked; restart the server"))?;
        Ok((w.name().to_string(), w.public()))
    }

    /// What this instance knows of witnessing: the peers' logs it cosigned, the alarms
    /// (peers' checkpoints refused, and witnesses that saw more of this log than it holds),
    /// and each witness's latest cosignature of this log.
    pub fn witness_status(&self) -> Result<WitnessStatus, Refusal> {
        let (name, public) = self.witness_identity()?;
        let mut side = self.side()?;
        let store = side.book.records.store();
        let fail = |e: anxin_records::Error| internal(e);
        Ok(WitnessStatus {
            name,
            public_key: base64::Engine::encode(&base64::engine::general_purpose::STANDARD, public),
            seen: store
                .witness_seen()
                .map_err(fail)?
                .into_iter()
                .map(|r| SeenView {
                    peer: r.peer,
                    size: r.size,
                    at: r.at,
                })
                .collect(),
            alarms: store.witness_alarms(100).map_err(fail)?,
            cosigned_by: store
                .cosignatures_latest()
                .map_err(fail)?
                .into_iter()
                .map(|c| CosignedView {
                    witness: c.witness,
                    size: c.size,
                    at: c.at,
                })
                .collect(),
        })
    }

    /// The add-checkpoint request for `peer`'s witness from the size it cosigned (`old`) to
    /// this log's head; `None` when it has cosigned the head already.
    fn add_request(
        &self,
        witness: &str,
        old: Option<u64>,
    ) -> Result<Option<(AddCheckpoint, u64, String)>, Refusal> {
        let mut side = self.side()?;
        let records = &mut side.book.records;
        let hasher = records.hasher();
        let store = records.store();
        let head = store.head().map_err(internal)?;
        let old = match old {
            Some(o) => o,
            None => store
                .cosignatures_latest()
                .map_err(internal)?
                .into_iter()
                .find(|c| c.witness == witness)
                .map_or(0, |c| c.size),
        };
        if head.size == 0 || old == head.size || old > head.size {
            return Ok(None);
        }
        let proof = if old == 0 {
            Vec::new()
        } else {
            let root =
                anxin_records::tiles::root_at(store, &hasher, head.size, old).map_err(internal)?;
            anxin_records::tiles::consistency(
                store,
                &hasher,
                head.size,
                (old, &root),
                (head.size, &head.root),
            )
            .map_err(internal)?
        };
        // The note's text, as the cosignature signs it (up to the last blank line).
        let body = head
            .checkpoint
            .rfind("\n\n")
            .map(|i| head.checkpoint[..=i].to_string())
            .unwrap_or_default();
        Ok(Some((
            AddCheckpoint {
                old,
                proof,
                checkpoint: head.checkpoint.clone(),
            },
            head.size,
            body,
        )))
    }

    /// Sends this log's head to every peer that lists a witness key, from the size each has
    /// cosigned, and keeps the cosignatures that verify with that key. A witness that answers
    /// it has cosigned more of this log than this database holds has caught this instance's
    /// own log rolled back: that is kept as an alarm (`behind`) and reported.
    pub fn witness_round(&self) -> Result<WitnessRound, Refusal> {
        let witnesses: Vec<(String, String, String, [u8; 32])> = self
            .side()?
            .peers
            .peers
            .iter()
            .filter_map(|p| {
                p.witness_key.map(|k| {
                    (
                        p.name.clone(),
                        super::keys::witness_name(&p.name),
                        p.url.trim_end_matches('/').to_string(),
                        k,
                    )
                })
            })
            .collect();
        let mut round = WitnessRound::default();
        let now = self.clock.unix_seconds();
        for (peer, witness, url, key) in witnesses {
            // A witness that failed is tried again after 4 s, doubling to 10 minutes.
            if self
                .witness_retry
                .lock()
                .map_err(|_| internal("a witness round panicked; restart the server"))?
                .get(&peer)
                .is_some_and(|(_, next)| *next > now)
            {
                continue;
            }
            let failed_before = round.failed;
            let mut old = None;
            // At most twice: once from what this database says, once from the witness's size.
            for _ in 0..2 {
                let Some((request, size, body)) = self.add_request(&witness, old)? else {
                    break;
                };
                let answer = self
                    .agent
                    .post(format!("{url}{ADD_CHECKPOINT_PATH}"))
                    .header("content-type", "text/plain; charset=utf-8")
                    .send(request.to_text().as_bytes());
                let (status, text) = match answer {
                    Ok(mut r) => (
                        r.status().as_u16(),
                        r.body_mut()
                            .with_config()
                            .limit(MAX_ADD_CHECKPOINT_BYTES as u64)
                            .read_to_string()
                            .unwrap_or_default(),
                    ),
                    Err(_) => {
                        round.failed += 1;
                        break;
                    }
                };
                match status {
                    200 => {
                        let mut kept = false;
                        for line in text.lines().filter(|l| !l.is_empty()) {
                            if verify_cosignature(&witness, &key, &body, line).is_ok() {
                                self.side()?
                                    .book
                                    .records
                                    .store()
                                    .cosignature_add(&anxin_records::witness::CosignatureRow {
                                        witness: witness.clone(),
                                        size,
                                        line: line.to_string(),
                                        checkpoint: request.checkpoint.clone(),
                                        at: self.clock.unix_seconds(),
                                    })
                                    .map_err(internal)?;
                                kept = true;
                            }
                        }
                        if kept {
                            round.cosigned += 1;
                        } else {
                            round.failed += 1;
                        }
                        break;
                    }
                    409 => {
                        let Some(theirs) = text.trim().parse::<u64>().ok() else {
                            round.failed += 1;
                            break;
                        };
                        if theirs > size {
                            let row = anxin_records::witness::AlarmRow {
                                id: 0,
                                peer: peer.clone(),
                                at: self.clock.unix_seconds(),
                                kind: "behind".into(),
                                seen_size: theirs,
                                size,
                                zh: format!(
                                    "对等实例 {peer} 的见证人已为本实例的日志签过 {theirs} 条，本库只有 {size} 条：本实例的日志被回滚了"
                                ),
                                en: format!(
                                    "peer {peer}'s witness has cosigned {theirs} entries of this log, this database holds {size}: this instance's log was rolled back"
                                ),
                                checkpoint: request.checkpoint.clone(),
                            };
                            self.side()?
                                .book
                                .records
                                .store()
                                .witness_alarm_add(&row)
                                .map_err(internal)?;
                            round.behind.push(peer.clone());
                            break;
                        }
                        old = Some(theirs);
                    }
                    _ => {
                        round.failed += 1;
                        break;
                    }
                }
            }
            let mut retry = self
                .witness_retry
                .lock()
                .map_err(|_| internal("a witness round panicked; restart the server"))?;
            if round.failed > failed_before {
                let (tries, next) = retry.entry(peer).or_insert((0, 0));
                *tries = (*tries + 1).min(10);
                *next = now + (2i64 << *tries).min(600);
            } else {
                retry.remove(&peer);
            }
        }
        Ok(round)
    }

    /// A message a peer posted: the replies to answer with, or why it is refused (nothing
    /// changed then).
    pub fn receive(&self, body: &str) -> Result<Vec<Signed>, Refusal> {
        let signed = Signed::from_json(body)?;
        let mut side = self.side()?;
        side.book.now = self.clock.unix_seconds();
        side.handle(
            &self.policy.calendar,
            &signed,
            self.clock.today(),
            self.clock.unix_seconds(),
        )
    }

    /// Asks the peer keeping `from_region`'s records to move the worker `id` here; the
    /// transfer's id. The request leaves with the next round of the outbox.
    pub fn ask(
        &self,
        from_region: RegionCode,
        id: &ResidentId,
        request: LiaisonRequest,
    ) -> Result<String, Refusal> {
        let mut side = self.side()?;
        side.book.now = self.clock.unix_seconds();
        let origin = side.peers.for_region(from_region)?.name.clone();
        let id = id.clone();
        side.request(
            &self.policy.calendar,
            &origin,
            self.clock.today(),
            self.clock.unix_seconds(),
            move |book, transfer, peer| book.ask(transfer, peer, &id, request),
        )
    }

    /// [`Node::ask`] for a signed-in account: a worker for themselves — the resident ID is
    /// their own record's, and a request naming anyone else is refused — or a clerk of the
    /// destination region for the worker `id` at the desk
    /// (`anxin_service::access::own_transfer_person`, `check_request_transfer`).
    pub fn ask_as(
        &self,
        actor: crate::access::Actor<'_>,
        id: Option<&ResidentId>,
        request: LiaisonRequest,
    ) -> Result<String, AskError> {
        let own = crate::access::own_transfer_person(actor).map_err(AskError::Denied)?;
        let own_id = match own {
            Some(key) => {
                let view = self
                    .side()
                    .map_err(AskError::Refused)?
                    .book
                    .records
                    .person_view(&key)
                    .map_err(|e| AskError::Refused(e.into()))?;
                let Some(view) = view else {
                    return Err(AskError::Refused(Refusal::new(
                        Why::NoSuchPerson,
                        "本实例的登记册中没有你的记录：请先到经办窗口登记",
                        "this instance's registry has no record of yours: register at the office's desk first",
                    )));
                };
                Some(view.id)
            }
            None => None,
        };
        let id = match (own_id.as_ref(), id) {
            // A worker may repeat their own ID, never name another's.
            (Some(own), Some(named)) if own != named => {
                return Err(AskError::Refused(Refusal::new(
                    Why::NotThisPerson,
                    "劳动者只能为本人申请转移：不要填写身份证号，系统使用你本人的记录",
                    "a worker asks only for themselves: leave person_id out, your own record is used",
                )));
            }
            (Some(own), _) => own,
            (None, Some(named)) => named,
            (None, None) => {
                return Err(AskError::Refused(Refusal::new(
                    Why::Malformed,
                    "经办员代为申请时需要填写劳动者的身份证号（person_id）",
                    "a clerk asking for a worker gives the worker's resident ID (person_id)",
                )));
            }
        };
        let from = RegionCode::parse(&request.from_region).map_err(|_| {
            AskError::Refused(Refusal::new(
                Why::Malformed,
                format!("转出地 {} 不是地区代码", request.from_region),
                format!("the origin {} is not a region code", request.from_region),
            ))
        })?;
        let to = RegionCode::parse(&request.to_region).map_err(|_| {
            AskError::Refused(Refusal::new(
                Why::Malformed,
                format!("转入地 {} 不是地区代码", request.to_region),
                format!("the destination {} is not a region code", request.to_region),
            ))
        })?;
        let person = self
            .side()
            .map_err(AskError::Refused)?
            .book
            .records
            .person_key(id);
        crate::access::check_request_transfer(actor, &person, to.code())
            .map_err(AskError::Denied)?;
        self.ask(from, id, request).map_err(AskError::Refused)
    }

    /// One round of the outbox: posts every message due (backing off each one that fails)
    /// and hands each answer to the machine.
    pub fn deliver(&self) -> Result<Delivered, Refusal> {
        let due = {
            let mut side = self.side()?;
            let now = self.clock.unix_seconds();
            side.book.now = now;
            side.pump(now)
                .into_iter()
                .filter_map(|due| {
                    side.peers
                        .named(&due.to)
                        .map(|p| (p.name.clone(), p.url.trim_end_matches('/').to_string(), due))
                })
                .collect::<Vec<_>>()
        };
        let mut done = Delivered::default();
        for (
            peer,
            url,
            super::machine::Due {
                transfer,
                signed,
                next_try,
                ..
            },
        ) in due
        {
            let answer = self
                .agent
                .post(format!("{url}{MESSAGES_PATH}"))
                .header("content-type", "application/json")
                .send(signed.to_json().as_bytes());
            let now = self.clock.unix_seconds();
            let limit = (super::message::MAX_MESSAGE_BYTES * 2) as u64;
            let replies: Result<Vec<Signed>, Undelivered> = match answer {
                Ok(mut r) => {
                    let status = r.status();
                    let text = r.body_mut().with_config().limit(limit).read_to_string();
                    match text {
                        Ok(t) if status.is_success() => serde_json::from_str(&t)
                            .map_err(|_| Undelivered::answered(status.as_u16(), "", now)),
                        Ok(t) => Err(Undelivered::answered(status.as_u16(), &t, now)),
                        Err(_) => Err(Undelivered::answered(status.as_u16(), "", now)),
                    }
                }
                Err(_) => Err(Undelivered::unreachable(now)),
            };
            let replies = match replies {
                Ok(replies) => {
                    self.note_undelivered(&transfer, None);
                    replies
                }
                Err(mut why) => {
                    done.failed += 1;
                    if why.status.is_some() {
                        done.refused.push((peer, why.kind.clone()));
                    }
                    why.next_try = Some(next_try);
                    self.note_undelivered(&transfer, Some(why));
                    continue;
                }
            };
            done.sent += 1;
            let mut side = self.side()?;
            side.book.now = self.clock.unix_seconds();
            for reply in replies {
                // A reply that does not fit (already handled, a reordering) changes nothing.
                if side
                    .handle(
                        &self.policy.calendar,
                        &reply,
                        self.clock.today(),
                        self.clock.unix_seconds(),
                    )
                    .is_ok()
                {
                    done.answered += 1;
                }
            }
        }
        Ok(done)
    }

    /// Keeps (or, with `None`, forgets) why `transfer`'s last message did not get through.
    fn note_undelivered(&self, transfer: &str, why: Option<Undelivered>) {
        if let Ok(mut map) = self.undelivered.lock() {
            match why {
                Some(w) => {
                    map.insert(transfer.to_string(), w);
                }
                None => {
                    map.remove(transfer);
                }
            }
        }
    }

    /// Why `transfer`'s last message did not get through, while it is still being retried.
    fn undelivered_of(&self, transfer: &Transfer) -> Option<Undelivered> {
        if !transfer.state.is_open() {
            return None;
        }
        self.undelivered
            .lock()
            .ok()
            .and_then(|m| m.get(&transfer.id).cloned())
    }

    /// The transfers of the worker `person` (this instance's key), newest first.
    pub fn transfers_of(
        &self,
        person: &anxin_records::PersonKey,
    ) -> Result<Vec<Transfer>, Refusal> {
        let side = self.side()?;
        let mut out: Vec<Transfer> = side
            .transfers
            .values()
            .filter(|t| side.book.person_of(&t.id).as_ref() == Some(person))
            .cloned()
            .collect();
        out.sort_by(|a, b| b.since.cmp(&a.since).then_with(|| b.id.cmp(&a.id)));
        Ok(out)
    }

    /// One transfer with what the pages show of it; `None` if this instance has none.
    pub fn detail(&self, id: &str) -> Result<Option<Detail>, Refusal> {
        let side = self.side()?;
        let Some(t) = side.transfers.get(id).cloned() else {
            return Ok(None);
        };
        let request = side.book.sent.get(id);
        let peer = side
            .peers
            .named(&t.peer)
            .map(|p| place_of(self.policy, p))
            .unwrap_or_else(|| (t.peer.clone(), t.peer.clone()));
        let today = self.clock.today();
        Ok(Some(Detail {
            person: side.book.person_of(id),
            from_region: request.map(|r| r.from_region.clone()),
            to_region: request.map(|r| r.to_region.clone()),
            received: side.book.received.get(id).cloned(),
            days_left: t
                .due
                .and_then(|d| self.policy.calendar.working_days_between(today, d).ok()),
            peer,
            undelivered: self.undelivered_of(&t),
            transfer: t,
        }))
    }

    /// The transfer voucher (转移凭证) of a transfer done here as its destination, issued on
    /// the day it was done: the same bytes every time it is asked for. `None` until then.
    pub fn voucher(&self, id: &str) -> Result<Option<super::voucher::SignedVoucher>, Refusal> {
        let side = self.side()?;
        let Some(t) = side.transfers.get(id) else {
            return Ok(None);
        };
        let (Some(seal), Some(package), Some(received)) =
            (&t.seal, &t.package, side.book.received.get(id))
        else {
            return Ok(None);
        };
        if t.role != super::machine::Role::Destination || t.state != super::machine::State::Done {
            return Ok(None);
        }
        super::voucher::issue(
            &side.key,
            id,
            &t.peer,
            package,
            seal,
            received,
            &t.since.to_string(),
        )
        .map(Some)
    }

    /// The federation keys that check a voucher, as (name, base64): this instance's first,
    /// then each peer's.
    pub fn keys(&self) -> Result<Vec<(String, String)>, Refusal> {
        use base64::Engine as _;
        let side = self.side()?;
        let b64 = |k: &[u8; 32]| base64::engine::general_purpose::STANDARD.encode(k);
        Ok(
            std::iter::once((side.key.name().to_string(), b64(&side.key.public())))
                .chain(
                    side.peers
                        .peers
                        .iter()
                        .map(|p| (p.name.clone(), b64(&p.key))),
                )
                .collect(),
        )
    }

    /// The regions this instance's peers keep the records of, with their peer's name: where a
    /// worker may ask to move from.
    pub fn origins(&self) -> Result<Vec<(RegionCode, String)>, Refusal> {
        let side = self.side()?;
        Ok(side
            .peers
            .peers
            .iter()
            .flat_map(|p| p.regions.iter().map(|r| (*r, p.name.clone())))
            .collect())
    }

    /// The clerks' queue: open transfers, most urgent first.
    pub fn queue(&self) -> Result<Vec<QueueItem>, Refusal> {
        Ok(self
            .side()?
            .queue(&self.policy.calendar, self.clock.today()))
    }

    pub fn transfer(&self, id: &str) -> Result<Option<Transfer>, Refusal> {
        Ok(self.side()?.transfers.get(id).cloned())
    }

    /// A transfer and, at the destination once recorded, how many months it brought.
    pub fn view(&self, id: &str) -> Result<Option<(Transfer, Option<usize>)>, Refusal> {
        let side = self.side()?;
        Ok(side.transfers.get(id).map(|t| {
            (
                t.clone(),
                side.book.received.get(id).map(|r| r.months.len()),
            )
        }))
    }

    /// Messages waiting in the outbox.
    pub fn outbox_len(&self) -> Result<usize, Refusal> {
        Ok(self.side()?.outbox.len())
    }
}

#[cfg(test)]
mod tests {
    use super::Undelivered;

    #[test]
    fn a_peers_refusal_is_told_in_this_instances_words_whatever_it_answered() {
        let refused = r#"{"error":{"kind":"unknown_peer","zh":"任何话","en":"anything"}}"#;
        let u = Undelivered::answered(403, refused, 7);
        assert_eq!(
            (u.kind.as_str(), u.status, u.at),
            ("unknown_peer", Some(403), 7)
        );
        assert!(
            u.zh.contains("可信机构名单") && !u.zh.contains("任何话"),
            "{u:?}"
        );
        assert!(
            u.en.contains("peers file") && !u.en.contains("anything"),
            "{u:?}"
        );
        // A known code without words of its own names the code.
        let u = Undelivered::answered(409, r#"{"error":{"kind":"out_of_order"}}"#, 7);
        assert_eq!(u.kind, "out_of_order");
        assert!(u.zh.contains("out_of_order") && u.en.contains("out_of_order"));
        // Garbage, an unknown code, an empty body or HTML: "garbage", with the status.
        for body in [
            "",
            "<html>oops</html>",
            r#"{"error":{"kind":"<script>"}}"#,
            r#"{"error":"unknown_peer"}"#,
            "[1,2",
        ] {
            let u = Undelivered::answered(502, body, 7);
            assert_eq!(
                (u.kind.as_str(), u.status),
                ("garbage", Some(502)),
                "{body}"
            );
            assert!(
                u.zh.contains("502") && !u.zh.contains("script"),
                "{body}: {u:?}"
            );
        }
        let u = Undelivered::unreachable(9);
        assert_eq!(
            (u.kind.as_str(), u.status, u.next_try),
            ("unreachable", None, None)
        );
    }
}
