//! Reads arbitrary text as a signed checkpoint and as checkpoint text: no input may panic.
//! The text is also signed with a test key and read back, so the parser behind the
//! signature check is reached; a checkpoint that parses must print back to the same text.
#![no_main]

use anxin_ledger::note::{Signer, sign_note};
use anxin_ledger::{Checkpoint, parse_and_verify_checkpoint};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let signer = Signer::from_seed("anxin.fuzz/log", &[7u8; 32]).expect("test signer");
    let verifier = signer.verifier();
    let _ = parse_and_verify_checkpoint(text, &verifier);
    if let Ok(checkpoint) = Checkpoint::parse_text(text) {
        assert_eq!(checkpoint.to_text().ok().as_deref(), Some(text));
    }
    if let Ok(signed) = sign_note(&signer, text) {
        let _ = parse_and_verify_checkpoint(&signed, &verifier);
    }
});
