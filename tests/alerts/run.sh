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

step "promtool check rules deploy/prometheus/mailsec_alerts.yml"
promtool check rules deploy/prometheus/mailsec_alerts.yml

# rule_files in prometheus.yml are relative to the config file's directory, so this also loads
# and checks deploy/prometheus/mailsec_alerts.yml.
step "promtool check config deploy/prometheus/prometheus.yml"
promtool check config deploy/prometheus/prometheus.yml

step "promtool test rules tests/alerts/mailsec_alerts_test.yml"
promtool test rules tests/alerts/mailsec_alerts_test.yml

step "every alert has a promtool unit test"
python3 - deploy/prometheus/mailsec_alerts.yml tests/alerts/mailsec_alerts_test.yml <<'PY'
import re, sys
alerts = re.findall(r"^\s*-\s+alert:\s*(\S+)", open(sys.argv[1]).read(), re.M)
tested = set(re.findall(r"^\s*(?:-\s+)?alertname:\s*(\S+)", open(sys.argv[2]).read(), re.M))
missing = [a for a in alerts if a not in tested]
for a in missing:
    print("run.sh: alert %s has no alert_rule_test in %s" % (a, sys.argv[2]))
print("  %d alerts, %d tested" % (len(alerts), len(alerts) - len(missing)))
sys.exit(1 if missing else 0)
PY

step "JSON well-formed: deploy/grafana/*.json"
for f in deploy/grafana/*.json; do
  python3 -m json.tool "$f" >/dev/null
  echo "  $f: OK"
done

step "dashboard and rule expressions use documented metrics only"
python3 tests/alerts/check_dashboard.py --docs docs/metrics.md --checks docs/checks.md \
  --rules deploy/prometheus/mailsec_alerts.yml --emit-rules "$tmp/dashboard_exprs.yml" \
  deploy/grafana/*.json

step "dashboard expressions parse (as recording rules)"
promtool check rules "$tmp/dashboard_exprs.yml"

echo
echo "run.sh: all alert-rule and dashboard checks passed"
