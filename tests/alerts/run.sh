#!/usr/bin/env bash
# Checks the bundled Prometheus rules/config and the Grafana dashboard.
#   bash tests/alerts/run.sh        (from any directory; needs promtool, Debian package `prometheus`)
# Exits non-zero on the first failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

if ! command -v promtool >/dev/null 2>&1; then
  echo "run.sh: promtool not found (apt-get install prometheus)" >&2
  exit 1
fi
promtool --version 2>&1 | head -n1

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

step() { echo; echo "== $*"; }

step "promtool check rules deploy/prometheus/alerts.yml"
promtool check rules deploy/prometheus/alerts.yml

# rule_files in prometheus.yml are relative to the config file's directory, so this also loads
# and checks deploy/prometheus/alerts.yml.
step "promtool check config deploy/prometheus/prometheus.yml"
promtool check config deploy/prometheus/prometheus.yml

step "promtool test rules tests/alerts/mailsec_alerts_test.yml"
promtool test rules tests/alerts/mailsec_alerts_test.yml

step "every alert: a firing and a not-firing unit test, a runbook section in docs/alerts.md"
python3 - deploy/prometheus/alerts.yml tests/alerts/mailsec_alerts_test.yml docs/alerts.md <<'PY'
import re, sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
tests = yaml.safe_load(open(sys.argv[2]))
anchors = {re.sub(r"[^a-z0-9_-]", "", h.strip().lower().replace(" ", "-"))
           for h in re.findall(r"^#+\s+(.*)$", open(sys.argv[3]).read(), re.M)}
firing, silent = set(), set()
for t in tests["tests"]:
    for a in t.get("alert_rule_test", []):
        (firing if a.get("exp_alerts") else silent).add(a["alertname"])
errors, n = [], 0
for g in rules["groups"]:
    for r in g["rules"]:
        if "alert" not in r:
            continue
        n += 1
        a = r["alert"]
        if a not in firing:
            errors.append("alert %s has no alert_rule_test where it fires" % a)
        if a not in silent:
            errors.append("alert %s has no alert_rule_test with exp_alerts: [] (not firing)" % a)
        ann = r.get("annotations", {})
        for key in ("summary", "description", "runbook"):
            if not ann.get(key):
                errors.append("alert %s has no %s annotation" % (a, key))
        want = "docs/alerts.md#" + a.lower()
        if ann.get("runbook") != want:
            errors.append("alert %s: runbook is %r, want %r" % (a, ann.get("runbook"), want))
        if a.lower() not in anchors:
            errors.append("alert %s has no section in %s" % (a, sys.argv[3]))
for e in errors:
    print("run.sh: " + e)
print("  %d alerts; firing and silent tests, runbook sections: %s" % (n, "FAIL" if errors else "OK"))
sys.exit(1 if errors else 0)
PY

step "JSON well-formed: dashboards/*.json"
for f in dashboards/*.json; do
  python3 -m json.tool "$f" >/dev/null
  echo "  $f: OK"
done

step "dashboard and rule expressions use documented metrics only"
python3 tests/alerts/check_dashboard.py --docs docs/metrics.md --checks docs/checks.md \
  --rules deploy/prometheus/alerts.yml --emit-rules "$tmp/dashboard_exprs.yml" \
  dashboards/*.json

step "dashboard expressions parse (as recording rules)"
promtool check rules "$tmp/dashboard_exprs.yml"

echo
echo "run.sh: all alert-rule and dashboard checks passed"
