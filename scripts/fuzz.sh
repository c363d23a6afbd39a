#!/usr/bin/env bash
# Fuzzing run: every cargo-fuzz target under fuzz/ (imports, certificates, bundles, signed
# notes and checkpoints) for SECONDS each, default 20. Fails on the first crash, hang (an
# input taking over 10 s) or memory blow-up (over 2 GB, libFuzzer's default), and says where
# the input that did it was saved.
#
# Leak detection is off: the .xlsx reader streams its sheet from a worker thread, and glibc's
# record of that thread's thread-local destructors (32 bytes, `__cxa_thread_atexit_impl`) is
# reported as a leak though it is freed when the thread ends. Memory is bounded by libFuzzer's
# RSS limit instead, and by the import's own limits (crates/cli/tests/import_memory.rs).
#
# Needs a nightly toolchain (rustup) for the sanitizers, and installs cargo-fuzz if missing
# (about 2.5 min on a 2-core machine). Without nightly it builds on stable without sanitizers.
#
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs="${1:-20}"
# The fuzz crate is its own workspace with its own target directory.
unset CARGO_TARGET_DIR

# LeakSanitizer off at exit as well (see above): a worker thread still finishing when the
# process ends is reported as its thread record "leaked".
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    fuzz=(cargo +nightly fuzz)
    flags=()
else
    export RUSTC_BOOTSTRAP=1
    fuzz=(cargo fuzz)
    flags=(--sanitizer none)
fi

# Seed corpora from the test data (fuzz/corpus is not committed).
mkdir -p corpus/import_csv corpus/import_json corpus/ledger_checkpoint corpus/ledger_note
cp ../crates/import/tests/data/*.csv corpus/import_csv/
cp ../crates/import/tests/data/*.json ../crates/import/tests/data/*.ndjson corpus/import_json/ 2>/dev/null || true
for f in corpus/import_json/*.expect.json; do rm -f "$f"; done
printf 'anxin.fuzz/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n' >corpus/ledger_checkpoint/seed
printf 'anxin.fuzz/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\xe2\x80\x94 anxin.fuzz/log AAAA\n' >corpus/ledger_note/seed

"${fuzz[@]}" build "${flags[@]}"
for target in $("${fuzz[@]}" list); do
    log="$(mktemp)"
    start=$(date +%s)
    if ! "${fuzz[@]}" run "${flags[@]}" "$target" -- \
        -max_total_time="$secs" -timeout=10 -detect_leaks=0 -print_final_stats=1 >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz target $target failed: the input is under fuzz/artifacts/$target/" >&2
        echo "replay it with: cd fuzz && ${fuzz[*]} run $target artifacts/$target/<file>" >&2
        rm -f "$log"
        exit 1
    fi
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')"
    echo "fuzz $target: $runs inputs in $(($(date +%s) - start)) s, no failure"
    rm -f "$log"
done
