#!/usr/bin/env python3
"""Every list in lists/apps loads, says where it comes from, and blocks no
public suffix (and, with --shared-parents, no shared infrastructure parent).

  lists_lint_test.py --vigie BIN --config deploy/vigie.toml --lists lists/apps
                     [--psl FILE] [--shared-parents lists/shared_parents.list]

Checks, each failure printed as file:line: why
  - `vigie check-config` on the config passes (the C++ loader is the parser of
    record; this script only re-reads entries to judge them);
  - each file's leading comment has a "Reviewed: YYYY-MM-DD" line and a
    "Sources:" line naming what was consulted;
  - no plain or full: entry is a public suffix (Public Suffix List rules,
    wildcards and exceptions; the implicit "*" rule makes every TLD one);
  - with --shared-parents: no entry equals a shared parent, no plain entry is a
    suffix rule covering one (e.g. "net" or "amazonaws.com" when the parent is
    "s3.amazonaws.com"), and no label pattern matches one.
Exit 0 when all pass, 1 otherwise, 77 (skip) when --shared-parents names a
file that does not exist (the guard list ships with the pattern support).
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import listfile  # noqa: E402

REVIEWED = re.compile(r"^#\s*Reviewed:\s*(\d{4}-\d{2}-\d{2})\b")
SOURCES = re.compile(r"^#\s*Sources:\s*\S")


def check_header(path, header):
    problems = []
    if not any(REVIEWED.match(line) for line in header):
        problems.append(f"{path}:1: header has no 'Reviewed: YYYY-MM-DD' line")
    if not any(SOURCES.match(line) for line in header):
        problems.append(f"{path}:1: header has no 'Sources:' line")
    return problems


def check_public_suffix(entries, psl):
    problems = []
    for e in entries:
        if e.kind in ("domain", "full") and psl.is_public_suffix(e.value):
            problems.append(f"{e.where()}: '{e.value}' is a public suffix")
    return problems


def check_shared_parents(entries, parents):
    problems = []
    for e in entries:
        for parent in parents:
            if e.kind in ("domain", "full") and e.value == parent:
                problems.append(f"{e.where()}: '{e.value}' is a shared parent")
            elif e.kind == "domain" and parent.endswith("." + e.value):
                problems.append(f"{e.where()}: '{e.value}' covers shared parent '{parent}'")
            elif e.kind == "pattern" and listfile.pattern_matches(e.value, parent):
                problems.append(f"{e.where()}: pattern '{e.value}' matches shared parent '{parent}'")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--lists", required=True)
    ap.add_argument("--psl", default=listfile.DEFAULT_PSL)
    ap.add_argument("--shared-parents")
    args = ap.parse_args()

    if args.shared_parents and not os.path.exists(args.shared_parents):
        print(f"SKIP: {args.shared_parents} does not exist")
        return 77

    problems = []
    run = subprocess.run([args.vigie, "check-config", "--config", args.config],
                         capture_output=True, text=True)
    if run.returncode != 0:
        problems.append(f"vigie check-config failed: {run.stdout}{run.stderr}".strip())

    psl = listfile.PublicSuffixList(args.psl)
    parents = listfile.read_shared_parents(args.shared_parents) if args.shared_parents else []
    lists = listfile.app_lists(args.lists)
    if not lists:
        problems.append(f"{args.lists}: no .list files")
    total = 0
    for app, path in lists.items():
        header, entries = listfile.read_list(path)
        total += len(entries)
        if not entries:
            problems.append(f"{path}:1: no entries")
        if args.shared_parents:
            problems += check_shared_parents(entries, parents)
        else:
            problems += check_header(path, header)
            problems += check_public_suffix(entries, psl)
    for p in problems:
        print(p)
    what = f"{len(parents)} shared parents" if args.shared_parents else "headers, public suffixes"
    print(f"{len(lists)} lists, {total} entries, {what}: "
          f"{'FAIL' if problems else 'ok'} ({len(problems)} problems)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
