#!/usr/bin/env bash
# SSE parser throughput, side by side: clipdeck::sse::Parser (bench_sse_parser from BUILD_DIR;
# build it in Release) and the npm eventsource-parser (installed here with npm ci), on the same
# input files, printed as a markdown table with the throughput ratio.
#
#   tests/bench/sse/run.sh BUILD_DIR [RUNS] [ROUNDS]
#
# The two sides alternate ROUNDS times (default 3), RUNS timed runs each (default 30), so a
# busy machine slows both alike; a side's best is its best run of all, its median the median of
# its rounds' medians.
#
# e.g. cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release
#      cmake --build build/release --target bench_sse_parser
#      tests/bench/sse/run.sh build/release
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [RUNS]" >&2
  exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bench="$1/bin/bench_sse_parser"
runs=${2:-30}
rounds=${3:-3}
if [[ ! -x $bench ]]; then
  echo "run.sh: $bench not found; build the bench_sse_parser target (Release) first" >&2
  exit 1
fi
command -v node >/dev/null || { echo "run.sh: node not found (installer/install-deps.sh installs it)" >&2; exit 1; }

if [[ ! -d $here/node_modules/eventsource-parser ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The C++ side writes the inputs; both then parse exactly those bytes.
"$bench" --write-inputs "$work/inputs" --runs 1 --json >/dev/null
for round in $(seq "$rounds"); do
  "$bench" --runs "$runs" --json >"$work/clipdeck-$round.json"
  node "$here/eventsource-parser.mjs" "$work/inputs" --runs "$runs" >"$work/eventsource-parser-$round.json"
done

node - "$work" "$rounds" <<'JS'
const { readFileSync } = require('node:fs');
const [dir, rounds] = process.argv.slice(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const merge = (side) => {
  const all = Array.from({ length: Number(rounds) }, (_, i) => JSON.parse(readFileSync(`${dir}/${side}-${i + 1}.json`, 'utf8')));
  return {
    parser: all[0].parser,
    results: all[0].results.map((first) => {
      const mine = all.map((a) => a.results.find((r) => r.name === first.name));
      return { ...first, runs: mine.reduce((n, r) => n + r.runs, 0),
               bestMiBs: Math.max(...mine.map((r) => r.bestMiBs)), medianMiBs: median(mine.map((r) => r.medianMiBs)),
               bestCpuMiBs: Math.max(...mine.map((r) => r.bestCpuMiBs)) };
    }),
  };
};
const ours = merge('clipdeck');
const theirs = merge('eventsource-parser');
const fmt = (x) => Math.round(x).toLocaleString('en-US');
const size = (b) => (b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(0)} KiB`);
console.log(`| Input | Chunk | Size | ${ours.parser} MiB/s, best (median) | ${theirs.parser} MiB/s, best (median) | Ratio, best (median) | Ratio by CPU time |`);
console.log('|---|---:|---:|---:|---:|---:|---:|');
let worst = Infinity;
for (const a of ours.results) {
  const b = theirs.results.find((r) => r.name === a.name);
  if (!b) throw new Error(`no eventsource-parser result for ${a.name}`);
  if (a.bytes !== b.bytes || a.events !== b.events) throw new Error(`${a.name}: the two sides parsed different inputs`);
  const ratio = a.bestMiBs / b.bestMiBs;
  worst = Math.min(worst, ratio);
  console.log(`| ${a.description} | ${a.chunk} | ${size(a.bytes)} | ${fmt(a.bestMiBs)} (${fmt(a.medianMiBs)}) | ` +
              `${fmt(b.bestMiBs)} (${fmt(b.medianMiBs)}) | ${ratio.toFixed(1)}× (${(a.medianMiBs / b.medianMiBs).toFixed(1)}×) | ` +
              `${(a.bestCpuMiBs / b.bestCpuMiBs).toFixed(1)}× |`);
}
console.log(`\nLowest ratio (best runs): ${worst.toFixed(2)}× (target: at least 3×). Each side: ${ours.results[0].runs} timed runs per input in ${rounds} alternating rounds.`);
console.log('MiB/s are wire bytes per wall-clock second; "by CPU time" divides by the CPU time spent instead (all threads of the Node process), which a busy machine disturbs less.');
JS
