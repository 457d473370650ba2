#!/usr/bin/env bash
# Exercises every endpoint of the HTTP API with schemathesis (PyPI), generated from
# /openapi.json, and fails on any server error (5xx). .ci/run runs it after the tests;
# it installs the pinned schemathesis when it is missing (about 10 s of testing).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v st >/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check "schemathesis==4.32.5"
fi
cargo build --quiet --bin nagare
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
db="sqlite://$work/st.db"
flows=tests/data/api_flows
token="$(target/debug/nagare user add root --role admin --role municipal_office --role supervisor --role outbox \
  --db "$db" --flows "$flows" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')"
port="${PORT:-18765}"
target/debug/nagare serve --listen "127.0.0.1:$port" --db "$db" --flows "$flows" &
server=$!
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
st run "http://127.0.0.1:$port/openapi.json" -H "Authorization: Bearer $token" \
  --checks not_a_server_error --max-examples "${EXAMPLES:-40}"
