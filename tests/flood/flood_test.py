#!/usr/bin/env python3
"""Floods and bursts through `vigie replay` (issue 14), on captures written by
floodgen (tests/tools/floodgen.cc) into a scratch directory.

Scenarios (one per ctest entry):
  flows_one_source    1 M new flows (TCP SYN, UDP; IPv4, IPv6) from one v4 and
                      one v6 address: their shares fill, the rest is refused
                      (quota hits, per source in --summary-json "sources").
  flows_many_sources  the same from 64 k sources (32 k v4 + 32 k v6): the
                      table fills and evicts (per source "evicted").
  fragments           100 k incomplete fragment chains (v4, v6; half hold a
                      fragment near 64 KiB), then a fragmented banned hello.
  hellos              100 k TCP connections whose ClientHello never completes.
  decisions           1 M DNS queries for a banned name (dedup off): a closed
                      standard output (`| head -1`) and a full disk (1 MiB
                      tmpfs in a private mount namespace; root only).

Every flood checks: peak RSS (wait4 ru_maxrss of the replay) minus the peak of
a replay of the probes alone stays under what the config allows (the
summary's "memory" figures: flows x bytes per flow + buffers + fragment
chains, computed from sizeof and the caps, README "Caps and sizing"); every
frame was processed; the probe handshakes from other devices placed in (or
after) the flood are decided as without it: the banned ones blocked (reason
list), the allowed ones allowed (allowlist). Figures are printed.

Output: one line per check, then "N passed, M failed"; exit 1 on a failure.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

CONFIG = """\
[scope]
managed = ["10.0.0.0/8", "fd00::/8"]

[lists]
dir = "{lists}"

[[policy]]
apps = ["tiktok", "twitter", "instagram", "netflix", "candycrush", "dating",
        "whatsapp", "telegram", "signal", "snapchat", "doh", "canary"]
action = "block"

[[policy]]
apps = ["olvid", "tchap", "wimi"]
action = "allow"

[[policy]]
apps = ["facebook"]
action = "log"

[inspect]
checksums = "never"   # the generated frames carry no transport checksums

[log]
path = "-"
mode = "decisions"
dedup_seconds = 0     # every decision is a line: none is folded into a count

[flows]
max = {max_flows}
max_per_source = {per_source}
reassembly_buffers = {buffers}
reassembly_per_source = {buffers_per_source}
"""

# The caps of the floods: small enough that a table that ignored them would
# show (1 M flows at ~0.5 KiB each is ~500 MiB; the bound below is ~40 MiB).
CAPS = dict(max_flows=65536, per_source=4096, buffers=256, buffers_per_source=16)

# floodgen's probes: SNI -> (action, reason).
PROBES = {
    "probe1.tiktok.com": ("block", "list"),      # bystander, IPv4
    "probe2.tchap.gouv.fr": ("allow", "allowlist"),
    "probe3.tiktok.com": ("block", "list"),      # bystander, IPv6
    "probe4.tchap.gouv.fr": ("allow", "allowlist"),
}
FLOOD_SOURCE_PROBE = "probe5.tiktok.com"  # from the flooding source itself (flows)
FRAGMENTED_PROBE = "probe9.tiktok.com"    # in two IPv4 fragments (fragments)

MiB = 1 << 20


class Results:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, what):
        print(("PASS " if ok else "FAIL ") + what, flush=True)
        if ok:
            self.passed += 1
        else:
            self.failed += 1

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 0 if self.failed == 0 else 1


def run_measured(cmd, stdout=subprocess.DEVNULL, stdin=None):
    """Runs cmd; returns (exit status, peak RSS in bytes, stderr text)."""
    p = subprocess.Popen(cmd, stdout=stdout, stdin=stdin, stderr=subprocess.PIPE)
    err = p.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return p.returncode, usage.ru_maxrss * 1024, err


class Flood:
    def __init__(self, args, work):
        self.args, self.work = args, work
        self.cfg = os.path.join(work, "flood.toml")
        with open(self.cfg, "w") as f:
            f.write(CONFIG.format(lists=os.path.join(args.source_dir, "lists", "apps"), **CAPS))

    def gen(self, name, *params):
        path = os.path.join(self.work, name + ".pcap")
        subprocess.run([self.args.floodgen, params[0], path, *map(str, params[1:])], check=True,
                       stderr=subprocess.DEVNULL)
        return path

    def replay(self, pcap, tag):
        """Replays pcap; returns (summary, decisions by domain, peak RSS, stderr)."""
        log = os.path.join(self.work, tag + ".jsonl")
        summary = os.path.join(self.work, tag + ".json")
        rc, peak, err = run_measured([self.args.vigie, "replay", "--config", self.cfg, "--log", log,
                                      "--summary-json", summary, pcap])
        if rc != 0:
            print(err)
            raise SystemExit(f"vigie replay {tag}: exit {rc}")
        with open(summary) as f:
            s = json.load(f)
        by_domain = {}
        with open(log) as f:
            for line in f:
                d = json.loads(line)
                by_domain.setdefault(d.get("domain") or "", []).append(d)
        os.unlink(log)
        return s, by_domain, peak, err

    def baseline(self):
        """Peak RSS of a replay of the probes alone (policy, lists, binary)."""
        pcap = self.gen("baseline", "flows", 4, 1)
        _, _, peak, _ = self.replay(pcap, "baseline")
        return peak


def frames_in(pcap):
    """Records in a classic pcap file (every record header read)."""
    n = 0
    with open(pcap, "rb") as f:
        f.seek(24)
        while True:
            h = f.read(16)
            if len(h) < 16:
                return n
            f.seek(int.from_bytes(h[8:12], "little"), 1)
            n += 1


def check_probes(r, by_domain, names):
    for name in names:
        want = PROBES.get(name, ("block", None))
        got = by_domain.get(name, [])
        acts = sorted({(d["action"], d["reason"]) for d in got})
        ok = len(got) >= 1 and all(d["action"] == want[0] for d in got) and (
            want[1] is None or any(d["reason"] == want[1] for d in got))
        r.check(ok, f"probe {name}: {acts or 'no decision'} (want {want[0]}"
                    f"{', reason ' + want[1] if want[1] else ''})")


def check_memory(r, s, peak, base, parts):
    m = s["memory"]
    allowed = sum(m[p] for p in parts)
    grown = peak - base
    print(f"  figures: peak RSS {peak / MiB:.1f} MiB, probes-only baseline {base / MiB:.1f} MiB, "
          f"growth {grown / MiB:.1f} MiB; allowed {allowed / MiB:.1f} MiB ({' + '.join(parts)}; "
          f"{m['per_flow']} B/flow x {CAPS['max_flows']} flows, {m['per_buffer']} B/buffer, "
          f"{m['per_aux_buffer']} B/aux buffer, fragments {m['fragments'] / MiB:.1f} MiB)")
    r.check(grown <= allowed, f"peak RSS growth {grown / MiB:.1f} MiB <= {allowed / MiB:.1f} MiB allowed by the caps")


def figures(s):
    c = s["counters"]
    keys = ["packets", "flows_created", "flows_evicted", "flows_expired", "flow_quota_hit", "tcp_reasm_quota_hit",
            "tcp_reasm_pool_empty", "ip_fragments", "ip_frag_timeouts", "ip_frag_overflow", "ip_reassembled",
            "uninspected", "decisions", "log_events", "log_events_written", "log_events_dropped"]
    print("  figures: " + ", ".join(f"{k} {c[k]}" for k in keys if c.get(k)))
    for src in s["sources"][:5]:
        print(f"  figures: source {src['ip']}: quota hits {src['quota_hits']}, evicted {src['evicted']}, "
              f"flows held {src['flows']}")


def flows(args, r, work, many):
    fl = Flood(args, work)
    base = fl.baseline()
    n = args.flows
    sources = 32768 if many else 1
    pcap = fl.gen("flows", "flows", n, sources)
    frames = frames_in(pcap)
    s, by_domain, peak, _ = fl.replay(pcap, "flows")
    c = s["counters"]
    figures(s)
    r.check(c["packets"] == frames, f"every frame processed: packets {c['packets']} == {frames} in the capture")
    check_memory(r, s, peak, base, ["flow_table"])
    # The flooding source's own hello: with its share full (one source) the
    # connection gets no flow and is decided uninspected (blocked, logged at
    # powers of two, nameless); among 64 k sources it is read and blocked.
    check_probes(r, by_domain, list(PROBES) + ([FLOOD_SOURCE_PROBE] if many else []))
    top = s["sources"]
    if not many:
        # Two flooding sources (10.64.0.0, fd00:1::), each over its share.
        flooders = {t["ip"]: t for t in top if t["ip"] in ("10.64.0.0", "fd00:1::")}
        r.check(len(flooders) == 2 and all(t["quota_hits"] > 0 for t in flooders.values()),
                f"both flooding sources listed with their quota hits: {sorted(flooders.items())}")
        hits = c["flow_quota_hit"] + c["tcp_reasm_quota_hit"]
        r.check(sum(t["quota_hits"] for t in top) == hits and hits >= n - 2 * CAPS["per_source"],
                f"per-source quota hits add up to the counters: {sum(t['quota_hits'] for t in top)} == {hits} "
                f">= {n} - 2 x {CAPS['per_source']}")
        r.check(all(t["flows"] <= CAPS["per_source"] for t in top),
                f"no source holds more than max_per_source {CAPS['per_source']} flows")
    else:
        r.check(c["flows_evicted"] >= n - CAPS["max_flows"],
                f"table full: flows evicted {c['flows_evicted']} >= {n} - {CAPS['max_flows']}")
        per = n // (2 * sources) + 1
        r.check(len(top) > 0 and all(0 < t["evicted"] <= per + 2 for t in top),
                f"evictions counted per source ({len(top)} listed, each 1..{per + 2}): "
                f"{[(t['ip'], t['evicted']) for t in top[:3]]}")
        r.check(c["flow_quota_hit"] == 0, f"no source over its share: flow_quota_hit {c['flow_quota_hit']}")


def fragments(args, r, work):
    fl = Flood(args, work)
    base = fl.baseline()
    pcap = fl.gen("frags", "frags", args.chains)
    frames = frames_in(pcap)
    s, by_domain, peak, _ = fl.replay(pcap, "frags")
    c = s["counters"]
    figures(s)
    r.check(c["packets"] == frames, f"every frame processed: packets {c['packets']} == {frames}")
    r.check(c["ip_fragments"] >= args.chains, f"fragments counted: ip_fragments {c['ip_fragments']}")
    # The table keeps kMaxFragmentTrains (1024) chains: every older one was
    # dropped unfinished and counted.
    r.check(c["ip_frag_timeouts"] >= args.chains - 1024,
            f"incomplete chains dropped and counted: ip_frag_timeouts {c['ip_frag_timeouts']} >= {args.chains} - 1024")
    r.check(c["ip_reassembled"] >= 1, f"the fragmented probe reassembled: ip_reassembled {c['ip_reassembled']}")
    check_memory(r, s, peak, base, ["flow_table", "fragments"])
    check_probes(r, by_domain, list(PROBES) + [FRAGMENTED_PROBE])


def hellos(args, r, work):
    fl = Flood(args, work)
    base = fl.baseline()
    sources = 1024
    pcap = fl.gen("hellos", "hellos", args.hellos, sources)
    frames = frames_in(pcap)
    s, by_domain, peak, _ = fl.replay(pcap, "hellos")
    c = s["counters"]
    figures(s)
    r.check(c["packets"] == frames, f"every frame processed: packets {c['packets']} == {frames}")
    # Each half hello is held in a buffer (tcp_segments_buffered) or refused
    # one (pool empty, or its source's share full); evictions give buffers back.
    refused = c["tcp_reasm_pool_empty"] + c["tcp_reasm_quota_hit"]
    held = c["tcp_segments_buffered"]
    r.check(refused + held == args.hellos and refused >= args.hellos - 4 * CAPS["buffers"],
            f"every half-sent hello held or refused and counted: buffered {held} + pool_empty "
            f"{c['tcp_reasm_pool_empty']} + quota {c['tcp_reasm_quota_hit']} == {args.hellos}")
    unins = len(by_domain.get("", []))
    # Held hellos that an eviction ends before they complete are uninspected
    # too (reason evicted): the refused ones plus those.
    evicted_mid = c["flows_evicted_inspecting"]
    r.check(evicted_mid <= held and c["uninspected"] == refused + evicted_mid and unins == refused + evicted_mid,
            f"each refused or evicted-mid-hello one decided uninspected (blocked, logged): uninspected "
            f"{c['uninspected']}, nameless block lines {unins}, refused {refused} + evicted mid-hello {evicted_mid}")
    check_memory(r, s, peak, base, ["flow_table"])
    check_probes(r, by_domain, list(PROBES))


def decisions(args, r, work):
    fl = Flood(args, work)
    n = args.decisions
    pcap = fl.gen("dns", "dns", n, "burst.tiktok.com")
    summary = os.path.join(work, "pipe.json")

    def check_sum(s, what):
        c, log = s["counters"], s["log"]
        print(f"  figures ({what}): decisions {c['decisions']}, written {log['written']}, "
              f"dropped {log['dropped']}, packets {c['packets']}")
        r.check(c["packets"] == n, f"{what}: every packet processed ({c['packets']} == {n}): the log never held it back")
        r.check(c["decisions"] == n and log["written"] + log["dropped"] == n,
                f"{what}: written {log['written']} + dropped {log['dropped']} == decisions {c['decisions']} == {n}")
        r.check(c["log_events_written"] == log["written"] and c["log_events_dropped"] == log["dropped"]
                and c["log_events"] == n, f"{what}: the counters say the same (log_events {c['log_events']})")
        r.check(log["dropped"] > 0, f"{what}: the loss is counted (dropped {log['dropped']} > 0)")
        return log

    # (c) A closed pipe on standard output.
    head = subprocess.Popen(["head", "-1"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    rc, _, err = run_measured([args.vigie, "replay", "--config", fl.cfg, "--log", "-", "--summary-json", summary,
                               pcap], stdout=head.stdin)
    head.stdin.close()
    first = head.stdout.read().decode()
    head.wait()
    r.check(rc == 0, f"closed pipe: replay exits 0 (got {rc}), not killed by SIGPIPE")
    r.check(json.loads(first)["domain"] == "burst.tiktok.com", "closed pipe: head read a whole first line")
    summary_line = [l for l in err.splitlines() if l.startswith("log events:")]
    with open(summary) as f:
        log = check_sum(json.load(f), "closed pipe")
    r.check(summary_line == [f"log events: written {log['written']}, dropped {log['dropped']}"],
            f"closed pipe: the printed summary says the same: {summary_line}")

    # (b) A full disk: the log on a 1 MiB tmpfs in a private mount namespace.
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        print("SKIP full disk: needs root and unshare (mount -t tmpfs in a private mount namespace)")
        return
    small = os.path.join(work, "small")
    os.mkdir(small)
    summary = os.path.join(work, "disk.json")
    lines = os.path.join(work, "lines")
    script = ('mount -t tmpfs -o size=1m fl14flood "$1" || exit 90; '
              '"$2" replay --config "$3" --log "$1/decisions.jsonl" --summary-json "$4" "$5"; rc=$?; '
              'wc -l < "$1/decisions.jsonl" > "$6"; exit $rc')
    rc, _, err = run_measured(["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", small,
                               args.vigie, fl.cfg, summary, pcap, lines])
    if rc == 90:
        print(f"SKIP full disk: mount -t tmpfs failed: {err.strip()}")
        return
    r.check(rc == 0, f"full disk: replay exits 0 (got {rc})")
    with open(summary) as f:
        log = check_sum(json.load(f), "full disk")
    with open(lines) as f:
        in_file = int(f.read())
    r.check(in_file == log["written"], f"full disk: lines in the file {in_file} == written {log['written']}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario", choices=["flows_one_source", "flows_many_sources", "fragments", "hellos",
                                         "decisions"])
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--floodgen", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--flows", type=int, default=1_000_000)
    ap.add_argument("--chains", type=int, default=100_000)
    ap.add_argument("--hellos", type=int, default=100_000)
    ap.add_argument("--decisions", type=int, default=1_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = ap.parse_args()
    args.source_dir = os.path.abspath(args.source_dir)
    r = Results()
    work = tempfile.mkdtemp(prefix="vigie-flood-")
    try:
        if args.scenario.startswith("flows"):
            flows(args, r, work, args.scenario == "flows_many_sources")
        elif args.scenario == "fragments":
            fragments(args, r, work)
        elif args.scenario == "hellos":
            hellos(args, r, work)
        else:
            decisions(args, r, work)
    finally:
        if args.keep:
            print(f"scratch directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return r.finish()


if __name__ == "__main__":
    sys.exit(main())
