#!/usr/bin/env python3
"""Developer check (not part of ctest): cross-validate mkpcap captures with tshark.

For every scenario: tshark must find no malformed packet and no bad IPv4/UDP/TCP
checksum, must see every DNS query name / TLS SNI in the frame mkpcap says, and
every frame's checksum status must be "good".
Usage: tshark_check.py [WORKDIR]   (needs tshark on PATH)
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mkpcap  # noqa: E402

OPTS = ["-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
        "-o", "ip.check_checksum:TRUE", "-o", "tcp.analyze_sequence_numbers:TRUE",
        "-o", "tcp.reassemble_out_of_order:TRUE"]


def tshark(path, *args):
    return subprocess.run(["tshark", "-n", "-r", path, *OPTS, *args], check=True,
                          capture_output=True, text=True).stdout


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="mkpcap-")
    bad = 0
    for name in mkpcap.SCENARIOS:
        c = mkpcap.build(name)
        path = os.path.join(work, name + ".pcap")
        c.write(path)
        problems = tshark(path, "-Y", "_ws.malformed || _ws.expert.severity >= error"
                          " || ip.checksum.status == 0 || tcp.checksum.status == 0"
                          " || udp.checksum.status == 0")
        good = tshark(path, "-T", "fields", "-e", "frame.number", "-e",
                      "ip.checksum.status", "-e", "tcp.checksum.status", "-e",
                      "udp.checksum.status").splitlines()
        # every checksum present must be verified good (status 1)
        unverified = [l for l in good
                      if any(x not in ("", "1") for x in l.split("\t")[1:])]
        seen = {}
        for line in tshark(path, "-Y", "dns.flags.response == 0 || tls.handshake.type == 1",
                           "-T", "fields", "-e", "frame.number", "-e", "dns.qry.name",
                           "-e", "tls.handshake.extensions_server_name",
                           "-e", "tls.handshake.extensions_alpn_str").splitlines():
            f, q, sni, alpn = (line.split("\t") + ["", "", ""])[:4]
            seen[int(f)] = (q or sni, alpn)
        errs = []
        if problems.strip() and name != "malformed":
            errs.append("problems:\n" + problems)
        if unverified:
            errs.append("unverified checksums: %s" % unverified[:5])
        for s in c.sent:
            got = seen.get(s.frame)
            if not s.wire_name:
                continue
            want = s.wire_name.rstrip(".")
            if got is None or got[0].lower() != want.lower():
                errs.append(f"{s.label}: frame {s.frame} expected {want!r}, tshark {got}")
            elif s.proto == "tls" and s.alpn and got[1] != ",".join(s.alpn):
                errs.append(f"{s.label}: alpn {got[1]!r}")
        status = "ok" if not errs else "FAIL"
        bad += bool(errs)
        print(f"{status:4} {name}: {len(c.packets)} frames, {len(c.sent)} sent")
        for e in errs:
            print("     " + e)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
