#!/usr/bin/env bash
# Transcode wall time: Clipdeck's in-process pipeline (runTranscode, preset web-h264) against the
# ffmpeg CLI with identical settings, on a generated 720p and 1080p clip (H.264 + AAC, 20 s).
#
#   tests/bench/transcode/run.sh BUILD_DIR [RUNS]
#
# BUILD_DIR must be a Release build with bench_transcode built
# (cmake -B build/rel -DCMAKE_BUILD_TYPE=Release && ninja -C build/rel bench_transcode).
# Runs alternate (ours, CLI, ours, CLI ...) so that a load change on the machine hits both alike;
# the table shows the median and the fastest run of each and the ratio of the medians. The
# video and audio streams of both outputs are compared by MD5: equal streams prove the settings
# are identical (same encoder, preset, CRF, profile, pixel format, audio codec/rate/bit rate).
set -euo pipefail

BUILD_DIR=${1:?usage: run.sh BUILD_DIR [RUNS]}
RUNS=${2:-3}
BENCH="$BUILD_DIR/bin/bench_transcode"
[ -x "$BENCH" ] || { echo "run.sh: $BENCH not found: build the bench_transcode target (Release)" >&2; exit 2; }
command -v ffmpeg >/dev/null || { echo "run.sh: ffmpeg CLI not found" >&2; exit 2; }

# Both sides run at a raised priority when we may (root): background work on a shared machine
# then disturbs the measurement less. Both get the same, so the comparison stays fair.
PRIO=()
[ "$(id -u)" -eq 0 ] && PRIO=(nice -n -10)

MEDIA="$BUILD_DIR/bench-media"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$MEDIA"

# The ffmpeg equivalent of resources/presets/web-h264.json.
cli_args=(-c:v libx264 -preset medium -profile:v high -crf 23 -pix_fmt yuv420p
          -c:a aac -b:a 160k -ar 48000 -ac 2 -movflags +faststart)

generate() { # name size
  local out="$MEDIA/$1"
  [ -s "$out" ] && return
  ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=$2:rate=25:duration=20" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=20" -ac 2 \
    -c:v libx264 -preset veryfast -crf 18 -g 50 -pix_fmt yuv420p -c:a aac -b:a 192k -shortest "$out.part.mp4"
  mv "$out.part.mp4" "$out"
}
generate clip-720p.mp4 1280x720
generate clip-1080p.mp4 1920x1080

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
minimum() { sort -g | head -1; }
streams_md5() { # file -> "video-md5 audio-md5"
  echo "$(ffmpeg -nostdin -loglevel error -i "$1" -map 0:v -c copy -f md5 - | cut -d= -f2)" \
       "$(ffmpeg -nostdin -loglevel error -i "$1" -map 0:a -c copy -f md5 - | cut -d= -f2)"
}

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ); ffmpeg: $(ffmpeg -hide_banner -version | head -1 | cut -d' ' -f3); runs: $RUNS each, alternating"
echo
echo "| clip | Clipdeck median (min) | ffmpeg CLI median (min) | ratio (median) | CPU s Clipdeck / CLI | identical streams |"
echo "|---|---|---|---|---|---|"
for clip in clip-720p.mp4 clip-1080p.mp4; do
  in="$MEDIA/$clip"
  : > "$WORK/ours.t"; : > "$WORK/cli.t"; : > "$WORK/ours.cpu"; : > "$WORK/cli.cpu"
  for ((i = 1; i <= RUNS; i++)); do
    rm -f "$WORK"/ours*.mp4 "$WORK/cli.mp4"
    t0=$(now)
    "${PRIO[@]}" /usr/bin/time -f "%U %S" -o "$WORK/cpu" "$BENCH" transcode "$in" "$WORK" ours >/dev/null
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}' >> "$WORK/ours.t"
    awk '{print $1 + $2}' "$WORK/cpu" >> "$WORK/ours.cpu"
    t0=$(now)
    "${PRIO[@]}" /usr/bin/time -f "%U %S" -o "$WORK/cpu" ffmpeg -nostdin -hide_banner -loglevel error -y -i "$in" \
      -map 0:v:0 -map 0:a:0 "${cli_args[@]}" "$WORK/cli.mp4"
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}' >> "$WORK/cli.t"
    awk '{print $1 + $2}' "$WORK/cpu" >> "$WORK/cli.cpu"
  done
  ours_med=$(median < "$WORK/ours.t"); cli_med=$(median < "$WORK/cli.t")
  ours_min=$(minimum < "$WORK/ours.t"); cli_min=$(minimum < "$WORK/cli.t")
  ratio=$(awk -v a="$ours_med" -v b="$cli_med" 'BEGIN {print a / b}')
  same=no
  [ "$(streams_md5 "$WORK/ours.mp4")" = "$(streams_md5 "$WORK/cli.mp4")" ] && same=yes
  printf '| %s | %.2f s (%.2f) | %.2f s (%.2f) | %.2f× | %.1f / %.1f | %s |\n' "${clip%.mp4}" \
    "$ours_med" "$ours_min" "$cli_med" "$cli_min" "$ratio" \
    "$(median < "$WORK/ours.cpu")" "$(median < "$WORK/cli.cpu")" "$same"
done
echo
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "probe (in-process, clip-1080p, 50 runs): $("$BENCH" probe "$MEDIA/clip-1080p.mp4" 50 | tr '\n' ' ')"
