#!/usr/bin/env bash
# Re-takes the job monitor screenshots in this folder: the real `clipdeck` under Xvfb with real
# jobs on the local engine (complete, failed, running, queued), grabbed with ImageMagick's
# `import` while the export still runs. Needs xvfb-run, ffmpeg and imagemagick.
#   docs/screenshots/take-screenshots.sh build/h-app
# Writes monitor-light.png, monitor-dark.png, monitor-200pct.png (QT_SCALE_FACTOR=2).
set -euo pipefail
build=$(realpath "${1:?usage: $0 BUILD_DIR}")
out=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Clips with the names an editor would have; a long one so the export is still running when the
# picture is taken, and a text file that is not media (the failed job).
ffmpeg -loglevel error -f lavfi -i testsrc2=size=1920x1080:rate=25 -f lavfi -i sine=frequency=440 \
  -t 120 -c:v libx264 -preset ultrafast -c:a aac "$work/interview-take3.mp4"
ffmpeg -loglevel error -f lavfi -i testsrc2=size=1280x720:rate=25 -t 6 -c:v libx264 -preset ultrafast \
  "$work/drone-sunset.mp4"
cp "$work/drone-sunset.mp4" "$work/broll-market.mp4"
echo "meeting notes, not a video" > "$work/notes.mp4"

shoot() { # name, then environment assignments
  local name=$1; shift
  local data="$work/data-$name"
  # The window is alone on the X screen (no window manager): grab its own area.
  env "$@" HOME="$work/home-$name" XDG_CONFIG_HOME="$work/home-$name/config" \
    xvfb-run -a -s "-screen 0 2400x1600x24" bash -c '
      "$0" --data-dir "$1" \
        --submit "thumbnails=$2/drone-sunset.mp4" --submit "scenes=$2/notes.mp4" \
        --submit "transcode=$2/interview-take3.mp4,preset=hevc" --submit "proxy=$2/broll-market.mp4" \
        --submit "waveform=$2/interview-take3.mp4" --submit "transcode=$2/interview-take3.mp4,preset=web-h264" &
      app=$!
      sleep 12
      id=$(xwininfo -root -tree | awk "/Clipdeck\"/ {print \$1; exit}")
      import -window "$id" "$3"
      kill $app; wait $app || true' "$build/bin/clipdeck" "$data" "$work" "$out/$name.png"
  echo "$out/$name.png"
}
shoot monitor-light QT_QPA_PLATFORM=xcb
shoot monitor-dark QT_QPA_PLATFORM=xcb CLIPDECK_COLOR_SCHEME=dark
shoot monitor-200pct QT_QPA_PLATFORM=xcb QT_SCALE_FACTOR=2
