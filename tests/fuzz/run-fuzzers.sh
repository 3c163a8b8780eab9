#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/bin (fuzz_*) for SECONDS each. A target fuzz_<name>
# starts from its seed corpus tests/fuzz/corpus/<name>/ (copied to a temporary directory, so the
# repository is never written) and uses tests/fuzz/<name>.dict and the libFuzzer flags in
# tests/fuzz/<name>.options when they exist. Exits non-zero when a target crashes or breaks an
# invariant; the crashing inputs are kept in BUILD_DIR/fuzz-artifacts.
#
#   tests/fuzz/run-fuzzers.sh BUILD_DIR SECONDS [extra libFuzzer flags...]
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 BUILD_DIR SECONDS [libFuzzer flags...]" >&2
  exit 2
fi
build_dir=$1
seconds=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

shopt -s nullglob
targets=()
for bin in "$build_dir"/bin/fuzz_*; do
  [[ -f $bin && -x $bin ]] && targets+=("$bin")
done
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "run-fuzzers: no fuzz_* executables in $build_dir/bin (build the fuzz preset first)" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
artifacts="$build_dir/fuzz-artifacts"
failed=0

for bin in "${targets[@]}"; do
  target=$(basename "$bin")
  name=${target#fuzz_}
  corpus="$work/$target/corpus"
  mkdir -p "$corpus" "$work/$target/artifacts"
  if [[ -d $here/corpus/$name ]]; then
    cp -R "$here/corpus/$name/." "$corpus/"
  fi
  flags=(-max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1
         -artifact_prefix="$work/$target/artifacts/")
  if [[ -f $here/$name.dict ]]; then
    flags+=(-dict="$here/$name.dict")
  fi
  if [[ -f $here/$name.options ]]; then
    while read -r -a line; do
      [[ ${#line[@]} -gt 0 && ${line[0]} != \#* ]] && flags+=("${line[@]}")
    done <"$here/$name.options"
  fi
  echo "run-fuzzers: $target for ${seconds}s, $(ls "$corpus" | wc -l) seed inputs, flags: ${flags[*]:1} $*"
  log="$work/$target/log"
  if "$bin" "${flags[@]}" "$@" "$corpus" >"$log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" | sed "s/^/  /" || true
  else
    failed=1
    echo "run-fuzzers: $target FAILED" >&2
    tail -n 60 "$log" >&2
    mkdir -p "$artifacts"
    cp "$work/$target/artifacts/"* "$artifacts/" 2>/dev/null || true
    echo "run-fuzzers: crashing inputs copied to $artifacts (replay: $bin FILE)" >&2
  fi
done

exit $failed
