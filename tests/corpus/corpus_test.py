#!/usr/bin/env python3
"""Replays every capture of ../shared/corpus through `vigie replay --log-all`
and compares, frame by frame, the DNS query names and TLS SNIs Vigie logs with
what tshark 4.0 extracted (expected.json, see the corpus README).

Pass criteria:
  * at least 99% of tshark's names are found identical (same frame, same name);
  * every difference, either way, is listed in EXPLAINED below with its reason;
    an unexplained difference fails the test, and so does an explanation that
    no longer matches anything (so the list cannot rot).
QUIC names (IETF QUIC v1, v2, drafts, mvfst, T051) are compared too; Google
QUIC (Q0xx plain-text CHLO, gquic_records) is out of scope: Vigie does not
read pre-TLS Google QUIC, whose last versions Chrome dropped in 2021.

Exit 77 (ctest: skipped) when the corpus is absent, saying why.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys

# (capture, proto, frame) -> why Vigie and tshark differ there. Each entry is a
# decision, not a skip: the test checks that the difference is exactly there.
EXPLAINED = {
    # tshark prints placeholders where a name cannot be rendered; Vigie logs the
    # query as malformed (reason malformed, the parser's code) at the same frame.
    ("zeek__dns-invalid-names.pcap", "dns", 1):
        "name ends inside a label: tshark shows nothing, Vigie logs malformed truncated_name",
    ("zeek__dns-invalid-names.pcap", "dns", 2):
        "compression pointer loop: tshark '<Name contains a pointer that loops>', Vigie malformed bad_pointer",
    ("zeek__dns-invalid-names.pcap", "dns", 3):
        "name ends inside a label: tshark shows nothing, Vigie logs malformed truncated_name",
    # After a QUIC Retry (RFC 9000 §8.1.2) the client sends its ClientHello again
    # in a new Initial; Vigie decides each attempt at the frame that holds it whole.
    ("ndpi__doq_adguard.pcapng", "quic", 3):
        "ClientHello resent after the server's Retry (frame 2): Vigie decides it again, tshark lists only the first",
    ("ndpi__quic-29.pcap", "quic", 3):
        "ClientHello resent after the Retry of frame 2, whole in frame 3: Vigie decides it there",
    ("ndpi__quic-29.pcap", "quic", 5):
        "tshark attributes the post-Retry ClientHello to frame 5, where more CRYPTO data of that connection arrives",
    # [inspect] checksums = auto: the client's SYN (frame 10) has a right TCP
    # checksum, the segment with its ClientHello a wrong one (tshark -o
    # tcp.check_checksum:TRUE: tcp.checksum.status 0): the server drops it, so
    # Vigie does not read it (a decoy would look the same).
    ("ndpi__tls-esni-fuzzed.pcap", "tls", 3):
        "fuzzed capture: this ClientHello's segment has a bad TCP checksum (frames 1-2 of the source are right): not read",
    ("ndpi__tls_invalid_reads.pcap", "tls", 4):
        "ClientHello (no SNI) in a segment with a bad TCP checksum after a good handshake: not read",
    ("ndpi__tls_invalid_reads.pcap", "tls", 12):
        "ClientHello segment with a bad TCP checksum after a good SYN: the server drops it, Vigie does not read it",
}

# tshark's renderings of names it could not print.
PLACEHOLDER_ROOT = "<root>"


def tshark_name(name):
    """tshark escapes non-printable label bytes as \\ooo (octal); decode them."""
    if name is None:
        return None
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), name).lower()


def vigie_events(vigie, config, pcap):
    p = subprocess.run([vigie, "replay", "--config", config, "--log-all", "--log", "-", pcap],
                       capture_output=True, text=True, errors="surrogateescape")
    if p.returncode != 0:
        raise RuntimeError(f"vigie replay {pcap} exited {p.returncode}: {p.stderr[-2000:]}")
    events = []
    for line in p.stdout.splitlines():
        events.append(json.loads(line))  # every line must be valid JSON
    return events


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--corpus", required=True)
    args = ap.parse_args()

    expected_path = os.path.join(args.corpus, "expected.json")
    if not os.path.exists(expected_path):
        print(f"SKIP: corpus not found at {args.corpus} (../shared/corpus is absent on this machine)")
        return 77
    expected = json.load(open(expected_path))

    total = identical = 0
    unexplained = []
    used = set()
    malformed_only = 0
    for cap in sorted(expected):
        e = expected[cap]
        events = vigie_events(args.vigie, args.config, os.path.join(args.corpus, "pcaps", cap))
        got = collections.Counter()
        malformed_frames = set()
        for ev in events:
            if ev["proto"] not in ("dns", "tls", "quic"):
                continue
            if ev.get("reason") == "malformed" or "malformed" in ev:
                if ev["proto"] in ("tls", "quic"):
                    # A ClientHello Vigie could not read is, for tshark, a
                    # ClientHello without a name (null): compare it as such.
                    got[(ev["proto"], ev["frame"], None)] += 1
                    continue
                malformed_frames.add((ev["proto"], ev["frame"]))
                if ev.get("domain_raw", ev["domain"]) == "":
                    continue  # no name came with it
            name = ev.get("domain_raw", ev["domain"])
            got[(ev["proto"], ev["frame"], name.lower() if name is not None else None)] += 1
        want = collections.Counter()
        for r in e["dns_records"]:
            n = tshark_name(r["name"])
            if n == PLACEHOLDER_ROOT:
                n = ""  # the root name: Vigie logs it as an empty name
            want[("dns", r["frame"], n)] += 1
        for r in e["tls_records"]:
            want[("tls", r["frame"], tshark_name(r["name"]))] += 1
        for r in e["quic_records"]:
            want[("quic", r["frame"], tshark_name(r["name"]))] += 1
        total += sum(want.values())
        identical += sum((want & got).values())
        for side, diff in (("tshark only", want - got), ("vigie only", got - want)):
            for (proto, frame, name), n in diff.items():
                key = (cap, proto, frame)
                if key in EXPLAINED:
                    used.add(key)
                    print(f"explained  {side:11} {cap} {proto} frame {frame} {name!r}: {EXPLAINED[key]}")
                else:
                    unexplained.append(f"{side:11} {cap} {proto} frame {frame} {name!r} x{n}")
        # Frames where Vigie logged only a malformed event and tshark had no name.
        for proto, frame in malformed_frames:
            if not any(k[0] == proto and k[1] == frame for k in want):
                key = (cap, proto, frame)
                if key in EXPLAINED:
                    used.add(key)
                    print(f"explained  vigie only  {cap} {proto} frame {frame} (malformed): {EXPLAINED[key]}")
                else:
                    malformed_only += 1
                    unexplained.append(f"vigie only  {cap} {proto} frame {frame}: malformed event, tshark has no name")

    stale = sorted(set(EXPLAINED) - used)
    pct = 100.0 * identical / total if total else 0.0
    print(f"\nnames compared: {total}; identical: {identical} ({pct:.2f}%)")
    failures = 0
    for u in unexplained:
        print(f"UNEXPLAINED {u}")
        failures += 1
    for s in stale:
        print(f"STALE explanation (no difference there any more): {s}")
        failures += 1
    if pct < 99.0:
        print(f"FAIL: {pct:.2f}% identical, under 99%")
        failures += 1
    passed = 1 if failures == 0 else 0
    print(f"{passed} passed, {0 if passed else 1} failed")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
