//! The inbox by moving the clock: reminders before the due date, a lapse warning once per
//! break, a back-payment window about to close (only where an overlay opens one), nothing
//! generated twice; and the webhook against a real local HTTP receiver that fails on purpose:
//! retries with backoff, the dead-letter list, a restart that resumes, nothing delivered twice,
//! signatures that check, and no resident ID or name in a body.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use anxin_domain::codes::Payer;
use anxin_domain::{Clock, TestClock};
use anxin_policy::Policy;
use anxin_records::conformance::{contribution, fresh, person, resident_id};
use anxin_records::inbox::DeliveryState;
use anxin_records::{PersonKey, Records, Store};
use anxin_service::inbox::{self, WebhookConfig};
use anxin_store_sqlite::SqliteStore;
use jiff::SignedDuration;
use jiff::civil::date;

const SECRET: &[u8] = b"a shared secret of the gateway";

fn policy() -> Policy {
    Policy::embedded().expect("policy")
}

/// A 杭州 worker who paid the pension from January to May 2026.
fn worker(records: &mut Records<Box<dyn Store>>, prefix: &str) -> PersonKey {
    let id = resident_id(prefix);
    let mut rows = vec![person(&id)];
    for m in 1..=5 {
        rows.push(contribution(
            &id,
            &format!("{prefix}-{m}"),
            &format!("2026-{m:02}"),
            Payer::Individual,
            "962.40",
        ));
    }
    records.append(rows).expect("append");
    records.person_key(&id)
}

fn kinds(records: &mut Records<Box<dyn Store>>, key: &PersonKey) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = records
        .store()
        .inbox_of(&key.0, None, 100)
        .expect("inbox")
        .into_iter()
        .map(|m| (m.kind, m.month))
        .collect();
    all.sort();
    all
}

fn pair(kind: &str, month: &str) -> (String, String) {
    (kind.to_string(), month.to_string())
}

#[test]
fn reminders_and_warnings_follow_the_clock() {
    let policy = policy();
    let mut records = fresh(Box::new(SqliteStore::in_memory().expect("store")));
    let key = worker(&mut records, "33010619900101123");
    let clock = TestClock::on(date(2026, 6, 10));
    let none: Vec<String> = Vec::new();
    let run = |records: &mut Records<Box<dyn Store>>, clock: &TestClock| {
        inbox::generate(records.store(), &policy, clock, &none).expect("generate")
    };

    // 20 days before the end of June: too early (the threshold is 7 days).
    let g = run(&mut records, &clock);
    assert_eq!((g.persons, g.new), (1, 0));
    // 6 days before: the reminder, with the month's bill.
    clock.set(TestClock::on(date(2026, 6, 24)).now());
    let g = run(&mut records, &clock);
    assert_eq!((g.due, g.new), (1, 1));
    let m = &records.store().inbox_of(&key.0, None, 10).expect("inbox")[0];
    assert_eq!(
        (m.kind.as_str(), m.month.as_str()),
        ("payment_reminder", "2026-06")
    );
    let r = inbox::render_row(m).expect("renders");
    assert!(
        r.body_zh.contains("2026-06-30") && r.body_zh.contains("还剩 6 天"),
        "{}",
        r.body_zh
    );
    assert!(
        inbox::params_of(m).contains_key("amount"),
        "杭州 has a bill"
    );
    assert!(r.body_zh.contains("每月一共约"), "{}", r.body_zh);
    // The same day again, and the next: nothing new.
    assert_eq!(run(&mut records, &clock).new, 0);
    clock.advance(SignedDuration::from_hours(24));
    assert_eq!(run(&mut records, &clock).new, 0);

    // July unpaid too, one month missed: still a payer, reminded for July.
    clock.set(TestClock::on(date(2026, 7, 25)).now());
    assert_eq!(run(&mut records, &clock).new, 1);
    // Late August: June and July missed — a lapse warning, and no more reminders.
    clock.set(TestClock::on(date(2026, 8, 28)).now());
    assert_eq!(run(&mut records, &clock).new, 1);
    // A month later the same break: no second warning.
    clock.set(TestClock::on(date(2026, 9, 28)).now());
    assert_eq!(run(&mut records, &clock).new, 0);
    assert_eq!(
        kinds(&mut records, &key),
        vec![
            pair("lapse_warning", "2026-06"),
            pair("payment_reminder", "2026-06"),
            pair("payment_reminder", "2026-07"),
        ]
    );
    let lapse = records.store().inbox_of(&key.0, None, 1).expect("inbox");
    let r = inbox::render_row(&lapse[0]).expect("renders");
    assert!(
        r.body_zh.contains("已经 2 个月没有缴费记录"),
        "{}",
        r.body_zh
    );

    // No back-payment window under the law in force in 杭州 (none is recorded: not allowed).
    clock.set(TestClock::on(date(2028, 5, 2)).now());
    assert_eq!(run(&mut records, &clock).new, 0);
    // The window the rules read once a region: 0 months by law (the calculator is not asked),
    // 24 under the overlay.
    let may_2028 = anxin_domain::YearMonth::new(2028, 5).expect("a month");
    let window = |reforms: &[String]| {
        inbox::Thresholds::resolve(&policy, "330100", may_2028, reforms)
            .expect("thresholds")
            .backpay_window_months
    };
    assert_eq!(window(&[]), Some(0));
    assert_eq!(window(&["relaxed-backpay".to_string()]), Some(24));
    // Under the relaxed-backpay overlay (24 months): June 2026 closes in May 2028's next
    // month, so it is told in May 2028 (2 months left, this one included); July not yet.
    let relaxed = vec!["relaxed-backpay".to_string()];
    let g = inbox::generate(records.store(), &policy, &clock, &relaxed).expect("generate");
    assert_eq!(g.new, 1);
    let m = &records.store().inbox_of(&key.0, None, 1).expect("inbox")[0];
    assert_eq!(
        (m.kind.as_str(), m.month.as_str()),
        ("backpay_window", "2026-06")
    );
    let r = inbox::render_row(m).expect("renders");
    assert!(
        r.body_zh.contains("最晚可以在 2028-06 补缴，还剩 2 个月"),
        "{}",
        r.body_zh
    );
    assert!(r.body_en.contains("Hangzhou"), "{}", r.body_en);
    // A month later: June 2026's last month (already told) and July's first warning.
    clock.set(TestClock::on(date(2028, 6, 2)).now());
    let g = inbox::generate(records.store(), &policy, &clock, &relaxed).expect("generate");
    assert_eq!(g.new, 1);
    assert!(kinds(&mut records, &key).contains(&pair("backpay_window", "2026-07")));
    // An overlay not yet in force is refused for the person, with the reason, never ignored.
    clock.set(TestClock::on(date(2025, 12, 28)).now());
    let g = inbox::generate(records.store(), &policy, &clock, &relaxed).expect("generate");
    assert_eq!((g.persons, g.skipped, g.new), (1, 1, 0));
    let (zh, en) = g.skipped_why.expect("a reason");
    assert!(
        zh.contains("relaxed-backpay") || en.contains("relaxed-backpay"),
        "{zh} / {en}"
    );
}

/// What the local receiver saw.
#[derive(Default)]
struct Seen {
    /// Requests answered, in order: (idempotency key, status given).
    requests: Vec<(String, u16)>,
    /// Bodies accepted, by idempotency key.
    accepted: BTreeMap<String, Vec<String>>,
    /// Requests still to fail on purpose.
    fail_next: u32,
}

/// A real HTTP receiver on 127.0.0.1:0: `/hook` fails `fail_next` requests on purpose and
/// accepts the rest, refusing a bad signature with 401; `/down` always fails.
fn receiver(seen: Arc<Mutex<Seen>>) -> (String, tokio::runtime::Runtime) {
    use axum::http::{HeaderMap, StatusCode};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hook = {
        let seen = seen.clone();
        move |headers: HeaderMap, body: String| {
            let seen = seen.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let key = h("idempotency-key");
                let ts: i64 = h("x-anxin-timestamp").parse().unwrap_or(-1);
                let mut s = seen.lock().unwrap();
                let status =
                    if h("x-anxin-signature") != inbox::signature(SECRET, ts, body.as_bytes()) {
                        StatusCode::UNAUTHORIZED
                    } else if s.fail_next > 0 {
                        s.fail_next -= 1;
                        StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        s.accepted.entry(key.clone()).or_default().push(body);
                        StatusCode::NO_CONTENT
                    };
                s.requests.push((key, status.as_u16()));
                status
            }
        }
    };
    let down = {
        let seen = seen.clone();
        move |headers: HeaderMap| {
            let seen = seen.clone();
            async move {
                let key = headers
                    .get("idempotency-key")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                seen.lock().unwrap().requests.push((key, 500));
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .route("/down", axum::routing::post(down));
    rt.spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), rt)
}

fn hook(url: &str, attempts: u32) -> inbox::Webhook {
    inbox::Webhook::new(
        &WebhookConfig {
            url: url.to_string(),
            secret_file: String::new(),
            max_attempts: attempts,
            backoff_seconds: 60,
            backoff_max_seconds: 600,
            timeout_seconds: 5,
        },
        SECRET,
    )
    .expect("webhook")
}

#[test]
fn webhook_retries_resumes_dead_letters_and_never_delivers_twice() {
    let policy = policy();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("inbox.sqlite");
    let open = || -> Box<dyn Store> { Box::new(SqliteStore::open(&path).expect("store")) };
    let mut records = fresh(open());
    let ids = ["33010619900101123", "33010619850202234"];
    for p in ids {
        worker(&mut records, p);
    }
    let clock = TestClock::on(date(2026, 6, 24));
    let none: Vec<String> = Vec::new();
    assert_eq!(
        inbox::generate(records.store(), &policy, &clock, &none)
            .expect("generate")
            .new,
        2
    );

    let seen = Arc::new(Mutex::new(Seen {
        fail_next: 3,
        ..Seen::default()
    }));
    let (base, _rt) = receiver(seen.clone());
    let good = hook(&format!("{base}/hook"), 5);

    // First round: both fail (503).
    let d = inbox::deliver(records.store(), &good, &clock, 100).expect("deliver");
    assert_eq!((d.delivered, d.retrying, d.dead), (0, 2, 0));
    // Nothing is due again before the backoff (60 s) has passed.
    clock.advance(SignedDuration::from_secs(59));
    let d = inbox::deliver(records.store(), &good, &clock, 100).expect("deliver");
    assert_eq!(d, inbox::Delivered::default());
    assert_eq!(seen.lock().unwrap().requests.len(), 2);

    // A restart: the store is opened again and the pending deliveries resume.
    drop(records);
    let mut store = open();
    clock.advance(SignedDuration::from_secs(1));
    // The first retry fails once more (the third failure asked for), the second goes through.
    let d = inbox::deliver(&mut store, &good, &clock, 100).expect("deliver");
    assert_eq!((d.delivered, d.retrying, d.dead), (1, 1, 0));
    // Its second retry waits twice as long: 120 s.
    clock.advance(SignedDuration::from_secs(119));
    assert_eq!(
        inbox::deliver(&mut store, &good, &clock, 100).expect("deliver"),
        inbox::Delivered::default()
    );
    clock.advance(SignedDuration::from_secs(1));
    let d = inbox::deliver(&mut store, &good, &clock, 100).expect("deliver");
    assert_eq!((d.delivered, d.retrying, d.dead), (1, 0, 0));
    // Days later, and generating again: nothing is posted twice.
    clock.advance(SignedDuration::from_hours(72));
    inbox::generate(&mut store, &policy, &clock, &none).expect("generate");
    assert_eq!(
        inbox::deliver(&mut store, &good, &clock, 100).expect("deliver"),
        inbox::Delivered::default()
    );
    {
        let s = seen.lock().unwrap();
        assert_eq!(s.requests.len(), 5, "{:?}", s.requests);
        assert!(
            s.requests.iter().all(|(_, status)| *status != 401),
            "signatures check"
        );
        assert_eq!(s.accepted.len(), 2);
        for (key, bodies) in &s.accepted {
            assert_eq!(bodies.len(), 1, "{key} accepted once");
            let body: serde_json::Value = serde_json::from_str(&bodies[0]).expect("JSON");
            assert_eq!(body["id"], key.as_str());
            assert_eq!(body["kind"], "payment_reminder");
            assert!(body["text_zh"].as_str().unwrap().contains("2026-06-30"));
            // What an SMS gateway needs and nothing more: no resident ID, no name.
            for id in ids {
                let full = resident_id(id).to_string();
                assert!(
                    !bodies[0].contains(id) && !bodies[0].contains(&full),
                    "{body}"
                );
            }
            assert!(!bodies[0].contains("张三"), "{body}");
            assert_eq!(body["recipient"].as_str().unwrap().len(), 64);
        }
    }

    // A gateway that is down: three attempts (backoff 60, 120), then the dead-letter list.
    clock.set(TestClock::on(date(2026, 7, 24)).now());
    assert_eq!(
        inbox::generate(&mut store, &policy, &clock, &none)
            .expect("generate")
            .new,
        2
    );
    let down = hook(&format!("{base}/down"), 3);
    let mut dead = 0;
    for wait in [0, 60, 120] {
        clock.advance(SignedDuration::from_secs(wait));
        let d = inbox::deliver(&mut store, &down, &clock, 100).expect("deliver");
        dead += d.dead;
        assert_eq!(d.delivered, 0);
    }
    assert_eq!(dead, 2);
    let letters = store.inbox_dead(0, 10).expect("dead letters");
    assert_eq!(letters.len(), 2);
    for (m, d) in &letters {
        assert_eq!(m.month, "2026-07");
        assert_eq!((d.state, d.attempts), (DeliveryState::Dead, 3));
        assert_eq!(d.last_error.as_deref(), Some("HTTP 500"));
    }
    // Dead letters are not tried again, however long one waits.
    clock.advance(SignedDuration::from_hours(24 * 30));
    assert_eq!(
        inbox::deliver(&mut store, &down, &clock, 100).expect("deliver"),
        inbox::Delivered::default()
    );
    let s = seen.lock().unwrap();
    let to_down = s.requests.iter().filter(|(_, st)| *st == 500).count();
    assert_eq!(to_down, 6, "2 messages × 3 attempts");
    let counts = store.inbox_counts().expect("counts");
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (counts[0].messages, counts[0].delivered, counts[0].dead),
        (4, 2, 2)
    );
}

#[test]
fn a_webhook_is_checked_before_use() {
    let config = |url: &str, attempts: u32| WebhookConfig {
        url: url.into(),
        secret_file: String::new(),
        max_attempts: attempts,
        backoff_seconds: 60,
        backoff_max_seconds: 600,
        timeout_seconds: 5,
    };
    let e = inbox::Webhook::new(&config("https://gw.example/hook", 3), SECRET)
        .err()
        .expect("https refused");
    assert!(
        e.zh.contains("http://") && e.en.contains("TLS proxy"),
        "{e}"
    );
    assert!(inbox::Webhook::new(&config("http://127.0.0.1:9/h", 3), b"short").is_err());
    assert!(inbox::Webhook::new(&config("http://127.0.0.1:9/h", 0), SECRET).is_err());
    let w = inbox::Webhook::new(&config("http://127.0.0.1:9/h", 3), SECRET).expect("ok");
    assert_eq!(
        (1..=6).map(|n| w.backoff_after(n)).collect::<Vec<_>>(),
        [60, 120, 240, 480, 600, 600]
    );
    assert_eq!(w.backoff_after(200), 600, "no overflow");
}
