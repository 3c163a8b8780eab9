#!/usr/bin/env bash
# Server streams: clipdeck-server against nginx + nchan (Debian's packages), side by side on
# loopback, driven by the same load tool (bench_sse_load, tests/bench/server/loadtool.cpp).
#
#   tests/bench/server/run.sh BUILD_DIR [CLIENTS] [RUNS]
#
# SCENARIOS="streams" (or "fanout") runs one scenario only.
# BUILD_DIR: a Release build with the targets clipdeck-server and bench_sse_load built
# (cmake -B build/rel -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build/rel clipdeck-server
# bench_sse_load). CLIENTS: subscribers (default 8000). RUNS: runs of every scenario on each
# server (default 3); the table shows the median of the runs (RUNS=0: no runs, the table of the
# raw figures already in the output folder). SERVERS="nchan" (or "clipdeck")
# in the environment runs one side only; CLIPDECK_SERVER=PATH measures another clipdeck-server
# binary (a branch under test) with this build's load tool; BENCH_OUT=DIR keeps the raw figures
# elsewhere than BUILD_DIR/bench-server.
#
# Scenarios, each on a freshly started server process (so that memory freed by an earlier
# scenario cannot flatter a later one):
#   streams: CLIENTS streams, one per job (channel); publishes to each job in turn at a steady
#            RATE per second (default 1000), 2 x CLIENTS of them: publish -> deliver p50/p99;
#            the same run gives the time to connect all clients and the memory per idle stream.
#   fanout:  CLIENTS subscribers on ONE job; 50 messages (after 2 warm-ups), each published once
#            the previous one has reached every subscriber: the per-subscriber latency
#            distribution and the time from publish to the LAST subscriber.
# Both servers get the same configuration where it matters: one worker process / one event loop
# thread for the streams, 64 messages of history per channel, the current message first on
# subscribe (clipdeck: the snapshot; nchan: nchan_subscriber_first_message -1), no heartbeats or
# timeouts during the run, no access log, keep-alive publisher connections.
set -euo pipefail

BUILD_DIR=$(cd "${1:?usage: run.sh BUILD_DIR [CLIENTS] [RUNS]}" && pwd)
CLIENTS=${2:-8000}
RUNS=${3:-3}
RATE=${RATE:-1000}
SERVERS=${SERVERS:-"nchan clipdeck"}
TOOL="$BUILD_DIR/bin/bench_sse_load"
SERVER_BIN=${CLIPDECK_SERVER:-"$BUILD_DIR/bin/clipdeck-server"}

[ -x "$TOOL" ] || { echo "run.sh: $TOOL not found: build the bench_sse_load target" >&2; exit 2; }
if [[ " $SERVERS " == *" clipdeck "* ]] && [ ! -x "$SERVER_BIN" ]; then
  echo "run.sh: $SERVER_BIN not found: build the clipdeck-server target (Release)" >&2; exit 2
fi
if grep -q 'CMAKE_BUILD_TYPE:STRING=Release' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null; then :; else
  echo "run.sh: warning: $BUILD_DIR is not a Release build" >&2
fi

# nginx + nchan from Debian, when missing.
NCHAN_MODULE=/usr/lib/nginx/modules/ngx_nchan_module.so
if [[ " $SERVERS " == *" nchan "* ]] && { ! command -v nginx >/dev/null || [ ! -f "$NCHAN_MODULE" ]; }; then
  echo "run.sh: installing nginx and libnginx-mod-nchan" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx libnginx-mod-nchan >/dev/null
  # The package starts a system nginx where it can; this benchmark runs its own.
fi
for tool in curl python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool is needed" >&2; exit 2; }
done

# CLIENTS sockets on the tool's side and as many on the server's.
ulimit -Hn 65536 2>/dev/null || true
ulimit -Sn "$(ulimit -Hn)"
need=$((CLIENTS + 200))
[ "$(ulimit -Sn)" -ge "$need" ] || { echo "run.sh: open files limit $(ulimit -Sn) is below $need" >&2; exit 2; }

# Everything runs at a raised priority when we may (root), the servers and the tool alike, so
# that other work on a shared machine (compilers, say) disturbs the measurement less:
# PRIORITY=rt (default for root): SCHED_FIFO (the kernel's RT throttling still leaves 5 % of
# each second to everything else); nice: nice -10; none: as started.
PRIORITY=${PRIORITY:-$([ "$(id -u)" -eq 0 ] && echo rt || echo none)}
case $PRIORITY in
  rt) PRIO=(chrt -f 10) ;;
  nice) PRIO=(nice -n -10) ;;
  none) PRIO=() ;;
  *) echo "run.sh: PRIORITY must be rt, nice or none" >&2; exit 2 ;;
esac

WORK=$(mktemp -d /tmp/clipdeck-bench-server.XXXXXX)
OUT=${BENCH_OUT:-"$BUILD_DIR/bench-server"}
mkdir -p "$OUT"
[ "$RUNS" -eq 0 ] || rm -f "$OUT"/*.txt "$OUT"/*.err
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

TOKEN="bench-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s bench\n' "$TOKEN" > "$WORK/tokens"
chmod 600 "$WORK/tokens"
HEADERS=(--header "Authorization: Bearer $TOKEN")

wait_http() { # url: until the server answers
  for _ in $(seq 1 200); do
    curl -s -o /dev/null -m 1 "$1" && return 0
    sleep 0.05
  done
  echo "run.sh: no answer from $1" >&2
  return 1
}

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

# Starts one server; sets PORT, SUB, PUB and PIDS (the processes whose memory and CPU count).
start_nchan() {
  PORT=$(free_port)
  local prefix="$WORK/nginx"
  rm -rf "$prefix"; mkdir -p "$prefix/logs" "$prefix/tmp"
  cat > "$prefix/nginx.conf" <<EOF
load_module $NCHAN_MODULE;
worker_processes 1;
worker_rlimit_nofile 65536;
error_log $prefix/logs/error.log warn;
pid $prefix/nginx.pid;
events { worker_connections 20000; }
http {
  access_log off;
  client_body_temp_path $prefix/tmp/body;
  proxy_temp_path $prefix/tmp/proxy;
  fastcgi_temp_path $prefix/tmp/fastcgi;
  uwsgi_temp_path $prefix/tmp/uwsgi;
  scgi_temp_path $prefix/tmp/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 3600s;
  nchan_shared_memory_size 256M;
  nchan_message_buffer_length 64;
  nchan_message_timeout 1h;
  server {
    listen 127.0.0.1:$PORT;
    location ~ /pub/(\w+)\$ {
      nchan_publisher;
      nchan_channel_id \$1;
    }
    location ~ /sub/(\w+)\$ {
      nchan_subscriber eventsource;
      nchan_channel_id \$1;
      nchan_subscriber_first_message -1;
    }
  }
}
EOF
  "${PRIO[@]}" nginx -c "$prefix/nginx.conf" -p "$prefix" -g 'daemon off;' 2> "$prefix/logs/stderr" &
  SERVER_PID=$!
  wait_http "http://127.0.0.1:$PORT/"
  local workers
  workers=$(pgrep -P "$SERVER_PID" | tr '\n' ' ')
  [ -n "$workers" ] || { echo "run.sh: no nginx worker process" >&2; cat "$prefix/logs/stderr" >&2; return 1; }
  PIDS="$SERVER_PID $workers"
  SUB='/sub/b{i}'
  PUB='/pub/b{i}'
}

start_clipdeck() {
  PORT=$(free_port)
  rm -rf "$WORK/data"; mkdir -p "$WORK/data"
  "${PRIO[@]}" "$SERVER_BIN" --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --tokens "$WORK/tokens" \
    --bench-publish --heartbeat 3600 --idle-timeout 3600 --keepalive-timeout 3600 --send-timeout 3600 \
    --history 64 --max-streams-per-user $((CLIENTS + 100)) --max-connections $((CLIENTS + 1000)) \
    > "$WORK/clipdeck.log" 2>&1 &
  SERVER_PID=$!
  wait_http "http://127.0.0.1:$PORT/healthz" || { cat "$WORK/clipdeck.log" >&2; return 1; }
  PIDS="$SERVER_PID"
  SUB='/api/jobs/b{i}/stream'
  PUB='/api/bench/jobs/b{i}/publish'
}

run_scenario() { # server scenario run
  local server=$1 scenario=$2 run=$3 file="$OUT/$1-$2-$3.txt"
  "start_$server"
  local pidargs=()
  for p in $PIDS; do pidargs+=(--pid "$p"); done
  local args=(--port "$PORT" --sub "$SUB" --pub "$PUB" "${HEADERS[@]}" "${pidargs[@]}" --clients "$CLIENTS")
  if [ "$scenario" = streams ]; then
    args+=(--mode streams --rate "$RATE")
  else
    args+=(--mode fanout --publishes 50 --warmup 2)
  fi
  local rc=0
  "${PRIO[@]}" "$TOOL" "${args[@]}" > "$file" 2> "$file.err" || rc=$?
  [ "$rc" -eq 0 ] || echo "run.sh: $server $scenario run $run: the tool exited $rc (see $file, $file.err)" >&2
  stop_server
  sleep 1
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for ((r = 1; r <= RUNS; r++)); do
  for scenario in ${SCENARIOS:-streams fanout}; do
    for server in $SERVERS; do
      echo "run.sh: run $r/$RUNS: $server, $scenario, $CLIENTS clients" >&2
      run_scenario "$server" "$scenario" "$r"
    done
  done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# The median over the runs of one key; "n/a" when no run has it.
figure() { # server scenario key [scale]
  local scale=${4:-1}
  { cat "$OUT/$1-$2-"[0-9]*.txt 2>/dev/null || true; } | awk -v k="$3" -v s="$scale" '$1 == k {print $2 * s}' | sort -g |
    awk '{a[NR] = $1} END {if (NR == 0) print "n/a"; else print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'
}
fmt() { # value decimals
  [ "$1" = n/a ] && { echo n/a; return; }
  printf "%.${2}f" "$1"
}
ratio() { # ours theirs
  if [ "$1" = n/a ] || [ "$2" = n/a ] || awk -v b="$2" 'BEGIN {exit !(b == 0)}'; then echo "—"; return; fi
  awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f×", a / b}'
}
row() { # label scenario key scale decimals unit
  local ours theirs
  ours=$(figure clipdeck "$2" "$3" "$4"); theirs=$(figure nchan "$2" "$3" "$4")
  local u1=$6 u2=$6
  [ "$ours" = n/a ] && u1=""
  [ "$theirs" = n/a ] && u2=""
  printf '| %s | %s | %s | %s |\n' "$1" "$(fmt "$ours" "$5")$u1" "$(fmt "$theirs" "$5")$u2" "$(ratio "$ours" "$theirs")"
}

N=$CLIENTS
NRUNS=$(find "$OUT" -name '*-streams-*.txt' | sed 's/.*-//' | sort -u | wc -l)
echo
echo "$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(date -u +%Y-%m-%d), $(nginx -v 2>&1 | sed 's/.*: //') with nchan $(dpkg-query -W -f='${Version}' libnginx-mod-nchan 2>/dev/null || echo '?'), $N clients, median of $NRUNS runs, priority $PRIORITY, load average before $LOAD_BEFORE, after $LOAD_AFTER"
echo
echo "| What | clipdeck-server | nginx + nchan | ratio (clipdeck / nchan; < 1 is better) |"
echo "|---|---|---|---|"
row "$N streams, one per job: publish→deliver p50" streams latency_p50_us 0.001 3 " ms"
row "$N streams, one per job: publish→deliver p90" streams latency_p90_us 0.001 3 " ms"
row "$N streams, one per job: publish→deliver p99" streams latency_p99_us 0.001 3 " ms"
row "$N streams, one per job: publish→deliver max" streams latency_max_us 0.001 2 " ms"
row "$N subscribers on one job: fan-out p50 (per subscriber)" fanout latency_p50_us 0.001 1 " ms"
row "$N subscribers on one job: fan-out p99 (per subscriber)" fanout latency_p99_us 0.001 1 " ms"
row "$N subscribers on one job: publish→last subscriber, median of 50" fanout fanout_last_p50_us 0.001 1 " ms"
row "$N subscribers on one job: publish→last subscriber, worst of 50" fanout fanout_last_max_us 0.001 1 " ms"
row "$N streams: publish→read by the load tool p99" streams latency_read_p99_us 0.001 3 " ms"
row "$N subscribers: fan-out p99, read by the load tool" fanout latency_read_p99_us 0.001 1 " ms"
row "Memory per idle stream ($N streams, one per job; RSS delta / N)" streams rss_per_stream_bytes 0.001 2 " kB"
row "Memory per idle stream ($N subscribers on one job)" fanout rss_per_stream_bytes 0.001 2 " kB"
row "Time to connect $N clients (every response head)" streams connect_all_heads_ms 1 0 " ms"
row "Time to connect $N clients (every first event: the current state)" streams connect_all_first_event_ms 1 0 " ms"
row "Server CPU time, $((2 * N)) publishes at $RATE/s" streams server_cpu_ms 1 0 " ms"
row "Server CPU time, 50 fan-out messages × $N" fanout server_cpu_ms 1 0 " ms"
echo
missing=$(cat "$OUT"/*.txt | awk '$1 == "deliveries_missing" {s += $2} END {print s + 0}')
echo "Deliveries missing over all runs: $missing. Raw figures: $OUT/."
