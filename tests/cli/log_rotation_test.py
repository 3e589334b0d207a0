#!/usr/bin/python3
"""[log] max_bytes / keep through `vigie replay`: size rotation loses nothing.

A generated capture of N DNS queries, each for its own tiktok name (each a
block decision, one line each). Replayed once with max_bytes = 4096 and
keep = K into PATH: the files PATH, PATH.1 .. PATH.K must together hold
exactly the last lines of an unrotated replay of the same capture, in order,
every one whole (the oldest beyond K were removed, and the summary's
log.written counts every line written, rotated away or not); no more than
K + 1 files; none over max_bytes. With keep large enough to hold everything,
every decision is in the files: lines = written = decisions, dropped 0. Bad
values are refused by `vigie check` with file:line.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import mkpcap  # noqa: E402

N = 300
MAX_BYTES = 4096

failures = []


def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def config(source_dir, tmp, name, log_extra):
    base = open(os.path.join(source_dir, "deploy", "vigie.toml")).read()
    base = base.replace('dir = "../lists/apps"', f'dir = "{os.path.join(source_dir, "lists", "apps")}"')
    # [log] is the file's last section: the keys go at its end.
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(base + "\n" + log_extra + "\n")
    return path


def replay(vigie, cfg, log, pcap, tmp):
    summary = os.path.join(tmp, "summary.json")
    p = subprocess.run([vigie, "replay", "--config", cfg, "--log", log, "--summary-json", summary, pcap],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print(f"FAIL replay exited {p.returncode}: {p.stderr[-500:]}")
        sys.exit(1)
    return json.load(open(summary))


def rotated_files(log):
    """PATH.K .. PATH.1, PATH: oldest first."""
    numbered = sorted((int(m.group(1)), f) for f in glob.glob(log + ".*")
                      if (m := re.fullmatch(re.escape(log) + r"\.(\d+)", f)))
    return [f for _, f in reversed(numbered)] + ([log] if os.path.exists(log) else [])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    src = os.path.abspath(args.source_dir)
    tmp = tempfile.mkdtemp(prefix="vigie_rotation_")
    cap = mkpcap.Capture(step_us=1000)
    for i in range(N):
        cap.dns("10.1.2.3", f"q{i}.tiktok.com")
    pcap = os.path.join(tmp, "queries.pcap")
    with open(pcap, "wb") as f:
        f.write(cap.to_bytes())

    # The reference: the same replay, unrotated.
    plain_log = os.path.join(tmp, "plain.jsonl")
    s = replay(args.vigie, config(src, tmp, "plain.toml", ""), plain_log, pcap, tmp)
    want = open(plain_log).read().splitlines(keepends=True)
    decisions = s["counters"]["decisions"]
    check(len(want) == N and decisions == N, f"unrotated: {len(want)} lines, {decisions} decisions, want {N}")
    total = sum(map(len, want))
    check(total > 4 * MAX_BYTES, f"the log ({total} bytes) spans several {MAX_BYTES}-byte files")

    for keep in (3, 1000):
        log = os.path.join(tmp, f"keep{keep}", "decisions.jsonl")
        os.makedirs(os.path.dirname(log))
        cfg = config(src, tmp, f"keep{keep}.toml", f"max_bytes = {MAX_BYTES}\nkeep = {keep}")
        s = replay(args.vigie, cfg, log, pcap, tmp)
        files = rotated_files(log)
        others = set(glob.glob(log + "*")) - set(files)
        got = []
        for f in files:
            got += open(f).read().splitlines(keepends=True)
        sizes = [os.path.getsize(f) for f in files]
        check(not others, f"keep {keep}: only PATH and PATH.1..PATH.{keep} exist ({sorted(others)[:3]})")
        check(len(files) <= keep + 1, f"keep {keep}: {len(files)} files <= keep + 1")
        check(max(sizes) <= MAX_BYTES, f"keep {keep}: every file <= {MAX_BYTES} bytes (largest {max(sizes)})")
        check(all(l.endswith("\n") and json.loads(l) for l in got), f"keep {keep}: every line whole JSON")
        written, dropped = s["log"]["written"], s["log"]["dropped"]
        check(written + dropped == N and dropped == 0,
              f"keep {keep}: summary log written {written} + dropped {dropped} = {N} decisions")
        check(got == want[len(want) - len(got):],
              f"keep {keep}: the files hold the last {len(got)} lines of the unrotated log, in order")
        if keep == 1000:
            check(len(got) == N, f"keep {keep}: every one of the {N} decisions is in the files ({len(got)})")
        else:
            check(len(files) == keep + 1 and len(got) < N, f"keep {keep}: the oldest files were removed")

    for extra, line, what in (("max_bytes = 100", "max_bytes", "at least 4096"),
                              ("keep = 2", "keep", "'keep' needs 'max_bytes'"),
                              ("max_bytes = 8192\nkeep = 0", "keep", "[1, 1000]")):
        cfg = config(src, tmp, "bad.toml", extra)
        lineno = next(i for i, l in enumerate(open(cfg), 1) if l.startswith(line + " ="))
        p = subprocess.run([args.vigie, "check", cfg], capture_output=True, text=True)
        check(p.returncode == 2 and f"{cfg}:{lineno}: " in p.stderr and what in p.stderr,
              f"check refuses '{extra.splitlines()[-1]}' at {os.path.basename(cfg)}:{lineno} ({p.stderr.strip()[:160]})")

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
