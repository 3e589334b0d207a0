#!/usr/bin/env python3
"""Checks deploy/grafana/vigie.json against the series Vigie exports.

  dashboard_test.py DASHBOARD SOURCE_DIR [ALERT_RULES]

The list of exported series is read from the source that generates them:
gateway/base/counters.h (every VIGIE_COUNTERS entry is vigie_<name>_total) and the
string literals of gateway/output/metrics_server.cc (the labelled families). Reading
the source, not a live scrape, keeps this test hermetic (no root, no
NFQUEUE, no running gateway) while a renamed counter or family still breaks
it, because /metrics is generated from exactly these names. Series planned
but not yet exported may be listed in PLANNED until they appear in the source.

Checks: the JSON loads; schemaVersion; a Prometheus datasource variable used
by every panel and target; unique panel ids; panels do not overlap; every
expr names only known series and labels; every expr parses (promtool check
rules, when promtool is installed); the alert rules' exprs (ALERT_RULES,
deploy/prometheus/vigie-alerts.yml) name only known series too; and the
checker itself catches a renamed series (a mutated copy must fail). Exit 0
when every check passes.
"""
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Series planned but not yet in the source ({series: labels}). A name found
# in the source is reported, so it can leave this list.
PLANNED = {}
# Prometheus's own series and the labels it attaches to every target.
PROMETHEUS_SERIES = {"up"}
TARGET_LABELS = {"instance", "job"}
# Grafana schema of Grafana 10.x dashboards.
SCHEMA_VERSION = 39
# Grafana's global variables, replaced by PromQL-valid values for promtool.
GRAFANA_VARS = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "1m"}

PROMQL_KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
                   "unless", "offset", "inf", "nan"}

failures = []


def check(cond, msg):
    print(("PASS " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def exported_series(source_dir):
    """{series: labels} from counters.h and metrics_server.cc."""
    series = {}
    counters = open(os.path.join(source_dir, "gateway/base/counters.h"), encoding="utf-8").read()
    m = re.search(r"#define VIGIE_COUNTERS\(X\)(.*?)\n\n", counters, re.S)
    if not m:
        sys.exit("gateway/base/counters.h: no VIGIE_COUNTERS list")
    for name in re.findall(r"X\((\w+),", m.group(1)):
        series[f"vigie_{name}_total"] = set()
    server = open(os.path.join(source_dir, "gateway/output/metrics_server.cc"), encoding="utf-8").read()
    labels = set(re.findall(r'[{,](\w+)=\\"', server))
    for name in re.findall(r'"(vigie_[a-z0-9_]+)"', server):
        series[name] = labels
        # a histogram family is exported as _bucket, _sum and _count
        for suffix in ("_bucket", "_sum", "_count"):
            series.setdefault(name + suffix, labels | {"le"})
    if not series:
        sys.exit("no exported series found in the source")
    return series


def names_in(expr):
    """(series names, label names) an expr mentions."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)            # string literals
    for v in sorted(GRAFANA_VARS, key=len, reverse=True):
        e = e.replace(v, GRAFANA_VARS[v])
    labels = set()
    for block in re.findall(r"\{([^}]*)\}", e):              # label matchers
        labels |= set(re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", block))
    e = re.sub(r"\{[^}]*\}", " ", e)
    for block in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", e):
        labels |= set(re.findall(r"\w+", block))
    e = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)                         # range selectors
    series = set()
    for m in re.finditer(r"[A-Za-z_:][\w:]*", e):
        tok = m.group(0)
        rest = e[m.end():].lstrip()
        if rest.startswith("(") or tok.lower() in PROMQL_KEYWORDS:
            continue                                          # function or keyword
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue                                          # part of a number (1e3)
        series.add(tok)
    return series, labels


def targets(dash):
    for p in dash.get("panels", []):
        for q in [p] + p.get("panels", []):
            for t in q.get("targets", []):
                yield q, t


def check_exprs(dash, known):
    """Returns a list of (panel title, problem)."""
    problems = []
    for p, t in targets(dash):
        expr = t.get("expr", "")
        if not expr.strip():
            problems.append((p.get("title"), "empty expr"))
            continue
        series, labels = names_in(expr)
        if not series:
            problems.append((p.get("title"), f"no series in '{expr}'"))
        allowed_labels = set(TARGET_LABELS)
        for s in series:
            if s not in known:
                problems.append((p.get("title"), f"unknown series {s}"))
            else:
                allowed_labels |= known[s]
        for l in labels - allowed_labels:
            problems.append((p.get("title"), f"unknown label {l} in '{expr}'"))
    return problems


def main():
    dash_path, source_dir = sys.argv[1], sys.argv[2]
    try:
        dash = json.load(open(dash_path, encoding="utf-8"))
    except (OSError, ValueError) as e:
        check(False, f"{dash_path} loads as JSON: {e}")
        return 1
    check(True, f"{dash_path} loads as JSON")
    check(dash.get("schemaVersion") == SCHEMA_VERSION, f"schemaVersion {dash.get('schemaVersion')} == {SCHEMA_VERSION}")

    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds = [v for v in variables.values() if v.get("type") == "datasource" and v.get("query") == "prometheus"]
    check(len(ds) == 1, "one Prometheus datasource variable")
    ds_ref = "${%s}" % ds[0]["name"] if ds else None
    bad_ds = [p.get("title") for p, t in targets(dash)
              if p.get("datasource", {}).get("uid") != ds_ref or t.get("datasource", {}).get("uid") != ds_ref]
    for v in variables.values():
        if v.get("type") == "query" and v.get("datasource", {}).get("uid") != ds_ref:
            bad_ds.append("variable " + v.get("name", "?"))
    check(not bad_ds, f"every panel, target and query variable uses {ds_ref} ({bad_ds[:3]})")

    all_panels = [q for p in dash.get("panels", []) for q in [p] + p.get("panels", [])]
    ids = [p.get("id") for p in all_panels]
    check(len(ids) == len(set(ids)) and None not in ids, f"{len(ids)} panels, unique ids")
    boxes = [(p.get("title"), p["gridPos"]) for p in all_panels if "gridPos" in p]
    overlap = [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
               if a[1]["x"] < b[1]["x"] + b[1]["w"] and b[1]["x"] < a[1]["x"] + a[1]["w"]
               and a[1]["y"] < b[1]["y"] + b[1]["h"] and b[1]["y"] < a[1]["y"] + a[1]["h"]]
    check(not overlap and all(b[1]["x"] + b[1]["w"] <= 24 for b in boxes), f"panels do not overlap ({overlap[:2]})")

    exported = exported_series(source_dir)
    for name in sorted(set(PLANNED) & set(exported)):
        print(f"NOTE {name} is now in the source: remove it from PLANNED in {__file__}")
    known = dict(exported)
    for s in PROMETHEUS_SERIES:
        known[s] = set()
    for s, l in PLANNED.items():
        known.setdefault(s, l)
    problems = check_exprs(dash, known)
    check(not problems, f"every expr names only series of counters.h / metrics_server.cc / PLANNED "
                        f"({len(list(targets(dash)))} exprs; {problems[:3]})")
    used = set().union(*(names_in(t["expr"])[0] for _, t in targets(dash)))
    for must in ("vigie_decisions_total", "vigie_packets_total", "vigie_anomalies_total",
                 "vigie_source_dropped_total", "vigie_source_overruns_total", "vigie_log_events_written_total",
                 "vigie_log_events_dropped_total", "vigie_enforce_dns_answers_total",
                 "vigie_enforce_tcp_resets_total", "vigie_packet_latency_seconds_bucket", "vigie_flows",
                 "vigie_flows_evicted_total", "vigie_quota_hits_total", "vigie_fail_open_total", *PLANNED):
        check(must in used, f"a panel shows {must}")

    if len(sys.argv) > 3:
        # One-line `expr:` values (the file's own convention; no YAML parser
        # in the standard library).
        text = open(sys.argv[3], encoding="utf-8").read()
        exprs = re.findall(r"^\s*expr:\s*(.+?)\s*$", text, re.M)
        alerts = len(re.findall(r"^\s*- alert:", text, re.M))
        rules_dash = {"panels": [{"title": "alert rule", "targets": [{"expr": e} for e in exprs]}]}
        problems = check_exprs(rules_dash, known)
        check(exprs and len(exprs) == alerts and not problems,
              f"{sys.argv[3]}: {len(exprs)} alert exprs name only known series ({problems[:3]})")

    # The checker catches a renamed series: rename one in a copy.
    mutated = copy.deepcopy(dash)
    for p, t in targets(mutated):
        if "vigie_decisions_total" in t["expr"]:
            t["expr"] = t["expr"].replace("vigie_decisions_total", "vigie_decision_total")
            break
    bad = check_exprs(mutated, known)
    check(any("vigie_decision_total" in why for _, why in bad),
          "self-check: a dashboard naming vigie_decision_total (renamed) is refused")

    promtool = shutil.which("promtool")
    if promtool is None:
        print("NOTE promtool not installed (Debian prometheus): PromQL syntax not checked")
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
            f.write("groups:\n  - name: dashboard\n    rules:\n")
            for i, (p, t) in enumerate(targets(dash)):
                e = t["expr"].replace('=~"$instance"', '=~".*"')
                for v, r in GRAFANA_VARS.items():
                    e = e.replace(v, r)
                f.write(f"      - record: dashboard:expr{i}\n        expr: {json.dumps(e)}\n")
            rules = f.name
        r = subprocess.run([promtool, "check", "rules", rules], capture_output=True, text=True)
        os.unlink(rules)
        check(r.returncode == 0, "every expr parses as PromQL (promtool check rules)"
              + ("" if r.returncode == 0 else ": " + (r.stdout + r.stderr)[-400:]))

    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
