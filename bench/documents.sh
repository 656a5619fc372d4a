#!/usr/bin/env bash
# Benchmarks of document ingest (issue targets in docs/benchmarks.md). Generated BOMs and
# scratch databases go to target/bench-data (not committed).
#
#   bench/documents.sh [parse|10k|300k|all] [runs]
#
#   parse  parse and merge throughput of generated CycloneDX 1.6 JSON BOMs of 100,000 and
#          300,000 components, and of a CycloneDX 1.6 XML BOM, an SPDX 2.3 JSON and an
#          SPDX 3.0.1 JSON-LD document of 100,000 packages (bench/gen_docs.py), with `examples/parse_file`
#          (the server's allocator, schema check included), MB/s per run
#   10k    `ailedger ingest` of the 10,000-component BOM end to end, a fresh server and
#          SQLite database per run
#   300k   the same for the 300,000-component BOM, with the server's peak RSS (VmHWM),
#          read 6 s after the response so that the checkpoint signer's check is in it
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
runs="${2:-3}"
data=target/bench-data
bin=target/release/ailedger
mkdir -p "$data"
cargo build --release --locked -p ailedger-cli >/dev/null
cargo build --release --locked -p ailedger-formats --examples >/dev/null
for n in 10 100 300; do
  f="$data/bom${n}k.json"
  [ -s "$f" ] || target/release/examples/gen_bom "${n}000" > "$f"
done

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if [[ $what == parse || $what == all ]]; then
  [ -s "$data/bom100k.xml" ] && [ -s "$data/spdx100k.json" ] && [ -s "$data/spdx3-100k.json" ] || python3 bench/gen_docs.py 100000 "$data"
  for f in bom100k.json bom300k.json bom100k.xml spdx100k.json spdx3-100k.json; do
    for _ in $(seq 1 "$runs"); do
      target/release/examples/parse_file "$data/$f"
    done
  done
fi

ingest() { # <n>: one run against a fresh server and database
  local db="$data/ingest-$1.db" p url pid t0 t1
  rm -f "$db" "$db-wal" "$db-shm" "$db.token"
  p=$(port)
  "$bin" serve --db "$db" --listen "127.0.0.1:$p" --init-admin-token "$db.token" 2>/dev/null & pid=$!
  url="http://127.0.0.1:$p"
  for _ in $(seq 1 100); do curl -sf "$url/healthz" >/dev/null && [ -s "$db.token" ] && break; sleep 0.1; done
  AILEDGER_TOKEN=$(cat "$db.token"); export AILEDGER_TOKEN
  t0=$(date +%s.%N)
  "$bin" --server "$url" ingest "$data/bom$1.json" >/dev/null
  t1=$(date +%s.%N)
  if [[ $1 == 300k ]]; then
    sleep 6
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    python3 -c "print(f'ingest $1: {$t1-$t0:.2f} s, server peak RSS {$hwm} kB ({$hwm*1024/1e9:.2f}e9 bytes)')"
  else
    python3 -c "print(f'ingest $1: {$t1-$t0:.2f} s')"
  fi
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -f "$db" "$db-wal" "$db-shm"
}

if [[ $what == 10k || $what == all ]]; then
  for _ in $(seq 1 "$runs"); do ingest 10k; done
fi
if [[ $what == 300k || $what == all ]]; then
  for _ in $(seq 1 "$runs"); do ingest 300k; done
fi
