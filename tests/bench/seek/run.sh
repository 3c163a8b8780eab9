#!/usr/bin/env bash
# The viewer's exact frames (issue #10), side by side in one run:
#   - exact random seek, time until the exact picture is in a QVideoSink, p50/p95, against Debian's
#     mpv --hr-seek=yes over its JSON IPC (seek T absolute+exact until playback-restart, --vo=null),
#     same targets, passes taking turns; also the time to the quick keyframe picture;
#   - frame step forward and backward at 1080p;
#   - scrubbing: distinct exact frames shown per second during a drag (a request every 16 ms);
#   - decoder threading (frame / slice / both) for seek latency;
#   - open time and index time of 2-hour clips (MP4: sample table; Matroska: packet scan).
#
#   tests/bench/seek/run.sh BUILD_DIR [PASSES]
#   SECTIONS="seek threads step scrub open" (the default: all) runs some of them.
#
# BUILD_DIR must hold bin/bench_seek from a Release build, e.g.
#   cmake --preset release -DCMAKE_CXX_COMPILER_LAUNCHER=ccache && cmake --build build/release --target bench_seek
# Clips are generated once into BUILD_DIR/bench-media (the 2-hour clips take ~6 GB there).
set -euo pipefail

BUILD=$(realpath "${1:?usage: run.sh BUILD_DIR [PASSES]}")
PASSES=${2:-2}
BENCH=$BUILD/bin/bench_seek
[ -x "$BENCH" ] || { echo "run.sh: $BENCH missing: build the bench_seek target (Release)" >&2; exit 1; }
command -v mpv >/dev/null || { echo "run.sh: mpv missing (installer/install-deps.sh installs it)" >&2; exit 1; }
MEDIA=$BUILD/bench-media
mkdir -p "$MEDIA"
export QT_QPA_PLATFORM=offscreen

# 60 s of testsrc2 with light temporal noise (pictures cost what camera footage costs to decode,
# ~7 Mb/s at 1080p), x264 veryfast CRF 21 with B-frames and a keyframe every 2 s, AAC stereo:
# the same clips as tests/bench/thumbnails.
h264_clip() { # name size
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
# 30 s of 4K HEVC (x265 ultrafast: B-frames, open GOPs), keyframe every 2 s.
hevc_clip() {
  local path=$MEDIA/hevc-2160p-30s.mp4
  if [ ! -s "$path" ]; then
    echo "generating $path (several minutes) ..." >&2
    ffmpeg -hide_banner -loglevel error -nostdin -y \
      -f lavfi -i "testsrc2=s=3840x2160:r=30:d=30,noise=alls=3:allf=t" \
      -c:v libx265 -preset ultrafast -crf 24 -x265-params keyint=60:min-keyint=60:log-level=error \
      -pix_fmt yuv420p "$path.partial.mp4"
    mv "$path.partial.mp4" "$path"
  fi
  echo "$path"
}
# Two hours: the 720p clip's video 120 times over, stream-copied (MP4 and Matroska). Video only:
# looping with the AAC track leaves a few milliseconds between the loops (its priming), which
# no camera writes.
long_clip() { # extension
  local path=$MEDIA/h264-720p-2h.$1
  if [ ! -s "$path" ]; then
    echo "generating $path ..." >&2
    ffmpeg -hide_banner -loglevel error -nostdin -y -stream_loop 119 -i "$(h264_clip h264-720p-60s 1280x720)" \
      -an -c copy "$path.partial.$1"
    mv "$path.partial.$1" "$path"
  fi
  echo "$path"
}

c1080=$(h264_clip h264-1080p-60s 1920x1080)
c720=$(h264_clip h264-720p-60s 1280x720)
c2160=$(hevc_clip)
long_mp4=$(long_clip mp4)
long_mkv=$(long_clip mkv)

SECTIONS=${SECTIONS:-seek threads step scrub open}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for section in $SECTIONS; do
  case $section in
  seek)
    "$BENCH" seek "$c1080" --passes "$PASSES" --mpv --quick >"$OUT/seek-1080"
    "$BENCH" seek "$c720" --passes "$PASSES" --mpv --quick >"$OUT/seek-720"
    "$BENCH" seek "$c2160" --passes "$PASSES" --mpv --quick >"$OUT/seek-2160" ;;
  threads)
    for t in frame slice both; do "$BENCH" seek "$c1080" --passes "$PASSES" --threading $t >"$OUT/threads-$t"; done ;;
  step) "$BENCH" step "$c1080" --start 900 --count 120 >"$OUT/step" ;;
  scrub)
    "$BENCH" scrub "$c1080" --seconds 5 >"$OUT/scrub-5"
    "$BENCH" scrub "$c1080" --seconds 20 >"$OUT/scrub-20" ;;
  open)
    "$BENCH" open "$c1080" >"$OUT/open-1080"
    "$BENCH" open "$long_mp4" >"$OUT/open-long-mp4"
    "$BENCH" open "$long_mkv" >"$OUT/open-long-mkv" ;;
  esac
done

python3 - "$OUT" "$PASSES" <<'EOF'
import json, os, subprocess, sys
out, passes = sys.argv[1], sys.argv[2]
r = {f: json.load(open(os.path.join(out, f))) for f in os.listdir(out)}
def ms(x): return f"{x:.0f}" if x >= 10 else f"{x:.1f}"
print("# Exact frames benchmark\n")
cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
mpv = subprocess.run(["mpv", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
print(f"- machine: {os.cpu_count()} × {cpu}, load average {open('/proc/loadavg').read().split()[0]} at the end")
print(f"- peer: {mpv.split(' Copyright')[0]}, --hr-seek=yes --vo=null --ao=null --pause, JSON IPC")
print(f"- {passes} passes per clip, each visiting every 2-second GOP once at a random frame, fresh reader per pass\n")
if "seek-1080" in r:
    print("| clip | Clipdeck exact p50 / p95 | quick keyframe p50 / p95 | mpv exact p50 / p95 | ratio p50 / p95 | CPU per seek: Clipdeck / mpv (ratio) | seeks |")
    print("|---|---|---|---|---|---|---|")
    for key, name in (("seek-1080", "1080p30 H.264, 2 s GOP, 60 s"), ("seek-720", "720p30 H.264, 2 s GOP, 60 s"),
                      ("seek-2160", "2160p30 HEVC, 2 s GOP, 30 s")):
        s = r[key]; e, q, m = s["exact"], s.get("quick", {}), s["mpv"]
        print(f"| {name} | {ms(e['p50'])} / {ms(e['p95'])} ms | {ms(q.get('p50', 0))} / {ms(q.get('p95', 0))} ms | "
              f"{ms(m['p50'])} / {ms(m['p95'])} ms | {e['p50'] / m['p50']:.2f}× / {e['p95'] / m['p95']:.2f}× | "
              f"{ms(s['cpuMsPerSeek'])} / {ms(s['mpvCpuMsPerSeek'])} ms ({s['cpuMsPerSeek'] / s['mpvCpuMsPerSeek']:.2f}×) | {e['n']} |")
if "threads-frame" in r:
    print("\nDecoder threading, 1080p exact seek (same targets):\n")
    print("| threading | p50 | p95 | CPU per seek |")
    print("|---|---|---|---|")
    for t in ("frame", "slice", "both"):
        x = r[f"threads-{t}"]; e = x["exact"]
        print(f"| {t} | {ms(e['p50'])} ms | {ms(e['p95'])} ms | {ms(x['cpuMsPerSeek'])} ms |")
if "step" in r:
    s = r["step"]
    print("\nFrame step at 1080p (120 steps forward from frame 900, then back 240 from frame 1020), each after the one before was shown and the reader idle:\n")
    print("| direction | p50 | p95 | max | n |")
    print("|---|---|---|---|---|")
    for key, name in (("forward", "forward"), ("backward", "backward (all)"),
                      ("backwardWithinGop", "backward within a GOP"),
                      ("backwardIntoEarlierGop", "backward across a keyframe into the GOP before")):
        x = s[key]
        if x: print(f"| {name} | {ms(x['p50'])} ms | {ms(x['p95'])} ms | {ms(x['max'])} ms | {x['n']} |")
if "scrub-5" in r:
    print("\nScrubbing 1080p (a request every 16 ms from the first frame to the last, quick keyframes on):\n")
    print("| drag | requests | distinct exact frames shown | per second | quick pictures | last frame exact after the drag |")
    print("|---|---|---|---|---|---|")
    for key in ("scrub-5", "scrub-20"):
        x = r[key]
        print(f"| {x['dragSeconds']:.1f} s over 1800 frames | {x['requests']} | {x['exactFramesDuringDrag']} | "
              f"{x['exactFramesPerSecond']:.1f} | {x['quickPictures']} | {ms(x['lastFrameExactAfterMs'])} ms |")
if "open-1080" in r:
    print("\nOpen and index:\n")
    print("| clip | size | index | open() | first frame | index complete | frames (at open → final) |")
    print("|---|---|---|---|---|---|---|")
    for key, name in (("open-1080", "1080p H.264 60 s MP4"), ("open-long-mp4", "720p H.264 2 h MP4"),
                      ("open-long-mkv", "720p H.264 2 h Matroska")):
        x = r[key]
        print(f"| {name} | {x['bytes'] / 1e9:.2f} GB | {'sample table' if x['indexFromContainer'] else 'packet scan'} | "
              f"{ms(x['openMs'])} ms | {ms(x['firstFrameMs'])} ms | {ms(x['indexCompleteMs'])} ms | "
              f"{x['frameCountAtOpen']} → {x['frames']} |")
EOF
