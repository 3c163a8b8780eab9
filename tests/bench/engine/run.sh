#!/usr/bin/env bash
# The engine's event path, two builds side by side (e.g. before and after a change to it):
#
#   tests/bench/engine/run.sh BENCH_A BENCH_B [ROUNDS] [SECONDS]
#
# BENCH_A and BENCH_B are bench_engine_events binaries (build the target in each tree, same build
# type). Rounds alternate A, B, A, B ... so that load on a shared machine hits both alike; each
# line is printed as measured, label first.
set -euo pipefail
A=${1:?usage: run.sh BENCH_A BENCH_B [ROUNDS] [SECONDS]}
B=${2:?usage: run.sh BENCH_A BENCH_B [ROUNDS] [SECONDS]}
ROUNDS=${3:-5}
SECONDS_PER_RUN=${4:-3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for ((r = 1; r <= ROUNDS; r++)); do
  for side in A B; do
    bin=$A; [ "$side" = B ] && bin=$B
    "$bin" "$WORK/$side" "$SECONDS_PER_RUN" | sed "s/^/$side round $r: /"
  done
done
