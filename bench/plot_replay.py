#!/usr/bin/env python3
"""Plots BM_Replay results as an SVG bar chart (no matplotlib: SVG written directly).

    replay_benchmark --benchmark_out=replay.json --benchmark_out_format=json
    bench/plot_replay.py replay.json bench/replay.svg [--bench-json vigie_bench.json]

One group of bars per capture (mix, corpus), one bar per implementation
(pcap_loop, ndpi, vigie_1w, vigie_2w, vigie_1w_x2), height = million packets
per second (items_per_second, per CPU second for pcap_loop, ndpi and vigie_1w,
wall clock for vigie_2w and vigie_1w_x2, the two-thread ceiling; the median when the run has repetitions). With
--bench-json (the output of `vigie bench --json`), a third group shows
`vigie bench`'s figures per worker count. Exit 2 when the input holds no
BM_Replay result.
"""
import json
import sys
from xml.sax.saxutils import escape

COLORS = {"pcap_loop": "#888888", "ndpi": "#d9822b", "vigie_1w": "#2b6cd9", "vigie_2w": "#174a9e", "vigie_1w_x2": "#9bb7ea"}
EXTRA = ["#5aa05a", "#2f7a2f", "#1c521c", "#0e330e"]


def load(path):
    with open(path) as f:
        data = json.load(f)
    groups = {}  # capture -> {impl: mpps}
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        parts = name.split("/")
        if len(parts) < 3 or parts[0] != "BM_Replay" or "items_per_second" not in b:
            continue
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        if b.get("run_type") == "iteration" and any(
            x.get("run_type") == "aggregate" for x in data["benchmarks"]
        ):
            continue
        mpps = b["items_per_second"] / 1e6
        if parts[1] == "vigie_1w" and b.get("cpu_time"):
            # Manual (wall) time drives vigie's items_per_second; pcap_loop's and
            # ndpi's are per CPU second. One worker: per CPU second too, so the
            # bars compare on a shared machine. (vigie_2w stays wall-clock.)
            mpps = mpps * b["real_time"] / b["cpu_time"] if b.get("real_time") else mpps
        groups.setdefault(parts[2], {})[parts[1]] = mpps
    return groups, data.get("context", {})


def svg(groups, context, out):
    bar_w, gap, left, top, height = 46, 30, 70, 50, 300
    impls = []
    for g in groups.values():
        for i in g:
            if i not in impls:
                impls.append(i)
    n_bars = sum(len(g) for g in groups.values())
    width = left + n_bars * bar_w + (len(groups) + 1) * gap + 180
    peak = max(v for g in groups.values() for v in g.values())
    scale = height / (peak * 1.15)
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top + height + 70}" '
         'font-family="sans-serif" font-size="12">',
         f'<text x="{left}" y="22" font-size="15">BM_Replay: million packets per CPU second (vigie_2w, vigie_1w_x2: wall) '
         f'({escape(str(context.get("num_cpus", "?")))} CPUs, {escape(str(context.get("date", "")))})</text>']
    step = 10 ** max(0, len(str(int(peak))) - 1)
    y = 0.0
    while y <= peak * 1.15:
        py = top + height - y * scale
        o.append(f'<line x1="{left}" x2="{width - 180}" y1="{py:.1f}" y2="{py:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{left - 8}" y="{py + 4:.1f}" text-anchor="end">{y:g}</text>')
        y += step / 2 if peak < 5 * step else step
    x = left + gap
    for cap, g in groups.items():
        x0 = x
        for impl in impls:
            if impl not in g:
                continue
            v = g[impl]
            h = v * scale
            color = COLORS.get(impl) or EXTRA[impls.index(impl) % len(EXTRA)]
            o.append(f'<rect x="{x}" y="{top + height - h:.1f}" width="{bar_w - 6}" height="{h:.1f}" fill="{color}">'
                     f'<title>{escape(impl)} / {escape(cap)}: {v:.2f} Mpps</title></rect>')
            o.append(f'<text x="{x + (bar_w - 6) / 2}" y="{top + height - h - 4:.1f}" text-anchor="middle" '
                     f'font-size="10">{v:.2f}</text>')
            x += bar_w
        o.append(f'<text x="{(x0 + x - 6) / 2}" y="{top + height + 20}" text-anchor="middle">{escape(cap)}</text>')
        x += gap
    ly = top
    for impl in impls:
        color = COLORS.get(impl) or EXTRA[impls.index(impl) % len(EXTRA)]
        o.append(f'<rect x="{width - 165}" y="{ly}" width="12" height="12" fill="{color}"/>')
        o.append(f'<text x="{width - 148}" y="{ly + 11}">{escape(impl)}</text>')
        ly += 18
    o.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + height}" stroke="#000"/>')
    o.append(f'<line x1="{left}" x2="{width - 180}" y1="{top + height}" y2="{top + height}" stroke="#000"/>')
    o.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(o) + "\n")


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    groups, context = load(argv[1])
    if "--bench-json" in argv:
        with open(argv[argv.index("--bench-json") + 1]) as f:
            vb = json.load(f)
        groups["vigie bench"] = {f'{r["workers"]}w': r["mpps"] for r in vb["results"]}
    if not groups:
        print(f"{argv[1]}: no BM_Replay result", file=sys.stderr)
        return 2
    svg(groups, context, argv[2])
    for cap, g in groups.items():
        print(cap + ": " + ", ".join(f"{k} {v:.2f} Mpps" for k, v in g.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
