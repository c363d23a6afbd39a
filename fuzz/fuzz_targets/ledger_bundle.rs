//! Reads arbitrary text as an offline proof bundle and verifies it: no input may panic.
#![no_main]

use anxin_ledger::Bundle;
use anxin_ledger::note::Signer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let verifier = Signer::from_seed("anxin.fuzz/log", &[7u8; 32])
        .expect("test signer")
        .verifier();
    if let Ok(bundle) = Bundle::from_json(text) {
        let _ = bundle.verify(&verifier);
    }
});
