#!/usr/bin/env bash
# Real screenshots of keyward's five tabs, a history row and two modals, as SVG
# in assets/.
#
#   bash assets/screenshots.sh
#
# Needs cargo, tmux and python3. Builds the release binary, fills a throwaway
# store with demo data, drives keyward in a private tmux server (120x32,
# 256 colours and truecolour), captures each screen with `capture-pane -p -e`
# and turns it into SVG with assets/ansi_to_svg.py.
set -euo pipefail

cd "$(dirname "$0")/.."
assets=assets
tmp=$(mktemp -d)
sock="$tmp/sock"
t() { tmux -S "$sock" "$@"; }
cleanup() {
    tmux -S "$sock" kill-server 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

cargo build --release
bin=target/release/keyward
"$bin" --db "$tmp/keyward.db" demo --keys 400 --history 3000

screen() { t capture-pane -p -t kw; }

# Wait until the screen shows TEXT (a fixed string), or give up after 10 s.
wait_for() {
    local i
    for i in $(seq 100); do
        if screen | grep -qF -- "$1"; then
            sleep 0.2 # let the frame finish drawing
            return 0
        fi
        sleep 0.1
    done
    echo "screenshots: timed out waiting for '$1'; the screen was:" >&2
    screen >&2
    exit 1
}

# Wait until the screen is no longer BEFORE (after Esc, so the next key is not read as Alt-key).
wait_change() {
    local i
    for i in $(seq 100); do
        [ "$(screen)" != "$1" ] && { sleep 0.2; return 0; }
        sleep 0.1
    done
    echo "screenshots: the screen did not change" >&2
    exit 1
}

# Capture the screen as assets/NAME.svg with TITLE in its title bar.
shot() {
    t capture-pane -p -e -t kw >"$tmp/$1.ans"
    python3 "$assets/ansi_to_svg.py" "$tmp/$1.ans" "$assets/$1.svg" \
        --title "keyward — $2" --cols 120 --rows 32
    echo "wrote $assets/$1.svg"
}

t -f /dev/null new-session -d -s kw -x 120 -y 32 \
    env -u DISPLAY TERM=xterm-256color COLORTERM=truecolor "$bin" --db "$tmp/keyward.db"
wait_for "Keys 1 of"

# Keys: two rows selected, then the details of the first row.
t send-keys -t kw Space Space g Enter
wait_for "Details ("
shot tab-keys "Keys"

t send-keys -t kw 2
wait_for "Query language"
shot tab-filters "Filters"

# Teams: a fresh selection of two keys further down.
t send-keys -t kw 3
wait_for "Teams ("
t send-keys -t kw A j j Space Space # Space moves down: the cursor ends on row 5
wait_for "Keys 5 of"
shot tab-teams "Teams"

t send-keys -t kw 4
wait_for "Credential history"
shot tab-history "History"

# One history row opened: what changed, before → after, and where from.
t send-keys -t kw Enter
wait_for "History row"
shot modal-history-row "History row"
t send-keys -t kw Escape
wait_for "Credential history"

t send-keys -t kw 5
wait_for "Instances ("
shot tab-directory "Directory"

# The new-key form, with a name typed and the instance list open.
t send-keys -t kw 1
wait_for "Keys 5 of"
t send-keys -t kw n
wait_for "New key"
t send-keys -t kw -l "nightly export"
t send-keys -t kw Tab
wait_for "Instances ("
shot modal-new-key "New key"
before=$(screen)
t send-keys -t kw Escape
wait_change "$before"
wait_for "Discard this form?"
t send-keys -t kw y
wait_for "Keys 5 of"

# The deactivate confirmation, for one active key.
t send-keys -t kw A /
t send-keys -t kw -l "status:active"
wait_for "/ status:active"
t send-keys -t kw Enter
wait_for "Keys 1 of"
t send-keys -t kw g x
wait_for "Deactivate 1 key"
shot modal-deactivate "Deactivate"
before=$(screen)
t send-keys -t kw n
wait_change "$before"

t send-keys -t kw q
for _ in $(seq 50); do t has-session -t kw 2>/dev/null || break; sleep 0.1; done
