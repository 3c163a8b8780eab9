#!/usr/bin/env bash
# Makes the .deb packages from a build tree that is already built (the CI tree: one build serves
# the tests and the packages), into OUT_DIR, and lists them with their control fields.
#   build-packages.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=$(realpath "$1")
out=$(realpath -m "$2")
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
cmake --build "$build" --target clipdeck_install_data >/dev/null
cpack --config "$build/CPackConfig.cmake" -B "$out/cpack" >"$out/cpack.log" 2>&1 || {
    cat "$out/cpack.log"
    exit 1
}
mv "$out"/cpack/*.deb "$out/"
for deb in "$out"/*.deb; do
    echo "== ${deb##*/} ($(du -k "$deb" | cut -f1) KiB)"
    dpkg-deb --field "$deb" Package Version Architecture Depends Recommends
done
echo "packages made in $(($(date +%s) - start)) s"
