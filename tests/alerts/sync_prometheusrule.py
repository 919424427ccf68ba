#!/usr/bin/env python3
"""deploy/k8s/base/prometheusrule.yaml holds the groups of deploy/prometheus/alerts.yml as a
Prometheus Operator PrometheusRule.

Usage: sync_prometheusrule.py --check   exit 1 when the two differ (tests/alerts/run.sh)
       sync_prometheusrule.py --write   regenerate the PrometheusRule from alerts.yml
Run from the repository root.
"""
import sys

import yaml

RULES = "deploy/prometheus/alerts.yml"
TARGET = "deploy/k8s/base/prometheusrule.yaml"
HEADER = """# Generated from deploy/prometheus/alerts.yml (tests/alerts/run.sh fails when the two differ):
# the same rules for the Prometheus Operator. To regenerate:
#   python3 tests/alerts/sync_prometheusrule.py --write
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: mailsec-exporter
  labels:
    app.kubernetes.io/name: mailsec-exporter
spec:
"""


def render():
    src = open(RULES, encoding="utf-8").read()
    start = src.index("\ngroups:") + 1
    return HEADER + "".join(("  " + l) if l.strip() else l for l in src[start:].splitlines(True))


def main():
    if sys.argv[1:] == ["--write"]:
        open(TARGET, "w", encoding="utf-8").write(render())
        return 0
    if sys.argv[1:] != ["--check"]:
        print(__doc__)
        return 2
    rules = yaml.safe_load(open(RULES, encoding="utf-8"))
    crd = yaml.safe_load(open(TARGET, encoding="utf-8"))
    ok = crd.get("kind") == "PrometheusRule" and crd.get("spec", {}).get("groups") == rules["groups"]
    print("  %s %s %s" % (TARGET, "matches" if ok else "DIFFERS FROM", RULES))
    if not ok:
        print("  regenerate: python3 tests/alerts/sync_prometheusrule.py --write")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
