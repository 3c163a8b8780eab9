#!/usr/bin/env bash
# The packaging's files, checked by their validators and against the programs they describe:
# the desktop file (desktop-file-validate), the AppStream metainfo (appstreamcli), the man pages
# (man --warnings, as lintian runs it; and every option of each program's --help is in its page),
# the bash completion (driven like bash does, against the built clipdeck-cli).
#   check-files.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
export LC_ALL=C.UTF-8
src=$(realpath "$1")
build=$(realpath "$2")
bin=$build/bin
status=0
bad() {
    echo "FAIL: $*" >&2
    status=1
}

echo "== desktop-file-validate clipdeck.desktop"
desktop-file-validate "$src/resources/clipdeck.desktop" || bad "desktop-file-validate"
echo "== appstreamcli validate --no-net org.clipdeck.Clipdeck.metainfo.xml"
appstreamcli validate --no-net "$src/resources/org.clipdeck.Clipdeck.metainfo.xml" || bad "appstreamcli validate"

man_dir=$build/installer/generated/man
cmake --build "$build" --target clipdeck_install_data >/dev/null
pages=(clipdeck-cli clipdeck-server)
[ -x "$bin/clipdeck" ] && pages+=(clipdeck)
for page in "${pages[@]}"; do
    echo "== man --warnings $page.1"
    warnings=$(MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$man_dir/$page.1" 2>&1 >/dev/null)
    [ -z "$warnings" ] || bad "$page.1: $warnings"
    grep -q "@VERSION@" "$man_dir/$page.1" && bad "$page.1: @VERSION@ not filled in"
done

# Every option a program's --help lists is in its man page, as a reader sees the page.
documented() { # documented PAGE HELP_TEXT
    local option text
    text=$(groff -man -Tascii -P-c "$man_dir/$1.1" 2>/dev/null | col -b)
    for option in $(echo "$2" | grep -oE -- '(^|[ ,])--[a-z][a-z-]*' | sed 's/^[ ,]*//' | sort -u); do
        grep -qE -- "(^|[^A-Za-z0-9-])$option([^A-Za-z0-9-]|$)" <<<"$text" || bad "$1.1 does not document $option"
    done
}
echo "== every option of --help in the man pages"
documented clipdeck-server "$("$bin/clipdeck-server" --help)"
for command in probe render watch; do
    documented clipdeck-cli "$("$bin/clipdeck-cli" "$command" --help)"
done
if [ -x "$bin/clipdeck" ]; then
    documented clipdeck "$(QT_QPA_PLATFORM=offscreen "$bin/clipdeck" --help 2>/dev/null)"
fi

echo "== bash completion of clipdeck-cli"
complete_line() { # complete_line WORDS... (the last is the word being completed)
    bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        _clipdeck_cli
        printf "%s\n" "${COMPREPLY[@]}" | sort' _ "$src/installer/bash-completion/clipdeck-cli" "$@"
}
expect() { # expect "WORDS" EXPECTED...
    local words=$1 got
    shift
    # shellcheck disable=SC2086
    got=$(cd "$build" && complete_line "$bin/clipdeck-cli" $words | tr '\n' ' ')
    for want in "$@"; do
        [[ " $got" == *" $want "* ]] || bad "completing '$words' gave '$got', no '$want'"
    done
}
expect "pr" probe
expect "render ''" probe transcode proxy thumbnails scenes waveform
expect "render --ev" --events
expect "render --output bin --par" --param
expect "watch --js" --jsonl
expect "probe --max-f" --max-frame-pixels
expect "watch --method ''" GET POST
presets=$(cd "$src/resources/presets" && ls -- *.json | sed 's/\.json$//')
# shellcheck disable=SC2086
expect "render --preset ''" $presets
got=$(cd "$build" && complete_line "$bin/clipdeck-cli" render --preset "" | sort | tr '\n' ' ')
[ "$got" = "$(echo "$presets" | sort | tr '\n' ' ')" ] || bad "--preset completes '$got', the presets are '$presets'"

[ $status -eq 0 ] && echo "all packaging files pass"
exit $status
