#!/usr/bin/python3
"""deploy/vigie.8 cannot drift from the binary.

  man_page_test.py VIGIE MAN_PAGE

Every subcommand `vigie --help` lists ("  replay ...", "  lists import ...",
"  logs reopen ...", the check-config alias) must have a "vigie <command>"
synopsis in the rendered page, and every long option that `vigie --help` or
`vigie <command> --help` prints (the usage line each command gives) must
appear in the page as a whole word. `man --warnings -l` must render the page
with no warning (groff -ww). Exit 0 when every check passes.
"""
import os
import re
import subprocess
import sys

failures = []


def check(cond, what):
    print(("PASS " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    return p.stdout + p.stderr


def main():
    vigie, page = sys.argv[1], sys.argv[2]
    top = run([vigie, "--help"])
    # Command lines of the usage: two spaces, the command (one or two words), options.
    commands = []
    for line in top.splitlines():
        m = re.match(r"^  ([a-z][a-z-]*)((?: [a-z][a-z-]*)?)(?=\s|$)", line)
        if not m:
            continue
        cmd = m.group(1)
        second = m.group(2).strip()
        # "rules iptables|nft": a choice, not a subcommand; "lists import": one.
        if second and not line[m.end():].startswith("|"):
            cmd += " " + second
        commands.append(cmd)
        alias = re.search(r"alias: ([a-z][a-z-]*)", line)
        if alias:
            commands.append(alias.group(1))
    check(len(commands) >= 10, f"vigie --help lists {len(commands)} commands ({', '.join(commands)})")

    options = {o: "vigie --help" for o in re.findall(r"(?<![\w-])--[a-z][a-z-]*", top)}
    for cmd in commands:
        out = run([vigie] + cmd.split() + ["--help"])
        for o in re.findall(r"(?<![\w-])--[a-z][a-z-]*", out):
            options.setdefault(o, f"vigie {cmd} --help")
    options.pop("--help", None)
    check(len(options) >= 15, f"{len(options)} long options printed by the binary")

    env = dict(os.environ, LC_ALL="C", MANWIDTH="1000")  # ASCII hyphens, no line breaks
    r = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True, env=env)
    check(r.returncode == 0 and not r.stderr.strip(),
          f"man --warnings -l renders {os.path.basename(page)} without warnings ({r.stderr.strip()[:300]})")
    text = r.stdout
    synopsis = text[text.find("SYNOPSIS"):text.find("DESCRIPTION")]
    for cmd in commands:
        check(re.search(r"(?m)^\s*vigie " + re.escape(cmd) + r"(?![\w-])", synopsis) is not None,
              f"SYNOPSIS has 'vigie {cmd}'")
    for o, where in sorted(options.items()):
        check(re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])", text) is not None,
              f"the page names {o} ({where})")

    # The checker itself: a page without one option fails.
    missing = text.replace("--pid-file", "--pidfile")
    check(re.search(r"(?<![\w-])--pid-file(?![\w-])", missing) is None and "--pid-file" in options,
          "self-check: a page that lost --pid-file would be caught")

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
