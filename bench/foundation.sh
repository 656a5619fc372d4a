#!/usr/bin/env bash
# Benchmarks of the foundation (issue targets in docs/benchmarks.md), each against its
# reference tool in the same run. Scratch data goes to target/bench-data (not committed).
#
#   bench/foundation.sh [hash|model|writes|index|all]
#
# `model` needs the OpenSSF model-signing CLI: it is installed into target/peers-ms, a venv.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
data=target/bench-data
bin=target/release/ailedger
mkdir -p "$data"
cargo build --release --locked -p ailedger-cli >/dev/null

secs() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -n1; }
best() { sort -n | head -n1; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server() { # db -> sets URL, PID, AILEDGER_TOKEN (the admin token it grants)
  local p; p=$(port)
  rm -f "$1.token"
  "$bin" serve --db "$1" --listen "127.0.0.1:$p" --init-admin-token "$1.token" 2>/dev/null & PID=$!
  URL="http://127.0.0.1:$p"
  for _ in $(seq 1 100); do
    if curl -sf "$URL/healthz" >/dev/null && [ -s "$1.token" ]; then
      AILEDGER_TOKEN=$(cat "$1.token"); export AILEDGER_TOKEN; return 0
    fi
    sleep 0.1
  done
  echo "server did not start" >&2; exit 1
}

if [[ $what == hash || $what == all ]]; then
  [ -f "$data/big2g.bin" ] || head -c 2147483648 /dev/urandom > "$data/big2g.bin"
  cat "$data/big2g.bin" > /dev/null
  o=$(for _ in 1 2 3; do secs openssl dgst -sha256 "$data/big2g.bin"; done | best)
  a=$(for _ in 1 2 3; do secs "$bin" manifest "$data/big2g.bin"; done | best)
  python3 -c "print(f'hash 2 GiB file: openssl {$o:.2f} s, ailedger {$a:.2f} s, throughput ratio {$o/$a:.2f}x (target >= 0.9x)')"
fi

if [[ $what == model || $what == all ]]; then
  if [ ! -x target/peers-ms/bin/model_signing ]; then
    python3 -m venv target/peers-ms
    target/peers-ms/bin/pip install -q model-signing pyopenssl
  fi
  mkdir -p "$data/model2g"
  [ -f "$data/model2g/a.bin" ] || head -c 1073741824 /dev/urandom > "$data/model2g/a.bin"
  [ -f "$data/model2g/b.bin" ] || head -c 1073741824 /dev/urandom > "$data/model2g/b.bin"
  [ -f "$data/ms.pem" ] || openssl ecparam -name prime256v1 -genkey -noout -out "$data/ms.pem"
  cat "$data"/model2g/* > /dev/null
  rm -f "$data"/m.db*; start_server "$data/m.db"
  m=$(for _ in 1 2 3; do secs target/peers-ms/bin/model_signing sign key "$data/model2g" --private_key "$data/ms.pem" --signature "$data/ms.sig"; done | best)
  a=$(for _ in 1 2 3; do secs "$bin" --server "$URL" register model "$data/model2g" --name m --version 1; done | best)
  kill $PID
  python3 -c "print(f'register 2 x 1 GiB model dir: model_signing sign key {$m:.2f} s, ailedger {$a:.2f} s, time ratio {$a/$m:.2f} (target <= 0.6)')"
fi

if [[ $what == writes || $what == all ]]; then
  python3 - "$data" <<'PY'
import json, sys
for b in range(5):
    entries = [{"type": "register", "artifacts": [{"kind": "package", "ref": f"pkg:pypi/bench-{b}-{i}@1.0.{i % 10}",
               "aliases": ["sha256:%064x" % (b * 100000 + i)]}]} for i in range(20000)]
    json.dump({"entries": entries}, open(f"{sys.argv[1]}/batch{b}.json", "w"))
PY
  rm -f "$data"/w.db*; start_server "$data/w.db"
  total=0
  for b in 0 1 2 3 4; do
    t=$(secs curl -sf -o /dev/null -H 'content-type: application/json' -H "Authorization: Bearer $AILEDGER_TOKEN" --data-binary @"$data/batch$b.json" "$URL/v1/batch")
    echo "  batch $b: 20000 registrations in $t s"
    total=$(python3 -c "print($total + $t)")
  done
  kill $PID
  python3 -c "print(f'batched registrations on SQLite: {100000/$total:.0f} entries/s over 5 batches of 20,000 (target >= 20,000/s)')"
fi

if [[ $what == index || $what == all ]]; then
  rm -f "$data"/g.db*; start_server "$data/g.db"; kill $PID; sleep 0.5
  # 1,000,100 artifacts in 100 clusters; ~6,000,000 edges (edge rows written directly: the
  # index build reads derived tables, and filling them through the API would take long).
  sqlite3 "$data/g.db" >/dev/null <<'SQL'
PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;
BEGIN;
WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x+1 FROM n WHERE x < 1000099)
INSERT INTO artifacts (id, kind, name, version, attrs, first_seq, last_seq)
SELECT printf('pkg:pypi/c%03d-pkg-%05d@1.0.%d', x / 10001, x % 10001, (x % 10001) % 7), 'package', NULL, NULL, '{}', 1, 1 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n WHERE x < 1000099),
k(y) AS (SELECT 0 UNION ALL SELECT y+1 FROM k WHERE y < 5)
INSERT OR IGNORE INTO edges (src, kind, dst, since_seq, until_seq)
SELECT printf('pkg:pypi/c%03d-pkg-%05d@1.0.%d', x / 10001, x % 10001, (x % 10001) % 7), 'depends-on',
  CASE WHEN x % 10001 = 0 THEN printf('pkg:pypi/c%03d-pkg-%05d@1.0.%d', (x / 10001 + 1) % 100, 1, 1)
       ELSE (SELECT printf('pkg:pypi/c%03d-pkg-%05d@1.0.%d', x / 10001, j, j % 7) FROM (SELECT abs(random() + y) % (x % 10001) AS j)) END,
  2, NULL
FROM n, k WHERE x < 1000100;
UPDATE ledger_head SET seq = 2;
COMMIT;
SQL
  edges=$(sqlite3 "$data/g.db" "SELECT count(*) FROM edges")
  p=$(port)
  AILEDGER_LOG=info "$bin" serve --db "$data/g.db" --listen "127.0.0.1:$p" 2> "$data/g.log" & PID=$!
  for _ in $(seq 1 300); do grep -q "index built" "$data/g.log" && break; sleep 0.2; done
  ms=$(sed 's/\x1b\[[0-9;]*m//g' "$data/g.log" | grep -o 'ms=[0-9]*' | head -n1 | cut -d= -f2)
  rss=$(ps -o rss= -p $PID)
  kill $PID
  echo "index build from SQLite: 1,000,100 artifacts, $edges edges in $ms ms, server RSS $((rss / 1024)) MiB (target <= 30 s)"
fi
