#!/usr/bin/env python3
"""Checks the decision log of inline_test.sh against DESIGN.md: one block
event per blocked attempt, every required field present. Prints PASS/FAIL lines."""
import json
import sys

path, ndns, ntls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ev = [json.loads(l) for l in open(path, encoding="utf-8")]
req = ["timestamp", "action", "reason", "proto", "transport", "src_ip", "src_port", "dest_ip",
       "dest_port", "domain", "app", "list", "rule", "flow_id"]
blocked = [e for e in ev if e.get("action") == "block"]
bad = [e for e in blocked if any(k not in e for k in req)]
dns = [e for e in blocked if e.get("proto") == "dns"]
tls = [e for e in blocked if e.get("proto") == "tls"]


def out(cond, msg):
    print(("PASS " if cond else "FAIL ") + msg)


out(bool(blocked) and not bad,
    f"every block event has the DESIGN.md fields ({len(blocked)} block events, {len(bad)} incomplete)")
out(len(dns) == ndns, f"one DNS block event per blocked query: {len(dns)} events for {ndns} queries")
out(len(tls) == ntls, f"one TLS block event per blocked connection: {len(tls)} events for {ntls} connections")
exc = [e for e in ev if e.get("reason") == "exception"]
out(len(exc) >= 1 and all(e["action"] == "log" for e in exc) and exc[0].get("exception") == "netns-test-whatsapp",
    f"exception device: action log, reason exception, exception id ({len(exc)} events)")
tik = [e for e in dns if e.get("domain") == "www.tiktok.com" and e.get("src_ip") == "10.20.5.10"]
out(bool(tik) and tik[0]["app"] == "tiktok" and tik[0]["list"] == "block" and tik[0]["rule"] == "tiktok.com"
    and tik[0]["dest_port"] == 53 and tik[0]["timestamp"].endswith("Z"),
    "DNS block event: app tiktok, list block, rule tiktok.com, dest_port 53, UTC timestamp")
v6 = [e for e in blocked if ":" in e.get("src_ip", "")]
out(len(v6) >= 2, f"IPv6 blocks logged ({len(v6)})")
