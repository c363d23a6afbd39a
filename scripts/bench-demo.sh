#!/usr/bin/env bash
# How long `anxin serve --demo --demo-workers N` takes to be ready, and the server's memory,
# for each N given (default 20000 100000). The demo is made and written a batch of whole
# workers at a time, so its peak memory should not grow with N.
#
#   scripts/bench-demo.sh 20000 100000 1000000        # this tree's release binary
#   ANXIN=/path/to/anxin scripts/bench-demo.sh 100000
#   DATABASE=postgres://postgres@127.0.0.1:5432/test scripts/bench-demo.sh 100000
#
# Prints, per N: workers, records, seconds to ready, records/s, peak resident memory (VmHWM)
# at ready and the data directory's size. Each server is stopped (SIGTERM) when measured.
set -euo pipefail
cd "$(dirname "$0")/.."

ANXIN="${ANXIN:-${CARGO_TARGET_DIR:-target}/release/anxin}"
[ -x "$ANXIN" ] || cargo build --release --locked -p anxin
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(20000 100000)

work="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

printf '%10s %12s %9s %10s %12s %12s\n' workers records seconds "records/s" "peak MiB" "data MiB"
for n in "${sizes[@]}"; do
    out="$work/out-$n"
    args=(serve --demo --demo-workers "$n" --addr 127.0.0.1:0)
    [ -n "${DATABASE:-}" ] && args+=(--database "$DATABASE")
    TMPDIR="$work" ANXIN_LOG=warn "$ANXIN" "${args[@]}" >"$out" 2>"$work/err-$n" &
    pid=$!
    until grep -q 'Demo region ready' "$out" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "the server stopped:" >&2; cat "$work/err-$n" >&2; exit 1; fi
        sleep 1
    done
    line="$(grep 'Demo region ready' "$out")"
    records="$(sed -E 's/.* ([0-9]+) 条记录 records in ([0-9.]+) s.*/\1/' <<<"$line")"
    seconds="$(sed -E 's/.* ([0-9]+) 条记录 records in ([0-9.]+) s.*/\2/' <<<"$line")"
    peak_kb="$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")"
    data_kb="$(du -sk "$work"/anxin-demo-* | awk '{s += $1} END {print s}')"
    printf '%10s %12s %9s %10.0f %12.1f %12.1f\n' "$n" "$records" "$seconds" \
        "$(bc -l <<<"$records / $seconds")" "$(bc -l <<<"$peak_kb / 1024")" "$(bc -l <<<"$data_kb / 1024")"
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=""
done
