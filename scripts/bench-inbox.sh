#!/usr/bin/env bash
# The inbox step (`anxin inbox run`) of two builds side by side on one SQLite region (issue 18):
#
#   scripts/bench-inbox.sh BASELINE CANDIDATE [WORKERS] [ROUNDS]
#   scripts/bench-inbox.sh /tmp/anxin-main target/release/anxin 100000 5
#
# The region is `anxin serve --demo --demo-workers WORKERS --demo-months 12`, made once by the
# baseline build; each round runs the baseline and then the candidate, each on its own fresh
# copy of the region read into the page cache first, and prints the seconds of the whole
# command and its peak resident memory. Last, the medians and the candidate's ratio to the
# baseline. Everything lives in a temporary directory, removed on exit.
#
# On PostgreSQL, DATABASE names a server's database to connect to for the set-up:
#
#   DATABASE=postgres://postgres@127.0.0.1:5432/postgres scripts/bench-inbox.sh OLD NEW 100000 5
#
# The region is then a database of its own (made by the demo with --database, then
# VACUUM (ANALYZE), as autovacuum would in time), and each run gets a fresh copy of it
# (CREATE DATABASE … TEMPLATE) beside its copy of the data directory. Both are dropped on exit.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BASELINE CANDIDATE [WORKERS] [ROUNDS]" >&2; exit 2; }
base="$1" cand="$2" workers="${3:-100000}" rounds="${4:-5}"
for b in "$base" "$cand"; do [ -x "$b" ] || { echo "$b is not an executable" >&2; exit 2; }; done
DATABASE="${DATABASE:-}"
work="$(mktemp -d)"
pid=""
db="" # the region's database and its run copy (PostgreSQL only)
pg() { PGOPTIONS='--client-min-messages=warning' psql -q "${DATABASE%/*}/$1" "${@:2}"; }
cleanup() {
    if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    if [ -n "$db" ]; then pg postgres -c "DROP DATABASE IF EXISTS ${db}_run" -c "DROP DATABASE IF EXISTS $db" || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
args=()
if [ -n "$DATABASE" ]; then
    db="anxin_inbox_bench_$$"
    pg postgres -c "CREATE DATABASE $db"
    args=(--database "${DATABASE%/*}/$db")
fi
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$base" serve --demo --demo-workers "$workers" --demo-months 12 "${args[@]}" --addr "127.0.0.1:$port" >"$work/demo.log" 2>&1 &
pid=$!
until grep -q "listening on" "$work/demo.log"; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/demo.log" >&2; exit 1; }
    sleep 1
done
demo="$(grep -o '/tmp/anxin-demo-[0-9]*' "$work/demo.log" | head -1)"
# The demo directory goes with the server: keep a copy of it, then stop the server.
cp -a "$demo" "$work/region"
kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; pid=""
rm -rf "$demo"
[ -z "$db" ] || pg "$db" -c "VACUUM (ANALYZE)"
: >"$work/times"
for round in $(seq 1 "$rounds"); do
    for which in baseline candidate; do
        bin="$base"; [ "$which" = candidate ] && bin="$cand"
        rm -rf "$work/run"; cp -a "$work/region" "$work/run"
        if [ -n "$db" ]; then
            pg postgres -c "DROP DATABASE IF EXISTS ${db}_run" -c "CREATE DATABASE ${db}_run TEMPLATE $db"
            sed -i "s|/$db\"|/${db}_run\"|" "$work/run/anxin.toml"
            grep -q "/${db}_run\"" "$work/run/anxin.toml" || { echo "the run's anxin.toml names no database copy" >&2; exit 1; }
        else
            cat "$work/run"/anxin.db* >/dev/null
        fi
        start=$(date +%s.%N)
        /usr/bin/time -f "%M" -o "$work/rss" "$bin" --data "$work/run" inbox run >"$work/out" 2>&1 ||
            { cat "$work/out" >&2; exit 1; }
        end=$(date +%s.%N)
        secs=$(echo "$end - $start" | bc)
        printf '%s %-9s %6.2f s  %4d MiB  %s\n' "$round" "$which" "$secs" "$(( $(cat "$work/rss") / 1024 ))" "$(head -1 "$work/out" | sed 's/.* \/ //')"
        echo "$which $secs $(cat "$work/rss")" >>"$work/times"
    done
done
python3 - "$work/times" "$workers" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
med = {w: (statistics.median(float(s) for k, s, _ in rows if k == w),
           statistics.median(int(m) for k, _, m in rows if k == w) / 1024) for w in ("baseline", "candidate")}
n = int(sys.argv[2])
for w, (s, m) in med.items():
    print(f"median {w:9} {s:6.2f} s  {n / s:8,.0f} persons/s  {m:4.0f} MiB")
print(f"candidate / baseline: time {med['candidate'][0] / med['baseline'][0]:.2f}x, memory {med['candidate'][1] / med['baseline'][1]:.2f}x")
PY
