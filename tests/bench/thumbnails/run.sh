#!/usr/bin/env bash
# Contact sheet benchmark (issue #3): Clipdeck's in-process thumbnailer against
#   (a) the ffmpeg CLI's keyframe + tile pipeline (-skip_frame nokey, select, scale, tile), and
#   (b) ffmpegthumbnailer, run once per thumbnail (it makes one per run) for 8 thumbnails,
# plus the waveform's speed against plain audio decoding with the ffmpeg CLI.
#
#   tests/bench/thumbnails/run.sh BUILD_DIR [RUNS]
#
# BUILD_DIR must hold bin/bench_thumbnails from a Release build, e.g.
#   cmake -S . -B build/rel -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build/rel bench_thumbnails
# Clips are generated once into BUILD_DIR/bench-media. Every command runs RUNS times (default 7)
# after one warm-up run (so the clip is in the page cache for all of them); the median wall time
# of the whole process is reported, start-up included, for every tool alike.
set -euo pipefail

BUILD=$(realpath "${1:?usage: run.sh BUILD_DIR [RUNS]}")
RUNS=${2:-7}
BENCH=$BUILD/bin/bench_thumbnails
[ -x "$BENCH" ] || { echo "run.sh: $BENCH missing: build the bench_thumbnails target (Release)" >&2; exit 1; }
MEDIA=$BUILD/bench-media
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$MEDIA"

if ! command -v ffmpegthumbnailer >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpegthumbnailer >/dev/null \
    || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpegthumbnailer >/dev/null; }
fi

# 60 s of testsrc2 with light temporal noise (so pictures cost what camera footage costs to
# decode: ~7 Mb/s at 1080p), H.264 (x264 veryfast, CRF 21, B-frames, CABAC, deblocking) with a
# keyframe every 2 s, and an AAC stereo tone for the waveform.
clip() { # name size
  local path=$MEDIA/$1.mp4
  if [ ! -s "$path" ]; then
    echo "generating $path ..." >&2
    ffmpeg -hide_banner -loglevel error -nostdin -y \
      -f lavfi -i "testsrc2=s=$2:r=30:d=60,noise=alls=3:allf=t" \
      -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=60" \
      -c:v libx264 -preset veryfast -crf 21 -g 60 -keyint_min 60 -pix_fmt yuv420p \
      -c:a aac -b:a 128k -ac 2 -shortest "$path.partial.mp4"
    mv "$path.partial.mp4" "$path"
  fi
  echo "$path"
}

# Times each command once per round, RUNS rounds after a warm-up round, the commands taking
# turns so that load from elsewhere on the machine falls on all of them alike. Prints each
# command's median wall time (whole process, start-up included) on its own line, in order.
# Median CPU time (user + system, all threads and child processes) goes to $OUT/cpu-N, and a
# command whose output has "wallSeconds" (bench_thumbnails) has its in-process time in
# $OUT/inproc-N.
compare() {
  local n=$#
  for c in "$@"; do eval "$c" >/dev/null 2>&1 || { echo "run.sh: command failed: $c" >&2; eval "$c" >&2; exit 1; }; done
  rm -f "$OUT"/times-* "$OUT"/cpu-* "$OUT"/inproc-*
  for _ in $(seq "$RUNS"); do
    local i=0
    for c in "$@"; do
      i=$((i + 1))
      local TIMEFORMAT='%R %U %S'
      { time eval "$c" >"$OUT/stdout" 2>/dev/null; } 2>"$OUT/time"
      read -r real user sys <"$OUT/time"
      echo "$real" >>"$OUT/times-$i"
      echo "$user + $sys" | bc -l >>"$OUT/cpu-$i"
      grep -o '"wallSeconds":[0-9.]*' "$OUT/stdout" | cut -d: -f2 >>"$OUT/inproc-$i" || true
    done
  done
  for i in $(seq "$n"); do median_of "$OUT/times-$i"; done
}
median_of() {
  sort -g "$1" | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f\n", m}'
}

ours_sheet() { rm -rf "$OUT/ours"; "$BENCH" thumbnails "$1" "$OUT/ours" frames=false poster=false; }
ours_all() { rm -rf "$OUT/ours"; "$BENCH" thumbnails "$1" "$OUT/ours"; }

# What a user who knows ffmpeg types for a 4x2 sheet of evenly spaced keyframes: decode keyframes
# only, keep one every duration/8 seconds, scale, tile, stop after the one output picture.
ffmpeg_tile() { # clip spacing extra-input-options...
  local clip=$1 spacing=$2; shift 2
  ffmpeg -hide_banner -loglevel error -nostdin -y -skip_frame nokey "$@" -i "$clip" -an -sn -dn \
    -vf "select='isnan(prev_selected_t)+gte(t-prev_selected_t\,$spacing)',scale=320:-2,tile=4x2" \
    -frames:v 1 -fps_mode vfr "$OUT/ffmpeg.jpg"
}

thumbnailer8() {
  local i=0
  for percent in 6 19 31 44 56 69 81 94; do
    i=$((i + 1))
    ffmpegthumbnailer -i "$1" -o "$OUT/ft-$i.jpg" -s 320 -t "$percent%"
  done
}

ratio() { echo "scale=2; $1 / $2" | bc -l | sed 's/^\./0./'; }

echo "# Thumbnails and contact sheet benchmark"
echo
echo "- machine: $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "- date: $(date -u +%Y-%m-%d)"
echo "- tools: $(ffmpeg -version | head -1 | cut -d' ' -f1-3), ffmpegthumbnailer $(ffmpegthumbnailer -v 2>&1 | awk '{print $NF}')"
echo "- runs: median of $RUNS after a warm-up run; whole-process wall time"
echo
echo "| clip | Clipdeck 4×2 sheet (in-process) | Clipdeck sheet + 8 thumbs + poster | ffmpeg -skip_frame nokey … tile | same, + -skip_loop_filter all | ffmpegthumbnailer × 8 | ffmpeg / Clipdeck | ffmpegthumbnailer / Clipdeck |"
echo "|---|---|---|---|---|---|---|---|"
cpu_rows=()
for spec in "1080p:1920x1080" "720p:1280x720"; do
  name=${spec%%:*}; size=${spec#*:}
  path=$(clip "h264-$name-60s" "$size")
  duration=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$path")
  spacing=$(echo "scale=3; $duration / 8" | bc -l)
  mapfile -t t < <(compare "ours_sheet '$path'" "ours_all '$path'" "ffmpeg_tile '$path' $spacing" \
                           "ffmpeg_tile '$path' $spacing -skip_loop_filter all" "thumbnailer8 '$path'")
  inproc=$(median_of "$OUT/inproc-1")
  best_ffmpeg=$(printf '%s\n%s\n' "${t[2]}" "${t[3]}" | sort -g | head -1)
  echo "| $name 60 s H.264, 2 s GOP | ${t[0]} s (${inproc} s) | ${t[1]} s | ${t[2]} s | ${t[3]} s | ${t[4]} s | $(ratio "$best_ffmpeg" "${t[0]}")× | $(ratio "${t[4]}" "${t[0]}")× |"
  cpu_rows+=("| $name | $(median_of "$OUT/cpu-1") s | $(median_of "$OUT/cpu-2") s | $(median_of "$OUT/cpu-3") s | $(median_of "$OUT/cpu-4") s | $(median_of "$OUT/cpu-5") s |")
done
echo
echo "Times are whole-process wall times (start-up and dynamic linking included, as for the CLIs);"
echo "in parentheses the time inside runThumbnails(), which is what the local engine pays. Ratios use"
echo "the faster ffmpeg pipeline against Clipdeck's whole-process sheet-only run (the same output)."
echo
echo "CPU time (user + system, all threads), median — the same runs, less sensitive to other load:"
echo
echo "| clip | Clipdeck sheet | Clipdeck all outputs | ffmpeg tile | ffmpeg tile + skip_loop_filter | ffmpegthumbnailer × 8 |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${cpu_rows[@]}"
echo
echo "## Waveform"
echo
echo "| clip | Clipdeck waveform, 100 buckets/s per channel (in-process) | × real time (in-process) | ffmpeg -map 0:a -f null - (decode only) |"
echo "|---|---|---|---|"
waveform() { rm -rf "$OUT/wave"; "$BENCH" waveform "$1" "$OUT/wave"; }
decode() { ffmpeg -hide_banner -loglevel error -nostdin -i "$1" -map 0:a -f null -; }
for name in 1080p 720p; do
  path=$MEDIA/h264-$name-60s.mp4
  mapfile -t t < <(compare "waveform '$path'" "decode '$path'")
  inproc=$(median_of "$OUT/inproc-1")
  echo "| $name 60 s, AAC stereo 48 kHz 128 kb/s | ${t[0]} s (${inproc} s) | $(echo "scale=0; 60 / ${t[0]}" | bc -l)× ($(echo "scale=0; 60 / $inproc" | bc -l)×) | ${t[1]} s |"
done
