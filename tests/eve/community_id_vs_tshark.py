#!/usr/bin/env python3
"""Community ID of every decision against tshark's, frame by frame.

For each capture of ../shared/corpus/pcaps: `vigie replay --log-all` gives the
community_id of every decided frame (the decision's innermost 5-tuple,
client -> server); `tshark -r PCAP --enable-protocol communityid -T fields
-e frame.number -e communityid` gives tshark's value for that frame (tshark
4.0 hashes the flow of the innermost IP/transport layers it dissected: for
VXLAN, 6in4 and other tunnels the inner packet, as Zeek and Vigie do; when a
frame holds several values, comma-separated, the last is the innermost).

Pass: every decided frame's value equals tshark's, except the differences
listed in EXPLAINED (checked to still occur, so the list cannot rot). A
frame tshark gives no value for is a failure too unless explained.

Exit 77 (ctest: skipped) when the corpus or tshark is absent.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys

# (capture, frame) -> why Vigie's value differs from tshark's there.
EXPLAINED = {}


def vigie_ids(vigie, config, pcap):
    p = subprocess.run([vigie, "replay", "--config", config, "--log-all", "--log", "-", pcap], capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(f"vigie replay {pcap} exited {p.returncode}: {p.stderr[-2000:]!r}")
    out = {}
    for line in p.stdout.decode("utf-8").splitlines():
        ev = json.loads(line)
        out.setdefault(ev["frame"], []).append((ev.get("community_id"), ev.get("tunnelled", 0)))
    return out


def tshark_ids(tshark, pcap):
    p = subprocess.run([tshark, "-r", pcap, "--enable-protocol", "communityid", "-T", "fields",
                        "-e", "frame.number", "-e", "communityid"], capture_output=True)
    out = {}
    for line in p.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if len(parts) == 2 and parts[1]:
            out[int(parts[0])] = parts[1].split(",")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--tshark", default=shutil.which("tshark"))
    args = ap.parse_args()
    pcaps = os.path.join(args.corpus, "pcaps")
    if not os.path.isdir(pcaps):
        print(f"SKIP: no corpus at {pcaps} (../shared is absent on this machine)")
        return 77
    if not args.tshark:
        print("SKIP: tshark is not installed (apt-get install tshark)")
        return 77

    compared = equal = tunnelled = 0
    failures = []
    used = set()
    for cap in sorted(os.listdir(pcaps)):
        path = os.path.join(pcaps, cap)
        ours = vigie_ids(args.vigie, args.config, path)
        theirs = tshark_ids(args.tshark, path)
        for frame, ids in sorted(ours.items()):
            for cid, depth in ids:
                compared += 1
                tunnelled += 1 if depth else 0
                want = theirs.get(frame)
                ok = want is not None and cid == want[-1]
                if ok:
                    equal += 1
                    continue
                key = (cap, frame)
                if key in EXPLAINED:
                    used.add(key)
                    print(f"explained {cap} frame {frame}: vigie {cid}, tshark {want}: {EXPLAINED[key]}")
                else:
                    failures.append(f"{cap} frame {frame}: vigie {cid}, tshark {want}")
    for s in sorted(set(EXPLAINED) - used):
        failures.append(f"STALE explanation (no difference there any more): {s}")
    print(f"decisions compared: {compared} ({tunnelled} tunnelled); equal to tshark: {equal}")
    for f in failures:
        print("MISMATCH", f)
    if compared == 0:
        failures.append("no decision compared")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
