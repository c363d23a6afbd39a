//! Reads arbitrary text as a signed note, a public key (.vkey) and a secret key (.skey): no
//! input may panic. Text the signer accepts must open again to the same text, so the
//! fuzzer also reaches what lies behind a valid signature.
#![no_main]

use anxin_ledger::note::{Signer, Verifier, open_note, sign_note};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let signer = Signer::from_seed("anxin.fuzz/log", &[7u8; 32]).expect("test signer");
    let verifier = signer.verifier();
    let _ = Verifier::from_vkey(text);
    let _ = Signer::from_skey(text);
    let _ = open_note(text, &verifier);
    if let Ok(signed) = sign_note(&signer, text) {
        assert_eq!(open_note(&signed, &verifier).ok(), Some(text));
    }
});
