#!/usr/bin/env python3
"""`vigie bench` through the binary, on captures written by vigie-gen.

- --json on a generated capture: one result per worker count asked, every
  frame of the capture counted (frames read from the pcap file here, not from
  Vigie), figures positive, the same decisions (and some blocks: the mix names
  banned apps) with one and two workers;
- the table on the default generated mix: header, one row per worker count;
- a real capture from ../shared/corpus when present: frames counted as in the file;
- usage errors exit 2 with the reason.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile


def pcap_frames(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xA1B2C3D4, 0xA1B23C4D), f"{path}: not a little-endian classic pcap"
    off, n = 24, 0
    while off + 16 <= len(data):
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        off += 16 + caplen
        n += 1
    return n


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--gen", required=True)
    ap.add_argument("--source-dir", required=True)
    a = ap.parse_args()
    failures = []

    def check(cond, what):
        print(("ok   " if cond else "FAIL ") + what)
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        cap = os.path.join(tmp, "mix.pcap")
        g = run([a.gen, "--packets", "6000", "--flows", "150", "--seed", "7", "-o", cap])
        check(g.returncode == 0, f"vigie-gen writes a capture ({g.stderr.strip()[:200]})")
        frames = pcap_frames(cap)
        check(frames == 6000, f"the capture holds 6000 frames ({frames})")

        r = run([a.vigie, "bench", "--capture", cap, "--workers", "1,2", "--passes", "1", "--json"])
        check(r.returncode == 0, f"bench --json exits 0 ({r.stderr.strip()[:200]})")
        j = json.loads(r.stdout)
        check(j["frames"] == frames, "JSON frames = the file's frames")
        res = j["results"]
        check([x["workers"] for x in res] == [1, 2], "one result per worker count, in order")
        for x in res:
            w = x["workers"]
            check(x["packets"] == frames, f"{w}w: every frame counted ({x['packets']})")
            check(x["mpps"] > 0 and x["gbps"] > 0 and x["ns_per_packet"] > 0 and x["seconds"] > 0
                  and x["cpu_ns_per_packet"] > 0,
                  f"{w}w: Mpps, Gbit/s, ns/packet, seconds positive")
            check(x["flows"] > 0 and x["mem_total_bytes"] > 0 and x["mem_per_flow_bytes"] > 0,
                  f"{w}w: flows and memory per flow reported")
            ratio = x["gbps"] * 1e9 / 8 / (x["mpps"] * 1e6)
            check(abs(ratio - x["bytes"] / x["packets"]) < 1.0, f"{w}w: Gbit/s / Mpps = mean frame size")
        check(res[0]["decisions"] == res[1]["decisions"] > 0, "same decisions with 1 and 2 workers")
        check(res[0]["blocks"] > 0, f"banned names blocked ({res[0]['blocks']})")

        t = run([a.vigie, "bench", "--packets", "3000", "--flows", "80", "--workers", "1,2,4", "--passes", "1"])
        check(t.returncode == 0, "bench (table, generated mix) exits 0")
        lines = t.stdout.strip().splitlines()
        check(lines[0].startswith("capture: generated mix") and "3000 frames" in lines[0], "table: capture line")
        check(lines[1].split()[:4] == ["workers", "Mpps", "Gbit/s", "ns/packet"], "table: header")
        rows = [l.split() for l in lines[2:]]
        check([r_[0] for r_ in rows] == ["1", "2", "4"], "table: one row per worker count")
        check(all(float(r_[1]) > 0 and float(r_[3]) > 0 and float(r_[4]) > 0 and r_[5] == "3000" for r_ in rows),
              "table: Mpps and ns/packet positive, every frame counted")

        corpus = os.path.join(a.source_dir, "..", "shared", "corpus", "pcaps", "ndpi__whatsapp.pcap")
        if os.path.exists(corpus):
            r = run([a.vigie, "bench", "--capture", corpus, "--workers", "2", "--passes", "1", "--json"])
            check(r.returncode == 0 and json.loads(r.stdout)["results"][0]["packets"] == pcap_frames(corpus),
                  "corpus capture: every frame counted")
        else:
            print("skip corpus capture (../shared/corpus absent)")

        for args, why in ((["--workers", "0"], "--workers"), (["--workers", "1,x"], "--workers"),
                          (["--capture", os.path.join(tmp, "missing.pcap")], "missing.pcap"),
                          (["--passes", "0"], "--passes")):
            r = run([a.vigie, "bench"] + args)
            check(r.returncode == 2 and why in r.stderr, f"usage error {args}: exit 2 naming {why}")

    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
