#!/usr/bin/env bash
# Reads while writing: `wrk` on loopback against `anxin serve`, for one or more binaries side
# by side in the same run (e.g. main's and this branch's).
#
#   scripts/bench-reads.sh                          # this tree's release binary
#   scripts/bench-reads.sh main=/tmp/main/anxin branch=target/release/anxin
#   ROWS=600000 DURATION=15s scripts/bench-reads.sh ...   # at most ~800,000 rows: the upload limit is 64 MB
#   scripts/bench-reads.sh equal=target/release/anxin@0 below=target/release/anxin@10
#                                                   # one binary, the writer and imports at the
#                                                   # readers' priority (@0) and 10 steps below
#                                                   # (@N sets ANXIN_BACKGROUND_NICE for the server)
#   PRIORITY=-10 scripts/bench-reads.sh ...         # the servers and wrk at nice -10 (as root), so
#                                                   # other work on a shared machine disturbs less
#
# For each binary: a fresh data directory (SQLite; DATABASE=postgres://… for PostgreSQL, one
# database per binary is made and dropped by psql), ROWS/12 workers registered by the CLI, a
# clerk and one worker account. Then, on the server:
#   1. throughput of the record API (GET /api/persons/{key}, the worker's own record, bearer
#      token; wrk -t2 -c8, closed loop) with the server pinned to one core (taskset -c 0),
#      then to two (taskset -c 0,1): the ratio is what a second core gives;
#   2. the record page (GET /persons/{key}, session cookie) paced at about 1,000 requests/s
#      (-t2 -c20, 18 ms between requests per connection): p50/p99 idle;
#   3. the same while the clerk's upload of ROWS contributions (12 months of each worker)
#      lands through POST /api/imports: p50/p99 under import, and how many rows landed in the
#      window (the import must still be running when the window closes).
# wrk runs on the same cores as the server and the machine may be shared with builds: the
# absolute figures are noisy; compare the ratios, which come from the same run.
#
# Traffic goes only to the servers this script starts on 127.0.0.1; each is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${ROWS:-240000}"
DURATION="${DURATION:-15s}"
DATABASE="${DATABASE:-}"
MONTHS=12
PASSWORD='a bench password 1'

command -v wrk >/dev/null || { echo "wrk is missing: sudo apt-get install -y wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is missing" >&2; exit 1; }

bins=("$@")
if [ ${#bins[@]} -eq 0 ]; then
    cargo build --release --locked -p anxin
    bins=("this=${CARGO_TARGET_DIR:-target}/release/anxin")
fi

work="$(mktemp -d)"
server_pid=""
stop_server() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    server_pid=""
}
cleanup() { stop_server; rm -rf "$work"; }
trap cleanup EXIT

# The files: ROWS/12 workers living and insured in Hangzhou, 12 months each.
python3 - "$work" "$ROWS" "$MONTHS" <<'EOF'
import sys
work, rows, months = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
import datetime
def rid(n):
    born = datetime.date(1960, 1, 1) + datetime.timedelta(days=n // 1000)
    p = "340102" + born.strftime("%Y%m%d") + "%03d" % (n % 1000)
    return p + "10X98765432"[sum(int(c) * w for c, w in zip(p, W)) % 11]
persons = rows // months
with open(f"{work}/persons.csv", "w") as f:
    f.write("身份证号,姓名,户籍地,居住地,就业形态,平台,居住证地,居住证起始\n")
    for n in range(persons):
        name = "工人" + "".join("〇一二三四五六七八九"[int(c)] for c in str(n))
        f.write(f"{rid(n)},{name},阜阳,杭州,灵活就业,,杭州,2019-03-01\n")
with open(f"{work}/contributions.csv", "w") as f:
    f.write("record_id,person_id,month,insurance,region,payer,payer_code,base,amount,status\n")
    for n in range(persons):
        for m in range(months):
            f.write(f"r-{n}-{m},{rid(n)},2025-{m + 1:02d},pension,330100,self,,4812,962.40,paid\n")
with open(f"{work}/worker.id", "w") as f:
    f.write(rid(0))
EOF
worker_id="$(cat "$work/worker.id")"

lua() { # file cookie bearer delay_ms
    {
        if [ -n "$2" ]; then echo "wrk.headers[\"Cookie\"] = \"$2\""; fi
        if [ -n "$3" ]; then echo "wrk.headers[\"Authorization\"] = \"Bearer $3\""; fi
        if [ "$4" != 0 ]; then echo "function delay() return $4 end"; fi
        cat scripts/wrk-result.lua
    } >"$1"
}

PRIORITY="${PRIORITY:-0}"
start() { # bin data cores log [background nice]
    env ${5:+ANXIN_BACKGROUND_NICE=$5} nice -n "$PRIORITY" taskset -c "$3" "$1" --data "$2" serve --addr 127.0.0.1:0 >"$4" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 600); do
        grep -qs 'listening on http://' "$4" && break
        kill -0 "$server_pid" 2>/dev/null || { cat "$4" >&2; exit 1; }
        sleep 0.2
    done
    base="$(grep -o 'http://[0-9.:]*' "$4" | tail -1)"
}

token_of() { # username
    curl -s -X POST "$base/api/sessions" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p'
}

run_wrk() { # name url cookie bearer delay connections -> RESULT fields
    lua "$work/$1.lua" "$3" "$4" "$5"
    nice -n "$PRIORITY" wrk -t2 -c"$6" -d"$DURATION" --latency -s "$work/$1.lua" "$2" >"$work/$1.out"
    grep '^RESULT' "$work/$1.out" | cut -d' ' -f2-
}

backend=sqlite; [ -n "$DATABASE" ] && backend=postgres
echo "rows imported: $ROWS; wrk window: $DURATION; backend: $backend"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine disturbs the figures)"
results="$work/results"
for spec in "${bins[@]}"; do
    label="${spec%%=*}"; bin="${spec#*=}"
    bg=""; case "$bin" in *@*) bg="${bin##*@}"; bin="${bin%@*}" ;; esac
    [ "$label" = "$spec" ] && label="$(basename "$(dirname "$bin")")"
    data="$work/data-$label"
    init=(init)
    if [ -n "$DATABASE" ]; then
        db="bench_reads_${label}_$$"
        PGOPTIONS='--client-min-messages=warning' psql "${DATABASE%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db" >/dev/null
        init+=(--database "${DATABASE%/*}/$db")
    fi
    "$bin" --data "$data" "${init[@]}" >/dev/null
    "$bin" --data "$data" import persons "$work/persons.csv" >/dev/null
    ANXIN_PASSWORD="$PASSWORD" "$bin" --data "$data" account add clerk --role clerk --region 330100 >/dev/null
    ANXIN_PASSWORD="$PASSWORD" "$bin" --data "$data" account add worker --role worker --person "$worker_id" >/dev/null

    # 1. Throughput of the record API, one core then two.
    for cores in 0 0,1; do
        start "$bin" "$data" "$cores" "$work/server-$label.log" "$bg"
        token="$(token_of worker)"
        key="$(curl -s -H "Authorization: Bearer $token" "$base/api/me" | sed -n 's/.*"person":"\([0-9a-f]\{64\}\)".*/\1/p')"
        [ -n "$key" ] || { echo "no person key for the worker" >&2; exit 1; }
        read -r rps p50 p99 non2xx errors < <(run_wrk "api-$label-$cores" "$base/api/persons/$key" "" "$token" 0 8)
        echo "$label api-cores-$cores $rps $p50 $p99 $non2xx $errors" >>"$results"
        [ "$cores" = 0 ] && stop_server
    done

    # 2. The record page paced, idle.
    curl -s -o /dev/null -D "$work/login.h" -X POST "$base/login" \
        --data-urlencode "username=worker" --data-urlencode "password=$PASSWORD" --data-urlencode "next=/me"
    cookie="$(sed -n 's/^[Ss]et-[Cc]ookie: \(anxin_session=[^;]*\).*/\1/p' "$work/login.h" | tr -d '\r')"
    [ -n "$cookie" ] || { echo "sign-in failed" >&2; exit 1; }
    page="$base/persons/$key"
    code="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$page")"
    [ "$code" = 200 ] || { echo "the record page answered $code" >&2; exit 1; }
    read -r rps p50 p99 non2xx errors < <(run_wrk "idle-$label" "$page" "$cookie" "" 18 20)
    echo "$label page-idle $rps $p50 $p99 $non2xx $errors" >>"$results"

    # 3. The same while the import lands.
    clerk="$(token_of clerk)"
    job="$(curl -s -X POST -H "Authorization: Bearer $clerk" -H 'Content-Type: text/csv' \
        --data-binary "@$work/contributions.csv" "$base/api/imports?kind=contributions&name=c.csv" |
        sed -n 's/.*"id":\([0-9]*\).*/\1/p')"
    [ -n "$job" ] || { echo "the upload was refused" >&2; exit 1; }
    before="$(curl -s -H "Authorization: Bearer $clerk" "$base/api/imports/$job" | sed -n 's/.*"rows_read":\([0-9]*\).*/\1/p')"
    read -r rps p50 p99 non2xx errors < <(run_wrk "import-$label" "$page" "$cookie" "" 18 20)
    status="$(curl -s -H "Authorization: Bearer $clerk" "$base/api/imports/$job")"
    after="$(echo "$status" | sed -n 's/.*"rows_read":\([0-9]*\).*/\1/p')"
    finished="$(echo "$status" | sed -n 's/.*"finished":\([a-z]*\).*/\1/p')"
    echo "$label page-import $rps $p50 $p99 $non2xx $errors rows=$((after - before)) finished=$finished" >>"$results"
    stop_server
    if [ -n "$DATABASE" ]; then psql "${DATABASE%/*}/postgres" -qc "DROP DATABASE $db" >/dev/null; fi
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

printf '\n%-8s %-14s %9s %9s %9s %7s %7s  %s\n' binary run 'req/s' 'p50 ms' 'p99 ms' non-2xx errors notes
while read -r label run rps p50 p99 non2xx errors notes; do
    printf '%-8s %-14s %9s %9s %9s %7s %7s  %s\n' "$label" "$run" "$rps" "$p50" "$p99" "$non2xx" "$errors" "${notes:-}"
done <"$results"
echo
echo "ratios (targets: page p99 under import ≤ 2× idle; API on two cores ≥ 1.7× one core):"
awk '
    { v[$1 " " $2 " rps"] = $3; v[$1 " " $2 " p99"] = $5; if (!seen[$1]++) order[++n] = $1 }
    END {
        for (i = 1; i <= n; i++) {
            b = order[i]
            printf "  %-8s page p99 under import / idle: %.1fx   API req/s two cores / one: %.2fx\n",
                b, v[b " page-import p99"] / v[b " page-idle p99"], v[b " api-cores-0,1 rps"] / v[b " api-cores-0 rps"]
        }
    }' "$results"
