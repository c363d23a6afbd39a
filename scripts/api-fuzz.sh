#!/usr/bin/env bash
# API robustness run: schemathesis (PyPI) generates requests from /api/openapi.json against a
# demo server and fails on any 5xx, any response that breaks the documented schema, status or
# content type, and any request outside the schema that is accepted.
#
# Not checked: "schema-valid request rejected" — the calculators' request bodies are documented
# as objects, and each calculator refuses the fields it does not know with a 400 and the reason.
#
# Usage: scripts/api-fuzz.sh [max examples per operation, default 100]
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-100}"
command -v schemathesis >/dev/null || python3 -m pip install -q --root-user-action=ignore schemathesis
cargo build -q -p anxin
bin="${CARGO_TARGET_DIR:-target}/debug/anxin"
out="$(mktemp)"
"$bin" serve --demo --demo-workers 200 --addr 127.0.0.1:0 >"$out" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 120); do grep -q "listening on" "$out" && break; sleep 0.5; done
url="$(grep -o 'http://127.0.0.1:[0-9]*' "$out" | head -1)"
[ -n "$url" ] || { cat "$out"; echo "the demo server did not start" >&2; exit 1; }
# A bearer token for a demo account.
token_of() {
    local password
    password="$(awk -v u="$1" '$1 == u { print $2 }' "$out")"
    curl -sf -X POST "$url/api/sessions" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$password\"}" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
# DELETE /api/sessions would end the token the run signs in with.
run() {
    local token="$1"
    shift
    schemathesis run "$url/api/openapi.json" \
        -H "Authorization: Bearer $token" \
        --checks all --exclude-checks positive_data_acceptance \
        --exclude-method DELETE \
        --max-examples "$examples" --seed 20261122 --no-color "$@"
}
# Every operation as a clerk; the platform's report as the platform (a clerk gets 403 there).
run "$(token_of clerk.hz)"
run "$(token_of platform)" --include-path-regex '^/api/platform/'
