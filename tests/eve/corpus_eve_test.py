#!/usr/bin/python3
"""The whole corpus replay in EVE format (vigie replay --log-format eve
--log-all): every line valid against Suricata 8's schema (validate_eve.py),
one EVE line per decision, the same decisions as the Vigie format.

For each capture of ../shared/corpus/pcaps the test replays it twice, in the
Vigie format and in EVE, and checks, line by line, that both say the same
thing: pcap_cnt == frame, flow_id (51 bits) and community_id, addresses and
ports, alert.action "blocked" exactly for action block, event_type "alert"
(replay records only: no "drop"), the name in the app-layer object. Then all
the EVE lines go to validate_eve.py with --min-lines = the decisions counted.

Exit 77 (ctest: skipped) when the corpus or the schema is absent.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

FLOW_ID_MASK = (1 << 51) - 1


def replay(vigie, config, pcap, fmt):
    p = subprocess.run([vigie, "replay", "--config", config, "--log-all", "--log-format", fmt, "--log", "-", pcap],
                       capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(f"vigie replay --log-format {fmt} {pcap} exited {p.returncode}: {p.stderr[-2000:]!r}")
    return p.stdout.decode("utf-8").splitlines()


def name_of(eve):
    proto = eve.get("app_proto")
    if proto == "dns":
        q = eve["dns"].get("queries")
        return q[0]["rrname"] if q else None
    if proto in ("tls", "quic"):
        return eve[proto].get("sni")
    if proto == "http":
        return eve["http"].get("hostname")
    return None


def compare(cap, v, e, problems):
    where = f"{cap} frame {v.get('frame')}"
    checks = [
        ("pcap_cnt", e.get("pcap_cnt"), v.get("frame")),
        ("flow_id", e.get("flow_id"), (v["flow_id"] & FLOW_ID_MASK) or None),
        ("community_id", e.get("community_id"), v.get("community_id")),
        ("src_ip", e["src_ip"], v["src_ip"]),
        ("dest_ip", e["dest_ip"], v["dest_ip"]),
        ("src_port", e["src_port"], v["src_port"]),
        ("dest_port", e["dest_port"], v["dest_port"]),
        ("event_type", e["event_type"], "alert"),
        ("alert.action", e["alert"]["action"], "blocked" if v["action"] == "block" else "allowed"),
        ("metadata.vigie_action", e["alert"]["metadata"]["vigie_action"], [v["action"]]),
        ("metadata.reason", e["alert"]["metadata"]["reason"], [v["reason"]]),
        ("metadata.app", e["alert"]["metadata"].get("app"), [v["app"]] if v["app"] else None),
    ]
    if v["proto"] in ("dns", "tls", "quic", "http"):
        checks.append(("app_proto", e.get("app_proto"), v["proto"]))
        if v["proto"] != "dns" and v.get("sni") is False:
            pass  # nameless handshake: no sni key
        elif "malformed" not in v:
            checks.append(("name", name_of(e), v.get("domain_raw", v["domain"])))
    for what, got, want in checks:
        if got != want:
            problems.append(f"{where}: {what}: eve {got!r}, vigie {want!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--validator", required=True)
    ap.add_argument("--schema", required=True)
    args = ap.parse_args()
    pcaps = os.path.join(args.corpus, "pcaps")
    if not os.path.isdir(pcaps):
        print(f"SKIP: no corpus at {pcaps} (../shared is absent on this machine)")
        return 77
    if not os.path.exists(args.schema):
        print(f"SKIP: no schema at {args.schema}")
        return 77

    problems = []
    decisions = blocked = 0
    with tempfile.NamedTemporaryFile("w", suffix=".eve.json", delete=False) as out:
        for cap in sorted(os.listdir(pcaps)):
            path = os.path.join(pcaps, cap)
            vig = [json.loads(l) for l in replay(args.vigie, args.config, path, "vigie")]
            eve_lines = replay(args.vigie, args.config, path, "eve")
            if len(eve_lines) != len(vig):
                problems.append(f"{cap}: {len(vig)} decisions but {len(eve_lines)} EVE lines")
                continue
            for v, line in zip(vig, eve_lines):
                compare(cap, v, json.loads(line), problems)
                out.write(line + "\n")
            decisions += len(vig)
            blocked += sum(1 for v in vig if v["action"] == "block")
        eve_path = out.name
    print(f"{decisions} decisions ({blocked} blocked) in EVE lines from {len(os.listdir(pcaps))} captures")
    if blocked == 0:
        problems.append("no block decision in the corpus replay: the blocked mapping is untested")
    p = subprocess.run([args.python, args.validator, "--schema", args.schema, "--min-lines", str(decisions), eve_path])
    os.unlink(eve_path)
    if p.returncode != 0:
        problems.append(f"validate_eve.py exited {p.returncode}")
    for pr in problems[:50]:
        print("FAIL", pr)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
