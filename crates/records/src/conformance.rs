//! One conformance suite for every storage backend (the "story" test): each backend's test
//! calls [`run_all`] with a factory of fresh, empty stores, and the same records story must
//! hold on each. Assertions panic with the step that failed.

use anxin_domain::{CreditCode, Fen, RegionCode, ResidentId, YearMonth};
use anxin_import::{EmploymentForm, GapReason, Insurance, OrgKind, Payer, Relation, Status};
use anxin_ledger::{LogHasher, Signer, verify_consistency, verify_inclusion};

use crate::audit::AuditScope;
use crate::cert;
use crate::input::{ChildInput, ContributionInput, Input, OrgInput, PersonInput};
use crate::keys::{DataKey, hex};
use crate::log::Suite;
use crate::records::{Outcome, Records, Secrets};
use crate::store::{Store, WriteBatch};

/// A store factory: each call gives a fresh, empty, migrated store.
pub type Factory<'a> = &'a mut dyn FnMut() -> Box<dyn Store>;

/// Runs every story on fresh stores from `make`.
pub fn run_all(make: Factory<'_>) {
    for suite in [Suite::Standard, Suite::Guomi] {
        story_ingest_idempotent_and_refusals(make(), suite);
    }
    story_init_twice_refused(make());
    story_uncommitted_changes_nothing(make());
    story_proofs_and_certificates(make());
    story_balances_sum_to_zero(make());
    story_postings_follow_the_rule(make());
    story_audit_sees_projection_damage_via_trait(make());
    story_accounts_sessions_access_log(make());
    story_payer_report(make());
    story_import_jobs(make());
    story_case_steps(make());
    story_case_evidence(make());
    story_transfers(make());
    story_witness(make());
    story_alert_steps(make());
    story_inbox(make());
    for suite in [Suite::Standard, Suite::Guomi] {
        story_tree_hashes_and_tiles(make(), suite);
    }
    story_readers_see_snapshots(make());
    story_large_batches(make());
    story_persons_paged(make());
}

/// The registry walked a page at a time with its contributions (the inbox's run over a
/// province): every registered person once, with exactly the rows [`Store::contributions_of`]
/// gives; first the persons who have contributed, in the order of their first contribution,
/// then the rest in key order; no page holds more than its limit; past the end, nothing.
fn story_persons_paged(store: Box<dyn Store>) {
    use crate::store::RegistryCursor;
    let backend = store.backend();
    let mut records = fresh(store);
    records.append(persons(0, 11)).expect("persons");
    let all = records.store().persons_all().expect("all");
    assert_eq!(all.len(), 11, "{backend}");
    let id = person_id;
    // Persons 7, 2, 9 and 4 contribute, in that order; later months of person 7 come after
    // the others' first ones, and out of month order.
    let firsts = [7, 2, 9, 4];
    let mut rows: Vec<Input> = firsts
        .iter()
        .map(|&i| {
            contribution(
                &id(i),
                &format!("p-{i}-0"),
                "2024-05",
                Payer::Individual,
                "962.40",
            )
        })
        .collect();
    rows.push(contribution(
        &id(7),
        "p-7-2",
        "2024-09",
        Payer::Individual,
        "962.40",
    ));
    rows.push(contribution(
        &id(7),
        "p-7-1",
        "2024-01",
        Payer::Individual,
        "962.40",
    ));
    rows.push(contribution(
        &id(2),
        "p-2-1",
        "2023-12",
        Payer::Individual,
        "1.00",
    ));
    let appended = records.append(rows).expect("contributions");
    assert!(
        appended.outcomes.iter().all(added),
        "{backend}: {appended:?}"
    );
    let key_of = |i: usize| records.person_key(&id(i)).0;
    let mut expected: Vec<[u8; 32]> = [7, 2, 9, 4].iter().map(|&i| key_of(i)).collect();
    let mut silent: Vec<[u8; 32]> = all
        .iter()
        .map(|p| p.person)
        .filter(|k| !expected.contains(k))
        .collect();
    silent.sort();
    expected.extend(silent);
    for limit in [1, 2, 3, 100] {
        let mut walked = Vec::new();
        let mut from = Some(RegistryCursor::Start);
        let mut pages = 0;
        while let Some(cursor) = from {
            let page = records.store().registry_page(&cursor, limit).expect("page");
            assert!(
                page.persons.len() <= limit as usize,
                "{backend}: a page holds at most its limit"
            );
            from = page.next;
            walked.extend(page.persons);
            pages += 1;
            assert!(pages < 100, "{backend}: the walk ends");
        }
        let order: Vec<[u8; 32]> = walked.iter().map(|(p, _)| p.person).collect();
        assert_eq!(
            order, expected,
            "{backend}, limit {limit}: who, and in what order"
        );
        for (person, contributions) in &walked {
            assert_eq!(
                Some(person),
                all.iter().find(|p| p.person == person.person),
                "{backend}: the registry's row"
            );
            let mut theirs = records
                .store()
                .contributions_of(&person.person)
                .expect("contributions_of");
            assert!(theirs.iter().all(|r| !r.record_id.is_empty()), "{backend}");
            for row in &mut theirs {
                row.record_id.clear();
            }
            assert_eq!(
                contributions, &theirs,
                "{backend}, limit {limit}: a person's rows as contributions_of gives them, \
                 without their record IDs"
            );
        }
        assert_eq!(walked[0].1.len(), 3, "{backend}: person 7's three months");
    }
    // Past the end of either part.
    let past = records
        .store()
        .registry_page(&RegistryCursor::Contributed(i64::MAX), 4)
        .expect("past the contributors");
    assert!(past.persons.is_empty(), "{backend}");
    assert_eq!(past.next, Some(RegistryCursor::Silent(None)), "{backend}");
    let last = expected.last().copied();
    let past = records
        .store()
        .registry_page(&RegistryCursor::Silent(last), 4)
        .expect("past the end");
    assert!(past.persons.is_empty() && past.next.is_none(), "{backend}");
    // A limit of 0 reads as 1: the walk still moves on.
    let first = records
        .store()
        .registry_page(&RegistryCursor::Start, 0)
        .expect("limit 0");
    assert_eq!(first.persons.len(), 1, "{backend}");
    assert!(
        matches!(first.next, Some(RegistryCursor::Contributed(_))),
        "{backend}: {:?}",
        first.next
    );
}

fn story_witness(mut store: Box<dyn Store>) {
    use crate::witness::{AlarmRow, CosignatureRow, SeenRow};
    let backend = store.backend();
    let seen = |size: u64, root: u8| SeenRow {
        peer: "fuyang".into(),
        size,
        root: [root; 32],
        checkpoint: format!("fuyang/log\n{size}\n"),
        at: 1_700_000_000 + size as i64,
    };
    assert!(store.witness_seen().expect("read").is_empty(), "{backend}");
    assert!(
        store.witness_set_seen(&seen(5, 1), None).expect("first"),
        "{backend}"
    );
    // A second first sighting does not overwrite.
    assert!(
        !store.witness_set_seen(&seen(9, 2), None).expect("again"),
        "{backend}"
    );
    assert!(
        store
            .witness_set_seen(&seen(8, 3), Some(5))
            .expect("advance"),
        "{backend}"
    );
    // A step from the size it no longer is changes nothing.
    assert!(
        !store
            .witness_set_seen(&seen(12, 4), Some(5))
            .expect("stale"),
        "{backend}"
    );
    assert_eq!(
        store.witness_seen().expect("read"),
        vec![seen(8, 3)],
        "{backend}"
    );

    let alarm = |size: u64| AlarmRow {
        id: 0,
        peer: "fuyang".into(),
        at: 1_700_000_100,
        kind: "rollback".into(),
        seen_size: 8,
        size,
        zh: "日志被回滚".into(),
        en: "the log was rolled back".into(),
        checkpoint: format!("fuyang/log\n{size}\n"),
    };
    let first = store.witness_alarm_add(&alarm(3)).expect("alarm");
    let second = store.witness_alarm_add(&alarm(4)).expect("alarm");
    assert!(second > first, "{backend}");
    let got = store.witness_alarms(10).expect("alarms");
    assert_eq!(got.len(), 2, "{backend}");
    assert_eq!((got[0].id, got[0].size), (second, 4), "{backend}");
    assert_eq!(
        store.witness_alarms(1).expect("alarms").len(),
        1,
        "{backend}"
    );

    let cosig = |witness: &str, size: u64, line: &str| CosignatureRow {
        witness: witness.into(),
        size,
        line: line.into(),
        checkpoint: format!("anxin.test/log\n{size}\n"),
        at: 1_700_000_200,
    };
    store
        .cosignature_add(&cosig("fuyang/witness", 4, "a"))
        .expect("cosig");
    store
        .cosignature_add(&cosig("fuyang/witness", 7, "b"))
        .expect("cosig");
    store
        .cosignature_add(&cosig("hefei/witness", 7, "c"))
        .expect("cosig");
    // The same witness and size again replaces the line.
    store
        .cosignature_add(&cosig("hefei/witness", 7, "d"))
        .expect("cosig");
    let at7 = store.cosignatures_at(7).expect("at");
    assert_eq!(at7[0].checkpoint, "anxin.test/log\n7\n", "{backend}");
    assert_eq!(
        at7.iter().map(|c| c.line.as_str()).collect::<Vec<_>>(),
        ["b", "d"],
        "{backend}"
    );
    let latest = store.cosignatures_latest().expect("latest");
    assert_eq!(
        latest
            .iter()
            .map(|c| (c.witness.as_str(), c.size))
            .collect::<Vec<_>>(),
        [("fuyang/witness", 7), ("hefei/witness", 7)],
        "{backend}"
    );
    assert!(
        store.cosignatures_at(5).expect("none").is_empty(),
        "{backend}"
    );
}

/// A large batch is written without looking up its keys and slots first; when the database
/// refuses a row already stored, the batch is rolled back and written again with every
/// lookup. Either way the outcomes are the careful ones, the log has no hole, the job's
/// function runs once per batch and the audit passes.
fn story_large_batches(store: Box<dyn Store>) {
    use crate::jobs::{JobProgress, JobWrite, NewJob};
    let backend = store.backend();
    let mut records = fresh(store);
    let mut registry = vec![platform()];
    registry.extend(persons(0, 40));
    records.append(registry).expect("registry");
    let ids: Vec<ResidentId> = (0..40).map(person_id).collect();
    let month = |k: usize| format!("{}-{:02}", 2010 + k / 12, k % 12 + 1);
    let rows = |from: usize, to: usize| -> Vec<Input> {
        (from..to)
            .map(|i| {
                let (p, k) = (i % 40, i / 40);
                let payer = if i % 3 == 0 {
                    Payer::Platform
                } else {
                    Payer::Individual
                };
                contribution(&ids[p], &format!("big-{i}"), &month(k), payer, "962.40")
            })
            .collect()
    };
    // New rows: all added, in order, no hole.
    let start = records.store().head().expect("head").size;
    let first = records.append(rows(0, 2_000)).expect("first batch");
    for (i, o) in first.outcomes.iter().enumerate() {
        assert_eq!(*o, Outcome::Added(start + i as u64), "{backend}: row {i}");
    }
    assert_eq!(first.head.size, start + 2_000, "{backend}");
    // The same rows again: the optimistic write is refused, the careful one says unchanged.
    let again = records.append(rows(0, 2_000)).expect("same batch again");
    for (i, o) in again.outcomes.iter().enumerate() {
        assert_eq!(
            *o,
            Outcome::Unchanged(start + i as u64),
            "{backend}: row {i}"
        );
    }
    assert_eq!(again.head.size, start + 2_000, "{backend}: nothing added");
    // New rows with a taken slot and a reused record id among them, in an import job.
    let id = records
        .store()
        .create_job(&NewJob {
            owner: 1,
            file_name: "big.csv".into(),
            kind: "contributions".into(),
            format: "csv".into(),
            today: "2026-06-15".into(),
            content: Vec::new(),
            path: None,
            digest: "cd".repeat(32),
            created_at: 1_780_000_000,
        })
        .expect("job");
    let mut batch = rows(2_000, 3_500);
    // Row 1's slot (person 1, 2010-01, paid by the person) under a new record id.
    batch.insert(
        700,
        contribution(
            &ids[1],
            "big-taken-slot",
            &month(0),
            Payer::Individual,
            "962.40",
        ),
    );
    // Record id big-5 again with different content.
    batch.insert(
        1_200,
        contribution(&ids[5], "big-5", &month(80), Payer::Individual, "1.00"),
    );
    let mut calls = 0;
    let mut seen = 0;
    let third = records
        .append_job(batch, &mut |outcomes| {
            calls += 1;
            seen = outcomes.len();
            JobWrite {
                id,
                progress: JobProgress {
                    read: outcomes.len() as u64,
                    added: outcomes.iter().filter(|o| added(o)).count() as u64,
                    ..JobProgress::default()
                },
                refusals: Vec::new(),
            }
        })
        .expect("third batch");
    assert_eq!(
        calls, 1,
        "{backend}: the job moves once, with the write that commits"
    );
    assert_eq!(seen, 1_502, "{backend}");
    assert_eq!(
        rejected_column(&third.outcomes[700]),
        Some("month"),
        "{backend}"
    );
    assert_eq!(
        rejected_column(&third.outcomes[1_200]),
        Some("record_id"),
        "{backend}"
    );
    let landed: Vec<u64> = third
        .outcomes
        .iter()
        .filter_map(|o| match o {
            Outcome::Added(seq) => Some(*seq),
            _ => None,
        })
        .collect();
    let from = start + 2_000;
    assert_eq!(
        landed,
        (from..from + 1_500).collect::<Vec<_>>(),
        "{backend}: no hole"
    );
    let job = records.store().job(id).expect("job").expect("stored");
    assert_eq!(
        job.progress.added, 1_500,
        "{backend}: the job moved with the batch"
    );
    // Fresh rows after the miss (written carefully for a few batches, then optimistically).
    for b in 0..10 {
        let from = 3_500 + b * 1_040;
        let done = records.append(rows(from, from + 1_040)).expect("more");
        assert!(done.outcomes.iter().all(added), "{backend}: batch {b}");
    }
    // Within one fresh batch, written optimistically: a slot filled twice, a row sent twice
    // and a record id used again for other content. The indexes refuse the optimistic write
    // (nothing in the batch was looked up); the careful one gives each row its outcome.
    let from = 3_500 + 10 * 1_040;
    let mut batch = rows(from, from + 1_100);
    let renamed = |input: &Input, id: String| {
        let mut twin = input.clone();
        if let Input::Contribution(c) = &mut twin {
            c.record_id = id;
        }
        twin
    };
    batch.push(renamed(&batch[10], "big-slot-twice".into()));
    batch.push(batch[20].clone());
    batch.push(contribution(
        &ids[5],
        &format!("big-{}", from + 30),
        &month(80),
        Payer::Individual,
        "1.00",
    ));
    let start = records.store().head().expect("head").size;
    let within = records.append(batch).expect("duplicates within a batch");
    for (i, o) in within.outcomes[..1_100].iter().enumerate() {
        assert_eq!(*o, Outcome::Added(start + i as u64), "{backend}: row {i}");
    }
    assert_eq!(
        rejected_column(&within.outcomes[1_100]),
        Some("month"),
        "{backend}"
    );
    assert_eq!(
        within.outcomes[1_101],
        Outcome::Unchanged(start + 20),
        "{backend}"
    );
    assert_eq!(
        rejected_column(&within.outcomes[1_102]),
        Some("record_id"),
        "{backend}"
    );
    // Batches prepared on another thread while the one before is written: in order, each
    // committed before the next, the same outcomes as one at a time.
    let from = from + 1_100;
    let start = records.store().head().expect("head").size;
    let mut heads = Vec::new();
    records
        .append_all(
            (0..3).map(|b| rows(from + b * 1_100, from + (b + 1) * 1_100)),
            &mut |committed| {
                assert!(committed.outcomes.iter().all(added), "{backend}");
                heads.push(committed.head.size);
                Ok(())
            },
        )
        .expect("append_all");
    assert_eq!(
        heads,
        [start + 1_100, start + 2_200, start + 3_300],
        "{backend}"
    );
    // A batch prepared before the account rule changed is refused and changes nothing.
    let stale = records
        .preparer()
        .prepare(rows(from + 3_300, from + 3_310))
        .expect("prepare");
    assert_eq!(stale.len(), 10);
    records.set_account_rule(std::sync::Arc::new(|_| 0));
    let refused = records.append_prepared(stale, None);
    assert!(
        matches!(refused, Err(crate::Error::Refused { .. })),
        "{backend}: {refused:?}"
    );
    assert_eq!(
        records.store().head().expect("head").size,
        start + 3_300,
        "{backend}: nothing written"
    );
    assert_clean(&mut records, backend);
}

/// Case steps (migration 12): projected in log order, the `cases` view is each case's latest
/// step, a step taken twice is unchanged, a step for an unregistered person is refused, and
/// the audit rebuilds the rows from the events and finds them equal.
fn story_case_steps(store: Box<dyn Store>) {
    use crate::event::CaseEvent;
    let backend = store.backend();
    let mut records = fresh(store);
    let id = resident_id("33010619900101123");
    records.append(vec![person(&id)]).expect("person");
    let key = records.person_key(&id).hex();
    let step = |case: &str, step: u32, state: &str, person: &str| CaseEvent {
        key: format!("case:{case}:{step}"),
        case: case.into(),
        step,
        case_kind: "complaint".into(),
        action: if step == 0 { "file" } else { "accept" }.into(),
        state: state.into(),
        person: person.into(),
        region: region("330100"),
        holder_role: "inspector".into(),
        holder_region: region("330100"),
        level: 0,
        actor: "account:1".into(),
        at: 1_772_762_400 + i64::from(step),
        since: 1_772_762_400,
        due: (step == 0).then_some(1_773_417_600),
        clock: (step == 0).then(|| "accept".into()),
        outcome: None,
        subject: Some("unpaid_wages".into()),
        party: Some("某平台".into()),
        detail: None,
    };
    for e in [
        step("c-1", 0, "filed", &key),
        step("c-2", 0, "filed", &key),
        step("c-1", 1, "accepted", &key),
    ] {
        let (outcome, _) = records.append_case_step(e).expect("case step");
        assert!(added(&outcome), "{backend}: {outcome:?}");
    }
    let (again, _) = records
        .append_case_step(step("c-1", 1, "accepted", &key))
        .expect("again");
    assert!(
        matches!(again, Outcome::Unchanged(_)),
        "{backend}: {again:?}"
    );
    let (stranger, _) = records
        .append_case_step(step("c-3", 0, "filed", &"cd".repeat(32)))
        .expect("stranger");
    assert!(
        rejected_column(&stranger).is_some(),
        "{backend}: {stranger:?}"
    );
    let steps = records.store().case_steps_of("c-1").expect("steps");
    assert_eq!(steps.len(), 2, "{backend}");
    assert_eq!(steps[1].state, "accepted", "{backend}");
    assert_eq!(steps[0].due, Some(1_773_417_600), "{backend}");
    assert_eq!(steps[0].party.as_deref(), Some("某平台"), "{backend}");
    let latest = records.store().cases_latest().expect("latest");
    let states: Vec<(&str, &str)> = latest
        .iter()
        .map(|c| (c.case_id.as_str(), c.state.as_str()))
        .collect();
    assert_eq!(states, [("c-1", "accepted"), ("c-2", "filed")], "{backend}");
    assert!(
        records
            .store()
            .case_steps_of("c-9")
            .expect("none")
            .is_empty()
    );
    assert_eq!(records.store().case_steps_all().expect("all").len(), 3);
    assert_clean(&mut records, backend);
}

/// Steps on monitor alerts (migration 16): every column read back, by month in alert and
/// step order; a step taken twice is unchanged; no registered person is needed (the alert
/// names the monitor's pseudonym); the audit rebuilds the projection.
fn story_alert_steps(store: Box<dyn Store>) {
    use crate::event::AlertEvent;
    let backend = store.backend();
    let mut records = fresh(store);
    let step = |alert: &str, month: (i32, u32), step: u32, action: &str| AlertEvent {
        key: format!("alert:{alert}:{step}"),
        alert: alert.into(),
        step,
        month: anxin_domain::YearMonth::new(month.0, month.1).expect("month"),
        area: "330106-017".into(),
        alert_kind: "uninsured".into(),
        person: alert[8..].into(),
        action: action.into(),
        state: match action {
            "acknowledge" => "acknowledged",
            "contact" => "contacted",
            _ => "closed",
        }
        .into(),
        actor: "account:9".into(),
        at: 1_772_848_800 + i64::from(step),
        via: (action == "contact").then(|| "visit".into()),
        contact_at: (action == "contact").then_some(1_772_845_200),
        note: (action == "contact").then(|| "上门讲了参保".into()),
        outcome: (action == "close").then(|| "will_enrol".into()),
    };
    for e in [
        step("2026-03-1111222233334444", (2026, 3), 1, "acknowledge"),
        step("2026-03-00ff00ff00ff00ff", (2026, 3), 1, "acknowledge"),
        step("2026-03-00ff00ff00ff00ff", (2026, 3), 2, "contact"),
        step("2026-02-00ff00ff00ff00ff", (2026, 2), 1, "close"),
    ] {
        let (outcome, _) = records.append_alert_step(e).expect("alert step");
        assert!(added(&outcome), "{backend}: {outcome:?}");
    }
    let (again, _) = records
        .append_alert_step(step("2026-03-00ff00ff00ff00ff", (2026, 3), 2, "contact"))
        .expect("again");
    assert!(
        matches!(again, Outcome::Unchanged(_)),
        "{backend}: {again:?}"
    );
    let march = records.store().alert_steps_in("2026-03").expect("march");
    let order: Vec<(&str, u32)> = march
        .iter()
        .map(|r| (r.alert_id.as_str(), r.step))
        .collect();
    assert_eq!(
        order,
        [
            ("2026-03-00ff00ff00ff00ff", 1),
            ("2026-03-00ff00ff00ff00ff", 2),
            ("2026-03-1111222233334444", 1)
        ],
        "{backend}"
    );
    let c = &march[1];
    assert_eq!(
        (
            c.via.as_deref(),
            c.contact_at,
            c.note.as_deref(),
            c.person.as_str()
        ),
        (
            Some("visit"),
            Some(1_772_845_200),
            Some("上门讲了参保"),
            "00ff00ff00ff00ff"
        ),
        "{backend}"
    );
    let feb = records.store().alert_steps_in("2026-02").expect("feb");
    assert_eq!(feb.len(), 1, "{backend}");
    assert_eq!(feb[0].outcome.as_deref(), Some("will_enrol"), "{backend}");
    assert_eq!(records.store().alert_steps_all().expect("all").len(), 4);
    assert_clean(&mut records, backend);
}

/// Evidence (migration 13): the event and the sealed content land together; the content
/// opens to the same name and bytes; a second file with the same key but other bytes is
/// refused, the same file again is unchanged; content that does not match the event's hash
/// stores nothing; the audit rebuilds the rows from the events and finds them equal.
fn story_case_evidence(store: Box<dyn Store>) {
    use crate::event::EvidenceEvent;
    use sha2::Digest as _;
    let backend = store.backend();
    let mut records = fresh(store);
    let id = resident_id("33010619900101123");
    records.append(vec![person(&id)]).expect("person");
    let key = records.person_key(&id).hex();
    let event = |n: u32, content: &[u8]| EvidenceEvent {
        key: format!("evidence:c-1:{n}"),
        case: "c-1".into(),
        n,
        person: key.clone(),
        media_type: "text/plain".into(),
        size: content.len() as u64,
        sha256: hex(&sha2::Sha256::digest(content)),
        actor: "account:1".into(),
        at: 1_772_762_400,
    };
    let one = "工资条：3月 4200 元".as_bytes();
    let two = b"%PDF-1.4 two".as_slice();
    let (o, _) = records
        .append_evidence(vec![
            (event(1, one), "聊天记录.txt", one),
            (event(2, two), "two.pdf", two),
        ])
        .expect("two files");
    assert!(o.iter().all(added), "{backend}: {o:?}");
    let (again, _) = records
        .append_evidence(vec![(event(1, one), "聊天记录.txt", one)])
        .expect("again");
    assert!(
        matches!(again[0], Outcome::Unchanged(_)),
        "{backend}: {again:?}"
    );
    let (other, _) = records
        .append_evidence(vec![(event(1, two), "two.pdf", two)])
        .expect("other");
    assert!(rejected_column(&other[0]).is_some(), "{backend}: {other:?}");
    let size = records.store().head().expect("head").size;
    let mut lying = event(4, one);
    lying.size = 3;
    assert!(
        records
            .append_evidence(vec![(event(3, two), "ok.pdf", two), (lying, "x.txt", one)])
            .is_err(),
        "{backend}: one file that does not match stores none"
    );
    assert_eq!(
        records.store().head().expect("head").size,
        size,
        "{backend}"
    );
    let opened = records.evidence_opened("c-1").expect("opened");
    let got: Vec<(u32, &str, &[u8])> = opened
        .iter()
        .map(|(r, name, c)| (r.n, name.as_str(), c.as_slice()))
        .collect();
    assert_eq!(
        got,
        [(1, "聊天记录.txt", one), (2, "two.pdf", two)],
        "{backend}"
    );
    let listed = records
        .store()
        .case_evidence_of("c-1", false)
        .expect("list");
    assert!(listed.iter().all(|r| r.sealed.is_empty()), "{backend}");
    let names: Vec<String> = records
        .evidence_names("c-1")
        .expect("names")
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    assert_eq!(
        names,
        ["聊天记录.txt", "two.pdf"],
        "{backend}: names open without contents"
    );
    assert_eq!(records.store().case_evidence_all().expect("all").len(), 2);
    assert!(records.evidence_opened("c-9").expect("none").is_empty());
    assert_clean(&mut records, backend);
}

/// A reader beside the writer (where the backend has one: not in memory) waits for no write
/// lock, sees only committed data, keeps one snapshot from `begin_read` to `end_read`, and
/// refuses to write.
fn story_readers_see_snapshots(store: Box<dyn Store>) {
    let backend = store.backend();
    let mut records = fresh(store);
    let a = resident_id("33010619900101123");
    records.append(vec![person(&a)]).expect("append");
    let Some(reader) = records.store_ref().reader().expect("reader") else {
        return;
    };
    let mut reader = records.view_on(reader);
    let committed = records.store().head().expect("head");
    assert_eq!(reader.store().head().expect("head"), committed, "{backend}");
    assert!(
        reader
            .person_view(&records.person_key(&a))
            .expect("view")
            .is_some(),
        "{backend}: the reader sees what was committed"
    );
    {
        // The writer holds the log's lock with an uncommitted change: the reader neither
        // waits for it nor sees it.
        let mut txn = records.store().begin().expect("begin");
        let mut moved = txn.head().expect("head");
        moved.size += 1000;
        txn.set_head(&moved).expect("set head");
        assert_eq!(
            reader.store().head().expect("read beside a writer"),
            committed,
            "{backend}"
        );
    }
    // One snapshot from begin_read to end_read, whatever commits meanwhile.
    reader.store().begin_read().expect("begin read");
    assert_eq!(reader.store().head().expect("head"), committed, "{backend}");
    let b = resident_id("44030619920202123");
    records.append(vec![person(&b)]).expect("append");
    assert_eq!(
        reader.store().head().expect("head"),
        committed,
        "{backend}: the snapshot holds"
    );
    assert!(
        reader
            .person_view(&records.person_key(&b))
            .expect("view")
            .is_none(),
        "{backend}"
    );
    reader.store().end_read().expect("end read");
    assert_eq!(
        reader.store().head().expect("head"),
        records.store().head().expect("head"),
        "{backend}: the next read sees the new commit"
    );
    assert!(
        reader.store().set_meta("written", "by a reader").is_err(),
        "{backend}: a reader refuses to write"
    );
    assert_eq!(
        records.store().meta("written").expect("meta"),
        None,
        "{backend}"
    );
}

/// The inbox: a key stored once however often it is generated, a person's messages newest
/// first a page at a time and only theirs, read once (the first time kept), deliveries due by
/// time, retried, delivered or dead, and counted per kind.
fn story_inbox(mut store: Box<dyn Store>) {
    use crate::inbox::{DeliveryState, NewMessage};
    let backend = store.backend();
    let (a, b) = ([1u8; 32], [2u8; 32]);
    let msg = |kind: &str, person: [u8; 32], month: &str| NewMessage {
        key: format!("{kind}:{}:{month}", person[0]),
        person,
        kind: kind.into(),
        month: month.into(),
        params: "{\"month\":\"2026-06\"}".into(),
    };
    let first = [
        msg("payment_reminder", a, "2026-06"),
        msg("lapse_warning", a, "2026-04"),
        msg("payment_reminder", b, "2026-06"),
    ];
    assert_eq!(store.inbox_add(&first, 100).expect("add"), 3, "{backend}");
    // Generated again, with one new message: only the new one lands.
    let again = [
        msg("payment_reminder", a, "2026-06"),
        msg("payment_reminder", a, "2026-07"),
    ];
    assert_eq!(
        store.inbox_add(&again, 200).expect("add again"),
        1,
        "{backend}"
    );
    let all = store.inbox_of(&a, None, 10).expect("inbox");
    let months: Vec<&str> = all.iter().map(|m| m.month.as_str()).collect();
    assert_eq!(
        months,
        ["2026-07", "2026-04", "2026-06"],
        "{backend}: newest first"
    );
    assert!(all.iter().all(|m| m.person == a && m.read_at.is_none()));
    assert_eq!(
        all[2].created_at, 100,
        "{backend}: the first generation's time is kept"
    );
    let page = store.inbox_of(&a, Some(all[0].id), 1).expect("page");
    assert_eq!(page, vec![all[1].clone()], "{backend}: keyset page");
    // Read: only by its owner, and the first time stays.
    assert!(
        !store.inbox_mark_read(&b, all[0].id, 300).expect("not b's"),
        "{backend}"
    );
    assert!(
        store.inbox_mark_read(&a, all[0].id, 300).expect("read"),
        "{backend}"
    );
    assert!(
        store
            .inbox_mark_read(&a, all[0].id, 400)
            .expect("read again"),
        "{backend}"
    );
    assert!(
        !store.inbox_mark_read(&a, i64::MAX, 300).expect("no such"),
        "{backend}"
    );
    let read = store.inbox_of(&a, None, 1).expect("inbox");
    assert_eq!(read[0].read_at, Some(300), "{backend}");
    // Deliveries: due from their creation, oldest first.
    assert_eq!(store.inbox_due(99, 10).expect("due").len(), 0, "{backend}");
    let due = store.inbox_due(200, 10).expect("due");
    assert_eq!(due.len(), 4, "{backend}");
    assert!(
        due.iter().all(|(m, d)| d.message == m.id
            && d.state == DeliveryState::Pending
            && d.attempts == 0)
    );
    assert_eq!(due[3].0.month, "2026-07", "{backend}: the later one last");
    assert_eq!(
        due.iter().map(|(m, _)| m.kind.as_str()).collect::<Vec<_>>(),
        [
            "payment_reminder",
            "lapse_warning",
            "payment_reminder",
            "payment_reminder"
        ]
    );
    let (m0, mut d0) = due[0].clone();
    d0.attempts = 1;
    d0.next_at = 500;
    d0.last_error = Some("HTTP 500".into());
    store.inbox_set_delivery(&d0).expect("retry later");
    let (_, mut d1) = due[1].clone();
    d1.attempts = 1;
    d1.state = DeliveryState::Delivered;
    d1.delivered_at = Some(250);
    store.inbox_set_delivery(&d1).expect("delivered");
    let (_, mut d2) = due[2].clone();
    d2.attempts = 5;
    d2.state = DeliveryState::Dead;
    d2.last_error = Some("HTTP 503".into());
    store.inbox_set_delivery(&d2).expect("dead");
    let due = store.inbox_due(300, 10).expect("due");
    assert_eq!(
        due.len(),
        1,
        "{backend}: delivered, dead and later ones are not due"
    );
    let due = store.inbox_due(500, 10).expect("due");
    assert_eq!(due.len(), 2, "{backend}");
    assert_eq!(
        (&due[1].0, &due[1].1),
        (&m0, &d0),
        "{backend}: the retry keeps its state"
    );
    let dead = store.inbox_dead(0, 10).expect("dead");
    assert_eq!(dead.len(), 1, "{backend}");
    assert_eq!(dead[0].1, d2, "{backend}");
    assert!(
        store
            .inbox_dead(dead[0].0.id, 10)
            .expect("after")
            .is_empty()
    );
    let counts = store.inbox_counts().expect("counts");
    let c: Vec<(&str, u64, u64, u64, u64)> = counts
        .iter()
        .map(|c| (c.kind.as_str(), c.messages, c.read, c.delivered, c.dead))
        .collect();
    // Delivered: the lapse warning (second due); dead: b's reminder (third due).
    let want = vec![
        ("lapse_warning", 1, 0, 1, 0),
        ("payment_reminder", 3, 1, 0, 1),
    ];
    assert_eq!(c, want, "{backend}");
}

/// The tree's hashes stored as C2SP tiles (migration 9): written with the events that complete
/// them, across commits; proofs and roots from them equal the whole tree's; a tile is its
/// stored hashes, an entry bundle each entry's length and bytes; a tile the log does not hold
/// yet is not given.
fn story_tree_hashes_and_tiles(store: Box<dyn Store>, suite: Suite) {
    use anxin_ledger::{Tile, TileKind};
    let backend = store.backend();
    let mut records = Records::init(store, secrets(suite), suite, "anxin.test/log").expect("init");
    let mut n = 0;
    for batch in [200, 100, 222] {
        records.append(persons(n, batch)).expect("append");
        n += batch;
    }
    let head = records.store().head().expect("head");
    assert_eq!(head.size, 522, "{backend}");
    let level1 = records.store().tree_hashes(1, 0, 10).expect("read");
    assert_eq!(level1.len(), 2, "{backend}: one hash per 256 entries");
    let tree = records.rebuild_tree().expect("tree");
    let hasher = records.hasher();
    for (i, (index, hash)) in level1.iter().enumerate() {
        assert_eq!(*index, i as u64);
        let first = i as u64 * 256;
        assert_eq!(
            *hash,
            anxin_ledger::root_from_leaf_hashes(
                &hasher,
                &tree.leaf_hashes()[first as usize..first as usize + 256]
            ),
            "{backend} {suite:?}: level 1 #{i}"
        );
    }
    for size in [1, 255, 256, 300, 511, 512, 522] {
        assert_eq!(
            crate::tiles::root_at(records.store(), &hasher, head.size, size).expect("root"),
            tree.root_at(size).unwrap(),
            "{backend} {suite:?}: root at {size}"
        );
        assert_eq!(
            crate::tiles::consistency(
                records.store(),
                &hasher,
                head.size,
                (size, &tree.root_at(size).unwrap()),
                (head.size, &head.root)
            )
            .expect("consistency"),
            tree.consistency_proof(size, head.size).unwrap()
        );
    }
    for index in [0, 255, 256, 400, 521] {
        let (_, _, proof) = records.inclusion_proof(index).expect("proof");
        assert_eq!(proof, tree.inclusion_proof(index, head.size).unwrap());
    }
    let tile = |kind, index, width| Tile { kind, index, width };
    let level1_tile = crate::tiles::tile(
        records.store(),
        head.size,
        tile(TileKind::Hashes { level: 1 }, 0, 2),
    )
    .expect("tile")
    .expect("held");
    assert_eq!(level1_tile, [level1[0].1, level1[1].1].concat());
    let partial = crate::tiles::tile(
        records.store(),
        head.size,
        tile(TileKind::Hashes { level: 0 }, 2, 10),
    )
    .expect("tile")
    .expect("held");
    assert_eq!(partial, tree.leaf_hashes()[512..522].concat());
    let bundle = crate::tiles::tile(records.store(), head.size, tile(TileKind::Entries, 2, 10))
        .expect("bundle")
        .expect("held");
    let events = records.store().events(512, 522).expect("events");
    let mut want = Vec::new();
    for e in &events {
        want.extend_from_slice(&(e.body.len() as u16).to_be_bytes());
        want.extend_from_slice(&e.body);
    }
    assert_eq!(bundle, want, "{backend}: entry bundle");
    for (kind, index, width) in [
        (TileKind::Hashes { level: 0 }, 2, 256),
        (TileKind::Hashes { level: 0 }, 2, 11),
        (TileKind::Hashes { level: 1 }, 0, 3),
        (TileKind::Hashes { level: 2 }, 0, 1),
        (TileKind::Entries, 3, 1),
    ] {
        assert_eq!(
            crate::tiles::tile(records.store(), head.size, tile(kind, index, width)).expect("read"),
            None,
            "{backend}: {kind:?} {index} {width} is not held"
        );
    }
    assert_clean(&mut records, backend);
}

/// An import job: stored with its file, moved on in the same transaction as each batch (also
/// a batch that adds nothing), its refusals kept in order and read a page at a time, and gone
/// from the unfinished list once finished.
fn story_import_jobs(store: Box<dyn Store>) {
    use crate::jobs::{JobProgress, JobRefusal, JobWrite, NewJob};
    let backend = store.backend();
    let mut records = fresh(store);
    let new = NewJob {
        owner: 7,
        file_name: "缴费.csv".into(),
        kind: "contributions".into(),
        format: "csv".into(),
        today: "2026-06-15".into(),
        content: b"record_id,person_id\n".to_vec(),
        path: None,
        digest: "ab".repeat(32),
        created_at: 1_780_000_000,
    };
    let id = records.store().create_job(&new).expect("create job");
    let job = records.store().job(id).expect("job").expect("stored");
    assert_eq!(
        (
            job.owner,
            job.file_name.as_str(),
            job.kind.as_str(),
            job.today.as_str()
        ),
        (7, "缴费.csv", "contributions", "2026-06-15"),
        "{backend}"
    );
    assert_eq!(
        job.progress,
        JobProgress::default(),
        "{backend}: nothing landed yet"
    );
    assert_eq!(
        records.store().job_content(id).expect("content").as_deref(),
        Some(&new.content[..]),
        "{backend}"
    );
    assert_eq!(
        records.store().job(id + 1000).expect("job"),
        None,
        "{backend}"
    );

    let known = resident_id("33010619900101123");
    let stranger = resident_id("44030519850202234");
    let refusal = |n: u64, row: u64| JobRefusal {
        n,
        row,
        column: "person_id".into(),
        value: String::new(),
        zh: "未登记".into(),
        en: "not registered".into(),
    };
    let mut seen = 0;
    let committed = records
        .append_job(
            vec![
                person(&known),
                contribution(&known, "j-1", "2025-01", Payer::Individual, "962.40"),
                contribution(&stranger, "j-2", "2025-01", Payer::Individual, "962.40"),
            ],
            &mut |outcomes| {
                seen = outcomes.len();
                let rejected = outcomes
                    .iter()
                    .filter(|o| matches!(o, Outcome::Rejected(_)))
                    .count() as u64;
                JobWrite {
                    id,
                    progress: JobProgress {
                        rows_total: 4,
                        rows_read: 3,
                        last_row: 4,
                        read: 3,
                        added: 3 - rejected,
                        rejected,
                        ..JobProgress::default()
                    },
                    refusals: vec![refusal(0, 4)],
                }
            },
        )
        .expect("append with the job");
    assert_eq!(seen, 3, "{backend}: the job sees every row's outcome");
    assert!(
        matches!(committed.outcomes[2], Outcome::Rejected(_)),
        "{backend}"
    );
    let job = records.store().job(id).expect("job").expect("stored");
    assert_eq!(
        (
            job.progress.last_row,
            job.progress.added,
            job.progress.rejected
        ),
        (4, 2, 1),
        "{backend}: the batch and the job's progress landed together"
    );
    // A batch that adds nothing still moves the job.
    records
        .append_job(vec![person(&known)], &mut |_| JobWrite {
            id,
            progress: JobProgress {
                last_row: 5,
                unchanged: 1,
                ..job.progress.clone()
            },
            refusals: vec![refusal(1, 5), refusal(2, 5)],
        })
        .expect("append nothing new");
    assert_eq!(
        records
            .store()
            .job(id)
            .expect("job")
            .expect("stored")
            .progress
            .last_row,
        5,
        "{backend}"
    );
    assert_eq!(
        records.store().unfinished_jobs().expect("unfinished").len(),
        1,
        "{backend}"
    );
    // Refusals in order, a page at a time; one written twice is kept once.
    records
        .save_job(&JobWrite {
            id,
            progress: JobProgress {
                finished: true,
                error: Some(("停".into(), "stopped".into())),
                ..job.progress.clone()
            },
            refusals: vec![refusal(2, 5)],
        })
        .expect("finish");
    let all = records.store().job_refusals(id, 0, 100).expect("refusals");
    assert_eq!(
        all.iter().map(|r| (r.n, r.row)).collect::<Vec<_>>(),
        vec![(0, 4), (1, 5), (2, 5)],
        "{backend}"
    );
    let page = records.store().job_refusals(id, 1, 1).expect("refusals");
    assert_eq!(page, vec![refusal(1, 5)], "{backend}");
    let job = records.store().job(id).expect("job").expect("stored");
    assert!(job.progress.finished, "{backend}");
    assert_eq!(
        job.progress.error,
        Some(("停".to_string(), "stopped".to_string())),
        "{backend}"
    );
    assert!(
        records
            .store()
            .unfinished_jobs()
            .expect("unfinished")
            .is_empty(),
        "{backend}"
    );
    assert_eq!(
        records.store().job_content(id).expect("content"),
        Some(Vec::new()),
        "{backend}: a finished job's upload is dropped"
    );
}

/// A platform's report on its own workers: only the rows its credit code paid (never another
/// payer's rows of the same people, never unpaid months), one row per person in key order, a
/// page at a time from a cursor; the month summary; an unknown or empty code gives nothing.
fn story_payer_report(store: Box<dyn Store>) {
    let backend = store.backend();
    let mut records = fresh(store);
    let other = CreditCode::parse(OTHER_PAYER).expect("valid code");
    let workers: Vec<ResidentId> = (0..5)
        .map(|w| resident_id(&format!("33010619900202{:03}", 100 + w)))
        .collect();
    let mut rows = vec![
        platform(),
        Input::Org(OrgInput {
            credit_code: other.clone(),
            name: "某家政公司".into(),
            kind: OrgKind::Employer,
            region: region("330100"),
            record_id: None,
        }),
    ];
    rows.extend(workers.iter().map(person));
    let paid = |w: usize, month: &str, insurance: Insurance, payer: Payer, yuan: &str| {
        let Input::Contribution(mut c) = contribution(
            &workers[w],
            &format!("p-{w}-{month}-{insurance:?}-{payer:?}"),
            month,
            payer,
            yuan,
        ) else {
            unreachable!()
        };
        c.insurance = insurance;
        c
    };
    // The platform pays workers 0–3 three months of pension, worker w (100 + w) yuan a month.
    for w in 0..4 {
        for month in ["2025-01", "2025-02", "2025-03"] {
            let yuan = format!("{}.00", 100 + w);
            rows.push(Input::Contribution(paid(
                w,
                month,
                Insurance::Pension,
                Payer::Platform,
                &yuan,
            )));
        }
    }
    // Injury for worker 0 in a month already counted: one more insurance, no more months.
    rows.push(Input::Contribution(paid(
        0,
        "2025-01",
        Insurance::Injury,
        Payer::Platform,
        "10.00",
    )));
    // A month the platform owed and did not pay: not in its report of what it paid.
    let mut unpaid = paid(3, "2025-04", Insurance::Pension, Payer::Platform, "0");
    unpaid.status = Status::Unpaid;
    unpaid.account = None;
    rows.push(Input::Contribution(unpaid));
    // Another payer of the same people, and the person's own payment: never in the report.
    for w in [0, 4] {
        let mut c = paid(w, "2025-01", Insurance::Pension, Payer::Employer, "999.00");
        c.payer_code = Some(other.clone());
        rows.push(Input::Contribution(c));
    }
    rows.push(Input::Contribution(paid(
        1,
        "2025-01",
        Insurance::Pension,
        Payer::Individual,
        "845.40",
    )));
    let committed = records.append(rows).expect("append");
    assert!(
        committed.outcomes.iter().all(added),
        "{backend}: {:?}",
        committed.outcomes
    );

    // Names by credit code: the registered ones, an unknown or empty code left out.
    let names = records
        .store()
        .org_names(&[PLATFORM, OTHER_PAYER, "91330100MA00000000", ""])
        .expect("org names");
    assert_eq!(names.len(), 2, "{backend}: {names:?}");
    assert_eq!(names.get(PLATFORM).map(String::as_str), Some("某外卖平台"));
    assert_eq!(
        names.get(OTHER_PAYER).map(String::as_str),
        Some("某家政公司")
    );
    assert!(records.store().org_names(&[]).expect("none").is_empty());

    let mut keys: Vec<[u8; 32]> = workers[..4]
        .iter()
        .map(|w| records.person_key(w).0)
        .collect();
    keys.sort_unstable();
    let all = records
        .store()
        .payer_workers(PLATFORM, None, 10)
        .expect("workers");
    assert_eq!(
        all.iter().map(|r| r.person).collect::<Vec<_>>(),
        keys,
        "{backend}: the platform's workers, in key order, each once"
    );
    for row in &all {
        let w = (0..4)
            .find(|w| records.person_key(&workers[*w]).0 == row.person)
            .expect("one of the platform's workers");
        let month = |m: &str| YearMonth::parse(m).expect("month").index();
        assert_eq!(
            (row.months, row.first_month, row.last_month),
            (3, month("2025-01"), month("2025-03")),
            "{backend}: worker {w}: paid months only"
        );
        let injury = if w == 0 { 1000 } else { 0 };
        assert_eq!(
            row.amount_fen,
            3 * (10_000 + 100 * w as i64) + injury,
            "{backend}: worker {w}: only what the platform paid"
        );
        let insurances: &[&str] = if w == 0 {
            &["injury", "pension"]
        } else {
            &["pension"]
        };
        assert_eq!(row.insurances, insurances, "{backend}: worker {w}");
    }

    // Pages: limit, then after the last key, until empty; together the whole list.
    let first = records
        .store()
        .payer_workers(PLATFORM, None, 3)
        .expect("page 1");
    assert_eq!(first, all[..3], "{backend}: limit holds");
    let second = records
        .store()
        .payer_workers(PLATFORM, Some(&first[2].person), 3)
        .expect("page 2");
    assert_eq!(
        second,
        all[3..],
        "{backend}: the next page starts after the cursor"
    );
    assert!(
        records
            .store()
            .payer_workers(PLATFORM, Some(&second[0].person), 3)
            .expect("page 3")
            .is_empty(),
        "{backend}: nothing after the last"
    );
    assert!(
        records
            .store()
            .payer_workers(PLATFORM, Some(&[0xff; 32]), 3)
            .expect("past the end")
            .is_empty()
    );
    assert_eq!(
        records
            .store()
            .payer_workers(PLATFORM, Some(&[0; 32]), 1)
            .expect("from a zero key"),
        all[..1]
    );

    // Another payer sees its own two rows; unknown and empty codes see nothing.
    let theirs = records
        .store()
        .payer_workers(OTHER_PAYER, None, 10)
        .expect("other payer");
    assert_eq!(theirs.len(), 2, "{backend}");
    assert!(
        theirs
            .iter()
            .all(|r| r.amount_fen == 99_900 && r.months == 1)
    );
    for code in ["91440300MA5DC0XX1Y", "", "' OR 1=1 --"] {
        assert!(
            records
                .store()
                .payer_workers(code, None, 10)
                .expect("unknown code")
                .is_empty(),
            "{backend}: {code:?}"
        );
        assert!(
            records
                .store()
                .payer_months(code)
                .expect("unknown code")
                .is_empty(),
            "{backend}: {code:?}"
        );
    }

    // The month summary: workers paid for and the amount, month by month; the unpaid month
    // is not there.
    let months = records.store().payer_months(PLATFORM).expect("months");
    let want: Vec<(i32, u64, i64)> = [
        ("2025-01", 4, 10_000 + 10_100 + 10_200 + 10_300 + 1_000),
        ("2025-02", 4, 10_000 + 10_100 + 10_200 + 10_300),
        ("2025-03", 4, 10_000 + 10_100 + 10_200 + 10_300),
    ]
    .iter()
    .map(|(m, n, a)| (YearMonth::parse(m).expect("month").index(), *n, *a))
    .collect();
    assert_eq!(
        months
            .iter()
            .map(|m| (m.month, m.workers, m.amount_fen))
            .collect::<Vec<_>>(),
        want,
        "{backend}"
    );

    // Through the records service: each worker with the masked ID, nothing in clear.
    let page = records.payer_workers(PLATFORM, None, 10).expect("workers");
    assert_eq!(page.len(), 4);
    for w in &page {
        let id = workers
            .iter()
            .find(|id| records.person_key(id) == w.key)
            .expect("a worker");
        assert_eq!(w.id_masked, id.masked(), "{backend}");
        assert!(!w.id_masked.contains(&id.expose()[4..14]));
    }
    let after = page[1].key;
    let rest = records
        .payer_workers(PLATFORM, Some(&after), 10)
        .expect("rest");
    assert_eq!(
        rest.iter().map(|w| w.key).collect::<Vec<_>>(),
        [page[2].key, page[3].key]
    );
    assert_clean(&mut records, backend);
}

/// Accounts, sessions and the access log: names unique, sessions expire and end, the log
/// keeps every read newest first and refuses to be edited or emptied behind its back.
fn story_accounts_sessions_access_log(mut store: Box<dyn Store>) {
    use crate::access::{self, AccessRow, NewAccount, Role, SessionKind};
    let id = resident_id("33010619900101123");
    let person = DataKey::from_secret(&[5; 32]).person_key(&id).0;
    let worker = NewAccount::new(
        "worker-1",
        Role::Worker,
        "a long password",
        None,
        Some(person),
        None,
    )
    .expect("valid account");
    let w = store.create_account(&worker, 1_000).expect("create worker");
    let clerk = NewAccount::new(
        "clerk.hz",
        Role::Clerk,
        "another long password",
        Some(region("330100")),
        None,
        None,
    )
    .expect("valid account");
    let c = store.create_account(&clerk, 1_001).expect("create clerk");
    assert_ne!(w, c);
    let again = store.create_account(&worker, 1_002);
    assert!(
        matches!(again, Err(crate::Error::Refused { .. })),
        "a taken username is refused, got {again:?}"
    );
    let row = store
        .account_named("clerk.hz")
        .unwrap()
        .expect("clerk stored");
    assert_eq!(
        (row.id, row.role.as_str(), row.region),
        (c, "clerk", Some(330100))
    );
    assert!(access::verify_password(
        &row.password_hash,
        "another long password"
    ));
    assert_eq!(store.account(w).unwrap().unwrap().person, Some(person));
    assert_eq!(store.accounts_all().unwrap().len(), 2);
    assert!(store.account_named("nobody").unwrap().is_none());

    let (_, token) = access::new_token().unwrap();
    store
        .create_session(&token, w, SessionKind::Page, 2_000, 1_500)
        .unwrap();
    assert_eq!(
        store
            .session_account(&token, SessionKind::Page, 1_999)
            .unwrap()
            .map(|a| a.id),
        Some(w)
    );
    assert!(
        store
            .session_account(&token, SessionKind::Page, 2_000)
            .unwrap()
            .is_none(),
        "expired"
    );
    let (_, other) = access::new_token().unwrap();
    store
        .create_session(&other, c, SessionKind::Api, 9_000, 1_500)
        .unwrap();
    store.end_session(&other).unwrap();
    assert!(
        store
            .session_account(&other, SessionKind::Api, 1_600)
            .unwrap()
            .is_none(),
        "ended"
    );
    // A session opens only what it was issued for: a page session is no API session and the
    // other way round (issue 12: a cookie sent as a bearer token read /api/me).
    let (_, page) = access::new_token().unwrap();
    let (_, api) = access::new_token().unwrap();
    store
        .create_session(&page, w, SessionKind::Page, 9_000, 1_500)
        .unwrap();
    store
        .create_session(&api, w, SessionKind::Api, 9_000, 1_500)
        .unwrap();
    for (token, issued, other) in [
        (&page, SessionKind::Page, SessionKind::Api),
        (&api, SessionKind::Api, SessionKind::Page),
    ] {
        assert_eq!(
            store
                .session_account(token, issued, 1_600)
                .unwrap()
                .map(|a| a.id),
            Some(w),
            "{issued:?} session as issued"
        );
        assert!(
            store
                .session_account(token, other, 1_600)
                .unwrap()
                .is_none(),
            "a {issued:?} session is not a {other:?} session"
        );
    }
    store.end_session(&page).unwrap();
    store.end_session(&api).unwrap();

    for (at, purpose) in [(3_000, "办理转移接续"), (3_001, "核对缴费")] {
        store
            .log_access(&AccessRow {
                id: 0,
                at,
                account: c,
                username: "clerk.hz".into(),
                role: "clerk".into(),
                person,
                what: "record".into(),
                purpose: purpose.into(),
            })
            .unwrap();
    }
    let seen = store.access_to(&person, None, 10).unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].purpose, "核对缴费", "newest first");
    assert_eq!(seen[0].person, person);
    assert!(seen[0].id > seen[1].id, "ids rise with time");
    let first = store.access_to(&person, None, 1).unwrap();
    assert_eq!(first.len(), 1, "limit holds");
    let rest = store.access_to(&person, Some(first[0].id), 10).unwrap();
    assert_eq!(rest.len(), 1, "the next page starts below the cursor");
    assert_eq!(rest[0].purpose, "办理转移接续");
    assert!(
        store
            .access_to(&person, Some(rest[0].id), 10)
            .unwrap()
            .is_empty()
    );
    assert!(store.access_to(&[0; 32], None, 10).unwrap().is_empty());
}

/// A valid resident ID from a 17-digit prefix (the GB 11643 check digit is computed).
pub fn resident_id(prefix17: &str) -> ResidentId {
    ResidentId::complete(prefix17).expect("a 17-digit prefix with a real birth date")
}

/// `count` persons with distinct resident IDs (by birth date), numbered from `from`: up to
/// 23,520 of them (born 1950 to 2019).
pub fn persons(from: usize, count: usize) -> Vec<Input> {
    (from..from + count)
        .map(|i| person(&person_id(i)))
        .collect()
}

/// The resident ID of person `i` of [`persons`].
pub fn person_id(i: usize) -> ResidentId {
    let (day, month, year) = (1 + i % 28, 1 + (i / 28) % 12, 1950 + i / 336 % 70);
    resident_id(&format!("330106{year}{month:02}{day:02}{:03}", i % 1000))
}

pub fn secrets(suite: Suite) -> Secrets {
    let signer = match suite {
        Suite::Standard => Signer::from_seed("anxin.test/log", &[9; 32]).expect("valid key"),
        Suite::Guomi => Signer::from_sm2_secret("anxin.test/log", &[9; 32]).expect("valid key"),
    };
    Secrets {
        data_key: DataKey::from_secret(&[5; 32]),
        signer,
    }
}

pub const PLATFORM: &str = "91350100M000100Y43";
/// Another registered payer (an employer) of some of the same workers.
pub const OTHER_PAYER: &str = "91110000600037341L";

pub fn region(code: &str) -> RegionCode {
    RegionCode::parse(code).expect("valid region")
}

pub fn person(id: &ResidentId) -> Input {
    Input::Person(PersonInput {
        person_id: id.clone(),
        name: "张三".into(),
        hukou_region: Some(region("341200")),
        residence_region: region("330100"),
        employment_form: EmploymentForm::MultiPlatform,
        platforms: vec![CreditCode::parse(PLATFORM).expect("valid code")],
        permit_region: Some(region("330100")),
        permit_since: Some(jiff::civil::date(2023, 3, 1)),
        household: Some("H-1".into()),
        record_id: None,
    })
}

pub fn platform() -> Input {
    Input::Org(OrgInput {
        credit_code: CreditCode::parse(PLATFORM).expect("valid code"),
        name: "某外卖平台".into(),
        kind: OrgKind::Platform,
        region: region("330100"),
        record_id: None,
    })
}

pub fn contribution(
    id: &ResidentId,
    record_id: &str,
    month: &str,
    payer: Payer,
    amount_yuan: &str,
) -> Input {
    let amount = Fen::parse_yuan(amount_yuan).expect("valid amount");
    Input::Contribution(ContributionInput {
        record_id: record_id.into(),
        person_id: id.clone(),
        month: YearMonth::parse(month).expect("valid month"),
        insurance: Insurance::Pension,
        region: region("330100"),
        payer,
        payer_code: matches!(payer, Payer::Platform | Payer::Employer)
            .then(|| CreditCode::parse(PLATFORM).expect("valid code")),
        base: Fen::parse_yuan("4812").expect("valid base"),
        amount,
        account: Some(Fen(amount.0 * 2 / 5)),
        status: Status::Paid,
        reason: None,
        paid_on: None,
    })
}

/// Fresh records on the standard suite (log origin `anxin.test/log`).
pub fn fresh(store: Box<dyn Store>) -> Records<Box<dyn Store>> {
    Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .expect("init")
}

/// Runs the full audit and insists it finds nothing.
fn assert_clean(records: &mut Records<Box<dyn Store>>, backend: &str) -> crate::audit::AuditReport {
    let report = records
        .audit(None, AuditScope { projections: true })
        .expect("audit");
    assert!(report.is_clean(), "{backend}: {:?}", report.findings);
    report
}

fn added(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Added(_))
}

fn rejected_column(outcome: &Outcome) -> Option<&'static str> {
    match outcome {
        Outcome::Rejected(r) => Some(r.column),
        _ => None,
    }
}

fn story_ingest_idempotent_and_refusals(store: Box<dyn Store>, suite: Suite) {
    let backend = store.backend();
    let mut records = Records::init(store, secrets(suite), suite, "anxin.test/log").expect("init");
    assert_eq!(
        records.store().head().expect("head").size,
        0,
        "{backend}: empty log"
    );
    let worker = resident_id("33010619900101123");
    let stranger = resident_id("34120119850505001");
    let rows = vec![
        platform(),
        person(&worker),
        contribution(&worker, "c-2025-01", "2025-01", Payer::Individual, "845.40"),
        contribution(&worker, "c-2025-02", "2025-02", Payer::Platform, "120.00"),
        contribution(&stranger, "c-x", "2025-01", Payer::Individual, "845.40"),
    ];
    let committed = records.append(rows.clone()).expect("append");
    let o = &committed.outcomes;
    assert!(o[..4].iter().all(added), "{backend}: good rows land: {o:?}");
    assert_eq!(
        rejected_column(&o[4]),
        Some("person_id"),
        "{backend}: unknown person refused"
    );
    assert_eq!(committed.head.size, 4);

    // The same rows again change nothing.
    let again = records.append(rows).expect("append again");
    assert!(
        again.outcomes[..4]
            .iter()
            .all(|x| matches!(x, Outcome::Unchanged(_))),
        "{backend}: {:?}",
        again.outcomes
    );
    assert_eq!(again.head.size, 4, "{backend}: re-import adds nothing");
    assert_eq!(again.head.root, committed.head.root);

    // Refusals: the same record id for other content, a filled slot, an unregistered payer,
    // a guardian not in the registry.
    let mut unregistered = contribution(&worker, "c-new", "2025-03", Payer::Platform, "10");
    if let Input::Contribution(c) = &mut unregistered {
        c.payer_code = Some(CreditCode::parse(OTHER_PAYER).expect("valid code"));
    }
    let child = resident_id("33010620180301002");
    let refused = records
        .append(vec![
            contribution(&worker, "c-2025-01", "2025-01", Payer::Individual, "900.00"),
            contribution(
                &worker,
                "c-dup-slot",
                "2025-01",
                Payer::Individual,
                "845.40",
            ),
            unregistered,
            Input::Child(ChildInput {
                child_id: child.clone(),
                name: "张小三".into(),
                guardian_id: stranger.clone(),
                relation: Relation::Parent,
                school_region: None,
                record_id: None,
            }),
            Input::Child(ChildInput {
                child_id: child,
                name: "张小三".into(),
                guardian_id: worker.clone(),
                relation: Relation::Parent,
                school_region: Some(region("330100")),
                record_id: None,
            }),
            Input::Contribution(ContributionInput {
                status: Status::Excused,
                reason: Some(GapReason::Childbirth),
                amount: Fen(0),
                account: None,
                ..match contribution(&worker, "c-2025-03", "2025-03", Payer::Individual, "0") {
                    Input::Contribution(c) => c,
                    _ => unreachable!(),
                }
            }),
        ])
        .expect("append");
    let o = &refused.outcomes;
    assert_eq!(
        rejected_column(&o[0]),
        Some("record_id"),
        "{backend}: reused id: {o:?}"
    );
    assert_eq!(
        rejected_column(&o[1]),
        Some("month"),
        "{backend}: filled slot"
    );
    assert_eq!(
        rejected_column(&o[2]),
        Some("payer_code"),
        "{backend}: unregistered payer"
    );
    assert_eq!(
        rejected_column(&o[3]),
        Some("guardian_id"),
        "{backend}: unknown guardian"
    );
    assert!(added(&o[4]) && added(&o[5]), "{backend}: {o:?}");
    assert_eq!(refused.head.size, 6);

    let key = records.person_key(&worker);
    let rows = records.store().contributions_of(&key.0).expect("read");
    assert_eq!(rows.len(), 3, "{backend}");
    assert_eq!(rows[0].amount_fen, 84540);
    assert_eq!(rows[0].account_fen, 33816);
    assert_eq!(rows[2].status, anxin_domain::codes::Status::Excused);
    assert_eq!(records.store().children_of(&key.0).expect("read").len(), 1);
    let stored = records
        .store()
        .person(&key.0)
        .expect("read")
        .expect("registered");
    assert!(
        !stored
            .sealed
            .windows(17)
            .any(|w| w == &worker.expose().as_bytes()[..17]),
        "{backend}: ID not stored in clear"
    );
    let report = assert_clean(&mut records, backend);
    assert_eq!(report.events, 6);
    assert_eq!(report.contributions, 3);
}

fn story_init_twice_refused(store: Box<dyn Store>) {
    let records = Records::init(
        store,
        secrets(Suite::Standard),
        Suite::Standard,
        "anxin.test/log",
    )
    .expect("init");
    let mut store = records.into_store();
    assert_eq!(
        store.meta("suite").expect("meta").as_deref(),
        Some("standard")
    );
    assert!(
        Records::init(store, secrets(Suite::Standard), Suite::Standard, "x").is_err(),
        "init twice refused"
    );
}

fn story_uncommitted_changes_nothing(store: Box<dyn Store>) {
    let backend = store.backend();
    let mut records = fresh(store);
    let before = records.store().head().expect("head");
    {
        let mut txn = records.store().begin().expect("begin");
        let head = txn.head().expect("head");
        txn.write(&WriteBatch {
            events: vec![crate::store::EventRow {
                seq: head.size,
                key: "never".into(),
                kind: "org_registered".into(),
                body: b"{}".to_vec(),
                leaf: [1; 32],
            }],
            ..WriteBatch::default()
        })
        .expect("write");
        // Dropped here without commit.
    }
    assert_eq!(
        records.store().head().expect("head"),
        before,
        "{backend}: head unchanged"
    );
    assert!(
        records
            .store()
            .event_by_key("never")
            .expect("read")
            .is_none(),
        "{backend}: nothing written"
    );
    assert_clean(&mut records, backend);
}

fn story_proofs_and_certificates(store: Box<dyn Store>) {
    let backend = store.backend();
    let mut records = fresh(store);
    let worker = resident_id("33010619900101123");
    records
        .append(vec![platform(), person(&worker)])
        .expect("append");
    let first = records.store().head().expect("head");
    let mut rows = Vec::new();
    for m in 1..=12 {
        rows.push(contribution(
            &worker,
            &format!("c-{m}"),
            &format!("2024-{m:02}"),
            Payer::Individual,
            "845.40",
        ));
    }
    records.append(rows).expect("append");
    let head = records.store().head().expect("head");
    assert_eq!(head.size, 14);
    let tree = records.rebuild_tree().expect("tree");
    assert_eq!(
        tree.root(),
        head.root,
        "{backend}: stored leaves give the signed root"
    );
    let hasher = records.hasher();
    for seq in 0..head.size {
        let proof = tree.inclusion_proof(seq, head.size).expect("proof");
        let leaf = records.store().events(seq, seq + 1).expect("read")[0].leaf;
        // The proof from stored hashes is the one the whole tree gives.
        let (_, stored_leaf, stored) = records.inclusion_proof(seq).expect("stored proof");
        assert_eq!((stored_leaf, &stored), (leaf, &proof), "{backend}: #{seq}");
        verify_inclusion(&hasher, seq, head.size, &leaf, &proof, &head.root)
            .expect("inclusion verifies");
        assert!(
            verify_inclusion(
                &hasher,
                seq,
                head.size,
                &hasher.leaf(b"other"),
                &proof,
                &head.root
            )
            .is_err()
        );
    }
    let proof = tree
        .consistency_proof(first.size, head.size)
        .expect("proof");
    verify_consistency(
        &hasher,
        first.size,
        head.size,
        &proof,
        &first.root,
        &head.root,
    )
    .expect("consistent");

    let certificate = records
        .issue_certificate(&worker, jiff::civil::date(2026, 11, 22))
        .expect("issue");
    // The stored hashes grew by the certificate's entry and still give the signed root, the
    // same as a rebuild from every stored leaf.
    let grown = records.store().head().expect("head");
    assert_eq!(grown.size, head.size + 1);
    let stored_root = crate::tiles::root_at(records.store(), &hasher, grown.size, grown.size)
        .expect("root from stored hashes");
    assert_eq!(stored_root, grown.root, "{backend}");
    assert_eq!(records.rebuild_tree().expect("rebuild").root(), grown.root);
    // The certificate is found without reading the log: its event alone, from its place on.
    let certs = records.store().certificate_events(0, 10).expect("read");
    assert_eq!(certs.len(), 1, "{backend}: only the certificate event");
    assert_eq!(
        (certs[0].seq, certs[0].kind.as_str()),
        (head.size, "certificate_issued")
    );
    assert!(
        records
            .store()
            .certificate_events(head.size + 1, 10)
            .expect("read")
            .is_empty()
    );
    assert_eq!(
        records
            .store()
            .certificate_events(0, 0)
            .expect("read")
            .len(),
        0
    );
    let bytes = certificate.to_bytes();
    let verifier = records.verifier().clone();
    let verification = cert::verify(&bytes, &verifier);
    assert!(verification.ok(), "{backend}: {:?}", verification.checks);
    let doc = verification.document.expect("document");
    assert_eq!(doc["subject"]["name"], "张三");
    assert_eq!(doc["months"].as_array().map(Vec::len), Some(12));
    assert!(
        !certificate.document.contains(worker.expose()),
        "{backend}: no clear ID in the certificate"
    );
    // Every single changed byte is caught.
    for i in 0..bytes.len() {
        let mut altered = bytes.clone();
        altered[i] ^= 0x01;
        assert!(
            !cert::verify(&altered, &verifier).ok(),
            "{backend}: byte {i} changed unnoticed"
        );
    }
    // By its verification code: the same checks on the same document, what it states masked.
    let holder = records.person_key(&worker);
    let code = records.certificate_code(&certificate);
    let found = records
        .certificate_by_code(&code.grouped().to_lowercase())
        .expect("found by code");
    assert!(
        found.verification.ok(),
        "{backend}: {:?}",
        found.verification.checks
    );
    assert_eq!(found.certificate.document, certificate.document);
    assert_eq!(found.holder, holder);
    let certified = found.certified.expect("certified");
    assert_eq!(
        (certified.name_masked.as_str(), certified.insurances.len()),
        ("张*", 1)
    );
    assert_eq!(certified.insurances[0].paid_months, 12, "{backend}");
    // A changed document kept under its own code by someone with the data key but not the
    // signing key, and the genuine one moved to another code, are both refused.
    let keep = |records: &mut Records<Box<dyn Store>>, code: &str, document: &str| {
        let clear = serde_json::json!({ "document": document, "signature": certificate.signature });
        let sealed = records
            .data_key()
            .seal(&holder, clear.to_string().as_bytes())
            .expect("seal");
        records
            .store()
            .save_certificate_code(&crate::store::CertificateCodeRow {
                code: code.into(),
                seq: certificate.leaf_index,
                person: holder.0,
                sealed,
            })
            .expect("keep");
    };
    let changed = certificate.document.replacen("张三", "李四", 1);
    let changed_code =
        records.code_of_digest(&<sha2::Sha256 as sha2::Digest>::digest(changed.as_bytes()));
    keep(&mut records, changed_code.as_str(), &changed);
    let moved_code = records.code_of_digest(b"another document");
    keep(&mut records, moved_code.as_str(), &certificate.document);
    for code in [changed_code, moved_code] {
        let found = records.certificate_by_code(code.as_str()).expect("read");
        assert!(
            !found.verification.ok() && found.certified.is_none(),
            "{backend}: {code} accepted"
        );
    }
    let unknown = records.code_of_digest(b"never issued");
    assert!(matches!(
        records.certificate_by_code(unknown.as_str()),
        Err(crate::Error::NotFound { .. })
    ));
    let html = cert::render_html(&certificate).expect("html");
    assert!(
        html.contains("参保缴费凭证") && html.contains("<svg"),
        "{backend}: printable page with QR"
    );
    assert!(
        records
            .issue_certificate(
                &resident_id("34120119850505001"),
                jiff::civil::date(2026, 11, 22)
            )
            .is_err()
    );
    assert_clean(&mut records, backend);
}

fn story_balances_sum_to_zero(store: Box<dyn Store>) {
    let backend = store.backend();
    let mut records = fresh(store);
    let mut rows = vec![platform()];
    let payers = [
        Payer::Individual,
        Payer::Platform,
        Payer::Subsidy,
        Payer::Voucher,
    ];
    for w in 0..20u32 {
        let id = resident_id(&format!("33010619900101{:03}", w * 7 + 10));
        rows.push(person(&id));
        for m in 0..24u32 {
            let payer = payers[((w + m) % 4) as usize];
            let amount = format!("{}.{:02}", 100 + w * 13 + m * 7, (w * m) % 100);
            rows.push(contribution(
                &id,
                &format!("b-{w}-{m}"),
                &format!("{}-{:02}", 2023 + m / 12, m % 12 + 1),
                payer,
                &amount,
            ));
        }
    }
    let committed = records.append(rows).expect("append");
    assert!(committed.outcomes.iter().all(added), "{backend}");
    let balances = records.store().balances().expect("balances");
    assert_eq!(
        balances.iter().map(|b| b.1).sum::<i64>(),
        0,
        "{backend}: all postings sum to zero"
    );
    let pool: i64 = balances
        .iter()
        .filter(|b| b.0.starts_with("pool:"))
        .map(|b| b.1)
        .sum();
    let personal: i64 = balances
        .iter()
        .filter(|b| b.0.starts_with("personal:"))
        .map(|b| b.1)
        .sum();
    let paid: i64 = balances.iter().filter(|b| b.1 < 0).map(|b| b.1).sum();
    assert_eq!(
        pool + personal,
        -paid,
        "{backend}: what payers paid is what the funds hold"
    );
    assert!(
        balances
            .iter()
            .filter(|b| b.0.starts_with("worker:"))
            .all(|b| b.1 <= 0),
        "{backend}: subsidies pass through the worker"
    );
    let report = assert_clean(&mut records, backend);
    assert_eq!(report.postings_sum_fen, 0);
}

/// The postings view (its filters on the codes' stored ids, and the account names it spells
/// from them: SQLite migration 20, PostgreSQL migration 19) gives exactly the legs the records
/// service derives from each event, for every insurance, payer and status.
fn story_postings_follow_the_rule(mut store: Box<dyn Store>) {
    use anxin_domain::codes::{Insurance, Payer, Status};
    let backend = store.backend();
    let mut rows = Vec::new();
    for (i, insurance) in Insurance::ALL.iter().enumerate() {
        for (j, payer) in Payer::ALL.iter().enumerate() {
            for (k, status) in Status::ALL.iter().enumerate() {
                let seq = rows.len() as u64;
                let mut person = [0u8; 32];
                person[0] = (i * 25 + j * 5 + k) as u8;
                rows.push(crate::store::ContributionRow {
                    seq,
                    record_id: format!("c-{seq}"),
                    person,
                    month: 24312,
                    insurance: *insurance,
                    region: 330100,
                    payer: *payer,
                    payer_code: if matches!(payer, Payer::Platform | Payer::Employer) {
                        "91330100MA2XXXXX0X".into()
                    } else {
                        String::new()
                    },
                    base_fen: 500_000,
                    amount_fen: 100_000,
                    // Some rows all pooled, some all personal, most both.
                    account_fen: [0, 100_000, 40_000][(i + j + k) % 3],
                    status: *status,
                    reason: None,
                    paid_on: None,
                });
            }
        }
    }
    let batch = WriteBatch {
        contributions: rows.clone(),
        ..WriteBatch::default()
    };
    let mut txn = store.begin().expect("begin");
    txn.write(&batch).expect("write");
    txn.commit().expect("commit");

    for row in &rows {
        let body = crate::store::contribution_body(row).expect("an event");
        let crate::event::Event::ContributionRecorded(event) =
            crate::event::Event::from_bytes(&body).expect("parses")
        else {
            panic!("not a contribution")
        };
        let want: Vec<(u32, String, i64)> = event
            .postings()
            .into_iter()
            .map(|p| (p.leg, p.account, p.amount_fen))
            .collect();
        let got: Vec<(u32, String, i64)> = store
            .postings(row.seq, row.seq + 1)
            .expect("legs")
            .into_iter()
            .map(|p| (p.leg, p.account, p.amount_fen))
            .collect();
        assert_eq!(got, want, "{backend}: {row:?}");
    }
    let posted = rows.iter().filter(|r| r.status.is_paid()).count();
    assert_eq!(posted, 50, "{backend}");
}

/// A page of a payer's workers, walking at most `walk` persons before it sorts the payer's rows
/// (each backend's `payer_workers_walking`).
pub type WalkingPage<'a, S> = &'a mut dyn FnMut(
    &mut S,
    &str,
    Option<&[u8; 32]>,
    u32,
    u32,
)
    -> crate::Result<Vec<crate::store::PayerWorkerRow>>;

/// A payer's workers page the same whether a page walks the persons in key order or sorts the
/// payer's rows (a walk too short to fill a page): in person-key order, each worker once,
/// unpaid months left out. 300 persons whose keys sort unlike the order they first contributed
/// in, as keyed hashes do.
pub fn payer_pages_walking_and_sorting_agree<S: Store>(mut store: S, walking: WalkingPage<'_, S>) {
    let backend = store.backend();
    let person = |i: u32| -> [u8; 32] {
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(&(i.wrapping_mul(2_654_435_761)).to_be_bytes());
        key[31] = i as u8;
        key
    };
    let mut rows = Vec::new();
    for i in 0..300u32 {
        for (month, status) in [
            (24312, Status::Paid),
            (24313, Status::Unpaid),
            (24314, Status::Backpaid),
        ] {
            let payer = match i {
                i if i % 3 == 0 => "PLATFORM-A",
                i if i % 7 == 0 => "PLATFORM-B",
                _ => "",
            };
            // Person 9 has only an unpaid month from its platform: not its worker.
            let status = if i == 9 && month != 24313 {
                Status::Unpaid
            } else {
                status
            };
            let seq = rows.len() as u64;
            rows.push(crate::store::ContributionRow {
                seq,
                record_id: format!("c-{seq}"),
                person: person(i),
                month,
                insurance: Insurance::Pension,
                region: 330100,
                payer: if payer.is_empty() {
                    Payer::Individual
                } else {
                    Payer::Platform
                },
                payer_code: payer.into(),
                base_fen: 500_000,
                amount_fen: 100_000,
                account_fen: 0,
                status,
                reason: None,
                paid_on: None,
            });
        }
    }
    let mut txn = store.begin().expect("begin");
    txn.write(&WriteBatch {
        contributions: rows,
        ..WriteBatch::default()
    })
    .expect("write");
    txn.commit().expect("commit");

    for (code, workers) in [
        ("PLATFORM-A", 99),
        ("PLATFORM-B", 28),
        ("NOBODY", 0),
        ("", 0),
    ] {
        let mut pages = Vec::new();
        for walk in [1, 3, 10_000] {
            let mut all = Vec::new();
            let mut after = None;
            loop {
                let page = walking(&mut store, code, after.as_ref(), 7, walk).expect("page");
                assert!(
                    page.iter().all(|w| w.insurances == ["pension"]),
                    "{backend}: {page:?}"
                );
                all.extend(page.iter().map(|w| (w.person, w.months, w.amount_fen)));
                match page.last() {
                    Some(last) if page.len() == 7 => after = Some(last.person),
                    _ => break,
                }
            }
            assert_eq!(all.len(), workers, "{backend}: {code}, walking {walk}");
            assert!(
                all.windows(2).all(|w| w[0].0 < w[1].0),
                "{backend}: {code}: key order"
            );
            assert!(
                all.iter().all(|w| w.1 == 2 && w.2 == 200_000),
                "{backend}: {code}"
            );
            pages.push(all);
        }
        assert_eq!(pages[0], pages[1], "{backend}: {code}");
        assert_eq!(pages[0], pages[2], "{backend}: {code}");
    }
}

fn story_audit_sees_projection_damage_via_trait(store: Box<dyn Store>) {
    // Rows written through the trait but not through the service (no event): the audit names them.
    let backend = store.backend();
    let mut records = fresh(store);
    let worker = resident_id("33010619900101123");
    records
        .append(vec![
            platform(),
            person(&worker),
            contribution(&worker, "c-1", "2025-01", Payer::Individual, "845.40"),
        ])
        .expect("append");
    let head = records.store().head().expect("head");
    let mut txn = records.store().begin().expect("begin");
    let mut forged = records_contribution_like(head.size);
    forged.person = [7; 32];
    txn.write(&WriteBatch {
        contributions: vec![forged],
        ..WriteBatch::default()
    })
    .expect("write");
    txn.commit().expect("commit");
    let report = records
        .audit(None, AuditScope { projections: true })
        .expect("audit");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.table == "contributions" && f.row.contains(&head.size.to_string())),
        "{backend}: forged row named: {:?}",
        report.findings
    );
}

fn records_contribution_like(seq: u64) -> crate::store::ContributionRow {
    crate::store::ContributionRow {
        seq,
        record_id: "forged".into(),
        person: [0; 32],
        month: YearMonth::parse("2025-02").expect("month").index(),
        insurance: anxin_domain::codes::Insurance::Pension,
        region: 330100,
        payer: anxin_domain::codes::Payer::Individual,
        payer_code: String::new(),
        base_fen: 481200,
        amount_fen: 96240,
        account_fen: 0,
        status: anxin_domain::codes::Status::Paid,
        reason: None,
        paid_on: None,
    }
}

/// Transfers between instances (migration 15): each step's `transfer_step` event and its rows
/// (the transfer, the outbox, the reply, the months received) land in one transaction; an
/// upsert keeps what an earlier step stored; a step whose event is already in the log still
/// writes its rows and adds no entry; a step the database refuses changes nothing at all.
fn story_transfers(store: Box<dyn Store>) {
    use crate::event::TransferEvent;
    use crate::transfer::{OutboxRow, TransferMonthRow, TransferRow, TransferWrite};
    let backend = store.backend();
    let mut records = fresh(store);
    let id = "hangzhou:1";
    let event = |state: &str, months: Option<u32>| TransferEvent {
        key: format!("transfer:{id}:{state}"),
        transfer: id.into(),
        role: "destination".into(),
        peer: "fuyang".into(),
        state: state.into(),
        person: None,
        since: "2026-03-02".into(),
        due: Some("2026-03-23".into()),
        package: None,
        refusal: None,
        months,
    };
    let row = |state: &str| TransferRow {
        id: id.into(),
        role: "destination".into(),
        peer: "fuyang".into(),
        state: state.into(),
        since: "2026-03-02".into(),
        due: Some("2026-03-23".into()),
        package: None,
        refusal: None,
        seal: None,
        person: None,
        request: None,
        received: None,
    };
    let outgoing = |step: &str| OutboxRow {
        key: format!("{id}:{step}"),
        peer: "fuyang".into(),
        transfer: id.into(),
        message: format!("{{\"step\":\"{step}\"}}"),
        attempts: 0,
        next_try: 1_772_409_600,
    };
    let month = |n: u32| TransferMonthRow {
        transfer: id.into(),
        n,
        origin: "fuyang".into(),
        entry: 7 + u64::from(n),
        checkpoint_size: 200,
        region: 341200,
        month: 2015 * 12 + n as i32,
        insurance: "pension".into(),
        base_fen: 400_000,
        person: [0xab; 32],
    };
    let size0 = records.store().head().expect("head").size;
    let mut first = row("requested");
    first.request = Some("{\"sealed\":\"…\"}".into());
    records
        .commit_transfer(
            vec![event("requested", None)],
            TransferWrite {
                transfers: vec![first],
                outbox_put: vec![outgoing("request")],
                ..TransferWrite::default()
            },
        )
        .expect("request");
    assert_eq!(
        records.store().head().expect("head").size,
        size0 + 1,
        "{backend}"
    );
    assert_eq!(
        records.store().transfer_outbox().expect("outbox").len(),
        1,
        "{backend}"
    );
    // The package arrives: request out of the outbox, acknowledgement in, months recorded.
    let mut recorded = row("recorded");
    recorded.person = Some([0xab; 32]);
    recorded.received = Some("{\"pooling_fen\":1}".into());
    recorded.package = Some("ef".repeat(32));
    let step = TransferWrite {
        transfers: vec![recorded],
        outbox_put: vec![outgoing("ack")],
        outbox_take: vec![format!("{id}:request")],
        replies: vec![(
            "fuyang".into(),
            format!("{id}:package"),
            Some("{\"ack\":1}".into()),
        )],
        months: (0..3).map(month).collect(),
    };
    records
        .commit_transfer(vec![event("recorded", Some(3))], step.clone())
        .expect("record");
    let t = records.store().transfer(id).expect("read").expect("stored");
    assert_eq!(t.state, "recorded", "{backend}");
    assert_eq!(
        t.request.as_deref(),
        Some("{\"sealed\":\"…\"}"),
        "{backend}: kept"
    );
    assert_eq!(t.person, Some([0xab; 32]), "{backend}");
    let outbox = records.store().transfer_outbox().expect("outbox");
    assert_eq!(outbox.len(), 1, "{backend}");
    assert_eq!(outbox[0], outgoing("ack"), "{backend}");
    assert_eq!(
        records
            .store()
            .transfer_reply("fuyang", &format!("{id}:package"))
            .expect("reply"),
        Some(Some("{\"ack\":1}".into())),
        "{backend}"
    );
    assert_eq!(
        records
            .store()
            .transfer_reply("ningbo", &format!("{id}:package"))
            .expect("reply"),
        None,
        "{backend}: replies are per sender"
    );
    assert_eq!(
        records.store().transfer_months_of(id).expect("months"),
        (0..3).map(month).collect::<Vec<_>>(),
        "{backend}"
    );
    let head = records.store().head().expect("head");
    assert_eq!(head.size, size0 + 2, "{backend}");
    // The same months again: the database refuses them and nothing of the step is kept.
    let mut again = step;
    again.outbox_take = vec![format!("{id}:ack")];
    again.replies = vec![("fuyang".into(), format!("{id}:seal"), None)];
    assert!(
        records
            .commit_transfer(vec![event("done", None)], again)
            .is_err(),
        "{backend}"
    );
    assert_eq!(records.store().head().expect("head"), head, "{backend}");
    assert_eq!(
        records.store().transfer_outbox().expect("outbox").len(),
        1,
        "{backend}"
    );
    assert_eq!(
        records
            .store()
            .transfer_reply("fuyang", &format!("{id}:seal"))
            .expect("reply"),
        None,
        "{backend}"
    );
    // A step whose event is already logged: its rows are written, the log does not grow.
    records
        .commit_transfer(
            vec![event("recorded", Some(3))],
            TransferWrite {
                replies: vec![("fuyang".into(), format!("{id}:seal"), None)],
                ..TransferWrite::default()
            },
        )
        .expect("rows only");
    assert_eq!(records.store().head().expect("head"), head, "{backend}");
    assert_eq!(
        records
            .store()
            .transfer_reply("fuyang", &format!("{id}:seal"))
            .expect("reply"),
        Some(None),
        "{backend}"
    );
    assert_eq!(
        records.store().transfers_all().expect("all").len(),
        1,
        "{backend}"
    );
    assert_clean(&mut records, backend);
}
