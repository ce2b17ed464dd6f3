#!/usr/bin/env python3
"""Turn a coloured terminal capture into an SVG screenshot.

keyward's README screenshots are made with it (see assets/screenshots.sh):
tmux's `capture-pane -p -e` prints the screen as text with SGR escape
sequences, and this script draws that text as an SVG that looks like a terminal
window. Standard library only.

    tmux capture-pane -p -e -t SESSION > screen.ans
    python3 assets/ansi_to_svg.py screen.ans out.svg --title Keys [--cols 120 --rows 32]

Handles 16, 256 and truecolour foreground and background, bold, dim, italic,
underline, strike-through, reverse video and resets. Every cell has a fixed
width: each same-style run is placed at its own x and stretched to its cells
(textLength), wide characters take two cells, and light box-drawing characters
are drawn as lines so borders join whatever font the viewer has.
"""
import argparse
import re
import sys
import unicodedata
from html import escape

FONT = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace"
SIZE, CW, CH, PAD, BAR = 14, 8.4, 17, 12, 30  # font px, cell w/h, padding, title bar
BG, FG = "#1e1e1e", "#cccccc"
BASE16 = ["#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
          "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff"]
# Light box-drawing characters and the sides of the cell their lines reach.
BOX = {"─": "lr", "│": "ud", "┌": "rd", "┐": "ld", "└": "ru", "┘": "lu", "├": "udr", "┤": "udl",
       "┬": "lrd", "┴": "lru", "┼": "udlr", "╭": "rd", "╮": "ld", "╰": "ru", "╯": "lu"}
ON = {1: "bold", 2: "dim", 3: "italic", 4: "underline", 7: "reverse", 9: "strike"}
OFF = {22: ("bold", "dim"), 23: ("italic",), 24: ("underline",), 27: ("reverse",), 29: ("strike",),
       39: ("fg",), 49: ("bg",)}
ATTRS = {"bold": ' font-weight="bold"', "italic": ' font-style="italic"', "dim": ' fill-opacity="0.6"'}
SGR = re.compile(r"\x1b\[([0-9;:]*)m|\x1b\[[0-9;:?]*[A-Za-z]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b.")


def color256(n):
    """The colour of xterm's 256-colour palette entry n."""
    if n < 16:
        return BASE16[n]
    lv = [0, 95, 135, 175, 215, 255]
    r, g, b = (lv[(n - 16) // 36], lv[(n - 16) // 6 % 6], lv[(n - 16) % 6]) if n < 232 else [8 + 10 * (n - 232)] * 3
    return "#%02x%02x%02x" % (r, g, b)


def apply_sgr(st, params):
    """Update the style dict `st` with the parameters of one SGR sequence."""
    args = [[int(x or 0) for x in p.split(":")] for p in (params or "0").split(";")]
    while args:
        code, *sub = args.pop(0)
        if code in (38, 48):  # 38;5;n 38;2;r;g;b, or the colon forms 38:5:n 38:2:[space]:r:g:b
            if not sub:
                n = 2 if args[:1] == [[5]] else 4
                sub, args = [a[0] for a in args[:n]], args[n:]
            if sub[:1] == [5] and len(sub) > 1:
                st["fg" if code == 38 else "bg"] = color256(sub[1] % 256)
            elif sub[:1] == [2] and len(sub) > 3:
                st["fg" if code == 38 else "bg"] = "#%02x%02x%02x" % tuple(v % 256 for v in sub[-3:])
        elif code == 0:
            st.clear()
        elif code in ON:
            st[ON[code]] = sub != [0]  # 4:0 is underline off
        elif code in OFF:
            for k in OFF[code]:
                st.pop(k, None)
        elif 30 <= code <= 37 or 90 <= code <= 97:
            st["fg"] = BASE16[code - 30 if code < 90 else code - 82]
        elif 40 <= code <= 47 or 100 <= code <= 107:
            st["bg"] = BASE16[code - 40 if code < 100 else code - 92]


def parse(text):
    """The screen as rows of [char, style, width] cells (width 0 = covered by a wide char)."""
    rows, st = [], {}
    for line in text.rstrip("\n").split("\n"):  # the style carries over, as in a terminal
        row, parts = [], SGR.split(line)  # text, SGR parameters (None: another escape), text, ...
        for k, part in enumerate(parts):
            if k % 2:
                if part is not None:
                    apply_sgr(st, part)
                continue
            for ch in part:
                if unicodedata.combining(ch) and row:
                    row[-1][0] += ch
                elif ch >= " ":
                    wide = unicodedata.east_asian_width(ch) in "WF"
                    row.append([ch, dict(st), 2 if wide else 1])
                    if wide:
                        row.append(["", dict(st), 0])
        rows.append(row)
    return rows


def look(st):
    """What a style looks like: (fg, bg or None, SVG attributes), reverse video applied."""
    fg, bg = st.get("fg", FG), st.get("bg")
    if st.get("reverse"):
        fg, bg = bg or BG, fg
    attrs = "".join(v for k, v in ATTRS.items() if st.get(k))
    deco = " ".join(v for k, v in (("underline", "underline"), ("strike", "line-through")) if st.get(k))
    return fg, bg, attrs + (f' text-decoration="{deco}"' if deco else "")


def merge(segs):
    """Join touching segments (colour, fixed coordinate, start, end); grouped by colour."""
    out, last = {}, None
    for seg in sorted(segs):
        if last and seg[:2] == last[:2] and seg[2] <= last[3] + 0.01:
            last[3] = max(last[3], seg[3])
        else:
            last = list(seg)
            out.setdefault(seg[0], []).append(last)
    return out


def render(rows, cols, nrows, title):
    width, height = cols * CW + 2 * PAD, nrows * CH + 2 * PAD + BAR
    rects, texts, hseg, vseg = [], [], [], []
    for y, row in enumerate(rows[:nrows]):
        row = (row + [[" ", {}, 1]] * cols)[:cols]
        ty = BAR + PAD + y * CH
        x = 0
        while x < cols:  # one run = cells of one look, a wide char always alone
            fg, bg, attrs = look(row[x][1])
            end = min(x + max(row[x][2], 1), cols)
            while (end < cols and row[end][2] == 1 and row[x][2] == 1
                   and look(row[end][1]) == (fg, bg, attrs)):
                end += 1
            x0 = PAD + x * CW
            if bg:
                rects.append(f'<rect x="{x0:.1f}" y="{ty}" width="{(end - x) * CW:.1f}" height="{CH}" fill="{bg}"/>')
            chars = []
            for c in range(x, end):  # box-drawing lines go from the cell's centre to its sides
                sides, cx, cy = BOX.get(row[c][0], ""), PAD + (c + 0.5) * CW, ty + CH / 2
                hseg += [(fg, cy, cx - CW / 2 * (s == "l"), cx + CW / 2 * (s == "r")) for s in sides if s in "lr"]
                vseg += [(fg, cx, cy - CH / 2 * (s == "u"), cy + CH / 2 * (s == "d")) for s in sides if s in "ud"]
                chars.append(" " if sides else row[c][0])
            run = "".join(chars)
            if run.strip() or "underline" in attrs:
                texts.append(f'<text x="{x0:.1f}" y="{ty + CH * 0.78:.1f}" fill="{fg}"{attrs} '
                             f'textLength="{(end - x) * CW:.1f}">{escape(run)}</text>')
            x = end
    paths = [f'<path stroke="{c}" d="{" ".join(f"M{a:.1f} {f:.1f}H{b:.1f}" for _, f, a, b in segs)}"/>'
             for c, segs in merge(hseg).items()]
    paths += [f'<path stroke="{c}" d="{" ".join(f"M{f:.1f} {a:.1f}V{b:.1f}" for _, f, a, b in segs)}"/>'
              for c, segs in merge(vseg).items()]
    dots = "".join(f'<circle cx="{16 + 20 * i}" cy="{BAR / 2 + 2}" r="6" fill="{c}"/>'
                   for i, c in enumerate(["#ff5f57", "#febc2e", "#28c840"]))
    return "\n".join([
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.1f} {height}" font-family="{escape(FONT)}" font-size="{SIZE}">',
        f'<rect width="{width:.1f}" height="{height}" rx="8" fill="{BG}"/>',
        f'<rect width="{width:.1f}" height="{BAR}" rx="8" fill="#323232"/>'
        f'<rect y="{BAR - 8}" width="{width:.1f}" height="8" fill="#323232"/>',
        dots, f'<text x="{width / 2:.1f}" y="{BAR / 2 + 7}" fill="#a0a0a0" text-anchor="middle">{escape(title)}</text>',
        '<g shape-rendering="crispEdges">', *rects, "</g>",
        '<g stroke-width="1.2" fill="none">', *paths, "</g>",
        '<g xml:space="preserve" style="white-space:pre">', *texts, "</g>", "</svg>", ""])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help="capture-pane -p -e output, or - for standard input")
    ap.add_argument("output", help="the SVG to write")
    ap.add_argument("--title", default="keyward", help="text of the title bar")
    ap.add_argument("--cols", type=int, help="terminal width (default: the widest line)")
    ap.add_argument("--rows", type=int, help="terminal height (default: the number of lines)")
    a = ap.parse_args()
    text = (sys.stdin if a.input == "-" else open(a.input, encoding="utf-8")).read()
    rows = parse(text)
    cols = a.cols or max((len(r) for r in rows), default=1)
    with open(a.output, "w", encoding="utf-8") as f:
        f.write(render(rows, cols, a.rows or len(rows), a.title))


if __name__ == "__main__":
    main()
