//! A progress bar on stderr for long runs (`serve --demo --demo-workers 1000000`): redrawn in
//! place on a terminal; otherwise a log event every tenth of the way (stderr is then the
//! server's log, JSON or text, and stays parseable and short).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Bar {
    total: u64,
    started: Instant,
    shown: Option<Instant>,
    tenths: u64,
    terminal: bool,
}

impl Bar {
    /// A bar for `total` units of work (workers).
    pub fn new(total: u64) -> Bar {
        Bar {
            total,
            started: Instant::now(),
            shown: None,
            tenths: 0,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Shows `done` of the total, with `records` written so far.
    pub fn show(&mut self, done: u64, records: u64) {
        let now = Instant::now();
        if self.terminal {
            let line = line(done, self.total, records, now - self.started);
            if self
                .shown
                .is_none_or(|t| now - t >= Duration::from_millis(200))
                || done >= self.total
            {
                self.shown = Some(now);
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r{line}\x1b[K");
                let _ = err.flush();
            }
        } else {
            // Not a terminal: stderr is the server's log (JSON or text), so the progress is
            // a log event of its own every tenth of the way, never a bare line in it.
            let tenths = (done * 10).checked_div(self.total).unwrap_or(10);
            if tenths > self.tenths {
                self.tenths = tenths;
                tracing::info!(
                    target: anxin_server::logging::SERVER,
                    workers_done = done,
                    workers = self.total,
                    records,
                    "demo progress"
                );
            }
        }
    }

    /// Ends the bar's line.
    pub fn finish(&mut self) {
        if self.terminal && self.shown.is_some() {
            eprintln!();
        }
    }
}

/// `演示数据 demo [######----] 60% 600,000/1,000,000 劳动者 workers · 16,200,000 条 records · 61,000/s · 剩 left 2m 40s`
fn line(done: u64, total: u64, records: u64, elapsed: Duration) -> String {
    const WIDTH: u64 = 24;
    let filled = (done * WIDTH)
        .checked_div(total)
        .unwrap_or(WIDTH)
        .min(WIDTH);
    let percent = (done * 100).checked_div(total).unwrap_or(100);
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 {
        records as f64 / secs
    } else {
        0.0
    };
    let left = if done > 0 && done < total {
        let rest = secs * (total - done) as f64 / done as f64;
        format!(" · 剩 left {}", minutes(rest))
    } else {
        String::new()
    };
    format!(
        "演示数据 demo [{}{}] {percent:>3}% {}/{} 劳动者 workers · {} 条 records · {}/s{left}",
        "#".repeat(filled as usize),
        "-".repeat((WIDTH - filled) as usize),
        thousands(done),
        thousands(total),
        thousands(records),
        thousands(rate as u64),
    )
}

fn minutes(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// 1234567 → "1,234,567".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_shows_share_counts_rate_and_time_left() {
        let l = line(600_000, 1_000_000, 16_200_000, Duration::from_secs(240));
        assert_eq!(
            l,
            "演示数据 demo [##############----------]  60% 600,000/1,000,000 劳动者 workers · 16,200,000 条 records · 67,500/s · 剩 left 2m 40s"
        );
        let done = line(20_000, 20_000, 544_003, Duration::from_secs(9));
        assert!(
            done.contains("[########################] 100% 20,000/20,000"),
            "{done}"
        );
        assert!(!done.contains("left"), "{done}");
        // Nothing to do is done, not a division by zero.
        assert!(line(0, 0, 0, Duration::ZERO).contains("100%"));
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }
}
