#!/usr/bin/env bash
# Benchmark of the platform monitor (issue 16): generation, ingest (orders/s, bytes per order on
# disk), the monthly run on DataFusion, and DuckDB running the same SQL over the same Parquet
# files; peak memory of each step from /usr/bin/time -v. Not a test: it prints figures, which
# BENCHMARKS.md records.
#
# usage: scripts/bench-monitor.sh [ORDERS [WORKERS]]
#   ORDERS  orders in the month (default 2,000,000; a large province is 100,000,000)
#   WORKERS workers (default ORDERS / 10)
# env: BENCH_DIR (default /tmp/anxin-bench-monitor), THREADS (default 2), SKIP_BUILD=1,
#      BENCH_BIN (another build of the example, e.g. target/debug/examples/bench)
# needs: python3 with duckdb (pip install duckdb), /usr/bin/time
set -euo pipefail
cd "$(dirname "$0")/.."
ORDERS=${1:-2000000}
WORKERS=${2:-$((ORDERS / 10))}
THREADS=${THREADS:-2}
DIR=${BENCH_DIR:-/tmp/anxin-bench-monitor}
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BENCH_BIN:-$TARGET/monitor-bench/examples/bench}
if [ -z "${SKIP_BUILD:-}" ]; then
  cargo build --profile monitor-bench -p anxin-monitor --example bench
fi
python3 -c 'import duckdb' 2>/dev/null || { echo "pip install duckdb first" >&2; exit 1; }
rm -rf "$DIR"
mkdir -p "$DIR"

peak() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2/1024}' "$1"; }
step() { # name, command...
  local name=$1; shift
  /usr/bin/time -v -o "$DIR/$name.time" "$@" > "$DIR/$name.json"
  echo "$name: $(cat "$DIR/$name.json") peak_mib=$(peak "$DIR/$name.time")"
}

echo "orders=$ORDERS workers=$WORKERS threads=$THREADS cores=$(nproc) $(date -u +%FT%TZ)"
step gen "$BIN" gen "$DIR/gen" "$WORKERS" "$ORDERS" 1
step ingest "$BIN" ingest "$DIR/data" "$DIR/gen/platforms.csv" "$DIR/gen/insured.csv" "$DIR"/gen/orders/*.parquet
step run "$BIN" run "$DIR/data" 2026-03 "$THREADS"
step duckdb python3 scripts/bench-monitor-duckdb.py "$DIR/data" "$DIR/data/monitor/runs/2026-03/params.json" "$THREADS"
python3 - "$DIR" <<'PY'
import json, sys
d = sys.argv[1]
run = json.load(open(f"{d}/run.json"))
duck = json.load(open(f"{d}/duckdb.json"))
df = sum(run["queries"].values())
dk = duck["seconds"]
print(f"queries: datafusion {df:.2f} s, duckdb {dk:.2f} s, ratio datafusion/duckdb {df / dk:.2f}")
for q in run["queries"]:
    print(f"  {q}: datafusion {run['queries'][q]:.2f} s, duckdb {duck['queries'][q]:.2f} s")
PY
