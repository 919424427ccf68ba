#!/usr/bin/env bash
# Checks the bundled Prometheus rules/config, the Grafana dashboards and the deployment files
# (docker-compose, Kubernetes, every YAML file).
#   bash tests/alerts/run.sh        (from any directory)
# Needs promtool (Debian package `prometheus`), yamllint, python3-yaml, docker-compose and kubectl
# (Debian: kubernetes-client; $KUBECTL picks another binary). A missing tool is a failure, never a
# skip. Exits non-zero on the first failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

kubectl="${KUBECTL:-kubectl}"
need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "run.sh: $1 not found (apt-get install $2; scripts/bootstrap.sh installs it)" >&2
    exit 1
  fi
}
need promtool prometheus
need yamllint yamllint
need docker-compose docker-compose
need "$kubectl" kubernetes-client
python3 -c 'import yaml' || { echo "run.sh: python3-yaml missing" >&2; exit 1; }
# The exporter binary checks the sample configs (ctest passes it; by hand, build first).
exporter="${MAILSEC_EXPORTER_BIN:-$root/build/mailsec_exporter}"
if [[ ! -x $exporter ]]; then
  echo "run.sh: no exporter binary at $exporter (build it, or set MAILSEC_EXPORTER_BIN)" >&2
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

step "yamllint --strict (every YAML file, .yamllint)"
yamllint --strict .
echo "  OK"

step "deploy/k8s/base/prometheusrule.yaml is deploy/prometheus/alerts.yml"
python3 tests/alerts/sync_prometheusrule.py --check

step "promtool check config deploy/docker/prometheus.yml (with the rules beside it)"
mkdir "$tmp/compose-prometheus"
cp deploy/docker/prometheus.yml deploy/prometheus/alerts.yml "$tmp/compose-prometheus/"
promtool check config "$tmp/compose-prometheus/prometheus.yml"

step "sample configs pass mailsec_exporter --config.check"
for f in deploy/docker/mailsec.toml deploy/k8s/base/mailsec.toml; do
  "$exporter" --config.check --config.file="$f"
done
# ... and the check does refuse a bad file.
printf '[global]\ninterval = "5x"\n' >"$tmp/bad.toml"
if "$exporter" --config.check --config.file="$tmp/bad.toml" 2>/dev/null; then
  echo "run.sh: --config.check accepted a bad duration" >&2
  exit 1
fi

step "docker-compose -f deploy/docker/docker-compose.yml config"
docker-compose -f deploy/docker/docker-compose.yml config >"$tmp/compose.yml"
python3 - "$tmp/compose.yml" <<'PY'
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
want = {"mailsec-exporter", "prometheus", "alertmanager", "grafana"}
got = set(c.get("services", {}))
if got != want:
    sys.exit("run.sh: compose services %s, want %s" % (sorted(got), sorted(want)))
print("  services: " + ", ".join(sorted(got)))
PY

step "$kubectl kustomize deploy/k8s and deploy/k8s/sharded"
"$kubectl" version --client 2>/dev/null | head -n1 || true
for overlay in deploy/k8s deploy/k8s/sharded; do
  "$kubectl" kustomize "$overlay" >"$tmp/k8s.yaml"
  python3 - "$overlay" "$tmp/k8s.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
kinds = sorted(d["kind"] for d in docs)
want = {"deploy/k8s": ["ConfigMap", "Deployment", "PersistentVolumeClaim", "PrometheusRule",
                       "Service", "ServiceMonitor"],
        "deploy/k8s/sharded": ["ConfigMap", "PrometheusRule", "Service", "Service",
                               "ServiceMonitor", "StatefulSet"]}[sys.argv[1]]
if kinds != want:
    sys.exit("run.sh: %s renders %s, want %s" % (sys.argv[1], kinds, want))
for d in docs:
    if d["kind"] in ("Deployment", "StatefulSet"):
        spec = d["spec"]["template"]["spec"]
        c = spec["containers"][0]
        sc = c.get("securityContext", {})
        problems = []
        if not spec.get("securityContext", {}).get("runAsNonRoot"):
            problems.append("not runAsNonRoot")
        if not sc.get("readOnlyRootFilesystem"):
            problems.append("root FS writable")
        if c.get("livenessProbe", {}).get("httpGet", {}).get("path") != "/-/healthy":
            problems.append("liveness probe is not /-/healthy")
        if c.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/-/ready":
            problems.append("readiness probe is not /-/ready")
        if not c.get("resources", {}).get("requests"):
            problems.append("no resource requests")
        mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
        if "/var/lib/mailsec_exporter" not in mounts:
            problems.append("no state volume")
        if problems:
            sys.exit("run.sh: %s %s: %s" % (sys.argv[1], d["kind"], ", ".join(problems)))
    if d["kind"] == "ConfigMap" and "mailsec.toml" not in d.get("data", {}):
        sys.exit("run.sh: %s: ConfigMap without mailsec.toml" % sys.argv[1])
print("  %s: %s" % (sys.argv[1], ", ".join(kinds)))
PY
done

echo
echo "run.sh: all alert-rule, dashboard and deployment checks passed"
