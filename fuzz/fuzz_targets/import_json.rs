//! Reads arbitrary bytes as a json import of every kind and drains the rows: no input may
//! panic, hang or exhaust memory.
#![no_main]

use anxin_import::{AnyRegionCode, Format, Kind, Options, from_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = Options {
        today: jiff::civil::date(2026, 11, 22),
        max_rows: 100_000,
    };
    for kind in Kind::ALL {
        if let Ok(rows) = from_bytes(data, Format::Json, kind, opts, &AnyRegionCode) {
            for row in rows {
                // Rejections must carry both languages.
                if let Err(rejection) = row {
                    assert!(!rejection.reason_zh.is_empty() && !rejection.reason_en.is_empty());
                }
            }
        }
    }
});
