#!/usr/bin/env bash
# A province on one box (issue 18): `anxin serve --demo` made at each size given, with a year
# of months per worker (`--demo-months 12`: 10 M workers: 129 M contribution months, 140 M log entries), then
# measured on the running server:
#
#   scripts/bench-province.sh 100000 10000000            # SQLite; the smaller size is the baseline
#   DATABASE=postgres://postgres@127.0.0.1:5432/postgres scripts/bench-province.sh 100000 1000000
#   ANXIN=/path/to/anxin MONTHS=24 RATE_DURATION=60s AUDIT_PROJECTIONS=1 scripts/bench-province.sh 20000
#
# Per size, one line of results:
#   ingest    — records, seconds to ready (registry, months, inboxes, demo cases), records/s;
#   disk      — bytes a log entry: SQLite pages in use after the WAL is folded in (the server is
#               killed first, so nothing writes), PostgreSQL pg_database_size;
#   page p99  — the worker's record page (session cookie) paced at about 1,000 requests/s
#               (wrk -t2 -c20, 18 ms between requests per connection), p50/p99;
#   cert      — seconds to issue a certificate (POST /api/persons/{key}/certificate, the worker's
#               own, CERTS times one after the other): median and slowest;
#   audit     — the full audit through the API (POST /api/audit as the Hangzhou clerk; the log
#               only, and with every projection if AUDIT_PROJECTIONS=1): entries/s;
#   memory    — the server's resident memory when ready, after the audit, and its peak;
#   inbox     — seconds the demo took to fill every worker's inbox (part of the time to ready).
# With DBSTAT=prefix, each table's and index's bytes a log entry go to prefix-SIZE.txt (SQLite:
# dbstat, and of them unused; PostgreSQL: pg_table_size with TOAST, pg_relation_size of an index).
# A timeline (every SAMPLE seconds while the region is written: seconds, data size in KiB — the
# data directory, or on PostgreSQL the database — and the server's resident memory in KiB) goes
# to the file named by TIMELINE, if set.
#
# wrk runs on the same two cores as the server. Traffic goes only to the servers this script
# starts on 127.0.0.1; each is stopped on exit, and its data (or database) removed.
set -euo pipefail
cd "$(dirname "$0")/.."

ANXIN="${ANXIN:-${CARGO_TARGET_DIR:-target}/release/anxin}"
[ -x "$ANXIN" ] || cargo build --release --locked -p anxin
MONTHS="${MONTHS:-12}"
RATE_DURATION="${RATE_DURATION:-30s}"
CERTS="${CERTS:-20}"
SAMPLE="${SAMPLE:-60}"
DATABASE="${DATABASE:-}"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
command -v wrk >/dev/null || { echo "wrk is missing: sudo apt-get install -y wrk" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is missing" >&2; exit 1; }
[ -n "$DATABASE" ] || command -v sqlite3 >/dev/null || { echo "sqlite3 is missing: sudo apt-get install -y sqlite3" >&2; exit 1; }

work="$(mktemp -d)"
pid=""
db=""
cleanup() {
    if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    if [ -n "$db" ]; then psql "${DATABASE%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

kib() { awk -v k="$2" '$1 == k ":" {print $2}' "/proc/$1/status"; }
mib() { awk -v k="$1" 'BEGIN {printf "%.0f", k / 1024}'; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

lua() { # file cookie delay_ms
    {
        echo "wrk.headers[\"Cookie\"] = \"$2\""
        echo "function delay() return $3 end"
        cat scripts/wrk-result.lua
    } >"$1"
}

json_field() { sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p" | head -1; }

results="$work/results"
echo "anxin: $ANXIN; months per worker: $MONTHS; backend: $([ -n "$DATABASE" ] && echo postgres || echo sqlite)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg); disk free: $(df -h --output=avail "$work" | tail -1 | tr -d ' ')"
for n in "${sizes[@]}"; do
    out="$work/out-$n"
    port="$(free_port)"
    base="http://127.0.0.1:$port"
    args=(serve --demo --demo-workers "$n" --demo-months "$MONTHS" --addr "127.0.0.1:$port")
    if [ -n "$DATABASE" ]; then
        db="bench_province_$$_$n"
        PGOPTIONS='--client-min-messages=warning' psql "${DATABASE%/*}/postgres" -qc "DROP DATABASE IF EXISTS $db" -qc "CREATE DATABASE $db" >/dev/null
        args+=(--database "${DATABASE%/*}/$db")
    fi
    started=$(date +%s.%N)
    TMPDIR="$work" ANXIN_LOG=warn "$ANXIN" "${args[@]}" >"$out" 2>"$work/err-$n" &
    pid=$!
    next_sample=0
    until grep -q '正在服务 listening on' "$out" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then echo "the server stopped:" >&2; cat "$work/err-$n" >&2; exit 1; fi
        now=$(date +%s)
        if [ -n "${TIMELINE:-}" ] && [ "$now" -ge "$next_sample" ]; then
            next_sample=$((now + SAMPLE))
            if [ -n "$DATABASE" ]; then # PostgreSQL: the database's size
                data_kb="$(psql -tA "${DATABASE%/*}/$db" -c 'SELECT pg_database_size(current_database()) / 1024' 2>/dev/null || echo 0)"
            else
                data_kb="$({ du -sk "$work"/anxin-demo-* 2>/dev/null || true; } | awk '{s += $1} END {print s + 0}')"
            fi
            echo "$n $(awk -v s="$started" -v t="$(date +%s.%N)" 'BEGIN {printf "%.0f", t - s}') $data_kb $(kib "$pid" VmRSS)" >>"$TIMELINE"
        fi
        sleep 1
    done
    line="$(grep 'Demo region ready' "$out")"
    records="$(sed -E 's/.* ([0-9]+) 条记录 records in ([0-9.]+) s.*/\1/' <<<"$line")"
    seconds="$(sed -E 's/.* ([0-9]+) 条记录 records in ([0-9.]+) s.*/\2/' <<<"$line")"
    ready_rss="$(kib "$pid" VmRSS)"
    inbox_s="$(sed -n 's/.*Inboxes filled: .* in \([0-9.]*\) s$/\1/p' "$out")"
    dir="$(sed -n 's/^  数据目录 data: //p' "$out")"
    password_of() { awk -v u="$1" '$1 == u {print $2; exit}' "$out"; }

    # The worker (worker1, a sample that paid every month): token, person key, session cookie.
    token="$(curl -s -X POST "$base/api/sessions" -H 'Content-Type: application/json' \
        -d "{\"username\":\"worker1\",\"password\":\"$(password_of worker1)\"}" | json_field token)"
    key="$(curl -s -H "Authorization: Bearer $token" "$base/api/me" | json_field person)"
    [ -n "$key" ] || { echo "no person key for worker1" >&2; exit 1; }
    curl -s -o /dev/null -D "$work/login.h" -X POST "$base/login" --data-urlencode "username=worker1" \
        --data-urlencode "password=$(password_of worker1)" --data-urlencode "next=/me"
    cookie="$(sed -n 's/^[Ss]et-[Cc]ookie: \(anxin_session=[^;]*\).*/\1/p' "$work/login.h" | tr -d '\r')"
    page="$base/persons/$key"
    code="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "$page")"
    [ "$code" = 200 ] || { echo "the record page answered $code" >&2; exit 1; }

    # The record page at about 1,000 requests/s.
    lua "$work/page.lua" "$cookie" 18
    wrk -t2 -c20 -d"$RATE_DURATION" --latency -s "$work/page.lua" "$page" >"$work/page-$n.out"
    read -r rps p50 p99 non2xx errors < <(grep '^RESULT' "$work/page-$n.out" | cut -d' ' -f2-)

    # Certificates, one after the other.
    : >"$work/certs"
    for _ in $(seq 1 "$CERTS"); do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST \
            -H "Authorization: Bearer $token" "$base/api/persons/$key/certificate" >>"$work/certs"
    done
    grep -qv '^200 ' "$work/certs" && { echo "a certificate was refused:" >&2; cat "$work/certs" >&2; exit 1; }
    read -r cert_median cert_max < <(awk '{print $2}' "$work/certs" | sort -n |
        awk '{v[NR] = $1} END {printf "%.3f %.3f\n", v[int((NR + 1) / 2)], v[NR]}')

    # The full audit, the log only (and with every projection if asked).
    clerk="$(curl -s -X POST "$base/api/sessions" -H 'Content-Type: application/json' \
        -d "{\"username\":\"clerk.hz\",\"password\":\"$(password_of clerk.hz)\"}" | json_field token)"
    audit() { # projections -> "entries seconds"
        curl -s -X POST -H "Authorization: Bearer $clerk" -H 'Content-Type: application/json' \
            -d "{\"projections\": $1}" "$base/api/audit" >"$work/audit-$n-$1.json"
        grep -q "\"clean\":true" "$work/audit-$n-$1.json" || { echo "the audit did not pass:" >&2; head -c 2000 "$work/audit-$n-$1.json" >&2; exit 1; }
        echo "$(json_field log_size <"$work/audit-$n-$1.json") $(json_field seconds <"$work/audit-$n-$1.json")"
    }
    read -r audited audit_s < <(audit false)
    proj="-"
    if [ -n "${AUDIT_PROJECTIONS:-}" ]; then
        read -r _ proj_s < <(audit true)
        proj="$(awk -v n="$audited" -v s="$proj_s" 'BEGIN {printf "%.0f", n / s}')"
    fi
    after_rss="$(kib "$pid" VmRSS)"
    peak="$(kib "$pid" VmHWM)"

    # Bytes on disk a log entry, with nothing writing.
    kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    if [ -n "$DATABASE" ]; then
        bytes="$(psql -tA "${DATABASE%/*}/$db" -c 'SELECT pg_database_size(current_database())')"
        if [ -n "${DBSTAT:-}" ]; then # where the bytes went: each table (with TOAST) and index
            psql -tA -F ' ' "${DATABASE%/*}/$db" -c "SELECT c.relname,
                round(CASE c.relkind WHEN 'i' THEN pg_relation_size(c.oid) ELSE pg_table_size(c.oid) END
                      * 1.0 / $records, 1) AS b
                FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
                WHERE s.nspname = 'public' AND c.relkind IN ('r', 'i') ORDER BY b DESC LIMIT 14" >"$DBSTAT-$n.txt"
        fi
        psql "${DATABASE%/*}/postgres" -qc "DROP DATABASE $db" >/dev/null; db=""
    else
        file="$dir/anxin.db"
        bytes="$(sqlite3 "$file" 'PRAGMA wal_checkpoint(TRUNCATE);' 'PRAGMA page_count;' 'PRAGMA freelist_count;' 'PRAGMA page_size;' |
            tail -3 | paste -sd' ' | awk '{print ($1 - $2) * $3}')"
        if [ -n "${DBSTAT:-}" ]; then # where the bytes went: each table and index, bytes a log entry
            sqlite3 "$file" "SELECT name, printf('%.1f', sum(pgsize) * 1.0 / $records),
                printf('%.1f', sum(unused) * 1.0 / $records) FROM dbstat GROUP BY name
                ORDER BY sum(pgsize) DESC LIMIT 12" >"$DBSTAT-$n.txt"
        fi
    fi
    rm -rf "$dir"
    echo "$n $records $seconds $bytes $rps $p50 $p99 $non2xx $errors $cert_median $cert_max $audited $audit_s $proj $ready_rss $after_rss $peak ${inbox_s:--}" >>"$results"
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

printf '\n%10s %11s %8s %9s %7s | %7s %7s %7s %5s | %7s %7s | %10s %9s | %8s %8s %8s | %8s\n' \
    workers records 'ready s' 'rec/s' 'B/rec' 'req/s' 'p50 ms' 'p99 ms' 'err' 'cert s' 'max s' \
    'audit e/s' 'proj e/s' 'rss MiB' 'after' 'peak' 'inbox s'
while read -r n records seconds bytes rps p50 p99 non2xx errors cm cx audited audit_s proj r a pk inbox; do
    printf '%10s %11s %8s %9.0f %7.0f | %7s %7s %7s %5s | %7s %7s | %10.0f %9s | %8s %8s %8s | %8s\n' \
        "$n" "$records" "$seconds" "$(bc -l <<<"$records / $seconds")" "$(bc -l <<<"$bytes / $records")" \
        "$rps" "$p50" "$p99" "$((non2xx + errors))" "$cm" "$cx" "$(bc -l <<<"$audited / $audit_s")" "$proj" \
        "$(mib "$r")" "$(mib "$a")" "$(mib "$pk")" "$inbox"
done <"$results"
if [ "$(wc -l <"$results")" -gt 1 ]; then
    echo
    echo "each size against the first (the baseline of the same run):"
    awk 'NR == 1 {for (i = 1; i <= NF; i++) b[i] = $i; next}
        {printf "  %s workers (%.0fx the records): rate %.2fx, p99 %.2fx, certificate %.2fx, audit rate %.2fx, memory after audit %.2fx, peak %.2fx\n",
            $1, $2 / b[2], ($2 / $3) / (b[2] / b[3]), $7 / b[7], $10 / b[10], ($12 / $13) / (b[12] / b[13]), $16 / b[16], $17 / b[17]}' "$results"
fi
