#!/usr/bin/env python3
"""`vigie check` on broken configs and lists, and `vigie lists import` /
`lists diff` on the samples in lists/testdata/import/, through the binary.

check: each error printed as file:line: why, exit 2 (syntax error, unknown
key, bad CIDR, bad list entry, missing list dir, a list in no [[policy]]);
the warnings of a valid config (a rule shadowed by a broader one of its list,
an expired exception) as file:line: warning: ..., exit 0 (1 with --strict).
lists import: v2fly and adguard-services samples give lists `vigie check`
accepts, with the removed / narrowed entries reported as file:line on
stderr. lists diff: the added / removed entries between the two imports,
checked against a set difference computed here.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

OK = """[scope]
managed = ["10.0.0.0/8"]
[lists]
dir = "lists"
[[policy]]
apps = ["tiktok"]
action = "block"
[[policy]]
apps = ["olvid"]
action = "allow"
[[exception]]
id = "old"
apps = ["tiktok"]
until = "2020-01-01"
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    args.vigie = os.path.abspath(args.vigie)
    args.source_dir = os.path.abspath(args.source_dir)
    tmp = tempfile.mkdtemp(prefix="vigie_check_")
    failures = []

    def write(rel, text):
        path = os.path.join(tmp, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").write(text)
        return path

    def lists(d, extra_tiktok="", more=None):
        write(f"{d}/tiktok.list", "tiktok.com\napi.tiktok.com\n" + extra_tiktok)
        write(f"{d}/olvid.list", "olvid.io\n")
        for k, v in (more or {}).items():
            write(f"{d}/{k}", v)

    def check(*cmd):
        return subprocess.run([args.vigie, "check", *cmd], capture_output=True, text=True, cwd=tmp)

    lists("lists")
    ok = write("ok.toml", OK)
    p = check(ok)
    print(p.stdout, end="")
    if p.returncode != 0:
        failures.append(f"valid config: exit {p.returncode}: {p.stderr}")
    for want in (r"tiktok\.list:2: warning: 'api\.tiktok\.com' is shadowed by the broader rule 'tiktok\.com'",
                 re.escape(ok) + r":11: warning: exception 'old' expired on 2020-01-01"):
        if not re.search(want, p.stdout):
            failures.append(f"valid config: no warning matching {want!r}")
    if check("--strict", ok).returncode != 1:
        failures.append("--strict with warnings does not exit 1")

    lists("l_entry", extra_tiktok="bad..entry\n")
    lists("l_orphan", more={"twitter.list": "x.com\n"})
    broken = {
        "syntax error": (OK.replace('managed = ["10.0.0.0/8"]', 'managed = ["10.0.0.0/8"'), None, 3,  # toml++ stops at the next line
                         "Error while parsing array"),
        "unknown key": (OK.replace('action = "allow"', 'action = "allow"\nactoin = "block"'), None, 11,
                        "unknown key 'actoin'"),
        "bad CIDR": (OK.replace("10.0.0.0/8", "10.0.0.0/33"), None, 2, "10.0.0.0/33"),
        "missing list dir": (OK.replace('dir = "lists"', 'dir = "nowhere"'), None, 4, "not a list directory"),
        "bad list entry": (OK.replace('dir = "lists"', 'dir = "l_entry"'), "l_entry/tiktok.list", 3, "bad..entry"),
        "list in no [[policy]]": (OK.replace('dir = "lists"', 'dir = "l_orphan"'), None, 4,
                                  "twitter.list is in no [[policy]]"),
    }
    for label, (text, err_file, line, why) in broken.items():
        path = write(f"{label.replace(' ', '_').replace('[', '').replace(']', '')}.toml", text)
        p = check(path)
        where = os.path.join(tmp, err_file) if err_file else path
        first = p.stderr.splitlines()[0] if p.stderr else ""
        ok_ = p.returncode == 2 and first.startswith(f"{where}:{line}: ") and why in first
        print(f"{'ok  ' if ok_ else 'FAIL'} check {label}: exit {p.returncode}: {first}")
        if not ok_:
            failures.append(f"check {label}: exit {p.returncode}, stderr {p.stderr!r}; want {where}:{line}: ...{why}")

    # lists import, then the imports as a list dir vigie check accepts.
    data = os.path.join(args.source_dir, "lists", "testdata", "import")
    imports = {}
    for fmt, sample, reported in (("v2fly", "v2fly_tiktok", "removed: analytics.tiktok.com"),
                                  ("adguard-services", "adguard_tiktok.yml", "narrowed: ||p16-tiktok-*")):
        src = os.path.join(data, sample)
        p = subprocess.run([args.vigie, "lists", "import", "--format", fmt, "--app", "tiktok", src],
                           capture_output=True, text=True)
        entries = [l for l in p.stdout.splitlines() if l and not l.startswith("#")]
        m = re.search(r"# (\d+) entries", p.stdout)
        ok_ = (p.returncode == 0 and m and int(m.group(1)) == len(entries) and "tiktok.com" in
               " ".join(entries) and re.search(re.escape(src) + r":\d+: " + re.escape(reported), p.stderr))
        print(f"{'ok  ' if ok_ else 'FAIL'} lists import --format {fmt}: {len(entries)} entries")
        if not ok_:
            failures.append(f"import {fmt}: exit {p.returncode}, {len(entries)} entries, stderr {p.stderr[:300]!r}")
        d = f"imp_{fmt}"
        write(f"{d}/tiktok.list", p.stdout)
        write(f"{d}/olvid.list", "olvid.io\n")
        imports[fmt] = set(entries)
        c = check(write(f"{d}.toml", OK.replace('dir = "lists"', f'dir = "{d}"')))
        if c.returncode != 0:
            failures.append(f"imported {fmt} list refused by vigie check: {c.stderr}")

    p = subprocess.run([args.vigie, "lists", "diff", os.path.join(tmp, "imp_v2fly"),
                        os.path.join(tmp, "imp_adguard-services")], capture_output=True, text=True)
    added = {l.split(": +", 1)[1] for l in p.stdout.splitlines() if ": +" in l}
    removed = {l.split(": -", 1)[1] for l in p.stdout.splitlines() if ": -" in l}
    want_added = imports["adguard-services"] - imports["v2fly"]
    want_removed = imports["v2fly"] - imports["adguard-services"]
    ok_ = p.returncode == 0 and added == want_added and removed == want_removed and (
        f"{len(want_added)} added, {len(want_removed)} removed" in p.stdout)
    print(f"{'ok  ' if ok_ else 'FAIL'} lists diff: {len(added)} added, {len(removed)} removed")
    if not ok_:
        failures.append(f"lists diff: exit {p.returncode}; added {sorted(added ^ want_added)[:5]} "
                        f"removed {sorted(removed ^ want_removed)[:5]} differ; {p.stdout[-200:]!r}")
    shutil.rmtree(tmp)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
