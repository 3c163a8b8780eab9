#!/usr/bin/env bash
# The packages as a user gets them: installed with apt into a fresh, minimal Debian 12 root, then
# the installed programs run there, then the packages purged. See tests/package/CMakeLists.txt.
#
#   install-test.sh DEB_DIR WORK_DIR
#
# The root is debootstrap's minbase from Debian's archive (the mirror this machine's apt uses),
# plus the tools the test itself drives (systemd for systemd-analyze, man-db, curl). It is made
# once and kept as a tarball in ${XDG_CACHE_HOME:-~/.cache}/clipdeck/, and the .debs apt fetches
# are kept beside it: a rerun downloads nothing it already has. systemd does not run in a chroot:
# the server is started as its user with the unit's own ExecStart line, read from the installed
# unit, after doing what StateDirectory= would. Needs root (chroot, mounts, a network namespace).
set -euo pipefail
export LC_ALL=C

deb_dir=$(realpath "$1")
work=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
step_start=$(date +%s)
step() {
    local now
    now=$(date +%s)
    echo "== [$((now - step_start)) s] $*"
}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

if [ "$(id -u)" -ne 0 ]; then
    echo "install-test: needs root (debootstrap, chroot, mount); CI runs as root. Skipped." >&2
    exit 77
fi
for tool in debootstrap unshare ip ffmpeg; do
    command -v "$tool" >/dev/null || fail "$tool is missing: run installer/install-deps.sh"
done
debs=("$deb_dir"/clipdeck_*.deb "$deb_dir"/clipdeck-server_*.deb)
for d in "${debs[@]}"; do [ -f "$d" ] || fail "no package $d (the package_build test makes them)"; done

# --- the cached base root ---
cache=${XDG_CACHE_HOME:-$HOME/.cache}/clipdeck
mkdir -p "$cache/apt-archives/partial"
# The mirror this machine's apt uses (deb822 or one-line sources), else Debian's own.
mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\(http[^ ]*\/debian\)\/\{0,1\} .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
security=$(sed -n 's/^URIs: *\(http[^ ]*\/debian-security\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
[ -n "$security" ] || security=${mirror}-security
include=systemd,man-db,curl,procps
base=$cache/debootstrap-bookworm-minbase-$(echo "$include $mirror" | md5sum | cut -c1-8).tar
exec 9>"$cache/lock"
flock 9 # one run at a time builds or reads the cache

root=$work/root
mounted=()
cleanup() {
    local m
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        m=${mounted[i]}
        umount -l "$m" 2>/dev/null || true
    done
    [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$root"
}
trap cleanup EXIT
mount_into() { # mount_into ARGS... TARGET
    mount "$@"
    mounted+=("${!#}")
}
in_root() { chroot "$root" "$@"; }

write_sources() {
    cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
SOURCES
}

rm -rf "$work"
mkdir -p "$work"
if [ ! -f "$base" ]; then
    step "making the Debian 12 base root (debootstrap minbase from $mirror; cached in $base)"
    debootstrap --variant=minbase --include="$include" --cache-dir="$cache/apt-archives" \
        bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
        tail -20 "$work/debootstrap.log"
        fail "debootstrap"
    }
    write_sources
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mount_into -t proc proc "$root/proc"
    mount_into --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
    in_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive in_root apt-get -y -qq dist-upgrade >"$work/dist-upgrade.log" 2>&1 || {
        tail -20 "$work/dist-upgrade.log"
        fail "apt-get dist-upgrade in the base root"
    }
    umount "$root/var/cache/apt/archives" "$root/proc"
    mounted=()
    tar -C "$root" -cf "$base.part" . && mv "$base.part" "$base"
    rm -rf "$root"
fi
step "unpacking the base root"
mkdir -p "$root"
tar -C "$root" -xf "$base"
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount_into -t proc proc "$root/proc"
mount_into --bind /dev "$root/dev"
mount_into --bind /dev/pts "$root/dev/pts"
mount_into --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
# The .debs this machine's own apt already fetched (install-deps.sh): the same archive, so apt
# takes them instead of downloading them again. Hard links, when on the same file system.
for f in /var/cache/apt/archives/*.deb; do
    [ -e "$cache/apt-archives/${f##*/}" ] || ln "$f" "$cache/apt-archives/" 2>/dev/null || break
done
if [ -z "$(find "$root/var/lib/apt/lists" -maxdepth 1 -name '*Packages*' -mmin -360 2>/dev/null | head -1)" ]; then
    step "apt-get update (the cached lists are over 6 hours old)"
    in_root apt-get update -qq
fi

# The desktop app runs as an ordinary user, made before the snapshot (useradd leaves backups).
in_root useradd --create-home --shell /bin/bash editor
# What the root holds before: every path, for the comparison after the purge.
snapshot() {
    (cd "$root" && find . -xdev \( -path ./proc -o -path ./dev -o -path ./tmp -o -path ./var/cache/apt/archives \
        -o -path ./run \) -prune -o -print | sort)
}
snapshot >"$work/before.txt"

# --- install ---
step "apt install ${debs[*]##*/} (dependencies resolved by apt)"
mkdir -p "$root/tmp/debs"
cp "${debs[@]}" "$root/tmp/debs/"
DEBIAN_FRONTEND=noninteractive in_root apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-unsafe-io "${debs[@]/#*\//\/tmp\/debs\/}" >"$work/apt-install.log" 2>&1 || {
    tail -30 "$work/apt-install.log"
    fail "apt install"
}
grep -E "^(Setting up|Unpacking) clipdeck" "$work/apt-install.log" | sed 's/^/  /'
echo "  $(grep -c '^Setting up' "$work/apt-install.log") packages set up"
in_root dpkg -L clipdeck clipdeck-server | sort >"$work/package-files.txt"

# --- the unit ---
unit=$root/lib/systemd/system/clipdeck-server.service
[ -f "$unit" ] || fail "the unit is not installed at /lib/systemd/system/clipdeck-server.service"
step "systemd-analyze verify clipdeck-server.service (in the root)"
in_root systemd-analyze verify clipdeck-server.service 2>&1 | tee "$work/verify.txt"
[ ! -s "$work/verify.txt" ] || fail "systemd-analyze verify reported the lines above"
[ -L "$root/etc/systemd/system/multi-user.target.wants/clipdeck-server.service" ] ||
    fail "postinst did not enable clipdeck-server.service"
in_root getent passwd clipdeck-server >/dev/null || fail "postinst did not create the clipdeck-server user"
[ "$(stat -c %a "$root/etc/clipdeck/server.conf")" = 644 ] || fail "/etc/clipdeck/server.conf mode"
grep -qx /etc/clipdeck/server.conf "$root/var/lib/dpkg/info/clipdeck-server.conffiles" ||
    fail "/etc/clipdeck/server.conf is not a conffile"
unit_value() { sed -n "s/^$1=//p" "$unit" | tail -1; }
user=$(unit_value User)
group=$(unit_value Group)
state=$(unit_value StateDirectory)
state_mode=$(unit_value StateDirectoryMode)
exec_start=$(unit_value ExecStart)
umask_value=$(unit_value UMask)
[ -n "$user" ] && [ -n "$state" ] && [ -n "$exec_start" ] || fail "User=, StateDirectory= or ExecStart= missing"
echo "  ExecStart=$exec_start (User=$user, StateDirectory=$state)"

# --- inside: the installed programs, in their own network namespace (port 8470 free) ---
ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=25:duration=3 -f lavfi -i sine=frequency=440:duration=3 \
    -c:v libx264 -pix_fmt yuv420p -c:a aac -shortest "$root/tmp/clip.mp4"
cat >"$root/tmp/inside.sh" <<INSIDE
#!/bin/bash
set -euo pipefail
export LC_ALL=C
say() { echo "  - \$*"; }
fail() { echo "FAIL: \$*" >&2; exit 1; }
cd /tmp

say "clipdeck-cli probe"
clipdeck-cli probe /tmp/clip.mp4 >probe.txt || { cat probe.txt; fail "clipdeck-cli probe exited \$?"; }
grep -q h264 probe.txt || { cat probe.txt; fail "probe does not show the h264 stream"; }
say "clipdeck-cli render thumbnails"
mkdir -p thumbs
clipdeck-cli render thumbnails /tmp/clip.mp4 --param count=4 --output /tmp/thumbs >render.txt 2>&1 ||
    { cat render.txt; fail "clipdeck-cli render thumbnails"; }
[ "\$(find thumbs -type f | wc -l)" -ge 4 ] || { ls -R thumbs; fail "no thumbnails"; }
man -w clipdeck-cli >/dev/null || fail "man clipdeck-cli"

say "clipdeck-server as $user, StateDirectory=$state made as systemd would, ExecStart from the unit"
install -d -o "$user" -g "$group" -m "${state_mode:-0755}" "/var/lib/$state"
( umask ${umask_value:-0022}
  exec setpriv --reuid="$user" --regid="$group" --init-groups --no-new-privs -- \
      env -i PATH=/usr/bin:/bin LANG=C.UTF-8 $exec_start ) >server.log 2>&1 &
echo \$! >server.pid
trap 'kill \$(cat /tmp/server.pid) 2>/dev/null || true' EXIT # never left running, even on a failure
for i in \$(seq 600); do grep -q "listening on" server.log && break; kill -0 \$(cat server.pid) || break; sleep 0.1; done
grep -q "listening on http://127.0.0.1:8470" server.log || { cat server.log; fail "the server did not start"; }
grep -q "access token written to /var/lib/$state/tokens" server.log || { cat server.log; fail "no token path in the log"; }
[ "\$(stat -c '%a %U' /var/lib/$state/tokens)" = "600 $user" ] || fail "tokens file: \$(stat -c '%a %U' /var/lib/$state/tokens)"
token=\$(awk '!/^#/ {print \$1; exit}' /var/lib/$state/tokens)
media=\$(curl -sf -H "Authorization: Bearer \$token" -H "X-Filename: clip.mp4" --data-binary @/tmp/clip.mp4 \
    http://127.0.0.1:8470/api/media) || fail "upload"
media_id=\$(echo "\$media" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
job=\$(curl -sf -H "Authorization: Bearer \$token" -H "Content-Type: application/json" \
    -d "{\"kind\":\"thumbnails\",\"mediaId\":\"\$media_id\"}" http://127.0.0.1:8470/api/jobs) || fail "submit"
job_id=\$(echo "\$job" | sed -n 's/.*"jobId":"\([^"]*\)".*/\1/p;s/.*"id":"\([^"]*\)".*/\1/p' | head -1)
say "job \$job_id streamed with clipdeck-cli watch"
clipdeck-cli watch "http://127.0.0.1:8470/api/jobs/\$job_id/stream?access_token=\$token" --jsonl >watch.jsonl 2>watch.err ||
    { cat watch.err; fail "clipdeck-cli watch"; }
grep -qF 'status\\":\\"complete' watch.jsonl || { cat watch.jsonl; fail "the job's stream did not end complete"; }
say "reload (SIGHUP, as ExecReload) re-reads the tokens file"
echo "reload-token-0123456789abcdef second" >>/var/lib/$state/tokens
kill -HUP \$(cat server.pid)
for i in \$(seq 100); do grep -q "SIGHUP, 2 token(s) loaded" server.log && break; sleep 0.1; done
curl -sf -o /dev/null -H "Authorization: Bearer reload-token-0123456789abcdef" http://127.0.0.1:8470/api/jobs ||
    { cat server.log; fail "the reloaded token is refused"; }
kill -TERM \$(cat server.pid)
for i in \$(seq 150); do kill -0 \$(cat server.pid) 2>/dev/null || break; sleep 0.1; done
grep -q "clipdeck-server: stopped" server.log || { cat server.log; fail "the server did not stop cleanly"; }

say "clipdeck (offscreen) --submit thumbnails=clip.mp4 --quit-when-idle, as a user"
cp /tmp/clip.mp4 /home/editor/clip.mp4 && chown editor: /home/editor/clip.mp4
set +e
setpriv --reuid=editor --regid=editor --init-groups -- env -i HOME=/home/editor PATH=/usr/bin:/bin LANG=C.UTF-8 \
    QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=/tmp/editor-runtime \
    sh -c 'mkdir -p -m 700 /tmp/editor-runtime; cd ~ && exec clipdeck --data-dir ~/run --submit thumbnails=clip.mp4 --quit-when-idle' \
    >desktop.out 2>desktop.err
code=\$?
set -e
sed 's/^/    clipdeck: /' desktop.err
[ \$code -eq 0 ] || fail "clipdeck exited \$code"
if grep -E "qml:|QQmlApplicationEngine failed|is not installed|module .* not found|plugin .* not|Cannot load|could not be loaded|driver not loaded|Could not find the Qt platform plugin|Failed to" desktop.err; then
    fail "clipdeck printed the warnings above"
fi
[ "\$(find /home/editor/run/outputs -type f | wc -l)" -ge 1 ] || fail "the desktop job wrote no output"
INSIDE
step "running the installed programs (inside the root, own network namespace)"
unshare --net -- sh -c "ip link set lo up && chroot '$root' /bin/bash /tmp/inside.sh" 9>&- || {
    echo "--- server.log"
    cat "$root/tmp/server.log" 2>/dev/null || true
    fail "inside the root"
}

# --- purge ---
step "apt purge clipdeck clipdeck-server, then autoremove --purge"
DEBIAN_FRONTEND=noninteractive in_root apt-get purge -y -q clipdeck clipdeck-server >"$work/purge.log" 2>&1 || {
    tail -20 "$work/purge.log"
    fail "purge"
}
grep -q "data in /var/lib/clipdeck-server is kept" "$work/purge.log" || fail "purge did not say the data is kept"
DEBIAN_FRONTEND=noninteractive in_root apt-get autoremove --purge -y -q >>"$work/purge.log" 2>&1
rm -rf "$root/home/editor/run" "$root/home/editor/clip.mp4" "$root/home/editor/.cache" "$root/home/editor/.config" \
    "$root/home/editor/.local"
snapshot >"$work/after.txt"
# Left behind: the data (kept on purge, by design) and what apt, dpkg and caches keep of any
# package; nothing of ours anywhere else.
comm -13 "$work/before.txt" "$work/after.txt" |
    grep -vE "^\./var/lib/$state(/|$)|^\./var/(lib/(dpkg|apt|systemd/deb-systemd-helper-(enabled|masked)|ucf)|cache/(apt|debconf|man|ldconfig|fontconfig)|log)(/|$)" \
        >"$work/left.txt" || true
if [ -s "$work/left.txt" ]; then
    cat "$work/left.txt"
    fail "these paths are left after the purge"
fi
while read -r f; do
    case $f in "" | /. | /etc | /lib | /lib/systemd | /lib/systemd/system | /usr | /usr/* ) [ -d "$root$f" ] && continue ;; esac
    [ ! -e "$root$f" ] || fail "$f (from the packages) is still there"
done <"$work/package-files.txt"
[ -d "$root/var/lib/$state" ] || fail "the data directory went with the purge"
[ ! -e "$root/etc/clipdeck" ] || fail "/etc/clipdeck is left after the purge"
step "done"
