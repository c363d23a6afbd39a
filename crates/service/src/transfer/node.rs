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
use super::{Refusal, Why};

/// The path of the federation route, on every instance.
pub const MESSAGES_PATH: &str = "/federation/v1/messages";
/// How long a peer may take to answer one message.
pub const POST_TIMEOUT_SECS: u64 = 30;

type NodeSide = Side<LedgerBook<'static, Box<dyn Store>>>;

pub struct Node {
    side: Mutex<NodeSide>,
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
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Delivered {
    /// Messages posted and answered by their peer.
    pub sent: u32,
    /// Of those, answers that moved a transfer on here.
    pub answered: u32,
    /// Messages that did not reach their peer or were refused there (tried again later).
    pub failed: u32,
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
        let book = LedgerBook::new(records, policy, key.clone());
        let side = Side::load(key, peers, book, clocks)?;
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(POST_TIMEOUT_SECS)))
            .build()
            .into();
        Ok(Node {
            side: Mutex::new(side),
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

    /// A message a peer posted: the replies to answer with, or why it is refused (nothing
    /// changed then).
    pub fn receive(&self, body: &str) -> Result<Vec<Signed>, Refusal> {
        let signed = Signed::from_json(body)?;
        let mut side = self.side()?;
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

    /// [`Node::ask`] for a signed-in account: the worker for themselves, or a clerk of the
    /// destination region (`anxin_service::access::check_request_transfer`).
    pub fn ask_as(
        &self,
        actor: crate::access::Actor<'_>,
        id: &ResidentId,
        request: LiaisonRequest,
    ) -> Result<String, AskError> {
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
            side.pump(now)
                .into_iter()
                .filter_map(|(to, signed)| {
                    side.peers
                        .named(&to)
                        .map(|p| (p.url.trim_end_matches('/').to_string(), signed))
                })
                .collect::<Vec<_>>()
        };
        let mut done = Delivered::default();
        for (url, signed) in due {
            let answer = self
                .agent
                .post(format!("{url}{MESSAGES_PATH}"))
                .header("content-type", "application/json")
                .send(signed.to_json().as_bytes());
            let replies: Vec<Signed> = match answer {
                Ok(mut r) if r.status().is_success() => {
                    match r
                        .body_mut()
                        .with_config()
                        .limit((super::message::MAX_MESSAGE_BYTES * 2) as u64)
                        .read_to_string()
                        .ok()
                        .and_then(|t| serde_json::from_str(&t).ok())
                    {
                        Some(replies) => replies,
                        None => {
                            done.failed += 1;
                            continue;
                        }
                    }
                }
                _ => {
                    done.failed += 1;
                    continue;
                }
            };
            done.sent += 1;
            let mut side = self.side()?;
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
