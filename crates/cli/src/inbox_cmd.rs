//! `anxin inbox run|dead`: the inbox's generation and webhook delivery, run from the command
//! line (by hand, by cron or a systemd timer, or in a loop with `--every`), or inside
//! `anxin serve --inbox-every SECONDS` ([`Background`]: a thread of its own on its own
//! connection, as a separate `anxin inbox run` would be, stopped gracefully with the server).
//! Rules and delivery are `anxin_service::inbox`; this only prints or logs counts (never a
//! person, never a message text).

use std::sync::Arc;

use anxin_domain::{Clock, SharedClock};
use anxin_policy::Policy;

use crate::data::DataDir;
use crate::fail::{Fail, Result};

/// Deliveries posted per round at most (the rest wait for the next round).
const DELIVER_LIMIT: u32 = 10_000;

type Round = (
    anxin_service::inbox::Generated,
    Option<anxin_service::inbox::Delivered>,
);

/// Generates what is due on the clock's day, then posts what is due to the webhook (if one
/// is configured).
fn round(d: &DataDir, policy: &Policy, clock: &dyn Clock) -> Result<Round> {
    let settings = d.inbox();
    // A reform named in anxin.toml that the policy does not know is refused, not ignored.
    for name in &settings.reforms {
        policy.reform(name)?;
    }
    let hook = d.webhook()?;
    let mut records = d.records()?;
    let generated =
        anxin_service::inbox::generate(records.store(), policy, clock, &settings.reforms)?;
    let delivered = match &hook {
        Some(h) => Some(anxin_service::inbox::deliver(
            records.store(),
            h,
            clock,
            DELIVER_LIMIT,
        )?),
        None => None,
    };
    Ok((generated, delivered))
}

/// The inbox run by `anxin serve --inbox-every`: a round at start, then one every `every`,
/// on a thread of its own; [`Background::stop`] lets a round under way finish (each
/// delivery is stored before the next is posted), then ends the thread.
pub struct Background {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Background {
    pub fn start(
        d: DataDir,
        policy: Arc<Policy>,
        clock: SharedClock,
        every: std::time::Duration,
    ) -> Background {
        use anxin_server::logging::SERVER;
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            loop {
                match round(&d, &policy, clock.as_ref()) {
                    Ok((g, delivered)) => {
                        let (ok, retrying, dead) =
                            delivered.map_or((0, 0, 0), |d| (d.delivered, d.retrying, d.dead));
                        tracing::info!(
                            target: SERVER,
                            persons = g.persons,
                            due = g.due,
                            new = g.new,
                            skipped = g.skipped,
                            delivered = ok,
                            retrying,
                            dead,
                            webhook = delivered.is_some(),
                            "inbox round"
                        );
                    }
                    // Tried again next round (the database away, a bad webhook setting).
                    Err(e) => tracing::warn!(target: SERVER, reason = %e.en, "inbox round failed"),
                }
                match stopped.recv_timeout(every) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    _ => break,
                }
            }
            tracing::info!(target: SERVER, "inbox stopped");
        });
        Background { stop, thread }
    }

    /// Asks the thread to stop and waits for the round under way.
    pub fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}

/// One round, its counts printed.
pub fn run_once(d: &DataDir, policy: &Policy, clock: &dyn Clock, json: bool) -> Result<()> {
    let (generated, delivered) = round(d, policy, clock)?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "day": clock.today().to_string(), "generated": generated, "delivered": delivered })
        );
        return Ok(());
    }
    println!(
        "{}：查看 {} 人，应有消息 {} 条，新增 {} 条 / looked at {} people, {} messages due, {} new",
        clock.today(),
        generated.persons,
        generated.due,
        generated.new,
        generated.persons,
        generated.due,
        generated.new
    );
    if let Some((zh, en)) = &generated.skipped_why {
        println!(
            "跳过 {} 人：{zh} / skipped {} people: {en}",
            generated.skipped, generated.skipped
        );
    }
    match delivered {
        Some(d) => println!(
            "webhook：送达 {}，待重试 {}，转入死信 {} / delivered {}, to retry {}, dead {}",
            d.delivered, d.retrying, d.dead, d.delivered, d.retrying, d.dead
        ),
        None => println!(
            "没有配置 webhook（anxin.toml 的 [inbox.webhook]），消息只进站内信箱 / no webhook configured ([inbox.webhook] in anxin.toml): messages stay in the inbox"
        ),
    }
    Ok(())
}

/// `anxin inbox run [--date D] [--every SECONDS]`.
pub fn run(
    d: &DataDir,
    policy: &Policy,
    date: Option<jiff::civil::Date>,
    every: Option<u64>,
    json: bool,
) -> Result<()> {
    let clock: SharedClock = match date {
        Some(day) => Arc::new(anxin_domain::TestClock::on(day)),
        None => anxin_domain::system_clock(),
    };
    let Some(seconds) = every else {
        return run_once(d, policy, clock.as_ref(), json);
    };
    if date.is_some() || seconds == 0 {
        return Err(Fail::bad_input(
            "--every 要配合真实时钟（不带 --date），且秒数大于 0",
            "--every runs on the real clock (without --date), every so many seconds above 0",
        ));
    }
    loop {
        // A failed round (the database away, say) is reported and tried again next time.
        if let Err(e) = run_once(d, policy, clock.as_ref(), json) {
            eprintln!("{} / {}", e.zh, e.en);
        }
        std::thread::sleep(std::time::Duration::from_secs(seconds));
    }
}

/// `anxin inbox dead`: the dead-letter list (message key, kind, attempts, last error).
pub fn dead(d: &DataDir, json: bool) -> Result<()> {
    let mut records = d.records()?;
    let mut after = 0;
    let mut rows = Vec::new();
    loop {
        let page = records.store().inbox_dead(after, 1000)?;
        let Some(last) = page.last() else { break };
        after = last.0.id;
        rows.extend(page);
    }
    if json {
        let items: Vec<_> = rows
            .iter()
            .map(|(m, d)| serde_json::json!({ "id": m.key, "kind": m.kind, "month": m.month, "attempts": d.attempts, "last_error": d.last_error }))
            .collect();
        println!("{}", serde_json::Value::Array(items));
        return Ok(());
    }
    if rows.is_empty() {
        println!("没有死信 / no dead letters");
    }
    for (m, d) in rows {
        println!(
            "{}\t{}\t{}\t{}",
            m.key,
            d.attempts,
            m.month,
            d.last_error.unwrap_or_default()
        );
    }
    Ok(())
}
