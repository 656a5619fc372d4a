#!/usr/bin/env bash
# Runs the cargo-fuzz targets of fuzz/ for a bounded time each and prints one summary
# line per target: name, seconds, executions, corpus size (files), result.
#
#   tools/fuzz/run.sh [--seconds N] [--timeout S] [--rss-mb M] [--list] [TARGET...]
#
# With no TARGET, every target `cargo fuzz list` names is run, one after the other, in
# one process each (libFuzzer's default; `-jobs`/`-workers` are left unset, which is one
# worker). Runs resume: each target's corpus is kept in target/fuzz-corpus/<target>/
# (seeded from the repository's fixtures on first use, never committed), so running the
# script again with the targets still to do continues where it stopped.
#
# cargo-fuzz is installed into target/tools if missing (never globally). The targets are
# built once, in release mode with AddressSanitizer (cargo-fuzz's defaults), on the
# stable toolchain with RUSTC_BOOTSTRAP=1 (set FUZZ_TOOLCHAIN=nightly to use nightly
# instead). CARGO_BUILD_JOBS bounds the build's parallelism as usual.
#
# Exits 1 if any target crashed, hung (an input ran longer than --timeout), ran out of
# memory (--rss-mb, which also bounds single allocations) or did not finish in time;
# each failure prints the artifact and the command reproducing it. Exits 2 on bad usage.
set -euo pipefail

cd "$(dirname "$0")/../.."
root="$PWD"

seconds=30
timeout=10
rss_mb=2048
list_only=0
targets=()

usage() {
  sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="${2:?--seconds needs a value}"; shift 2 ;;
    --seconds=*) seconds="${1#*=}"; shift ;;
    --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
    --timeout=*) timeout="${1#*=}"; shift ;;
    --rss-mb) rss_mb="${2:?--rss-mb needs a value}"; shift 2 ;;
    --rss-mb=*) rss_mb="${1#*=}"; shift ;;
    --list) list_only=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
for n in "$seconds" "$timeout" "$rss_mb"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: '$n' is not a positive whole number" >&2; exit 2; }
done

# --- toolchain and cargo-fuzz ---------------------------------------------------------
if [ "${FUZZ_TOOLCHAIN:-stable}" = nightly ]; then
  export RUSTUP_TOOLCHAIN=nightly
else
  # libFuzzer's instrumentation and -Zsanitizer need unstable flags.
  export RUSTC_BOOTSTRAP=1
fi
tools="$root/target/tools"
cargo_fuzz="$tools/bin/cargo-fuzz"
if [ ! -x "$cargo_fuzz" ]; then
  echo "installing cargo-fuzz into target/tools"
  cargo install cargo-fuzz --locked --root "$tools"
fi
fuzz() { "$cargo_fuzz" "$@" --fuzz-dir "$root/fuzz"; }

all_targets=()
while IFS= read -r t; do all_targets+=("$t"); done < <(fuzz list)
if [ "$list_only" = 1 ]; then
  printf '%s\n' "${all_targets[@]}"
  exit 0
fi
if [ ${#targets[@]} -eq 0 ]; then
  targets=("${all_targets[@]}")
fi
for t in "${targets[@]}"; do
  printf '%s\n' "${all_targets[@]}" | grep -qx -- "$t" ||
    { echo "run.sh: no fuzz target '$t' (see --list)" >&2; exit 2; }
done

# --- build once -----------------------------------------------------------------------
triple="$(rustc -vV | sed -n 's/^host: //p')"
echo "building ${#all_targets[@]} fuzz targets (release, AddressSanitizer)"
fuzz build --target "$triple"
bin_dir="$root/fuzz/target/$triple/release"

# --- seeds ----------------------------------------------------------------------------
# Fixture files (up to 256 KiB each, so libFuzzer's input length stays small) that seed
# each target's corpus.
seeds() {
  case "$1" in
    formats_parse) echo tests/fixtures/cyclonedx tests/fixtures/cyclonedx-spec tests/fixtures/spdx \
      tests/fixtures/lockfiles tests/fixtures/mcp tests/fixtures/requirements crates/ailedger-formats/tests/data ;;
    osv|vers) echo tests/fixtures/osv tests/fixtures/incidents ;;
    canonical) echo tests/fixtures/osv tests/fixtures/mcp tests/fixtures/attest/dsse ;;
    redact) echo tests/fixtures/mcp tests/fixtures/lockfiles tests/fixtures/requirements ;;
    attest_*) echo tests/fixtures/attest crates/ailedger-attest/tests/data ;;
    inspect_pickle) echo tests/fixtures/pickles tests/fixtures/pickles-dotted ;;
    inspect_safetensors) echo tests/fixtures/formats/st_ok.safetensors tests/fixtures/formats/st_overlap.safetensors \
      tests/fixtures/formats/st_dup_keys.safetensors tests/fixtures/formats/st_shape_mismatch.safetensors ;;
    inspect_gguf) echo tests/fixtures/formats/gguf_ok.gguf tests/fixtures/formats/gguf_jinja_ssti.gguf \
      tests/fixtures/formats/gguf_nested_array_deep.gguf ;;
    inspect_zip) echo tests/fixtures/pickles/ben_torch_zip.pt tests/fixtures/pickles/mal_torch_zip.pt \
      tests/fixtures/pickles/mal_torch_zip_bad_crc.pt tests/fixtures/pickles/mal_joblib_dump.joblib \
      tests/fixtures/formats/keras_lambda.keras ;;
    inspect_onnx) echo tests/fixtures/formats/onnx_case ;;
    inspect_mcp) echo tests/fixtures/mcp tests/fixtures/requirements ;;
    inspect_keras) echo tests/fixtures/formats/keras_lambda.keras ;;
    inspect_7z) echo tests/fixtures/pickles/mal_torch_7z.pt crates/ailedger-inspect/tests/data ;;
    inspect_any) echo tests/fixtures/formats tests/fixtures/pickles tests/fixtures/mcp ;;
    *) ;;
  esac
}

seed_corpus() {
  local t="$1" dir="$2" p f
  mkdir -p "$dir"
  for p in $(seeds "$t"); do
    [ -e "$p" ] || continue
    while IFS= read -r -d '' f; do
      cp "$f" "$dir/seed-$(sha1sum "$f" | cut -c1-40)"
    done < <(find "$p" -type f -size -257k ! -name '*.md' ! -name '*.tsv' -print0)
  done
}

# --- run ------------------------------------------------------------------------------
stamp="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
mkdir -p target/fuzz-logs
summary="$root/target/fuzz-summary.tsv"
[ -f "$summary" ] || printf 'date\ttarget\tseconds\texecutions\tcorpus\tresult\n' > "$summary"
failed=0
lines=()
for t in "${targets[@]}"; do
  corpus="$root/target/fuzz-corpus/$t"
  artifacts="$root/target/fuzz-artifacts/$t"
  log="$root/target/fuzz-logs/$t.log"
  if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
    seed_corpus "$t" "$corpus"
  fi
  mkdir -p "$artifacts"
  before="$(ls "$artifacts")"
  start=$(date +%s)
  set +e
  # The outer `timeout` bounds the run even if libFuzzer's own bound fails (in the
  # foreground, so that stopping this script stops the fuzzer). Leak detection is off:
  # the runs look for crashes, hangs and unbounded memory (-rss_limit_mb), and
  # LeakSanitizer reports glibc's per-thread destructor bookkeeping of the threads the
  # XML path starts as a leak.
  timeout --foreground --kill-after=30 $((seconds + timeout + 120)) \
    "$bin_dir/$t" "$corpus" \
    -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="$rss_mb" -detect_leaks=0 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1
  rc=$?
  set -e
  took=$(($(date +%s) - start))
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)"
  size="$(find "$corpus" -type f | wc -l)"
  artifact="$(comm -13 <(printf '%s\n' "$before") <(ls "$artifacts") | head -n1)"
  case "$artifact" in
    crash-*|leak-*) result=crash ;;
    timeout-*) result=timeout ;;
    oom-*) result=oom ;;
    "") if [ "$rc" = 0 ]; then result=ok; elif [ "$rc" = 124 ] || [ "$rc" = 137 ]; then result=timeout; else result=crash; fi ;;
    *) result=crash ;;
  esac
  line="$(printf '%-20s %6ss %12s execs %7s files  %s' "$t" "$took" "${execs:-?}" "$size" "$result")"
  lines+=("$line")
  echo "$line"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$stamp" "$t" "$took" "${execs:-?}" "$size" "$result" >> "$summary"
  if [ "$result" != ok ]; then
    failed=1
    echo "  log: target/fuzz-logs/$t.log (exit $rc)"
    if [ -n "$artifact" ]; then
      echo "  artifact: target/fuzz-artifacts/$t/$artifact"
      echo "  reproduce: RUSTC_BOOTSTRAP=1 target/tools/bin/cargo-fuzz run --fuzz-dir fuzz $t target/fuzz-artifacts/$t/$artifact"
    fi
    grep -m1 -A12 -E '^(==[0-9]+==ERROR|thread .* panicked|ALARM|==[0-9]+== ERROR: libFuzzer)' "$log" | sed 's/^/  | /' || true
  fi
done

echo
echo "fuzz summary ($stamp, ${seconds}s per target):"
printf '%s\n' "${lines[@]}"
exit "$failed"
