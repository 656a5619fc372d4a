#!/usr/bin/env bash
# `ailedger osv import` of 200,000 OSV records (issue 15 targets: <= 60 s; a re-import
# with no changes <= 5 s), end to end: the CLI reads and hashes the record files, the
# server (release build, SQLite) checks each against the OSV schema, records them and
# matches them against a ledger of 10,000 packages, 1,000 of which the records hit (so
# 1,000 incidents open). The records are the 18 fixture records of tests/fixtures/osv,
# renamed and re-versioned per copy. Scratch data under target/ (removed at exit).
#
#   bench/osv_import.sh [records]    # default 200000
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-200000}"
bin=$PWD/target/release/ailedger
cargo build --release --locked -p ailedger-cli >/dev/null
mkdir -p target
tmp=$(mktemp -d "$PWD/target/bench-osv.XXXXXX")
trap 'kill $server 2>/dev/null || true; rm -rf "$tmp"' EXIT
python3 bench/gen_osv.py tests/fixtures/osv "$tmp/records" "$n" "$tmp/packages.json"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AILEDGER_LOG=warn AILEDGER_LOG_KEY="$tmp/log.key" "$bin" serve --db "$tmp/l.db" \
  --listen "127.0.0.1:$port" --init-admin-token "$tmp/token" &
server=$!
for _ in $(seq 100); do [ -s "$tmp/token" ] && break; sleep 0.1; done
export AILEDGER_URL="http://127.0.0.1:$port" AILEDGER_TOKEN="$(cat "$tmp/token")"
curl -sf -H "authorization: Bearer $AILEDGER_TOKEN" -H 'content-type: application/json' \
  --data-binary @"$tmp/packages.json" "$AILEDGER_URL/v1/artifacts" >/dev/null
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s.%N)
"$bin" osv import "$tmp/records" | tail -1
t1=$(date +%s.%N)
"$bin" osv import "$tmp/records" | tail -1
t2=$(date +%s.%N)
opened=$("$bin" incident list --format json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["incidents"]))')
python3 - "$n" "$t0" "$t1" "$t2" "$opened" <<'PY'
import sys
n, t0, t1, t2, opened = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5])
print(f"osv import of {n} records: {t1-t0:.1f} s (target <= 60 s), {opened} incidents opened; "
      f"re-import with no changes: {t2-t1:.2f} s (target <= 5 s)")
PY
