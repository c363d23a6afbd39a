#!/usr/bin/env bash
# Benchmark of transfers between two regional instances (issue 14): 杭州 (destination) and 阜阳
# (origin), two `anxin serve --federation-name` processes on loopback, each on SQLite in its
# own data directory. N workers are insured 12 months in 阜阳 and registered in 杭州; 杭州's
# clerk asks for each worker's pension through the API, at most WINDOW open at once, and the
# driver polls 杭州's queue: a transfer is done when the origin's seal has come back (the
# queue no longer lists it). Prints throughput and the latency from request to done (p50,
# p99, max; the polling step bounds their resolution). Not a test: BENCHMARKS.md records it.
#
# usage: scripts/bench-transfers.sh [N [WINDOW]]      (defaults 10000 and 500)
# env: BENCH_DIR (default /tmp/anxin-bench-transfers), ANXIN (default target/release/anxin),
#      PORT (杭州; 阜阳 the next one, default 18081), EVERY (outbox seconds, default 1)
# needs: python3, a release build (cargo build --release -p anxin)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
WINDOW=${2:-500}
DIR=${BENCH_DIR:-/tmp/anxin-bench-transfers}
ANXIN=${ANXIN:-$PWD/target/release/anxin}
PORT=${PORT:-18081}
EVERY=${EVERY:-1}
PASSWORD="bench clerk password"
[ -x "$ANXIN" ] || { echo "build it first: cargo build --release -p anxin" >&2; exit 1; }
rm -rf "$DIR"
mkdir -p "$DIR"
hz="$DIR/hangzhou"
fy="$DIR/fuyang"

# Persons and 12 paid months each in 阜阳; the same persons registered in 杭州.
python3 - "$DIR" "$N" <<'PY'
import sys
d, n = sys.argv[1], int(sys.argv[2])
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
C = "10X98765432"
def rid(i):
    # A distinct birth day per thousand workers, so the 17 digits are unique; then the
    # GB 11643 check digit.
    day, month, year = 1 + (i // 1000) % 28, 1 + (i // 28000) % 12, 1980 + i // 336000
    body = f"341202{year}{month:02d}{day:02d}{i % 1000:03d}"
    return body + C[sum(int(a) * b for a, b in zip(body, W)) % 11]
with open(f"{d}/persons.csv", "w") as p, open(f"{d}/contributions.csv", "w") as c:
    p.write("身份证号,姓名,户籍地,居住地,就业形态,平台,居住证地,居住证起始\n")
    c.write("record_id,person_id,month,insurance,region,payer,payer_code,base,amount,status\n")
    for i in range(n):
        r = rid(i)
        p.write(f"{r},测试,阜阳,杭州,灵活就业,,,\n")
        for m in range(1, 13):
            c.write(f"fy-{i}-{m},{r},2019-{m:02d},pension,341200,self,,4000,800,paid\n")
with open(f"{d}/ids.txt", "w") as f:
    f.write("\n".join(rid(i) for i in range(n)) + "\n")
PY

for inst in "hangzhou:330100:$PORT" "fuyang:341200:$((PORT + 1))"; do
  IFS=: read -r name region port <<<"$inst"
  data="$DIR/$name"
  "$ANXIN" --data "$data" init >/dev/null
  ANXIN_PASSWORD="$PASSWORD" "$ANXIN" --data "$data" account add clerk --role clerk --region "$region" >/dev/null
  "$ANXIN" --data "$data" transfer key --name "$name" --url "http://127.0.0.1:$port" --region "$region" >"$DIR/$name.peer"
  "$ANXIN" --data "$data" import persons "$DIR/persons.csv" --report "$DIR/$name.persons.rejected.csv" >/dev/null
done
"$ANXIN" --data "$fy" import contributions "$DIR/contributions.csv" --report "$DIR/contributions.rejected.csv" >/dev/null
cp "$DIR/fuyang.peer" "$hz/peers.toml"
cp "$DIR/hangzhou.peer" "$fy/peers.toml"

"$ANXIN" --data "$fy" serve --addr "127.0.0.1:$((PORT + 1))" --federation-name fuyang --outbox-every "$EVERY" --log warn >/dev/null 2>"$DIR/fuyang.log" &
fy_pid=$!
"$ANXIN" --data "$hz" serve --addr "127.0.0.1:$PORT" --federation-name hangzhou --outbox-every "$EVERY" --log warn >/dev/null 2>"$DIR/hangzhou.log" &
hz_pid=$!
trap 'kill $fy_pid $hz_pid 2>/dev/null || true' EXIT
for p in "$PORT" "$((PORT + 1))"; do
  for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.1; done
done

python3 - "$DIR" "$PORT" "$WINDOW" "$PASSWORD" <<'PY'
import http.client, json, sys, time
d, port, window, password = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ids = [l.strip() for l in open(f"{d}/ids.txt") if l.strip()]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
def call(method, path, body=None, token=None):
    h = {"content-type": "application/json"}
    if token:
        h["authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"null")
s, v = call("POST", "/api/sessions", {"username": "clerk", "password": password})
assert s == 201, v
token = v["token"]
asked, done, started = {}, {}, time.monotonic()
pending = list(ids)
refused = 0
while pending or len(done) + refused < len(asked):
    # Ask while fewer than WINDOW are open.
    while pending and len(asked) - len(done) - refused < window:
        pid = pending.pop()
        s, v = call("POST", "/api/transfers", {"person_id": pid, "from_region": "341200", "to_region": "330100"}, token)
        if s != 201:
            print("refused:", s, v, file=sys.stderr)
            refused += 1
            continue
        asked[v["id"]] = time.monotonic()
    s, v = call("GET", "/api/transfers", token=token)
    open_ids = {i["id"] for i in v["items"]}
    now = time.monotonic()
    for t, at in asked.items():
        if t not in done and t not in open_ids:
            done[t] = now - at
    if time.monotonic() - started > 3600:
        print("gave up after an hour", file=sys.stderr)
        break
    time.sleep(0.2)
wall = time.monotonic() - started
lat = sorted(done.values())
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
print(json.dumps({
    "transfers": len(done), "refused": refused, "window": window,
    "seconds": round(wall, 2), "per_second": round(len(done) / wall, 1),
    "latency_p50_s": round(q(0.50), 2), "latency_p99_s": round(q(0.99), 2), "latency_max_s": round(lat[-1], 2),
}))
PY
# Exactly once: every transfer done at 杭州 is sealed once at 阜阳.
sqlite3 "$fy/anxin.db" "SELECT count(*) FROM events WHERE kind = (SELECT id FROM event_kinds WHERE name = 'transfer_step') AND key LIKE '%:sealed'" | sed 's/^/sealed at the origin: /'
sqlite3 "$hz/anxin.db" "SELECT count(*) FROM transfer_months" | sed 's/^/months recorded at the destination: /'
