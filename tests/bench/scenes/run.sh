#!/usr/bin/env bash
# Scene-detection benchmark (issue #3): Clipdeck's detector (bench_scenes, runScenes() without
# thumbnails) against ffmpeg's scdet filter, on the same generated 720p clips with ground truth
# (tests/support/scenefixtures: 7 hard cuts; 12 gradual transitions — cross-fades, dissolves,
# fades through black/white, wipes; 5 steady shots with no boundary). Prints frames/s and
# precision/recall of both, cuts and gradual transitions separately, as a Markdown section.
#
#   tests/bench/scenes/run.sh BUILD_DIR [RUNS]
#
# BUILD_DIR is a Release build with bench_scenes built (cmake --build BUILD_DIR --target
# bench_scenes). Clips are generated once into BUILD_DIR/bench-media/scenes (several minutes the
# first time). Each timing is the best of RUNS (default 3) runs, so other load on the machine
# disturbs it less; the machine should still be otherwise idle.
set -euo pipefail

if [[ $# -lt 1 ]]; then
    echo "usage: $0 BUILD_DIR [RUNS]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
runs=${2:-3}
bin="$build/bin/bench_scenes"
here=$(cd "$(dirname "$0")" && pwd)
media="$build/bench-media/scenes"

[[ -x "$bin" ]] || { echo "$bin not found: build the bench_scenes target first" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "ffmpeg not found" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 1; }

mkdir -p "$media"
echo "Generating clips into $media ..." >&2
CLIPDECK_TEST_MEDIA_DIR="$media" "$bin" --generate 1280x720 2 10 > "$media/truth.json"

python3 "$here/evaluate.py" --bin "$bin" --truth "$media/truth.json" --runs "$runs" \
    --command "tests/bench/scenes/run.sh $1 $runs" | tee "$media/results.md"
