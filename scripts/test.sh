#!/usr/bin/env bash
# The test command of the README: prepares what the tests need, then runs every test.
#
# - PostgreSQL: the runtime's behavioural suite runs on SQLite and on PostgreSQL. It reads
#   the database URL from NAGARE_TEST_PG_URL (default: the local PostgreSQL 15).
# - Peers used for cross-checks: PyPI jpholiday (holiday table), npm bpmn-moddle (BPMN export).
set -euo pipefail
cd "$(dirname "$0")/.."

export NAGARE_TEST_PG_URL="${NAGARE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL" >&2
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

if [ -f tests/requirements.txt ]; then
  python3 -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt
fi
if [ -f tests/bpmn/package-lock.json ] && [ ! -d tests/bpmn/node_modules ]; then
  npm ci --prefix tests/bpmn --no-audit --no-fund --loglevel=error
fi

# Snapshot tests must fail, not write new snapshots, when an expectation is missing.
export INSTA_UPDATE=no
cargo test --workspace --locked "$@"
