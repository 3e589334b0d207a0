#!/usr/bin/env python3
"""Hostile bytes in names come out as valid JSON and safe syslog text (issue 14).

Names with quotes, backslashes, control characters, NUL, DEL, invalid UTF-8
(stray bytes, overlong forms, surrogates, truncated sequences), valid UTF-8,
63- and 64-byte labels and a 255-byte name are sent as DNS questions (UDP),
TLS SNIs and HTTP Hosts.

1. Replay: a capture generated with tests/tools/mkpcap.py goes through
   `vigie replay --log-all` in the Vigie and the EVE format. Every stdout line
   must be strict UTF-8, one strict JSON object (no NaN, no duplicate keys),
   with no raw control byte or DEL; each name must read back as the escaping
   contract says (gateway/output/json.h: stray bytes are U+00XX; EVE,
   gateway/output/eve.h: a string that is not UTF-8 has its high bytes as
   the text \\xNN). The EVE lines are validated against Suricata's schema
   (tests/eve/validate_eve.py; that check is skipped without ../shared).
2. Syslog: `vigie run` in monitor mode on the loopback interface (enforce =
   log) with [log] syslog to a UDP, then a TCP (RFC 6587 octet counting)
   listener on 127.0.0.1; the same names are sent as real packets to
   loopback addresses. Every message must have a well-formed RFC 5424 header,
   no raw control byte in MSG, and MSG must be the JSON line. Skipped (the
   rest still runs) when not root.

Output: one line per check, then "N passed, M failed"; exit 1 on a failure.
Usage: hostile_names_test.py --vigie PATH --source-dir DIR --work-dir DIR [--python PY]
"""
import argparse
import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

SOURCE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(SOURCE, "..", "tools"))
import mkpcap  # noqa: E402

# Each hostile name as wire bytes (labels joined by '.').
NAMES = [
    b'a"b\\c.tiktok.com',
    b"nul\x00byte.tiktok.com",
    b"ctl\x01\x1f\x7f\t.example.com",
    b"bad\xff\xfe.example.com",
    b"cont\x80.tiktok.com",
    b"over\xc0\xaf.example.com",
    b"surr\xed\xa0\x80.example.com",
    b"trunc\xe2\x82.example.com",
    b"caf\xc3\xa9.example.com",
    b"a" * 63 + b".tiktok.com",
    b"b" * 64 + b".example.com",
    # 255 bytes on the wire: four labels (63, 63, 63, 59) and "com".
    b".".join([b"c" * 63, b"d" * 63, b"e" * 63, b"f" * 57, b"com"]),
]
# HTTP Host values (no CR/LF: they end the field).
HOSTS = [b'q"u\\o.tiktok.com', b"c\x01t\x7f.example.com", b"h\xff\xc3(.example.com", b"x" * 63 + b".tiktok.com"]
# Names a correct parser refuses (decided as malformed, domain null) rather
# than reports: a 64-byte DNS label is not a label (RFC 1035 2.3.4), and a
# Host outside RFC 3986's reg-name characters is a bad header (servers answer
# 400). Every other name must be reported and read back exactly.
REFUSED = {("dns", b"b" * 64 + b".example.com")} | {("http", h) for h in HOSTS[:3]}


def expected(proto_names):
    """(proto, name) pairs that must read back."""
    return [(p, n) for p, names in proto_names for n in names if (p, n) not in REFUSED]

RESULTS = []
RFC5424 = re.compile(rb"^<(\d{1,3})>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)) "
                     rb"([!-~]{1,255}) ([!-~]{1,48}) ([!-~]{1,128}) ([!-~]{1,32}) (-|\[.*?\]) (.*)$", re.S)


def check(ok, what):
    RESULTS.append(bool(ok))
    print(("ok   " if ok else "FAIL ") + what)
    return ok


def vigie_value(raw: bytes) -> str:
    """What a Vigie line's string parses to: stray bytes are U+00XX."""
    s = raw.decode("utf-8", "surrogateescape")
    return "".join(chr(ord(c) - 0xDC00) if 0xDC80 <= ord(c) <= 0xDCFF else c for c in s)


def eve_value(raw: bytes) -> str:
    """What an EVE line's string parses to: kept if UTF-8, else high bytes as \\xNN."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return "".join(chr(b) if b < 0x80 else "\\x%02x" % b for b in raw)


def reject_constant(name):
    raise ValueError(f"non-JSON constant {name}")


def no_duplicates(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {k!r}")
        d[k] = v
    return d


def strict_lines(data: bytes, what: str):
    """Parses every line strictly; returns the objects (None on a failure)."""
    out, bad = [], []
    for i, line in enumerate(data.split(b"\n")):
        if not line:
            continue
        raw_ctl = [b for b in line if b < 0x20 or b == 0x7F]
        try:
            obj = json.loads(line.decode("utf-8"), parse_constant=reject_constant, object_pairs_hook=no_duplicates)
            if not isinstance(obj, dict):
                raise ValueError("not an object")
            if raw_ctl:
                raise ValueError(f"raw control bytes {raw_ctl[:4]}")
            out.append(obj)
        except ValueError as e:  # UnicodeDecodeError and json.JSONDecodeError are ValueErrors
            bad.append(f"line {i + 1}: {e}: {line[:200]!r}")
    check(not bad and out, f"{what}: {len(out)} lines, each strict UTF-8 JSON with no raw control byte"
          + ("" if not bad else "\n  " + "\n  ".join(bad[:5])))
    return out


def eve_name(e):
    proto = e.get("app_proto")
    if proto == "dns":
        q = e.get("dns", {}).get("queries")
        return q[0]["rrname"] if q else None
    if proto in ("tls", "quic"):
        return e.get(proto, {}).get("sni")
    if proto == "http":
        return e.get("http", {}).get("hostname")
    return None


def make_capture(path):
    c = mkpcap.Capture()
    src = "10.20.5.20"
    for i, n in enumerate(NAMES):
        msg = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"  # id, RD, one question
        msg += b"".join(bytes([len(lab)]) + lab for lab in n.split(b".")) + b"\x00"
        msg += b"\x00\x01\x00\x01"  # QTYPE A, QCLASS IN
        c.dns(src, f"hostile{i}.example", raw=msg, label=f"dns hostile {i}")
        c.tls(src, f"hostile{i}.example", payload=mkpcap.client_hello(mkpcap.HelloOptions(sni=n)),
              label=f"tls hostile {i}")
    for i, h in enumerate(HOSTS):
        req = b"GET / HTTP/1.1\r\nHost: " + h + b"\r\nUser-Agent: t\r\n\r\n"
        c.http(src, req, "", label=f"http hostile {i}")
    c.write(path)


def replay_checks(args, work):
    pcap = os.path.join(work, "hostile.pcap")
    make_capture(pcap)
    config = os.path.join(args.source_dir, "deploy", "vigie.toml")
    outs = {}
    for fmt in ("vigie", "eve"):
        p = subprocess.run([args.vigie, "replay", "--config", config, "--log-all", "--log-format", fmt,
                            "--log", "-", pcap], capture_output=True)
        check(p.returncode == 0, f"replay --log-format {fmt} exits 0" + ("" if p.returncode == 0 else
                                                                           f": {p.stderr[-500:]!r}"))
        outs[fmt] = p.stdout
    vig = strict_lines(outs["vigie"], "replay, Vigie format")
    eve = strict_lines(outs["eve"], "replay, EVE format")
    seen_v = {(o["proto"], o.get("domain_raw", o.get("domain"))) for o in vig}
    seen_e = {(o.get("app_proto"), eve_name(o)) for o in eve}
    for proto, n in expected((("dns", NAMES), ("tls", NAMES), ("http", HOSTS))):
        check((proto, vigie_value(n)) in seen_v, f"Vigie {proto} name {n[:40]!r}... reads back")
        check((proto, eve_value(n)) in seen_e, f"EVE {proto} name {n[:40]!r}... reads back")
    for proto, n in sorted(REFUSED):
        check(not any(o["proto"] == proto and o.get("domain_raw", o.get("domain")) == vigie_value(n) for o in vig),
              f"{proto} name {n[:40]!r}... refused, not reported")
    refused = [o for o in vig if o["reason"] == "malformed" and not o["domain"] and o["proto"] in ("dns", "http")]
    check(len(refused) >= len(REFUSED), f"{len(refused)} malformed decisions (no domain) for the refused names")
    eve_file = os.path.join(work, "hostile.eve.json")
    with open(eve_file, "wb") as f:
        f.write(outs["eve"])
    v = subprocess.run([args.python, os.path.join(args.source_dir, "tests", "eve", "validate_eve.py"),
                        "--min-lines", str(len(eve)), eve_file], capture_output=True, text=True)
    if v.returncode == 77:
        print("skip EVE schema validation: " + (v.stdout + v.stderr).strip()[:200])
    else:
        check(v.returncode == 0, "EVE lines validate against Suricata's schema" +
              ("" if v.returncode == 0 else ": " + (v.stdout + v.stderr)[-800:]))


class Collector:
    """A syslog listener on 127.0.0.1: UDP datagrams or RFC 6587 octet-counted TCP."""

    def __init__(self, tcp):
        self.tcp, self.messages, self.stop = tcp, [], False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        if tcp:
            self.sock.listen(4)
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        conns, bufs = [], {}
        deadline = time.time() + 60  # bounded: the test never runs this long
        while not self.stop and time.time() < deadline:
            r, _, _ = select.select([self.sock] + conns, [], [], 0.1)
            for s in r:
                if s is self.sock and not self.tcp:
                    self.messages.append(s.recv(70000))
                elif s is self.sock:
                    c, _ = s.accept()
                    conns.append(c)
                    bufs[c] = b""
                else:
                    d = s.recv(65536)
                    if not d:
                        conns.remove(s)
                        continue
                    bufs[s] += d
                    while b" " in bufs[s][:12]:
                        ln, rest = bufs[s].split(b" ", 1)
                        n = int(ln)
                        if len(rest) < n:
                            break
                        self.messages.append(rest[:n])
                        bufs[s] = rest[n:]
        for c in conns:
            c.close()

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def send_loopback_traffic():
    """The hostile names as real packets between loopback addresses."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for n in NAMES:
        msg = b"\x43\x21\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
        msg += b"".join(bytes([len(lab)]) + lab for lab in n.split(b".")) + b"\x00\x00\x01\x00\x01"
        u.sendto(msg, ("127.0.0.2", 53))  # nothing listens: the kernel answers port unreachable
    u.close()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.3", 0))
    srv.listen(64)
    port = srv.getsockname()[1]
    payloads = [mkpcap.client_hello(mkpcap.HelloOptions(sni=n)) for n in NAMES]
    payloads += [b"GET / HTTP/1.1\r\nHost: " + h + b"\r\n\r\n" for h in HOSTS]
    for p in payloads:
        c = socket.create_connection(("127.0.0.3", port), timeout=5)
        a, _ = srv.accept()
        c.sendall(p)
        time.sleep(0.02)
        c.close()
        a.close()
    srv.close()


def syslog_checks(args, work, tcp, fmt):
    what = f"syslog over {'TCP' if tcp else 'UDP'}, {fmt} format"
    col = Collector(tcp)
    d = os.path.join(work, f"run-{'tcp' if tcp else 'udp'}")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, "lists"))
    os.chmod(d, 0o755)
    shutil.copy(os.path.join(args.source_dir, "lists", "apps", "tiktok.list"), os.path.join(d, "lists"))
    with open(os.path.join(d, "vigie.toml"), "w") as f:
        f.write(f"""[gateway]
mode = "monitor"
interfaces = ["lo"]
enforce = "log"

[scope]
managed = ["127.0.0.0/8"]

[lists]
dir = "{d}/lists"

[[policy]]
apps = ["tiktok"]
action = "block"

[log]
path = "{d}/decisions.jsonl"
mode = "all"
format = "{fmt}"
syslog = "{'tcp' if tcp else 'udp'}://127.0.0.1:{col.port}"
""")
    err = open(os.path.join(d, "vigie.err"), "w+")
    p = subprocess.Popen([args.vigie, "run", "--config", os.path.join(d, "vigie.toml")], stderr=err,
                         stdout=subprocess.DEVNULL)
    ready = False
    for _ in range(200):
        err.seek(0)
        if "ready" in err.read():
            ready = True
            break
        if p.poll() is not None:
            break
        time.sleep(0.05)
    if not check(ready, f"{what}: vigie run on lo starts"):
        err.seek(0)
        print("  " + err.read()[-1000:])
        p.kill()
        p.wait()
        col.close()
        return
    send_loopback_traffic()
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    time.sleep(0.3)
    col.close()
    msgs = col.messages
    check(len(msgs) >= len(NAMES) * 2, f"{what}: {len(msgs)} messages received")
    bad_head, bad_ctl, lines = [], [], []
    for m in msgs:
        mt = RFC5424.match(m)
        if not mt or not 0 <= int(mt.group(1)) <= 191 or mt.group(6) != b"vigie" or mt.group(8) != b"decision":
            bad_head.append(m[:120])
            continue
        body = mt.group(10)
        if any(b < 0x20 or b == 0x7F for b in body):
            bad_ctl.append(body[:120])
        lines.append(body)
    check(not bad_head, f"{what}: every header is RFC 5424 (PRI, version 1, timestamp, host, vigie, pid, "
                        f"decision, no SD)" + ("" if not bad_head else f": {bad_head[:3]!r}"))
    check(not bad_ctl, f"{what}: no raw control byte in any MSG" + ("" if not bad_ctl else f": {bad_ctl[:3]!r}"))
    objs = strict_lines(b"\n".join(lines), f"{what}: MSG")
    names = set()
    for o in objs:
        names.add(o.get("domain_raw", o.get("domain")) if fmt == "vigie" else eve_name(o))
    value = vigie_value if fmt == "vigie" else eve_value
    missing = [n for _, n in expected((("dns", NAMES), ("tls", NAMES), ("http", HOSTS))) if value(n) not in names]
    check(not missing, f"{what}: every hostile name reached the collector intact" +
          ("" if not missing else f": missing {missing[:3]!r}"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--work-dir", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    args = ap.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    replay_checks(args, args.work_dir)
    if os.geteuid() != 0:
        print("skip syslog checks: vigie run on lo needs root")
    else:
        syslog_checks(args, args.work_dir, tcp=False, fmt="vigie")
        syslog_checks(args, args.work_dir, tcp=True, fmt="eve")
    failed = RESULTS.count(False)
    print(f"{RESULTS.count(True)} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
