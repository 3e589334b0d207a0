#!/usr/bin/env bash
# `vigie report --html` on the corpus replay, rendered by headless Chromium
# (issue 11): the screenshot is written and not blank, and the DOM Chromium
# built holds the three SVG charts and the totals, which this script computes
# on its own from the decision log with python3's json.
#
# usage: report_html_test.sh VIGIE CONFIG CORPUS_DIR WORK_DIR
# Exit 77 (skipped) when the corpus or Chromium is absent.
set -euo pipefail

vigie=$1 config=$2 corpus=$3 work=$4

shopt -s nullglob
pcaps=("$corpus"/pcaps/*)
if [ ${#pcaps[@]} -eq 0 ]; then
  echo "SKIP: no captures in $corpus/pcaps (the shared corpus is not here)"
  exit 77
fi
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
  echo "SKIP: chromium is not installed (deploy/install-deps.sh installs it)"
  exit 77
fi

rm -rf "$work" && mkdir -p "$work"
"$vigie" replay --config "$config" --log-all --log "$work/decisions.jsonl" "${pcaps[@]}" 2>"$work/replay.err"
# The report reads the gzip copy: rotated logs are compressed.
gzip -c "$work/decisions.jsonl" >"$work/decisions.jsonl.gz"
"$vigie" report "$work/decisions.jsonl.gz" --html "$work/report.html" >"$work/report.txt"
# Plain from standard input reads the same as gzip from a file.
"$vigie" report - <"$work/decisions.jsonl" >"$work/report-stdin.txt"
if ! cmp -s "$work/report.txt" "$work/report-stdin.txt"; then
  echo "FAIL: the report of the gzip file and of the plain log on stdin differ:"
  diff "$work/report.txt" "$work/report-stdin.txt" | head -20
  exit 1
fi

# Chromium's profile in the work dir: tests and engineers share the machine.
# Chromium may outlive its page; the timeout bounds a hung renderer.
chrome() {
  local page=$1
  shift
  timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$work/profile" --window-size=1280,2000 "$@" "file://$work/$page"
}
chrome report.html --screenshot="$work/report.png" >"$work/chromium-shot.log" 2>&1
chrome report.html --dump-dom >"$work/dom.html" 2>"$work/chromium-dom.log"
# The sortable tables: a copy of the page clicks the devices table's "blocks"
# header once (ascending); the dumped DOM shows the rows' order.
sed 's#</body>#<script>document.querySelectorAll("\#table-devices th")[2].click();</script></body>#' \
  "$work/report.html" >"$work/sorted.html"
chrome sorted.html --dump-dom >"$work/sorted-dom.html" 2>"$work/chromium-sorted.log"

python3 - "$work" <<'PY'
import collections, html.parser, json, struct, sys, zlib

work = sys.argv[1]
fail = []

# The decisions, counted here independently of vigie report.
totals = collections.Counter()
blocks_per_app = collections.Counter()
devices, names = set(), set()
for line in open(f"{work}/decisions.jsonl", encoding="utf-8"):
    d = json.loads(line)
    totals[d["action"]] += 1
    if d.get("src_ip"):
        devices.add(d["src_ip"])
    if d.get("domain"):
        names.add(d["domain"])
    if d["action"] == "block":
        blocks_per_app[d.get("app") or "(%s)" % d.get("reason")] += 1
n = sum(totals.values())
if n == 0 or totals["block"] == 0:
    fail.append(f"the corpus replay gave {n} decisions, {totals['block']} blocks: nothing to report")

# Screenshot: a PNG of the window size, not blank.
png = open(f"{work}/report.png", "rb").read()
if png[:8] != b"\x89PNG\r\n\x1a\n":
    fail.append("screenshot is not a PNG")
else:
    w, h = struct.unpack(">II", png[16:24])
    if (w, h) != (1280, 2000):
        fail.append(f"screenshot is {w}x{h}, not 1280x2000")
    if len(png) < 20 * 1024:
        fail.append(f"screenshot is {len(png)} bytes: blank?")
    pos, idat = 8, b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos:pos + 4])
        kind = png[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    # Undo the PNG row filters (RFC 2083 6) over the top half, where the KPIs
    # and charts are, and count colours: a blank page has one.
    bpp = {2: 3, 6: 4}.get(png[25], 3)
    stride = w * bpp
    prev = bytearray(stride)
    colours = collections.Counter()
    for row in range(min(h, 1000)):
        f = raw[row * (stride + 1)]
        cur = bytearray(raw[row * (stride + 1) + 1:(row + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                cur[i] = (cur[i] + cur[i - bpp]) & 255
        elif f == 2:
            cur = bytearray((a + b) & 255 for a, b in zip(cur, prev))
        elif f == 3:
            for i in range(stride):
                left = cur[i - bpp] if i >= bpp else 0
                cur[i] = (cur[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = cur[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        if row % 4 == 0:
            colours.update(bytes(cur[i:i + 3]) for i in range(0, stride, bpp * 4))
        prev = cur
    top_share = colours.most_common(1)[0][1] / sum(colours.values())
    if len(colours) < 16 or top_share > 0.97:
        fail.append(f"screenshot has {len(colours)} colours, the commonest {top_share:.0%}: blank?")
    print(f"screenshot: {len(png)} bytes, {w}x{h}, {len(colours)} colours sampled, commonest {top_share:.0%}")


class Dom(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.svgs, self.attrs, self.bars, self.app_bars, self.device_bars = {}, {}, [], {}, {}
        self.app_rows, self.scripts, self.external = {}, 0, []
        self.in_svg = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k, v in a.items():
            if k.startswith("data-total-"):
                self.attrs[k] = int(v)
            if k in ("src", "href") or (k == "style" and "url(" in (v or "")):
                self.external.append((tag, k, v))
        if tag == "script":
            self.scripts += 1
        if tag == "svg":
            self.svgs[a.get("id")] = a
            self.in_svg = a.get("id")
        if tag == "g" and a.get("class") == "bar" and self.in_svg == "chart-timeline":
            self.bars.append({k: int(a[f"data-{k}"]) for k in ("block", "log", "allow", "total")})
        if tag == "g" and a.get("class") == "hbar":
            if self.in_svg == "chart-apps":
                self.app_bars[a["data-app"]] = int(a["data-value"])
            if self.in_svg == "chart-devices":
                self.device_bars[a["data-device"]] = int(a["data-value"])
        if tag == "td" and "data-blocks" in a:
            self.app_rows[len(self.app_rows)] = int(a["data-v"])

    def handle_endtag(self, tag):
        if tag == "svg":
            self.in_svg = None


dom = Dom()
dom.feed(open(f"{work}/dom.html", encoding="utf-8").read())
for chart in ("chart-timeline", "chart-apps", "chart-devices"):
    if chart not in dom.svgs:
        fail.append(f"no <svg id={chart}> in the DOM")
want = {"data-total-decisions": n, "data-total-blocks": totals["block"], "data-total-logs": totals["log"],
        "data-total-allows": totals["allow"], "data-total-devices": len(devices),
        "data-total-names": len(names), "data-total-bad-lines": 0}
for k, v in want.items():
    if dom.attrs.get(k) != v:
        fail.append(f"{k}: DOM says {dom.attrs.get(k)}, the log says {v}")
for k in ("block", "log", "allow", "total"):
    got = sum(b[k] for b in dom.bars)
    expect = n if k == "total" else totals[k]
    if got != expect:
        fail.append(f"timeline bars sum to {got} {k}, the log has {expect}")
top_apps = dict(blocks_per_app.most_common(12))
for app, v in dom.app_bars.items():
    if app != "(other apps)" and top_apps.get(app) != v:
        fail.append(f"chart-apps bar {app}={v}, the log says {top_apps.get(app)}")
if sum(dom.app_bars.values()) != totals["block"]:
    fail.append(f"chart-apps bars sum to {sum(dom.app_bars.values())}, the log has {totals['block']} blocks")
if sorted(dom.app_rows.values(), reverse=True) != sorted(blocks_per_app.values(), reverse=True):
    fail.append(f"table-apps blocks {sorted(dom.app_rows.values())} != {sorted(blocks_per_app.values())}")
if not dom.device_bars:
    fail.append("chart-devices has no bars although the log has blocks")
if dom.scripts != 1 or dom.external:
    fail.append(f"{dom.scripts} scripts, external references {dom.external[:5]}: not self-contained")

# After one click on "blocks": ascending; the page as written: descending.
def device_blocks(path):
    class Rows(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.table, self.col, self.values = False, -1, []
        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "table":
                self.table = a.get("id") == "table-devices"
            if self.table and tag == "tr":
                self.col = -1
            if self.table and tag == "td":
                self.col += 1
                if self.col == 2:
                    self.values.append(int(a["data-v"]))
    p = Rows()
    p.feed(open(path, encoding="utf-8").read())
    return p.values
before, after = device_blocks(f"{work}/dom.html"), device_blocks(f"{work}/sorted-dom.html")
if before != sorted(before, reverse=True) or after != sorted(before) or before == after:
    fail.append(f"sorting the devices table by blocks: {before} -> {after}")

print(f"log: {n} decisions {dict(totals)}, {len(devices)} devices, {len(names)} names, blocks {dict(blocks_per_app)}")
print(f"DOM: {len(dom.bars)} timeline bars, {len(dom.app_bars)} app bars, {len(dom.device_bars)} device bars")
if fail:
    print("FAIL:\n  " + "\n  ".join(fail))
    sys.exit(1)
print("ok: report page rendered, charts and totals match the log")
PY
