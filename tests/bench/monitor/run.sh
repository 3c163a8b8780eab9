#!/usr/bin/env bash
# The job monitor under load and the desktop app's start-up, measured under Xvfb with Mesa's
# software OpenGL (what a CI box or a VM without a GPU gives; a real GPU only makes frames cheaper).
#
#   tests/bench/monitor/run.sh BUILD_DIR [RUNS] [SECONDS]
#
# BUILD_DIR: a Release build with bench_monitor and clipdeck built
# (cmake --preset release && cmake --build --preset release --target bench_monitor clipdeck).
#   1. bench_monitor: 1000 live jobs x 10 updates/s through JobModel into qml/JobMonitor.qml, with
#      the model's coalescing on and off (RUNS runs each, SECONDS measured seconds per run):
#      frame intervals, GUI-thread work per frame, GUI-thread CPU, resident memory.
#   2. clipdeck start-up: process start to the first frame on screen (CLIPDECK_REPORT_STARTUP=1
#      makes the app print it), median of RUNS cold-ish starts on an empty data folder, and the
#      app's resident memory after 5 s idle with no jobs.
set -euo pipefail
BUILD_DIR=$(cd "${1:?usage: run.sh BUILD_DIR [RUNS] [SECONDS]}" && pwd)
RUNS=${2:-3}
SECONDS_PER_RUN=${3:-10}
BENCH="$BUILD_DIR/bin/bench_monitor"
APP="$BUILD_DIR/bin/clipdeck"
for bin in "$BENCH" "$APP"; do
  [ -x "$bin" ] || { echo "run.sh: $bin not found (build bench_monitor and clipdeck)" >&2; exit 2; }
done
command -v xvfb-run >/dev/null || { echo "run.sh: xvfb-run not found (installer/install-deps.sh)" >&2; exit 2; }

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
XVFB=(xvfb-run -a -s "-screen 0 1920x1080x24")

echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# bench_monitor: 1000 jobs x 10 updates/s, ${SECONDS_PER_RUN} s per run, ${RUNS} runs per mode,"
echo "# on Qt Quick's OpenGL renderer (here Mesa llvmpipe: no GPU) and its software renderer"
for i in $(seq "$RUNS"); do
  for backend in "" software; do
    "${XVFB[@]}" env QT_QUICK_BACKEND=$backend "$BENCH" --jobs 1000 --rate 10 --seconds "$SECONDS_PER_RUN" --json >>"$OUT/monitor.jsonl"
    # the baseline: the same view, no updates, only the animation that keeps frames coming
    "${XVFB[@]}" env QT_QUICK_BACKEND=$backend "$BENCH" --jobs 1000 --rate 0 --coalescing on --seconds "$SECONDS_PER_RUN" --json >>"$OUT/monitor.jsonl"
  done
done

echo "# clipdeck start-up to first frame, ${RUNS} runs"
for i in $(seq "$RUNS"); do
  data=$(mktemp -d)
  "${XVFB[@]}" env CLIPDECK_REPORT_STARTUP=1 "$APP" --data-dir "$data" 2>>"$OUT/startup.txt" &
  pid=$!
  sleep 6
  # the app runs under xvfb-run: find it by name, child of this shell's xvfb-run
  app_pid=$(pgrep -n -f "$APP --data-dir $data" || true)
  if [ -n "$app_pid" ]; then
    echo "idle-rss-kib $(awk '/VmRSS/ {print $2}' "/proc/$app_pid/status")" >>"$OUT/startup.txt"
    kill "$app_pid"
  fi
  wait "$pid" || true
  rm -rf "$data"
done

python3 - "$OUT" <<'PY'
import json, statistics, sys, re, pathlib
out = pathlib.Path(sys.argv[1])
runs = [json.loads(l) for l in (out / "monitor.jsonl").read_text().splitlines() if l.strip()]
def med(xs): return statistics.median(xs) if xs else float("nan")
print("| renderer | updates | updates/s | frame interval p50 / p99 / max (ms) | dropped frames (> 25 ms) | GUI work/frame p99 (ms) | render/frame p50 / p99 (ms) | GUI thread CPU | RSS |")
print("|---|---|---|---|---|---|---|---|---|")
for graphics in ("opengl", "software"):
    for name, pick in (("coalesced", lambda r: r["rate"] > 0 and r["coalescing"]),
                       ("not coalesced", lambda r: r["rate"] > 0 and not r["coalescing"]),
                       ("none (baseline)", lambda r: r["rate"] == 0)):
        rs = [r for r in runs if r["graphics"] == graphics and pick(r)]
        if not rs: continue
        fi = lambda k: med([r["frameIntervalMs"][k] for r in rs])
        rd = lambda k: med([r["renderPerFrameMs"][k] for r in rs])
        dropped = sum(r["frameIntervalMs"]["dropped"] for r in rs)
        frames = sum(r["frameIntervalMs"]["frames"] for r in rs)
        print(f"| {graphics} | {name} | {med([r['updatesPerSecond'] for r in rs]):.0f} | "
              f"{fi('p50'):.1f} / {fi('p99'):.1f} / {fi('max'):.1f} | {dropped} of {frames} | "
              f"{med([r['guiWorkPerFrameMs']['p99'] for r in rs]):.2f} | {rd('p50'):.2f} / {rd('p99'):.2f} | "
              f"{med([r['guiCpuPercent'] for r in rs]):.1f} % | {med([r['rssKiB'] for r in rs])/1024:.0f} MiB |")
text = (out / "startup.txt").read_text()
starts = [float(m) for m in re.findall(r"first-frame-ms (\S+)", text)]
rss = [int(m) for m in re.findall(r"idle-rss-kib (\d+)", text)]
print()
print(f"start-up to first frame: median {med(starts):.0f} ms over {len(starts)} runs {starts}")
print(f"idle resident memory, no jobs: median {med(rss)/1024:.1f} MiB {rss}")
PY
