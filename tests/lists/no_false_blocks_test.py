#!/usr/bin/env python3
"""No false blocks: popular names unrelated to any listed app match no list.

  no_false_blocks_test.py --vigie BIN --config deploy/vigie.toml --names FILE

Feeds every name of FILE (one a line, # comments) to `vigie lookup` on stdin
and fails, printing the rule and its file:line, for each name that any list
matches (block, allow or log): a name in FILE is one that no app owns, so a
match at all means a list is too broad. Also fails when lookup answers a
different number of lines than names, or names nothing.
"""
import argparse
import json
import subprocess
import sys


def read_names(path):
    names = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if line:
                names.append(line)
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigie", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--names", required=True)
    args = ap.parse_args()

    names = read_names(args.names)
    if not names:
        print(f"{args.names}: no names")
        return 1
    run = subprocess.run([args.vigie, "lookup", "--config", args.config],
                         input="\n".join(names) + "\n", capture_output=True, text=True)
    if run.returncode != 0:
        print(f"vigie lookup failed ({run.returncode}): {run.stderr.strip()}")
        return 1
    answers = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    if len(answers) != len(names):
        print(f"vigie lookup answered {len(answers)} lines for {len(names)} names")
        return 1
    bad = 0
    for name, answer in zip(names, answers):
        if answer.get("app") is not None or answer.get("action") == "block":
            bad += 1
            print(f"FALSE MATCH {name}: {answer.get('action')} by {answer.get('app')} "
                  f"rule {answer.get('rule')} at {answer.get('rule_source')}")
    print(f"{len(names)} unrelated names, {bad} matched by a list: {'FAIL' if bad else 'ok'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
