#!/usr/bin/env python3
"""`vigie explain` through the binary: a dozen cases on a small policy of its
own, each asserting the steps (--json) and the exit code (0 passes, 1
blocked, 2 error), plus one text rendering.

The policy (written to a temp dir): managed 10.0.0.0/8 and fd00::/8; block
lists tiktok (tiktok.com, api.tiktok.com: shadowed by the broader rule),
twitter, tracker (olvid.io: hidden by the allow-list); allow-list olvid;
exceptions "press" (twitter, 10.20.0.0/16, until 2099) and "old" (tiktok,
10.30.0.0/16, expired 2020).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

CONFIG = """# explain test
[scope]
managed = ["10.0.0.0/8", "fd00::/8"]

[lists]
dir = "lists"

[[policy]]
apps = ["tiktok", "twitter", "tracker"]
action = "block"

[[policy]]
apps = ["olvid"]
action = "allow"

[[exception]]
id = "press"
devices = ["10.20.0.0/16"]
apps = ["twitter"]
until = "2099-12-31"
reason = "public communication"
ticket = "SEC-1"

[[exception]]
id = "old"
devices = ["10.30.0.0/16"]
apps = ["tiktok"]
until = "2020-01-01"
reason = "pilot"
ticket = "SEC-0"
"""
LISTS = {
    "tiktok.list": "# TikTok\ntiktok.com\napi.tiktok.com\n",
    "twitter.list": "twitter.com\nx.com\n",
    "tracker.list": "olvid.io\n",
    "olvid.list": "olvid.io\n",
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="vigie_explain_")
    os.mkdir(os.path.join(tmp, "lists"))
    for name, text in LISTS.items():
        open(os.path.join(tmp, "lists", name), "w").write(text)
    config = os.path.join(tmp, "vigie.toml")
    open(config, "w").write(CONFIG)
    failures = []

    def explain(src, name, proto=None, json_out=True):
        cmd = [args.vigie, "explain", "--config", config] + (["--proto", proto] if proto else [])
        cmd += (["--json"] if json_out else []) + [src, name]
        p = subprocess.run(cmd, capture_output=True, text=True)
        return p.returncode, (json.loads(p.stdout) if json_out and p.stdout else p.stdout), p.stderr

    def case(label, src, qname, rc_want, proto=None, **want):
        rc, e, err = explain(src, qname, proto)
        problems = []
        if rc != rc_want:
            problems.append(f"exit {rc}, want {rc_want} ({err.strip()})")
        for k, v in want.items():
            got = v[0](e) if isinstance(v, tuple) else e.get(k)
            expected = v[1] if isinstance(v, tuple) else v
            if got != expected:
                problems.append(f"{k}: {got!r}, want {expected!r}")
        status = "ok  " if not problems else "FAIL"
        print(f"{status} {label}: {src} {qname} -> {e.get('action') if isinstance(e, dict) else e} exit {rc}")
        for p in problems:
            failures.append(f"{label}: {p}")
            print("       ", p)

    rules = lambda e: [(r["app"], r["list"], r["rule"], r["rule_source"], r["picked"]) for r in e["rules"]]
    exc = lambda e: [(x["id"], x["status"], x["ticket"], x["reason"], x["until"]) for x in e["exceptions"]]
    scope = lambda e: (e["scope"]["managed"], e["scope"]["prefix"])
    pol = lambda e: e["policy"] and (e["policy"]["app"], e["policy"]["action"], e["policy"]["source"])

    case("blocked", "10.1.2.3", "www.tiktok.com", 1, action="block", reason="list",
         rules=(rules, [("tiktok", "block", "tiktok.com", "tiktok.list:2", True)]),
         scope=(scope, (True, "10.0.0.0/8")),
         policy=(pol, ("tiktok", "block", f"{config}:8")),
         enforcement='query dropped; answered NXDOMAIN with EDE 15 (Blocked) "vigie: blocked app tiktok"')
    case("approved app (allow-list beats the equal block rule)", "10.1.2.3", "chat.olvid.io", 0,
         action="allow", reason="allowlist",
         rules=(rules, [("olvid", "allow", "olvid.io", "olvid.list:1", True),
                        ("tracker", "block", "olvid.io", "tracker.list:1", False)]),
         shadow=(lambda e: e["rules"][1].get("shadowed"), "equal rule: the allow-list wins"),
         policy=(pol, ("olvid", "allow", f"{config}:12")), enforcement="pass")
    case("exception active", "10.20.1.1", "twitter.com", 0, action="log", reason="exception", exception="press",
         exceptions=(exc, [("press", "applied", "SEC-1", "public communication", "2099-12-31")]),
         enforcement="pass (logged)")
    case("exception active, other device", "10.21.1.1", "twitter.com", 1, action="block", reason="list",
         exceptions=(exc, [("press", "other-device", "SEC-1", "public communication", "2099-12-31")]))
    case("exception expired", "10.30.1.1", "tiktok.com", 1, action="block", reason="list", exception=None,
         exceptions=(exc, [("old", "expired", "SEC-0", "pilot", "2020-01-01")]))
    case("unmanaged source", "192.0.2.1", "tiktok.com", 0, action="allow", reason="unmanaged",
         scope=(scope, (False, None)), enforcement="pass")
    case("no match", "10.1.2.3", "example.org", 0, action="allow", reason="no-match", rules=(rules, []),
         policy=None)
    case("shadowed rule (covered by the broader rule of the same list)", "10.1.2.3", "v1.api.tiktok.com", 1,
         action="block",
         rules=(rules, [("tiktok", "block", "api.tiktok.com", "tiktok.list:3", True),
                        ("tiktok", "block", "tiktok.com", "tiktok.list:2", False)]),
         shadow=(lambda e: e["rules"][1].get("shadowed"), "less specific than the pick"))
    case("IPv6 device, TLS", "fd00::17", "www.tiktok.com", 1, proto="tls", action="block",
         scope=(scope, (True, "fd00::/8")),
         enforcement="packet dropped, connection marked blocked; TCP RST to both ends")
    case("QUIC", "10.1.2.3", "x.com", 1, proto="quic", action="block",
         enforcement="packet dropped, connection marked blocked (UDP: no reset)")
    case("HTTP", "10.1.2.3", "x.com", 1, proto="http", action="block",
         enforcement="packet dropped, connection marked blocked; TCP RST to both ends")
    case("look-alike name", "10.1.2.3", "nottiktok.com", 0, action="allow", reason="no-match", rules=(rules, []))
    case("uppercase and trailing dot", "10.1.2.3", "WWW.TikTok.COM.", 1, action="block", name="www.tiktok.com",
         input="WWW.TikTok.COM.")
    case("U-label to punycode", "10.1.2.3", "bücher.tiktok.com", 1, action="block",
         name="xn--bcher-kva.tiktok.com")
    case("punycode input", "10.1.2.3", "XN--BCHER-KVA.example", 0, action="allow", name="xn--bcher-kva.example")
    case("not a DNS name", "10.1.2.3", "a..b", 0, action="allow", reason="no-match", name=None,
         name_error=(lambda e: bool(e.get("name_error")), True))

    # Text: the steps with file:line.
    rc, out, _ = explain("10.30.1.1", "tiktok.com", json_out=False)
    for want in ("scope      managed: 10.30.1.1 is in 10.0.0.0/8", "tiktok.list:2  <- the matcher's pick",
                 f"([[policy]] at {config}:8)", f"exception  old ({config}:", "expired",
                 "decision   block (reason list)", "inline     query dropped; answered NXDOMAIN"):
        if want not in out:
            failures.append(f"text: {want!r} missing in:\n{out}")
    if rc != 1:
        failures.append(f"text: exit {rc}")
    # Errors: exit 2.
    for bad in (["not-an-ip", "x.com"], ["10.1.2.3"], ["--proto", "smtp", "10.1.2.3", "x.com"]):
        p = subprocess.run([args.vigie, "explain", "--config", config] + bad, capture_output=True, text=True)
        if p.returncode != 2 or "vigie:" not in p.stderr:
            failures.append(f"explain {bad}: exit {p.returncode}, stderr {p.stderr!r}")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
