#!/usr/bin/env bash
# Compares ailedger-inspect with picklescan, modelscan and fickling on the labelled pickle
# corpus (tests/fixtures/pickles/LABELS.tsv): a per-file detection table and timings.
# The peers are installed from the Python package index into target/peers-venv (never
# globally). Nothing here unpickles a fixture: every tool used is a static scanner.
#
# Usage: bench/inspect/compare.sh            (prints Markdown to stdout)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CORPUS=tests/fixtures/pickles
VENV=target/peers-venv
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target/inspect}
if [ ! -x "$VENV/bin/picklescan" ] || [ ! -x "$VENV/bin/modelscan" ] || [ ! -x "$VENV/bin/fickling" ]; then
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q picklescan modelscan fickling typing_extensions >&2
fi
cargo build -q --release -p ailedger-inspect --example scan >&2
SCAN=$CARGO_TARGET_DIR/release/examples/scan
PY=$VENV/bin/python
VERS=$("$VENV/bin/pip" list 2>/dev/null | awk '$1=="picklescan"||$1=="modelscan"||$1=="fickling"{printf "%s %s; ", $1, $2}')

now() { date +%s.%N; }
elapsed() { echo "$1 $2" | awk '{printf "%.1f", ($2-$1)*1000}'; }

echo "## Detection on $CORPUS (LABELS.tsv)"
echo
echo "Peers: ${VERS}ailedger-inspect $(git rev-parse --short HEAD 2>/dev/null || echo '?')."
echo "A file counts as detected when the tool reports it unsafe: ours at high or critical,"
echo "picklescan and modelscan exit 1, fickling --check-safety exits non-zero without a traceback."
echo "\`err\` = the tool failed on the file (exit 2 or a Python traceback), \`-\` = not flagged."
echo
echo "| file | label | ailedger | picklescan | modelscan | fickling |"
echo "|---|---|---|---|---|---|"
declare -A TOT_TP TOT_FP
for t in ours ps ms fk; do TOT_TP[$t]=0; TOT_FP[$t]=0; done
while IFS=$'\t' read -r file label _; do
  [ "$file" = "file" ] && continue
  p=$CORPUS/$file
  sev=$("$SCAN" --tsv "$p" | awk -F'\t' '{print $2}' | head -1) || true
  case $sev in high|critical) ours=$sev ;; *) ours="- ($sev)" ;; esac
  set +e
  "$VENV/bin/picklescan" -p "$p" >/dev/null 2>&1; rc=$?
  case $rc in 1) ps=detected ;; 0) ps=- ;; *) ps=err ;; esac
  "$VENV/bin/modelscan" -p "$p" >/dev/null 2>&1; rc=$?
  case $rc in 1) ms=detected ;; 0) ms=- ;; *) ms="err($rc)" ;; esac
  out=$("$VENV/bin/fickling" --check-safety "$p" 2>&1 </dev/null); rc=$?
  if echo "$out" | grep -q Traceback; then fk=err; elif [ $rc -ne 0 ]; then fk=detected; else fk=-; fi
  set -e
  for t in ours ps ms fk; do
    v=${!t}
    if [[ $v == detected || $v == high || $v == critical ]]; then
      if [ "$label" = malicious ]; then TOT_TP[$t]=$((TOT_TP[$t]+1)); else TOT_FP[$t]=$((TOT_FP[$t]+1)); fi
    fi
  done
  echo "| $file | $label | $ours | $ps | $ms | $fk |"
done < "$CORPUS/LABELS.tsv"
MAL=$(grep -c $'\tmalicious\t' "$CORPUS/LABELS.tsv")
BEN=$(grep -c $'\tbenign\t' "$CORPUS/LABELS.tsv")
echo "| **detected / $MAL malicious** | | **${TOT_TP[ours]}** | **${TOT_TP[ps]}** | **${TOT_TP[ms]}** | **${TOT_TP[fk]}** |"
echo "| **false alarms / $BEN benign** | | **${TOT_FP[ours]}** | **${TOT_FP[ps]}** | **${TOT_FP[ms]}** | **${TOT_FP[fk]}** |"
echo
echo "## Time to scan the corpus"
echo
echo "| tool | how | time |"
echo "|---|---|---|"
t0=$(now); "$SCAN" --tsv "$CORPUS" >/dev/null || true; t1=$(now)
echo "| ailedger-inspect | release binary, one process, wall (incl. start-up) | $(elapsed "$t0" "$t1") ms |"
ours_in=$("$SCAN" --time 50 "$CORPUS" | sed -E 's/.* ([0-9.]+) ms per run/\1/') || true
echo "| ailedger-inspect | in-process, mean of 50 runs | ${ours_in} ms |"
set +e
t0=$(now); "$VENV/bin/picklescan" -p "$CORPUS" >/dev/null 2>&1; t1=$(now)
echo "| picklescan | CLI on the directory, wall | $(elapsed "$t0" "$t1") ms |"
ps_in=$("$PY" - "$CORPUS" <<'PYEOF'
import sys, time, logging
logging.disable(logging.CRITICAL)
from picklescan.scanner import scan_directory_path
d = sys.argv[1]
scan_directory_path(d)
n = 20
t = time.perf_counter()
for _ in range(n):
    scan_directory_path(d)
print("%.1f" % ((time.perf_counter() - t) * 1000 / n))
PYEOF
)
echo "| picklescan | in-process scan_directory_path, mean of 20 runs | ${ps_in} ms |"
t0=$(now); "$VENV/bin/modelscan" -p "$CORPUS" >/dev/null 2>&1; t1=$(now)
echo "| modelscan | CLI on the directory, wall | $(elapsed "$t0" "$t1") ms |"
t0=$(now); for f in "$CORPUS"/*; do [ "$f" = "$CORPUS/LABELS.tsv" ] || "$VENV/bin/fickling" --check-safety "$f" >/dev/null 2>&1 </dev/null; done; t1=$(now)
echo "| fickling | CLI per file (no directory mode), wall | $(elapsed "$t0" "$t1") ms |"
set -e
echo
echo "Speed-up vs picklescan in-process: $(echo "$ps_in $ours_in" | awk '{ if ($2 > 0) printf "%.0fx", $1/$2; else print "n/a" }')"
