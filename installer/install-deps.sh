#!/usr/bin/env bash
# Installs every Debian 12 package Clipdeck needs to build, test and run.
# Idempotent and non-interactive: packages already present are skipped by apt.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang lld clang-format
  # Qt 6 (qt6-websockets-dev: qt6-httpserver-dev's CMake config needs it, the package does not pull it in)
  qt6-base-dev qt6-base-dev-tools qt6-declarative-dev qt6-declarative-dev-tools
  qt6-multimedia-dev qt6-httpserver-dev qt6-websockets-dev qt6-tools-dev qt6-l10n-tools
  libqt6sql6-sqlite libqt6opengl6-dev libgl-dev libqt6svg6
  dbus-daemon  # tests/desktop run on a private session bus (dbus-run-session)
  qml6-module-qtquick qml6-module-qtquick-controls qml6-module-qtquick-layouts
  qml6-module-qtquick-window qml6-module-qtquick-templates qml6-module-qtquick-dialogs
  qml6-module-qtquick-shapes qml6-module-qtqml-workerscript qml6-module-qtmultimedia
  qml6-module-qttest qml6-module-qtcore qml6-module-qt-labs-platform qml6-module-qtqml qml6-module-qtqml-models
  # FFmpeg 5.1 libraries (in-process) and the CLI (tests generate media with it; benchmarks compare)
  libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev libswresample-dev libavutil-dev
  ffmpeg
  ffmpegthumbnailer  # tests/bench/thumbnails compares the contact sheet against it
  # benchmarks: tests/bench/seek compares exact seeks with mpv --hr-seek=yes over its JSON IPC
  mpv
  # Redis
  libhiredis-dev redis-server
  nginx libnginx-mod-nchan chromium  # tests/bench/server (nginx + nchan side by side), tests/integration/browser (headless chromium)
  openssl  # tests make a throwaway TLS certificate (tests/support/testcertificate.h)
  # running the app and its tests headless
  xvfb xauth libgl1-mesa-dri x11-utils imagemagick
  # packaging (installer/, tests/package): icons rendered from the SVG, the validators, the
  # install test's Debian 12 root, and the nginx/TLS test (curl, openssl)
  librsvg2-bin dpkg-dev lintian desktop-file-utils appstream systemd man-db bash-completion
  debootstrap curl openssl
)
# Benchmarks run eventsource-parser on Node.js; a machine may already carry another Node build
# whose npm conflicts with Debian's, so only install Debian's when there is none.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
