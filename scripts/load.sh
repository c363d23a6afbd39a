#!/usr/bin/env bash
# Load benchmark: `wrk` on loopback against `anxin serve --demo`.
#
#   scripts/load.sh                 # 20,000 demo workers, 20 s per run
#   WORKERS=5000 DURATION=10s scripts/load.sh
#
# Builds the release binary, starts the demo region on 127.0.0.1, signs worker1 in for a
# session cookie, then for each endpoint runs wrk twice with --latency:
#   - "open":  -t2 -c10, as fast as the server answers (closed loop): the rate it sustains;
#   - "paced": -t2 -c20, each connection waiting 18 ms after each answer (wrk's Lua delay()),
#              so a little over 1,000 requests/s: the latency at the target rate.
# Endpoints: GET /healthz (the baseline: the server's floor), POST /api/calc/quote (JSON),
# GET /quote?region=330100&income=5000 (the page), GET /persons/{worker1} (signed in).
# wrk runs on the same 2 cores as the server, and the machine may be shared with builds:
# compare each figure with the /healthz baseline of the same run.
#
# The server logs only failed requests (ANXIN_LOG=info,anxin::http=warn), as when the figures
# in BENCHMARKS.md were taken; ANXIN_LOG=info scripts/load.sh measures with one log event per
# request as well.
#
# Traffic goes only to the server this script starts on 127.0.0.1; every run is bounded by
# DURATION, and the server is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKERS="${WORKERS:-20000}"
DURATION="${DURATION:-20s}"
THREADS="${THREADS:-2}"
OPEN_CONNECTIONS="${OPEN_CONNECTIONS:-10}"
PACED_CONNECTIONS="${PACED_CONNECTIONS:-20}"
PACED_DELAY_MS="${PACED_DELAY_MS:-18}"

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

cargo build --release --locked -p anxin
target="${CARGO_TARGET_DIR:-target}"
anxin="$target/release/anxin"

work="$(mktemp -d)"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

ANXIN_LOG="${ANXIN_LOG:-info,anxin::http=warn}" \
    "$anxin" serve --demo --demo-workers "$WORKERS" --addr 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
    grep -q 'listening on http://' "$work/server.log" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.5
done
base="$(grep -o 'http://[0-9.:]*' "$work/server.log" | tail -1)"
[ -n "$base" ] || { echo "the server printed no address:" >&2; cat "$work/server.log" >&2; exit 1; }
grep 'Demo region ready' "$work/server.log"
password="$(awk '$1 == "worker1" { print $2; exit }' "$work/server.log")"

# Sign in as a browser's form would (no Origin header), keep the session cookie.
curl -s -o /dev/null -D "$work/login.h" -X POST "$base/login" \
    --data-urlencode "username=worker1" --data-urlencode "password=$password" --data-urlencode "next=/me"
cookie="$(sed -n 's/^[Ss]et-[Cc]ookie: \(anxin_session=[^;]*\).*/\1/p' "$work/login.h" | tr -d '\r')"
[ -n "$cookie" ] || { echo "sign-in failed:" >&2; cat "$work/login.h" >&2; exit 1; }
record="$(curl -s -o /dev/null -w '%{redirect_url}' -H "Cookie: $cookie" "$base/me")"
record="/${record#*://*/}"
case "$record" in /persons/*) ;; *) echo "/me did not lead to a record: $record" >&2; exit 1 ;; esac
# Each endpoint answers 200 before it is measured.
for path in /healthz "/quote?region=330100&income=5000" "$record"; do
    code="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$base$path")"
    [ "$code" = 200 ] || { echo "GET $path answered $code" >&2; exit 1; }
done
code="$(curl -s -o "$work/quote.json" -w '%{http_code}' -H 'Content-Type: application/json' -d '{"region":"330100"}' "$base/api/calc/quote")"
[ "$code" = 200 ] || { echo "POST /api/calc/quote answered $code: $(cat "$work/quote.json")" >&2; exit 1; }

# One Lua script per run: the request, optional pacing, and a one-line summary.
lua() { # name method body cookie delay_ms
    {
        echo "wrk.method = \"$2\""
        if [ -n "$3" ]; then
            echo "wrk.body = [[$3]]"
            echo 'wrk.headers["Content-Type"] = "application/json"'
        fi
        if [ -n "$4" ]; then echo "wrk.headers[\"Cookie\"] = \"$4\""; fi
        if [ "$5" != 0 ]; then echo "function delay() return $5 end"; fi
        cat <<'EOF'
function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %.0f %.3f %.3f %.3f %d %d\n",
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
        e.status, e.connect + e.read + e.write + e.timeout))
end
EOF
    } >"$work/$1.lua"
}

echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine disturbs the figures)"
printf '\n%-34s %-6s %9s %9s %9s %9s %7s %7s\n' endpoint run 'req/s' 'p50 ms' 'p99 ms' 'max ms' non-2xx errors
results="$work/results"
for spec in \
    "healthz|GET|/healthz||" \
    "api-quote|POST|/api/calc/quote|{\"region\":\"330100\"}|" \
    "quote-page|GET|/quote?region=330100&income=5000||" \
    "record-page|GET|$record||$cookie"; do
    IFS='|' read -r name method path body cookie_h <<<"$spec"
    for run in open paced; do
        if [ "$run" = open ]; then c="$OPEN_CONNECTIONS"; d=0; else c="$PACED_CONNECTIONS"; d="$PACED_DELAY_MS"; fi
        lua "$name-$run" "$method" "$body" "$cookie_h" "$d"
        wrk -t"$THREADS" -c"$c" -d"$DURATION" --latency -s "$work/$name-$run.lua" "$base$path" >"$work/$name-$run.out"
        read -r _ rps p50 p99 max non2xx errors < <(grep '^RESULT' "$work/$name-$run.out")
        shown="$name"; [ "$name" = record-page ] && shown="record-page /persons/{worker1}"
        printf '%-34s %-6s %9s %9s %9s %9s %7s %7s\n' "$shown" "$run" "$rps" "$p50" "$p99" "$max" "$non2xx" "$errors"
        echo "$name $run $rps $p50 $p99 $max $non2xx $errors" >>"$results"
    done
done

echo "load average after the runs:  $(cut -d' ' -f1-3 /proc/loadavg)"

# Each figure beside the /healthz baseline of the same run, and the target.
echo
echo "ratios to /healthz (same run kind), and the target (p99 < 10 ms at ≥ 1,000 req/s):"
awk '
    $1 == "healthz" { base_rps[$2] = $3; base_p99[$2] = $5 }
    { rows[NR] = $0 }
    END {
        for (i = 1; i <= NR; i++) {
            split(rows[i], f, " ")
            if (f[1] == "healthz") continue
            met = (f[3] >= 1000 && f[5] < 10 && f[7] == 0 && f[8] == 0) ? "met" : "NOT met"
            printf "  %-12s %-6s req/s %.2fx of healthz, p99 %.1fx of healthz: %s\n",
                f[1], f[2], f[3] / base_rps[f[2]], f[5] / base_p99[f[2]], met
        }
    }' "$results"
