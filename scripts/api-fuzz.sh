#!/usr/bin/env bash
# API robustness run: schemathesis (PyPI) generates requests from /api/openapi.json against a
# demo server and fails on any 5xx, any response that breaks the documented schema, status or
# content type, and any request outside the schema that is accepted.
#
# Every phase runs: examples, coverage, fuzzing, and stateful (chains of calls following the
# document's OpenAPI links: a lookup's person to their record and access log, an import's id
# to its progress, the checkpoint's size to a consistency proof, …). It runs as every role:
# each demo account kind signs in (the demo prints their passwords) and gets its own run, and
# one run goes without a token. The clerk's run takes the full number of examples; the other
# roles, refused most operations, a fifth of it.
#
# Not checked: "schema-valid request rejected" — the calculators' request bodies are documented
# as objects, and each calculator refuses the fields it does not know with a 400 and the reason.
#
# Usage: scripts/api-fuzz.sh [max examples per operation, default 100]
# Time (2 shared cores, debug build, 50 examples): about 22 s for the two runs before the
# stateful phase and the other roles were added; about 100 s now (10 runs: the 9 roles of the
# demo's accounts and no token; each run spends most of its time in the coverage phase).
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-100}"
others=$(( examples / 5 > 5 ? examples / 5 : 5 ))
command -v schemathesis >/dev/null || python3 -m pip install -q --root-user-action=ignore schemathesis
# The binary the workspace's tests built (a no-op after `cargo test --workspace`): `cargo build
# -p anxin` would build DataFusion and the rest a second time with other features (~10 min).
cargo test --workspace --locked --no-run -q
bin="${CARGO_TARGET_DIR:-target}/debug/anxin"
out="$(mktemp)"
"$bin" serve --demo --demo-workers 200 --addr 127.0.0.1:0 >"$out" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 1 120); do grep -q "listening on" "$out" && break; sleep 0.5; done
url="$(grep -o 'http://127.0.0.1:[0-9]*' "$out" | head -1)"
[ -n "$url" ] || { cat "$out"; echo "the demo server did not start" >&2; exit 1; }
# The demo's accounts, "username password role", one of each role (the first worker).
accounts="$(awk '/演示账户/ { on = 1; next } on && /^    [^ ]/ { print $1, $2, $3 }' "$out" \
    | awk '!seen[$3]++')"
[ "$(wc -l <<<"$accounts")" -ge 5 ] || { cat "$out"; echo "no demo accounts found" >&2; exit 1; }
# A bearer token for a demo account.
token_of() {
    curl -sf -X POST "$url/api/sessions" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$2\"}" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
# DELETE /api/sessions would end the token the run signs in with.
run() {
    local n="$1"
    shift
    schemathesis run "$url/api/openapi.json" \
        --checks all --exclude-checks positive_data_acceptance \
        --exclude-method DELETE \
        --phases examples,coverage,fuzzing,stateful \
        --max-examples "$n" --seed 20261122 --no-color "$@"
}
failed=()
while read -r username password role; do
    n="$others"
    [ "$role" = clerk ] && n="$examples"
    echo "=== as $role ($username), $n examples per operation ==="
    run "$n" -H "Authorization: Bearer $(token_of "$username" "$password")" || failed+=("$role")
done <<<"$accounts"
echo "=== without a token, $others examples per operation ==="
run "$others" || failed+=(anonymous)
[ ${#failed[@]} -eq 0 ] || { echo "schemathesis found failures as: ${failed[*]}" >&2; exit 1; }
