#!/usr/bin/python3
"""Validates EVE JSON lines against Suricata 8's schema.

usage: validate_eve.py [--schema SCHEMA] [--min-lines N] FILE...

Every line of every FILE must be valid UTF-8, one JSON object (no duplicate
keys, no NaN/Infinity) and valid against the schema (Draft 2020-12; the
schema's additionalProperties: false reject any field Suricata does not
know). The first failures are printed as FILE:LINE: error, and the exit
status is 1. Exit 77 (ctest SKIP_RETURN_CODE) when the schema is absent: the
default is ../shared/specs/suricata-eve/schema.json beside the repository.

Needs Debian's python3-jsonschema (4.10 has Draft202012Validator); run with
/usr/bin/python3, since a pyenv python on PATH does not see Debian modules.
"""
import argparse
import json
import os
import sys

SKIP = 77
MAX_REPORTED = 20  # failures printed before giving up on details

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_SCHEMA = os.path.normpath(
    os.path.join(HERE, "..", "..", "..", "shared", "specs", "suricata-eve", "schema.json"))


def reject_constant(name):
    raise ValueError(f"non-JSON constant {name}")


def no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--schema", default=DEFAULT_SCHEMA)
    ap.add_argument("--min-lines", type=int, default=1,
                    help="fail when the files hold fewer lines (an empty output is not a pass)")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()

    if not os.path.exists(args.schema):
        print(f"SKIP: no schema at {args.schema} (../shared absent)")
        return SKIP
    try:
        import jsonschema
    except ImportError:
        print("validate_eve.py: the jsonschema module is missing: apt-get install python3-jsonschema "
              "(and run this script with /usr/bin/python3)", file=sys.stderr)
        return 2
    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    validator = cls(schema)

    failures = 0
    lines = 0
    for path in args.files:
        with open(path, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            print(f"{path}: last line has no newline")
            failures += 1
        rows = data.split(b"\n") if data else []
        if data.endswith(b"\n"):
            rows.pop()
        for n, raw in enumerate(rows, 1):
            lines += 1
            error = None
            try:
                text = raw.decode("utf-8", errors="strict")
                obj = json.loads(text, object_pairs_hook=no_duplicates, parse_constant=reject_constant)
                if not isinstance(obj, dict):
                    error = "not a JSON object"
                else:
                    errors = sorted(validator.iter_errors(obj), key=lambda e: list(e.absolute_path))
                    if errors:
                        e = errors[0]
                        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
                        error = f"{where}: {e.message}" + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")
            except UnicodeDecodeError as e:
                error = f"invalid UTF-8: {e}"
            except ValueError as e:
                error = f"invalid JSON: {e}"
            if error is not None:
                failures += 1
                if failures <= MAX_REPORTED:
                    print(f"{path}:{n}: {error}")
    if lines < args.min_lines:
        print(f"only {lines} lines (expected at least {args.min_lines})")
        return 1
    if failures:
        print(f"{failures} of {lines} lines invalid against {args.schema}")
        return 1
    print(f"{lines} lines valid against {args.schema}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
