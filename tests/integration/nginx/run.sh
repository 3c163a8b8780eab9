#!/usr/bin/env bash
# The shipped nginx site (installer/nginx/clipdeck-server.conf) in front of a real clipdeck-server,
# under a real nginx (Debian's) with a certificate made at test time by openssl, driven by curl
# over https. The site file is used as shipped: the test changes only the listen addresses, the
# upstream port, the certificate paths and the upload limit (each substitution must match exactly
# once, so a changed site file fails here rather than being tested half).
#
#   tests/integration/nginx/run.sh BUILD_DIR
#
# Checks: TLS refused without the CA and working with it; http redirects to https; the REST API
# (upload, submit, list); an event stream delivered while it stays open (events and heartbeat
# comments, not held back by the proxy); Last-Event-ID resume through the proxy; an upload of
# exactly the limit reaches the server and one byte more is refused by nginx; X-Forwarded-For:
# the server logs the client nginx saw, never the address a client claims.
set -euo pipefail
export LC_ALL=C

BUILD_DIR=$(cd "${1:?usage: run.sh BUILD_DIR}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
SITE=$HERE/../../../installer/nginx/clipdeck-server.conf
SERVER_BIN=$BUILD_DIR/bin/clipdeck-server
fail() {
    echo "nginx test: FAIL: $*" >&2
    for log in server.log nginx-error.log; do
        [ -f "$WORK/$log" ] && { echo "--- $log" >&2; tail -30 "$WORK/$log" >&2; }
    done
    exit 1
}
for tool in nginx openssl curl ffmpeg python3; do
    command -v "$tool" >/dev/null || fail "$tool is needed (installer/install-deps.sh)"
done
[ -x "$SERVER_BIN" ] || fail "$SERVER_BIN not found: build clipdeck-server first"

WORK=$BUILD_DIR/nginx-test
rm -rf "$WORK"
mkdir -p "$WORK"
cd "$WORK"
pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
# wait_for SECONDS COMMAND...: polls a condition; the bound only ends a hung test.
wait_for() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- a CA and a certificate for clipdeck.example.com, made now ---
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Clipdeck test CA" \
    -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=clipdeck.example.com" -keyout site.key -out site.csr 2>/dev/null
printf 'subjectAltName=DNS:clipdeck.example.com\nextendedKeyUsage=serverAuth\n' >site.ext
openssl x509 -req -in site.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile site.ext \
    -out site.pem 2>/dev/null

# --- clipdeck-server: max-upload 1MiB (nginx gets the same), a fast heartbeat ---
token=nginx-test-token-0123456789abcdef
echo "$token tester" >tokens
"$SERVER_BIN" --data-dir "$WORK/data" --tokens "$WORK/tokens" --listen 127.0.0.1:0 --max-upload 1MiB \
    --heartbeat 0.3 --trusted-proxy 127.0.0.1 --access-log >server.log 2>&1 &
pids+=($!)
wait_for 60 grep -q "listening on" server.log || fail "clipdeck-server did not start"
server_port=$(sed -n 's/.*listening on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' server.log)

# --- the site, as shipped but for addresses, certificate paths and the upload limit ---
https_port=$(free_port)
http_port=$(free_port)
cp "$SITE" site.conf
substitute() { # substitute OLD NEW: OLD must be in the site exactly once
    local count
    count=$(grep -cF -- "$1" site.conf || true)
    [ "$count" = 1 ] || fail "the site file has '$1' $count times, not once: update this test with it"
    OLD=$1 NEW=$2 python3 -c 'import os; p="site.conf"; s=open(p).read(); open(p,"w").write(s.replace(os.environ["OLD"], os.environ["NEW"]))'
}
substitute "server 127.0.0.1:8470;" "server 127.0.0.1:$server_port;"
substitute "listen 80;" "listen 127.0.0.1:$http_port;"
substitute "listen [::]:80;" "listen [::1]:$http_port;"
substitute "listen 443 ssl http2;" "listen 127.0.0.1:$https_port ssl http2;"
substitute "listen [::]:443 ssl http2;" "listen [::1]:$https_port ssl http2;"
substitute "ssl_certificate /etc/letsencrypt/live/clipdeck.example.com/fullchain.pem;" "ssl_certificate $WORK/site.pem;"
substitute "ssl_certificate_key /etc/letsencrypt/live/clipdeck.example.com/privkey.pem;" "ssl_certificate_key $WORK/site.key;"
substitute "client_max_body_size 4g;" "client_max_body_size 1m;"
mkdir -p temp
chmod 0777 temp
cat >nginx.conf <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log info;
events { worker_connections 256; }
http {
    access_log $WORK/nginx-access.log;
    client_body_temp_path $WORK/temp/body;
    proxy_temp_path $WORK/temp/proxy;
    fastcgi_temp_path $WORK/temp/fastcgi;
    uwsgi_temp_path $WORK/temp/uwsgi;
    scgi_temp_path $WORK/temp/scgi;
    include $WORK/site.conf;
}
CONF
nginx -t -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" >nginx-t.log 2>&1 || {
    cat nginx-t.log
    fail "nginx -t"
}
nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" -g "daemon off;" >>nginx-error.log 2>&1 &
pids+=($!)

host=clipdeck.example.com
base=https://$host:$https_port
tls=(--resolve "$host:$https_port:127.0.0.1" --resolve "$host:$http_port:127.0.0.1")
c() { curl -sS "${tls[@]}" --cacert "$WORK/ca.pem" "$@"; }
auth=(-H "Authorization: Bearer $token")
wait_for 30 c -o /dev/null "$base/healthz" || fail "nginx does not answer on https"

echo "== TLS: refused without the CA, verified with it"
if curl -sS "${tls[@]}" -o /dev/null "$base/healthz" 2>untrusted.err; then
    fail "a certificate from an unknown CA was accepted"
fi
grep -qi "certificate" untrusted.err || fail "refused for another reason: $(cat untrusted.err)"
[ "$(c -o /dev/null -w '%{http_code}' "$base/healthz")" = 200 ] || fail "/healthz over https"
[ "$(c -o /dev/null -w '%{http_code} %{redirect_url}' "http://$host:$http_port/api/jobs?x=1")" = \
    "301 https://$host/api/jobs?x=1" ] || fail "http does not redirect to https"

echo "== the event stream stays open and delivers as the server writes"
c -N "${auth[@]}" "$base/api/events" >events.txt 2>events.err &
events_pid=$!
pids+=($events_pid)
wait_for 30 grep -q "^:" events.txt || fail "no heartbeat comment came through the open stream"

echo "== REST through the proxy: upload, submit"
ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -c:v libx264 -pix_fmt yuv420p clip.mp4
media=$(c -f "${auth[@]}" -H "X-Filename: clip.mp4" --data-binary @clip.mp4 "$base/api/media") || fail "upload"
media_id=$(echo "$media" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
job=$(c -f "${auth[@]}" -H "Content-Type: application/json" -d "{\"kind\":\"thumbnails\",\"mediaId\":\"$media_id\"}" \
    "$base/api/jobs") || fail "submit"
job_id=$(echo "$job" | python3 -c 'import json,sys; print(json.load(sys.stdin)["jobId"])')
wait_for 120 grep -q "\"jobId\":\"$job_id\".*\"status\":\"complete\"" events.txt ||
    fail "the job's complete event did not come through the open stream"
kill -0 "$events_pid" 2>/dev/null || fail "the stream closed (events were held until it ended?)"
[ "$(c "${auth[@]}" "$base/api/jobs" | grep -o "$job_id" | head -1)" = "$job_id" ] || fail "GET /api/jobs"

echo "== Last-Event-ID resume through the proxy"
# A finished job's stream is its last state alone; with Last-Event-ID: 1 the server replays every
# event after the first, through nginx, in order.
c "${auth[@]}" "$base/api/jobs/$job_id/stream" >stream.txt || fail "the job's stream"
last=$(sed -n 's/^id: *//p' stream.txt | tail -1)
((last >= 3)) || fail "the job had $last events"
c "${auth[@]}" -H "Last-Event-ID: 1" "$base/api/jobs/$job_id/stream" >resumed.txt || fail "resume"
[ "$(sed -n 's/^id: *//p' resumed.txt | tr '\n' ' ')" = "$(seq -s ' ' 2 "$last") " ] ||
    fail "resuming after 1 gave the ids $(sed -n 's/^id: *//p' resumed.txt | tr '\n' ' '), not 2..$last"

echo "== uploads: the limit reaches the server, one byte more is refused by nginx"
head -c 1048576 /dev/urandom >limit.bin
head -c 1048577 /dev/urandom >over.bin
code=$(c -o limit.out -w '%{http_code}' "${auth[@]}" -H "X-Filename: noise.bin" --data-binary @limit.bin "$base/api/media")
grep -q '"error"' limit.out && [ "$code" != 413 ] ||
    fail "an upload of exactly the limit did not reach the server ($code: $(head -c 200 limit.out))"
code=$(c -o over.out -w '%{http_code}' "${auth[@]}" -H "X-Filename: noise.bin" --data-binary @over.bin "$base/api/media")
[ "$code" = 413 ] && grep -q nginx over.out || fail "an upload over the limit got $code, not nginx's 413"

echo "== X-Forwarded-For: the client nginx saw, not the one a client claims"
c -o /dev/null --interface 127.0.0.2 "${auth[@]}" -H "X-Forwarded-For: 203.0.113.9" -H "X-Forwarded-Proto: http" \
    "$base/api/jobs?from=second-client"
wait_for 10 grep -q "clipdeck.server.access: 127.0.0.2 https GET /api/jobs 200" server.log ||
    fail "the server did not log the client address 127.0.0.2 over https"
! grep -q "203.0.113.9" server.log || fail "the address the client claimed reached the log"

kill "$events_pid" 2>/dev/null || true
echo "nginx test: passed"
