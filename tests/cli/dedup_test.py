#!/usr/bin/python3
"""[log] dedup_seconds through `vigie replay`, in both log formats.

A generated capture: 10 000 identical DNS queries for www.tiktok.com from one
device (1 ms apart), 3 from a second device interleaved, then one more from
the first device 70 s later (after its 60 s window). Expected log:
  * device A: its first event, then one summary with "count": 9999,
    first_timestamp = the first query's time, last_timestamp = the
    10 000th's, written when the late query closes the window;
  * device B: its first event and a summary with count 2;
  * device A again: a new first event (a new window), no summary (alone in it);
  five lines in all, and the decision counters still count all 10 004.
In EVE the count is alert.metadata.count ["9999"] (the schema's top level
allows no new key); those lines are also validated against the schema
when it is present.
"""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import mkpcap  # noqa: E402

A, B = "10.1.2.3", "10.1.2.4"
NAME = "www.tiktok.com"
N = 10_000


def write_pcap(cap, path):
    # Capture.to_bytes concatenates bytes one frame at a time (quadratic for
    # 10 000 frames): join instead, same layout.
    parts = [struct.pack("<IHHiIII", mkpcap.PCAP_MAGIC_USEC, 2, 4, 0, 0, mkpcap.PCAP_SNAPLEN,
                         mkpcap.LINKTYPE_ETHERNET)]
    for ts, frame in cap.packets:
        parts.append(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(frame), len(frame)))
        parts.append(frame)
    with open(path, "wb") as f:
        f.write(b"".join(parts))


def make_capture(path):
    cap = mkpcap.Capture(step_us=1000)
    times = {A: [], B: []}
    for i in range(N):
        s = cap.dns(A, NAME)
        times[A].append(s.ts_us)
        if i in (10, 20, 30):
            times[B].append(cap.dns(B, NAME).ts_us)
    cap.now_us += 70_000_000
    times["late"] = cap.dns(A, NAME).ts_us
    write_pcap(cap, path)
    return times


def ts_vigie(us):
    import datetime
    t = datetime.datetime.fromtimestamp(us // 1_000_000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + f".{us % 1_000_000:06d}Z"


def ts_eve(us):
    return ts_vigie(us)[:-1] + "+0000"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    args = ap.parse_args()
    args.source_dir = os.path.abspath(args.source_dir)
    tmp = tempfile.mkdtemp(prefix="vigie_dedup_")
    pcap = os.path.join(tmp, "dedup.pcap")
    times = make_capture(pcap)
    base = open(os.path.join(args.source_dir, "deploy", "vigie.toml")).read()
    base = base.replace('dir = "../lists/apps"', f'dir = "{os.path.join(args.source_dir, "lists", "apps")}"')
    config = os.path.join(tmp, "vigie.toml")
    if re.search(r"(?m)^dedup_seconds = \d+", base):
        base = re.sub(r"(?m)^dedup_seconds = \d+", "dedup_seconds = 60", base)
    else:
        base += "\ndedup_seconds = 60\n"  # [log] is the file's last section
    with open(config, "w") as f:
        f.write(base)

    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("FAIL", what)

    for fmt in ("vigie", "eve"):
        summary = os.path.join(tmp, f"summary-{fmt}.json")
        p = subprocess.run([args.vigie, "replay", "--config", config, "--log-format", fmt, "--log", "-",
                            "--summary-json", summary, pcap], capture_output=True, text=True)
        if p.returncode != 0:
            print(f"FAIL {fmt}: replay exited {p.returncode}: {p.stderr[-500:]}")
            return 1
        lines = [json.loads(l) for l in p.stdout.splitlines()]
        print(f"{fmt}: {len(lines)} lines")
        check(len(lines) == 5, f"{fmt}: {len(lines)} lines, want 5")

        def field(ev, key):
            if fmt == "vigie":
                return ev.get(key)
            v = ev["alert"].get("metadata", {}).get(key)
            return None if v is None else (int(v[0]) if key == "count" else v[0])

        def src(ev):
            return ev["src_ip"]

        ts = ts_vigie if fmt == "vigie" else ts_eve
        firsts = [e for e in lines if field(e, "count") is None]
        sums = {src(e): e for e in lines if field(e, "count") is not None}
        check([src(e) for e in firsts] == [A, B, A], f"{fmt}: first events from {[src(e) for e in firsts]}")
        check(set(sums) == {A, B}, f"{fmt}: summaries for {sorted(sums)}")
        if A in sums:
            s = sums[A]
            check(field(s, "count") == N - 1, f"{fmt}: A count {field(s, 'count')}, want {N - 1}")
            check(field(s, "first_timestamp") == ts(times[A][0]), f"{fmt}: A first_timestamp {field(s, 'first_timestamp')}")
            check(field(s, "last_timestamp") == ts(times[A][-1]), f"{fmt}: A last_timestamp {field(s, 'last_timestamp')}")
            check(s["timestamp"] == ts(times[A][-1]), f"{fmt}: A summary timestamp {s['timestamp']}")
        if B in sums:
            check(field(sums[B], "count") == 2, f"{fmt}: B count {field(sums[B], 'count')}, want 2")
        # Order: the summaries come when the late query closes the windows, before it.
        check(field(lines[-1], "count") is None and src(lines[-1]) == A and lines[-1]["timestamp"] == ts(times["late"]),
              f"{fmt}: last line is not the late query's new first event")
        for e in lines:
            act = e["action"] if fmt == "vigie" else e["alert"]["action"]
            check(act in ("block", "blocked"), f"{fmt}: action {act}")
        fig = json.load(open(summary))
        total = fig["counters"]["decisions"]
        check(total == N + 4, f"{fmt}: counters.decisions {total}, want {N + 4}")
        check(fig["log"]["written"] == 5, f"{fmt}: log.written {fig['log']['written']}, want 5")
        check(f"dedup: {N - 1 + 2} decisions counted in 2 summary events; 0 written as is" in p.stderr,
              f"{fmt}: stderr dedup line: {p.stderr[-300:]}")
        if fmt == "eve":
            schema = os.path.normpath(os.path.join(args.source_dir, "..", "shared", "specs", "suricata-eve",
                                                   "schema.json"))
            if os.path.exists(schema):
                out = os.path.join(tmp, "dedup.eve.json")
                open(out, "w").write(p.stdout)
                v = subprocess.run([args.python, os.path.join(args.source_dir, "tests", "eve", "validate_eve.py"),
                                    "--schema", schema, "--min-lines", "5", out])
                check(v.returncode == 0, "eve: summary lines do not validate")
            else:
                print(f"note: no schema at {schema}: EVE lines not validated")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
