//! The audit: recompute the log from the stored rows and report every row that was edited,
//! deleted or inserted behind the system's back, by name and by what happened to it.
//!
//! What is checked, and against what:
//! - the signed head and every signed checkpoint in the history verify under the log's key;
//! - each event's bytes still hash to its stored leaf hash (an edited event is named);
//! - the sequence has no holes and nothing sits past the signed head (deleted / inserted);
//! - the tree recomputed from the event bytes has the signed root at every checkpoint size (an
//!   event rewritten together with its hash is caught here, and placed between two checkpoints);
//! - a checkpoint kept outside the database (the data directory's `checkpoint` file) exists
//!   and is consistent with the log, so rolling the database back is caught;
//! - every checkpoint known from elsewhere (`anxin audit --checkpoint`, a certificate's) is
//!   met: the log is not smaller and gives the same root at its size;
//! - every projection row (contributions, postings, persons, orgs, children) equals what the
//!   events say, and every event's postings sum to zero;
//! - every access log row hashes to what its `access_logged` entry recorded, and no entry has
//!   lost its row.
//!
//! Each finding says what happened: an entry deleted (a hole, or a projection row whose entry
//! is gone), its bytes changed, its stored hash changed, a row rewritten together with its
//! hash, or a row inserted behind the system's back (past the signed head, or with no entry).

use std::collections::{BTreeMap, HashMap};

use anxin_ledger::{Hash, LogHasher, parse_and_verify_checkpoint};

use crate::error::Result;
use crate::event::Event;
use crate::keys::hex;
use crate::log::Frontier;
use crate::records::{Records, child_row, contribution_row, org_row, person_row, posting_rows};
use crate::store::{ChildRow, ContributionRow, OrgRow, PersonRow, PostingRow, Store};

/// Rows read per round trip.
const CHUNK: u64 = 65_536;
/// Findings kept in full; past this only counted (a wholesale rewrite would otherwise fill
/// memory with one line per row).
pub const MAX_FINDINGS: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The table the row is in.
    pub table: &'static str,
    /// Which row: `#seq` for log-ordered tables, a short key otherwise.
    pub row: String,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditReport {
    pub head_size: u64,
    pub events: u64,
    pub checkpoints: u64,
    pub contributions: u64,
    pub postings: u64,
    pub postings_sum_fen: i64,
    pub persons: u64,
    pub orgs: u64,
    pub children: u64,
    /// Access log rows checked against the log entries that chain them.
    pub access_rows: u64,
    pub findings: Vec<Finding>,
    pub findings_not_listed: u64,
}

impl AuditReport {
    /// The report as JSON (the CLI's `audit --json` and the server's audit API).
    pub fn to_json(&self) -> serde_json::Value {
        let findings: Vec<serde_json::Value> = self
            .findings
            .iter()
            .map(|f| serde_json::json!({ "table": f.table, "row": f.row, "zh": f.zh, "en": f.en }))
            .collect();
        serde_json::json!({
            "clean": self.is_clean(), "log_size": self.head_size, "events": self.events,
            "checkpoints": self.checkpoints, "contributions": self.contributions,
            "postings": self.postings, "postings_sum_fen": self.postings_sum_fen,
            "persons": self.persons, "orgs": self.orgs, "children": self.children,
            "access_rows": self.access_rows,
            "findings": findings, "findings_not_listed": self.findings_not_listed,
        })
    }

    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.findings_not_listed == 0
    }

    /// Takes the findings of a part of the audit done apart, in order.
    fn absorb(&mut self, other: AuditReport) {
        for f in other.findings {
            self.find(f.table, f.row, f.zh, f.en);
        }
        self.findings_not_listed += other.findings_not_listed;
    }

    fn find(
        &mut self,
        table: &'static str,
        row: impl Into<String>,
        zh: impl Into<String>,
        en: impl Into<String>,
    ) {
        if self.findings.len() >= MAX_FINDINGS {
            self.findings_not_listed += 1;
            return;
        }
        self.findings.push(Finding {
            table,
            row: row.into(),
            zh: zh.into(),
            en: en.into(),
        });
    }
}

/// What to check.
#[derive(Debug, Clone, Copy)]
pub struct AuditScope {
    /// Also compare every projection row with the events (slower than the log alone).
    pub projections: bool,
}

/// A signed checkpoint known from outside the database: the data directory's `checkpoint`
/// file, a file given to `anxin audit --checkpoint`, a certificate's, a peer's. The audit fails
/// if the log is smaller than it or does not give its root at its size.
#[derive(Debug, Clone)]
pub struct Known {
    /// Where it came from, for the findings (a path, "certificate FILE", …).
    pub source: String,
    pub text: String,
}

/// The checkpoint kept outside the database as read at one moment ([`Records::read_outside`]).
#[derive(Debug)]
pub struct OutsideRead {
    /// Where it is kept (a file's path).
    pub place: String,
    /// Its text; `Ok(None)` when it is gone.
    pub text: Result<Option<String>>,
}

/// Where a root the log must meet at some size comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    Head,
    History,
    /// A checkpoint known from outside the database, by its description.
    Known(String),
}

impl<S: Store> Records<S> {
    /// Runs the audit. `outside` is a signed checkpoint kept apart from the database; the one
    /// kept by [`Records::set_outside`], if set, is checked as well and must exist.
    pub fn audit(&mut self, outside: Option<&str>, scope: AuditScope) -> Result<AuditReport> {
        let known: Vec<Known> = outside
            .map(|text| Known {
                source: "outside".into(),
                text: text.to_string(),
            })
            .into_iter()
            .collect();
        self.audit_known(&known, scope)
    }

    /// Runs the audit against the database's own checkpoints, the one kept outside it (which
    /// must exist when the records keep one), and every checkpoint in `known`.
    pub fn audit_known(&mut self, known: &[Known], scope: AuditScope) -> Result<AuditReport> {
        let outside = self.read_outside();
        self.audit_read(outside, known, scope)
    }

    /// What the checkpoint kept outside the database holds now (where, and its text), if the
    /// records keep one. A reader takes it *before* its snapshot begins, so that it is never
    /// ahead of what the snapshot shows (the writer advances it only after each commit).
    pub fn read_outside(&self) -> Option<OutsideRead> {
        self.outside().map(|o| OutsideRead {
            place: o.describe(),
            text: o.read(),
        })
    }

    /// [`Records::audit_known`] with the outside checkpoint as read beforehand by
    /// [`Records::read_outside`]: the audit on a reader snapshot (the server's pool), which
    /// must not read a checkpoint committed after its snapshot began.
    pub fn audit_read(
        &mut self,
        outside: Option<OutsideRead>,
        known: &[Known],
        scope: AuditScope,
    ) -> Result<AuditReport> {
        let hasher = self.hasher();
        let verifier = self.verifier().clone();
        let mut report = AuditReport::default();
        let head = self.store().head()?;
        report.head_size = head.size;

        // Signed checkpoints: the head's and the history's. Sizes whose root we must meet.
        let mut expected_roots: BTreeMap<u64, (Hash, Source)> = BTreeMap::new();
        match parse_and_verify_checkpoint(&head.checkpoint, &verifier) {
            Ok(cp) => {
                if cp.tree_size != head.size || cp.root_hash != head.root {
                    report.find(
                        "head",
                        "head",
                        "日志头的大小或根哈希与其签名检查点不符",
                        "the log head's size or root differs from its own signed checkpoint",
                    );
                }
                expected_roots.insert(cp.tree_size, (cp.root_hash, Source::Head));
            }
            Err(e) => report.find(
                "head",
                "head",
                format!("日志头的签名检查点无效：{e}"),
                format!("the log head's signed checkpoint does not verify: {e}"),
            ),
        }
        let history = self.store().checkpoints()?;
        report.checkpoints = history.len() as u64;
        for (size, text) in &history {
            match parse_and_verify_checkpoint(text, &verifier) {
                Ok(cp) if cp.tree_size == *size => {
                    expected_roots
                        .entry(cp.tree_size)
                        .or_insert((cp.root_hash, Source::History));
                }
                Ok(_) => report.find(
                    "checkpoints",
                    format!("size={size}"),
                    "检查点行的大小列与签名内容不符",
                    "the checkpoint row's size column differs from its signed text",
                ),
                Err(e) => report.find(
                    "checkpoints",
                    format!("size={size}"),
                    format!("检查点签名无效：{e}"),
                    format!("checkpoint signature does not verify: {e}"),
                ),
            }
        }
        // The checkpoint kept outside the database must be there: without it a database put
        // back from an older copy would pass.
        let mut all_known: Vec<Known> = Vec::new();
        if let Some(OutsideRead { place, text }) = outside {
            match text {
                Ok(Some(text)) => all_known.push(Known {
                    source: place,
                    text,
                }),
                Ok(None) => report.find(
                    "checkpoint-file",
                    place.clone(),
                    format!(
                        "库外保存的检查点文件 {place} 不见了：数据库若被回滚或换成旧副本，将无从发现。\
                         请从备份或其他见证（证书、对方机构）找回检查点，用 anxin audit --checkpoint 文件 核对后放回"
                    ),
                    format!(
                        "the checkpoint file kept outside the database ({place}) is missing: a database rolled back \
                         or replaced by an older copy could not be detected. Recover a checkpoint from a backup or \
                         another witness (a certificate, a peer), check it with anxin audit --checkpoint FILE, and put it back"
                    ),
                ),
                Err(e) => report.find(
                    "checkpoint-file",
                    place.clone(),
                    format!("读不到库外检查点文件 {place}：{e}"),
                    format!("cannot read the checkpoint file kept outside the database ({place}): {e}"),
                ),
            }
        }
        all_known.extend(known.iter().cloned());
        for k in &all_known {
            let source = &k.source;
            match parse_and_verify_checkpoint(&k.text, &verifier) {
                Ok(cp) => {
                    if cp.tree_size > head.size {
                        report.find("events", format!("#{}..#{}", head.size, cp.tree_size - 1),
                            format!("库外检查点（{source}）有 {} 条，数据库只剩 {} 条：日志被删减或回滚", cp.tree_size, head.size),
                            format!("the checkpoint from outside the database ({source}) has {} entries, the database only {}: the log was cut or rolled back", cp.tree_size, head.size));
                    } else {
                        let entry = expected_roots
                            .entry(cp.tree_size)
                            .or_insert((cp.root_hash, Source::Known(source.clone())));
                        if entry.0 != cp.root_hash {
                            report.find("checkpoints", format!("size={}", cp.tree_size),
                                format!("库外检查点（{source}）与库内检查点对同一大小给出不同的根：数据库被替换过"),
                                format!("the checkpoint from outside the database ({source}) and the database's give different roots for the same size: the database was replaced"));
                        }
                    }
                }
                Err(e) => report.find(
                    "checkpoint-file",
                    source.clone(),
                    format!("库外检查点（{source}）无效：{e}"),
                    format!(
                        "the checkpoint from outside the database ({source}) does not verify: {e}"
                    ),
                ),
            }
        }

        // The events, in order, against their hashes and the signed roots. Each chunk is
        // hashed and checked on other cores while the next one is read.
        let mut pass = LogPass::default();
        // Stored tree hashes that differ from the recomputed tree: reported only when the
        // entries themselves are sound (a changed entry explains its changed subtrees).
        let mut tree_findings: Vec<(String, &'static str)> = Vec::new();
        let mut persons: HashMap<[u8; 32], PersonRow> = HashMap::new();
        let mut orgs: HashMap<String, OrgRow> = HashMap::new();
        let mut children: HashMap<[u8; 32], ChildRow> = HashMap::new();
        let mut case_steps: Vec<crate::store::CaseStepRow> = Vec::new();
        let mut case_evidence: Vec<crate::store::EvidenceRow> = Vec::new();
        let mut alert_steps: Vec<crate::store::AlertStepRow> = Vec::new();
        let mut from = 0u64;
        let mut rows = if head.size > 0 {
            self.store().events(0, CHUNK.min(head.size))?
        } else {
            Vec::new()
        };
        while from < head.size {
            let to = (from + CHUNK).min(head.size);
            let parse = scope.projections;
            let (parsed, found, next) = std::thread::scope(|threads| {
                let checker = threads.spawn(|| {
                    let mut found = AuditReport::default();
                    let parsed = pass.check(&rows, &hasher, &expected_roots, parse, &mut found);
                    (parsed, found)
                });
                let next = if to < head.size {
                    self.store().events(to, (to + CHUNK).min(head.size))
                } else {
                    Ok(Vec::new())
                };
                let (parsed, found) = checker.join().expect("the log check does not panic");
                (parsed, found, next)
            });
            report.absorb(found);
            let computed = std::mem::take(&mut pass.computed);
            tree_findings.extend(self.compare_tree_hashes(&computed)?);
            let mut want_contributions: Vec<ContributionRow> = Vec::new();
            let mut want_postings: Vec<PostingRow> = Vec::new();
            for (row, event) in rows.iter().zip(parsed) {
                let Some(event) = event else {
                    continue;
                };
                match &event {
                    Event::PersonRegistered(p) => {
                        if let Ok(r) = person_row(p, row.seq) {
                            persons.insert(r.person, r);
                        }
                    }
                    Event::OrgRegistered(o) => {
                        orgs.insert(o.credit_code.clone(), org_row(o, row.seq));
                    }
                    Event::ChildRegistered(c) => {
                        if let Ok(r) = child_row(c, row.seq) {
                            children.insert(r.child, r);
                        }
                    }
                    Event::ContributionRecorded(c) => {
                        if let Ok(r) = contribution_row(c, row.seq) {
                            want_contributions.push(r);
                        }
                        let legs: Vec<PostingRow> = posting_rows(c, row.seq).collect();
                        if legs.iter().map(|p| p.amount_fen).sum::<i64>() != 0 {
                            report.find(
                                "events",
                                format!("#{}", row.seq),
                                "此条缴费的复式分录不平衡",
                                "this contribution's double entries do not balance",
                            );
                        }
                        want_postings.extend(legs);
                    }
                    Event::CaseStep(c) => {
                        if let Ok(r) = crate::records::case_step_row(c, row.seq) {
                            case_steps.push(r);
                        }
                    }
                    Event::CaseEvidence(e) => {
                        if let Ok(r) = crate::records::evidence_row(e, row.seq) {
                            case_evidence.push(r);
                        }
                    }
                    Event::AlertStep(a) => {
                        alert_steps.push(crate::records::alert_step_row(a, row.seq));
                    }
                    Event::CertificateIssued(_)
                    | Event::AccessLogged(_)
                    | Event::TransferStep(_) => {}
                }
            }
            report.events += rows.len() as u64;
            // A projection row whose entry is missing from the log below the signed head had
            // its entry deleted; one past the head was inserted.
            let deleted =
                |seq: u64| seq < head.size && rows.binary_search_by_key(&seq, |r| r.seq).is_err();
            if scope.projections {
                let have = self.store().contributions(from, to)?;
                report.contributions += have.len() as u64;
                compare_by(
                    &mut report,
                    "contributions",
                    want_contributions,
                    have,
                    |r| r.seq,
                    // A store may keep a record ID only as its log entry's key (SQLite,
                    // migration 19): a row whose entry was deleted then has none to show.
                    |r| match r.record_id.as_str() {
                        "" => format!("#{}", r.seq),
                        id => format!("#{} ({id})", r.seq),
                    },
                    diff_contribution,
                    |r| deleted(r.seq),
                );
                let have = self.store().postings(from, to)?;
                report.postings += have.len() as u64;
                report.postings_sum_fen += have.iter().map(|p| p.amount_fen).sum::<i64>();
                compare_by(
                    &mut report,
                    "postings",
                    want_postings,
                    have,
                    |r| (r.seq, r.leg),
                    |r| format!("#{} leg {}", r.seq, r.leg),
                    |a, b| {
                        if a.account != b.account {
                            Some("account")
                        } else if a.amount_fen != b.amount_fen {
                            Some("amount_fen")
                        } else {
                            None
                        }
                    },
                    |r| deleted(r.seq),
                );
            }
            rows = next?;
            from = to;
        }
        // Entries past the last signed size met (only when the head's own checkpoint is bad):
        // no root tells bytes from hash, so say what is known.
        for (seq, contribution) in std::mem::take(&mut pass.mismatched) {
            let (zh_row, en_row) = rebuilt_from(seq, contribution);
            report.find(
                "events",
                format!("#{seq}"),
                format!("日志第 {seq} 条的内容被改动{zh_row}（与其哈希不符）"),
                format!(
                    "log entry #{seq} was edited: its bytes{en_row} no longer match its stored hash"
                ),
            );
        }
        let LogPass {
            frontier,
            next_expected,
            mut holes,
            access,
            ..
        } = pass;
        if next_expected < head.size {
            holes.push(next_expected..head.size);
            report.find(
                "events",
                format!("#{}..#{}", next_expected, head.size - 1),
                format!("日志第 {} 至 {} 条被删除", next_expected, head.size - 1),
                format!(
                    "log entries #{} to #{} were deleted",
                    next_expected,
                    head.size - 1
                ),
            );
        }
        for (size, (_, source)) in expected_roots.range(frontier.size() + 1..) {
            if !matches!(source, Source::Known(_)) {
                report.find(
                    "head",
                    format!("size={size}"),
                    format!("签名检查点覆盖 {size} 条，日志只有 {} 条", frontier.size()),
                    format!(
                        "a signed checkpoint covers {size} entries, the log has {}",
                        frontier.size()
                    ),
                );
            }
        }

        for level in 1..=anxin_ledger::tile::MAX_TILE_LEVEL {
            let count = anxin_ledger::tile::level_count(head.size, level);
            for (index, _) in self.store().tree_hashes(level, count, count + 1_000)? {
                tree_findings.push((format!("level {level} #{index}"), "past"));
            }
        }
        if !report.findings.iter().any(|f| f.table == "events") {
            for (row, what) in tree_findings {
                let (zh, en) = match what {
                    "missing" => (
                        "此树哈希缺失（证明和瓦片将无法给出）",
                        "this stored tree hash is missing (proofs and tiles cannot be served)",
                    ),
                    "past" => (
                        "此树哈希在签名日志头之外：绕过系统插入",
                        "this stored tree hash lies past the signed head: inserted behind the system's back",
                    ),
                    _ => (
                        "此树哈希与日志条目重算的不符：被改动",
                        "this stored tree hash differs from the one the log's entries give: it was altered",
                    ),
                };
                report.find("tree_hashes", row, zh, en);
            }
        }

        // Rows past the signed head: nobody signed them.
        for row in self.store().events_after(head.size, 1_000)? {
            report.find(
                "events",
                format!("#{}", row.seq),
                format!("日志第 {} 条在签名日志头之外：绕过系统插入", row.seq),
                format!(
                    "log entry #{} lies past the signed head: inserted behind the system's back",
                    row.seq
                ),
            );
        }
        if scope.projections {
            for (table, seq) in self.store().projection_rows_after(head.size)? {
                report.find(
                    leak(&table),
                    format!("#{seq}"),
                    format!("{table} 表第 {seq} 行没有对应的日志：绕过系统插入"),
                    format!(
                        "{table} row #{seq} has no log entry: inserted behind the system's back"
                    ),
                );
            }
            let have = self.store().persons_all()?;
            report.persons = have.len() as u64;
            compare_keyed(
                &mut report,
                "persons",
                persons,
                have,
                |r| r.person,
                |k| format!("key {}…", &hex(k)[..8]),
                |r| r.seq,
                &holes,
            );
            let have = self.store().orgs_all()?;
            report.orgs = have.len() as u64;
            compare_keyed(
                &mut report,
                "orgs",
                orgs,
                have,
                |r| r.code.clone(),
                |k| k.clone(),
                |r| r.seq,
                &holes,
            );
            let have = self.store().children_all()?;
            report.children = have.len() as u64;
            compare_keyed(
                &mut report,
                "children",
                children,
                have,
                |r| r.child,
                |k| format!("key {}…", &hex(k)[..8]),
                |r| r.seq,
                &holes,
            );
            // Case steps (migration 12): every column from its `case_step` event.
            let have = self.store().case_steps_all()?;
            compare_by(
                &mut report,
                "case_steps",
                case_steps,
                have,
                |r| r.seq,
                |r| format!("#{} ({} step {})", r.seq, r.case_id, r.step),
                |a, b| (a != b).then_some("case"),
                |r| holes.iter().any(|h| h.contains(&r.seq)),
            );
            // Evidence (migration 13): every column but the sealed content from its
            // `case_evidence` event; the content is checked against the hash when opened.
            let have = self.store().case_evidence_all()?;
            compare_by(
                &mut report,
                "case_evidence",
                case_evidence,
                have,
                |r| r.seq,
                |r| format!("#{} ({} file {})", r.seq, r.case_id, r.n),
                |a, b| (a != b).then_some("evidence"),
                |r| holes.iter().any(|h| h.contains(&r.seq)),
            );
            // Alert steps (migration 16): every column from its `alert_step` event.
            let have = self.store().alert_steps_all()?;
            compare_by(
                &mut report,
                "alert_steps",
                alert_steps,
                have,
                |r| r.seq,
                |r| format!("#{} ({} step {})", r.seq, r.alert_id, r.step),
                |a, b| (a != b).then_some("alert"),
                |r| holes.iter().any(|h| h.contains(&r.seq)),
            );
            if report.postings_sum_fen != 0 {
                report.find(
                    "postings",
                    "all",
                    format!("全部分录合计 {} 分，应为 0", report.postings_sum_fen),
                    format!("all postings sum to {} fen, not 0", report.postings_sum_fen),
                );
            }
            self.audit_access(access, &mut report)?;
        }
        Ok(report)
    }
}

impl<S: Store> Records<S> {
    /// The stored tree hashes (tiles above level 0) against those the audit recomputed from
    /// the entries' bytes: each (row, "missing" or "differs") that does not match.
    fn compare_tree_hashes(
        &mut self,
        computed: &[crate::log::TreeHash],
    ) -> Result<Vec<(String, &'static str)>> {
        let mut found = Vec::new();
        for level in 1..=anxin_ledger::tile::MAX_TILE_LEVEL {
            let want: Vec<&crate::log::TreeHash> =
                computed.iter().filter(|t| t.level == level).collect();
            let (Some(first), Some(last)) = (want.first(), want.last()) else {
                continue;
            };
            let have: HashMap<u64, Hash> = self
                .store()
                .tree_hashes(level, first.index, last.index + 1)?
                .into_iter()
                .collect();
            for t in want {
                match have.get(&t.index) {
                    None => found.push((format!("level {level} #{}", t.index), "missing")),
                    Some(h) if *h != t.hash => {
                        found.push((format!("level {level} #{}", t.index), "differs"))
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(found)
    }

    /// The access log against the `access_logged` entries: each chained row must hash to what
    /// its entry recorded, each entry must still have its row, and no row may appear unchained
    /// after chaining began (rows written before migration 6 carry no entry).
    fn audit_access(
        &mut self,
        mut entries: BTreeMap<u64, String>,
        report: &mut AuditReport,
    ) -> Result<()> {
        let key = self.data_key().clone();
        let mut after = i64::MIN;
        let mut chained_seen = false;
        loop {
            let rows = self.store().access_rows(after, 10_000)?;
            let Some((_, last)) = rows.last() else {
                break;
            };
            after = last.id;
            for (seq, row) in rows {
                report.access_rows += 1;
                let name = format!("id {}", row.id);
                match seq {
                    None if chained_seen => report.find(
                        "access_log",
                        name.clone(),
                        format!("访问日志 {name} 没有对应的日志条目：绕过系统插入"),
                        format!("access_log row {name} has no log entry: inserted behind the system's back"),
                    ),
                    None => {}
                    Some(seq) => {
                        chained_seen = true;
                        match entries.remove(&seq) {
                            None => report.find(
                                "access_log",
                                name.clone(),
                                format!("访问日志 {name} 指向的日志第 {seq} 条并未记录这次查阅：绕过系统插入"),
                                format!("access_log row {name} names log entry #{seq}, which records no such read: inserted behind the system's back"),
                            ),
                            Some(hash) => {
                                if hex(&crate::access::row_hash(&key, &row)) != hash {
                                    report.find(
                                        "access_log",
                                        name.clone(),
                                        format!("访问日志 {name} 被改动（与日志第 {seq} 条记录的不符）"),
                                        format!("access_log row {name} was edited (it differs from what log entry #{seq} recorded)"),
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
        for seq in entries.keys() {
            report.find(
                "access_log",
                format!("#{seq}"),
                format!("日志第 {seq} 条记录的一次查阅在访问日志中被删除"),
                format!("the access_log row recorded by log entry #{seq} was deleted"),
            );
        }
        Ok(())
    }
}

/// The log check's state from one chunk of events to the next.
#[derive(Default)]
struct LogPass {
    frontier: Frontier,
    next_expected: u64,
    last_good_size: u64,
    /// Entries since the last signed size whose bytes do not hash to their stored leaf: the
    /// next root check tells whether their bytes or their hash column changed.
    /// With each, whether it is a contribution (its bytes may be rebuilt from its row).
    mismatched: Vec<(u64, bool)>,
    /// Whether entries were found deleted since the last signed size.
    holes_since_good: bool,
    /// Every hole found, as `from..to` (the audit names projection rows of deleted entries).
    holes: Vec<std::ops::Range<u64>>,
    /// The `access_logged` entries: sequence number and the access row's keyed hash.
    access: BTreeMap<u64, String>,
    /// Whether the last root check's failure was explained by entries whose bytes changed.
    mismatched_reported_bytes: bool,
    /// Tree hashes above the leaves the recomputed tree completed in this chunk, to check
    /// against the stored ones (migration 9).
    computed: Vec<crate::log::TreeHash>,
}

impl LogPass {
    /// Checks a chunk of events in sequence order: holes, each event's hash, the tree's root
    /// at every signed size, and (when parsing) that each event parses and matches its key
    /// and kind columns. Returns the parsed events (`None` when not parsed or unparsable).
    fn check(
        &mut self,
        rows: &[crate::store::EventRow],
        hasher: &crate::log::SuiteHasher,
        expected_roots: &BTreeMap<u64, (Hash, Source)>,
        parse: bool,
        report: &mut AuditReport,
    ) -> Vec<Option<Event>> {
        let checked = hash_and_parse(rows, hasher, parse);
        let mut events = Vec::with_capacity(rows.len());
        for (row, (leaf, parsed)) in rows.iter().zip(checked) {
            if row.seq != self.next_expected {
                report.find(
                    "events",
                    format!("#{}..#{}", self.next_expected, row.seq - 1),
                    format!("日志第 {} 至 {} 条被删除", self.next_expected, row.seq - 1),
                    format!(
                        "log entries #{} to #{} were deleted",
                        self.next_expected,
                        row.seq - 1
                    ),
                );
                self.holes.push(self.next_expected..row.seq);
                self.holes_since_good = true;
                // Keep the tree aligned with positions so later roots still mean something.
                while self.frontier.size() < row.seq {
                    self.frontier
                        .push_storing(hasher, [0; 32], |t| self.computed.push(t));
                }
            }
            self.next_expected = row.seq + 1;
            let contribution = row.kind == crate::store::REBUILT_KIND;
            if leaf != row.leaf {
                self.mismatched.push((row.seq, contribution));
            }
            if contribution && row.body.is_empty() {
                // Its bytes are rebuilt from its contributions row: the row is gone or unreadable.
                report.find(
                    "contributions",
                    format!("#{}", row.seq),
                    format!(
                        "缴费表第 {0} 行被删除或无法读取（日志第 {0} 条的内容由这一行重建）",
                        row.seq
                    ),
                    format!(
                        "contributions row #{0} was deleted or is unreadable (log entry #{0}'s bytes are rebuilt from it)",
                        row.seq
                    ),
                );
            }
            self.frontier
                .push_storing(hasher, leaf, |t| self.computed.push(t));
            if let Some((root, source)) = expected_roots.get(&self.frontier.size()) {
                let (good, size) = (self.last_good_size, self.frontier.size());
                let root_ok = self.frontier.root(hasher) == *root;
                self.report_mismatched(root_ok, report);
                if !root_ok && !self.holes_since_good && !self.mismatched_reported_bytes {
                    let (zh_whose, en_whose) = match source {
                        Source::Known(place) => (
                            format!("库外检查点（{place}）"),
                            format!("the checkpoint from outside the database ({place})"),
                        ),
                        _ => (
                            "签名检查点".to_string(),
                            "the signed checkpoint".to_string(),
                        ),
                    };
                    report.find("events", format!("#{}..#{}", good, size - 1),
                        format!("日志第 {} 至 {} 条与{zh_whose}（大小 {}）不符：有记录连同哈希被改写", good, size - 1, size),
                        format!("log entries #{} to #{} do not give the signed root at size {} of {en_whose}: a row was rewritten together with its hash", good, size - 1, size));
                }
                self.mismatched_reported_bytes = false;
                self.holes_since_good = false;
                self.last_good_size = size;
            }
            let event = match parsed {
                None => None,
                Some(Ok(event)) => {
                    if let Event::AccessLogged(a) = &event {
                        self.access.insert(row.seq, a.row_hash.clone());
                    }
                    if event.key() != row.key || event.kind() != row.kind {
                        report.find(
                            "events",
                            format!("#{}", row.seq),
                            format!("日志第 {} 条的记录号或类型列与内容不符", row.seq),
                            format!(
                                "log entry #{}: its key or kind column differs from its content",
                                row.seq
                            ),
                        );
                    }
                    Some(event)
                }
                Some(Err(e)) => {
                    report.find(
                        "events",
                        format!("#{}", row.seq),
                        format!("日志第 {} 条无法解析：{e}", row.seq),
                        format!("log entry #{} does not parse: {e}", row.seq),
                    );
                    None
                }
            };
            events.push(event);
        }
        events
    }
}

impl LogPass {
    /// Names the entries whose bytes do not hash to their stored leaf. `root_ok` says whether
    /// the root recomputed from the bytes held at the next signed size: if it did, the bytes
    /// are what was signed and only the stored hash column was changed; if not, the bytes were.
    fn report_mismatched(&mut self, root_ok: bool, report: &mut AuditReport) {
        for (seq, contribution) in std::mem::take(&mut self.mismatched) {
            let (zh_row, en_row) = rebuilt_from(seq, contribution);
            if root_ok {
                report.find(
                    "events",
                    format!("#{seq}"),
                    format!("日志第 {seq} 条的哈希列被改动（内容未变，仍给出签名的根）"),
                    format!(
                        "log entry #{seq} was edited: its stored hash column was changed (its bytes are intact and give the signed root)"
                    ),
                );
            } else {
                self.mismatched_reported_bytes = true;
                report.find(
                    "events",
                    format!("#{seq}"),
                    format!(
                        "日志第 {seq} 条的内容被改动{zh_row}（与其哈希不符，也不再给出签名的根）"
                    ),
                    format!(
                        "log entry #{seq} was edited: its bytes{en_row} were changed (they no longer match its stored hash nor give the signed root)"
                    ),
                );
            }
        }
    }
}

/// Where a changed entry's bytes may come from: a contribution's are rebuilt from its
/// contributions row when stored empty (migration 17), so that row is named too.
fn rebuilt_from(seq: u64, contribution: bool) -> (String, String) {
    if contribution {
        (
            format!("（或缴费表第 {seq} 行：这条缴费的内容由它重建）"),
            format!(
                " (or contributions row #{seq}, which a contribution's bytes are rebuilt from)"
            ),
        )
    } else {
        (String::new(), String::new())
    }
}

/// Re-hashes (and, for the projection checks, parses) a chunk of events on every core,
/// keeping order.
fn hash_and_parse(
    rows: &[crate::store::EventRow],
    hasher: &crate::log::SuiteHasher,
    parse: bool,
) -> Vec<(Hash, Option<Result<Event>>)> {
    let one = |row: &crate::store::EventRow| {
        (
            hasher.leaf(&row.body),
            parse.then(|| Event::from_bytes(&row.body)),
        )
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if rows.len() < 1024 || threads == 1 {
        return rows.iter().map(one).collect();
    }
    let per = rows.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = rows
            .chunks(per)
            .map(|chunk| scope.spawn(move || chunk.iter().map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("hashing does not panic"))
            .collect()
    })
}

fn leak(table: &str) -> &'static str {
    match table {
        "contributions" => "contributions",
        "postings" => "postings",
        "persons" => "persons",
        "orgs" => "orgs",
        "children" => "children",
        _ => "projection",
    }
}

fn diff_contribution(a: &ContributionRow, b: &ContributionRow) -> Option<&'static str> {
    [
        (a.record_id != b.record_id, "record_id"),
        (a.person != b.person, "person"),
        (a.month != b.month, "month"),
        (a.insurance != b.insurance, "insurance"),
        (a.region != b.region, "region"),
        (a.payer != b.payer, "payer"),
        (a.payer_code != b.payer_code, "payer_code"),
        (a.base_fen != b.base_fen, "base_fen"),
        (a.amount_fen != b.amount_fen, "amount_fen"),
        (a.account_fen != b.account_fen, "account_fen"),
        (a.status != b.status, "status"),
        (a.reason != b.reason, "reason"),
        (a.paid_on != b.paid_on, "paid_on"),
    ]
    .into_iter()
    .find(|(differs, _)| *differs)
    .map(|(_, column)| column)
}

/// Merges two lists sorted by `key`, naming rows that differ, are missing or are extra.
#[allow(clippy::too_many_arguments)]
fn compare_by<T, K: Ord + Copy>(
    report: &mut AuditReport,
    table: &'static str,
    want: Vec<T>,
    have: Vec<T>,
    key: impl Fn(&T) -> K,
    name: impl Fn(&T) -> String,
    diff: impl Fn(&T, &T) -> Option<&'static str>,
    entry_deleted: impl Fn(&T) -> bool,
) {
    let mut want = want.into_iter().peekable();
    let mut have = have.into_iter().peekable();
    loop {
        match (want.peek(), have.peek()) {
            (None, None) => break,
            (Some(w), Some(h)) if key(w) == key(h) => {
                if let Some(column) = diff(w, h) {
                    report.find(
                        table,
                        name(h),
                        format!("{table} 表 {} 的 {column} 列被改动（与日志不符）", name(h)),
                        format!(
                            "{table} row {}: column {column} was edited (differs from the log)",
                            name(h)
                        ),
                    );
                }
                want.next();
                have.next();
            }
            (Some(w), h) if h.is_none_or(|h| key(w) < key(h)) => {
                report.find(
                    table,
                    name(w),
                    format!("{table} 表 {} 被删除（日志中有）", name(w)),
                    format!("{table} row {} was deleted (the log has it)", name(w)),
                );
                want.next();
            }
            (_, Some(h)) => {
                no_entry(report, table, name(h), entry_deleted(h));
                have.next();
            }
            (Some(_), None) => unreachable!("handled by the arm above"),
        }
    }
}

/// A projection row with no log entry: its entry was deleted from the log (it sat below the
/// signed head), or the row was inserted behind the system's back.
fn no_entry(report: &mut AuditReport, table: &'static str, name: String, deleted: bool) {
    if deleted {
        report.find(
            table,
            name.clone(),
            format!("{table} 表 {name} 没有对应的日志：它的日志条目被删除"),
            format!("{table} row {name} has no log entry: its log entry was deleted"),
        );
    } else {
        report.find(
            table,
            name.clone(),
            format!("{table} 表 {name} 没有对应的日志：绕过系统插入"),
            format!("{table} row {name} has no log entry: inserted behind the system's back"),
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn compare_keyed<T: PartialEq, K: std::hash::Hash + Eq>(
    report: &mut AuditReport,
    table: &'static str,
    mut want: HashMap<K, T>,
    have: Vec<T>,
    key: impl Fn(&T) -> K,
    name: impl Fn(&K) -> String,
    seq: impl Fn(&T) -> u64,
    holes: &[std::ops::Range<u64>],
) {
    for row in have {
        let k = key(&row);
        match want.remove(&k) {
            Some(expected) if expected == row => {}
            Some(_) => report.find(
                table,
                name(&k),
                format!("{table} 表 {} 被改动（与日志不符）", name(&k)),
                format!("{table} row {} was edited (differs from the log)", name(&k)),
            ),
            None => {
                let s = seq(&row);
                no_entry(
                    report,
                    table,
                    name(&k),
                    holes.iter().any(|h| h.contains(&s)),
                );
            }
        }
    }
    for k in want.keys() {
        report.find(
            table,
            name(k),
            format!("{table} 表 {} 被删除（日志中有）", name(k)),
            format!("{table} row {} was deleted (the log has it)", name(k)),
        );
    }
}
