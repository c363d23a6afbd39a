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
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 BASELINE CANDIDATE [WORKERS] [ROUNDS]" >&2; exit 2; }
base="$1" cand="$2" workers="${3:-100000}" rounds="${4:-5}"
for b in "$base" "$cand"; do [ -x "$b" ] || { echo "$b is not an executable" >&2; exit 2; }; done
work="$(mktemp -d)"
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$base" serve --demo --demo-workers "$workers" --demo-months 12 --addr "127.0.0.1:$port" >"$work/demo.log" 2>&1 &
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
: >"$work/times"
for round in $(seq 1 "$rounds"); do
    for which in baseline candidate; do
        bin="$base"; [ "$which" = candidate ] && bin="$cand"
        rm -rf "$work/run"; cp -a "$work/region" "$work/run"; cat "$work/run"/anxin.db* >/dev/null
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
