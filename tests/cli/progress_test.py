#!/usr/bin/python3
"""The replay progress line: on when stderr is a terminal, off otherwise.

Off: `vigie replay` with stderr redirected to a file: no progress bytes (no
\\r, no "vigie: replay file" line) in it.
On: the same replay with stderr on a pseudo-terminal (python pty): the
progress line appears, with packets, MB/s and the last line's elapsed time,
and the decision log on stdout is unchanged.
A generated capture of 20 000 DNS queries makes the replay long enough to
have several frames batches (ReplayObserver is called every 1024 frames).
"""
import argparse
import os
import pty
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dedup_test  # noqa: E402  (its pcap writer)

sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import mkpcap  # noqa: E402

MARK = b"vigie: replay file "


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--config", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vigie_progress_")
    pcap = os.path.join(tmp, "many.pcap")
    cap = mkpcap.Capture(step_us=100)
    for i in range(20_000):
        cap.dns("10.1.2.3", f"host{i % 50}.example.org")
    dedup_test.write_pcap(cap, pcap)
    cmd = [args.vigie, "replay", "--config", args.config, "--log", os.path.join(tmp, "log.json"), pcap]
    failures = []

    # Off: stderr is a file.
    with open(os.path.join(tmp, "stderr.txt"), "wb") as err:
        p = subprocess.run(cmd, stderr=err)
    data = open(os.path.join(tmp, "stderr.txt"), "rb").read()
    if p.returncode != 0:
        failures.append(f"replay exited {p.returncode}: {data[-300:]!r}")
    if MARK in data or b"\r" in data or b"\033[K" in data:
        failures.append(f"progress bytes in a redirected stderr: {data[:300]!r}")
    if b"decisions" not in data:
        failures.append(f"no summary in stderr: {data[-300:]!r}")

    # On: stderr is a terminal.
    master, slave = pty.openpty()
    p = subprocess.Popen(cmd, stderr=slave, stdout=subprocess.DEVNULL)
    os.close(slave)
    got = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side closed
            break
        if not chunk:
            break
        got += chunk
    rc = p.wait()
    os.close(master)
    if rc != 0:
        failures.append(f"replay on a pty exited {rc}")
    if MARK not in got:
        failures.append(f"no progress line on a terminal: {got[:300]!r}")
    elif b"20000 packets" not in got or b"MB/s" not in got or b"100%" not in got:
        failures.append(f"last progress line incomplete: {got[:400]!r}")
    for part in got.replace(b"\r\n", b"\n").split(b"\r"):
        if MARK in part:
            print("progress:", part.replace(b"\033[K", b"").split(b"\n")[0].decode())
    for f in failures:
        print("FAIL", f)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
