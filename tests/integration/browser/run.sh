#!/usr/bin/env bash
# A headless Chromium (Debian's chromium) page using the browser's own EventSource receives the
# events of a real clipdeck-server job (issue #4, section 5).
#
#   tests/integration/browser/run.sh BUILD_DIR
#
# Starts a real clipdeck-server (temporary data dir and token file, --cors-origin for the page's
# origin), serves page.html from another origin (python3 -m http.server on another port of
# 127.0.0.1), uploads a small generated clip, submits a transcode and lets drive.mjs (node +
# playwright-core, pinned in package.json) watch it through the page. Screenshots go to
# BUILD_DIR/browser-test/. Registered with ctest as browser_eventsource (label "browser").
set -euo pipefail

BUILD_DIR=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER_BIN="$BUILD_DIR/bin/clipdeck-server"
OUT="$BUILD_DIR/browser-test"
CHROMIUM=/usr/bin/chromium

fail() { echo "browser test: $*" >&2; exit 1; }

[ -x "$SERVER_BIN" ] || fail "$SERVER_BIN not found: build the clipdeck-server target first (cmake --build $BUILD_DIR)"
command -v ffmpeg >/dev/null || fail "the ffmpeg CLI is needed (installer/install-deps.sh)"
for tool in node npm; do
  command -v "$tool" >/dev/null || fail "$tool is needed (installer/install-deps.sh)"
done
command -v python3 >/dev/null || fail "python3 is needed (the page's static server)"
command -v curl >/dev/null || fail "curl is needed"
if [ ! -x "$CHROMIUM" ]; then
  echo "browser test: installing Debian's chromium" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
  [ -x "$CHROMIUM" ] || fail "$CHROMIUM is still missing after installing chromium"
fi

mkdir -p "$OUT"
rm -f "$OUT"/*.png

# playwright-core, pinned by package.json and package-lock.json, in a cache inside the build tree
# (installed again only when the lock changes). It drives the system chromium: no browser
# download.
NPM_DIR="$OUT/npm"
mkdir -p "$NPM_DIR"
if ! cmp -s "$HERE/package-lock.json" "$NPM_DIR/package-lock.json" || [ ! -f "$NPM_DIR/node_modules/playwright-core/package.json" ]; then
  cp "$HERE/package.json" "$HERE/package-lock.json" "$NPM_DIR/"
  (cd "$NPM_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
    fail "npm ci (playwright-core) failed"
fi
cp "$HERE/drive.mjs" "$NPM_DIR/"

# A small real clip: 20 s of 640x360 with sound (long enough that the job cannot finish before
# it is paused, even on a fast machine), generated once per build tree.
CLIP="$OUT/clip-20s.mp4"
if [ ! -s "$CLIP" ]; then
  ffmpeg -nostdin -hide_banner -loglevel error -y \
    -f lavfi -i "testsrc2=size=640x360:rate=25:duration=20" \
    -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=20" \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest "$CLIP.part.mp4"
  mv "$CLIP.part.mp4" "$CLIP"
fi

WORK=$(mktemp -d /tmp/clipdeck-browser-test.XXXXXX)
SERVER_PID=""
PAGE_PID=""
cleanup() {
  for pid in $PAGE_PID $SERVER_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url name
  for _ in $(seq 1 300); do
    curl -s -o /dev/null -m 1 "$1" && return 0
    sleep 0.1
  done
  return 1
}

SERVER_PORT=$(free_port)
PAGE_PORT=$(free_port)
[ "$SERVER_PORT" != "$PAGE_PORT" ] || PAGE_PORT=$(free_port)
SERVER_URL="http://127.0.0.1:$SERVER_PORT"
PAGE_ORIGIN="http://127.0.0.1:$PAGE_PORT"

TOKEN="browser-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s browser\n' "$TOKEN" > "$WORK/tokens"
chmod 600 "$WORK/tokens"
mkdir -p "$WORK/data" "$WORK/www"
cp "$HERE/page.html" "$WORK/www/"

"$SERVER_BIN" --listen "127.0.0.1:$SERVER_PORT" --data-dir "$WORK/data" --tokens "$WORK/tokens" \
  --cors-origin "$PAGE_ORIGIN" > "$OUT/server.log" 2>&1 &
SERVER_PID=$!
python3 -m http.server "$PAGE_PORT" --bind 127.0.0.1 --directory "$WORK/www" > "$OUT/page-server.log" 2>&1 &
PAGE_PID=$!
wait_http "$SERVER_URL/healthz" || { cat "$OUT/server.log" >&2; fail "clipdeck-server did not answer on $SERVER_URL"; }
wait_http "$PAGE_ORIGIN/page.html" || fail "the page server did not answer on $PAGE_ORIGIN"

echo "browser test: clipdeck-server on $SERVER_URL, the page on $PAGE_ORIGIN, $("$CHROMIUM" --version 2>/dev/null || echo chromium)"
rc=0
(cd "$NPM_DIR" && node drive.mjs "$SERVER_URL" "$PAGE_ORIGIN/page.html" "$TOKEN" "$CLIP" "$OUT") || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "--- clipdeck-server log ($OUT/server.log) ---" >&2
  tail -n 50 "$OUT/server.log" >&2
  fail "failed"
fi
