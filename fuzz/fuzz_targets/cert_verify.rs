//! Reads arbitrary bytes as a certificate file (`anxin verify`, the verify page): no input
//! may panic, and every check it reports carries both languages.
#![no_main]

use anxin_ledger::note::Signer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let verifier = Signer::from_seed("anxin.fuzz/log", &[7u8; 32])
        .expect("test signer")
        .verifier();
    let result = anxin_records::cert::verify(data, &verifier);
    for check in &result.checks {
        assert!(!check.zh.is_empty() && !check.en.is_empty());
    }
    // Nothing the fuzzer makes is signed by the key, so nothing may verify.
    assert!(!result.ok(), "a certificate not signed by the key verified");
});
