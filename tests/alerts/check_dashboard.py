#!/usr/bin/env python3
"""Static checks of the bundled Grafana dashboards (and the PromQL of the alert rules).

Usage: check_dashboard.py [--docs docs/metrics.md] [--checks docs/checks.md]
                          [--rules deploy/prometheus/alerts.yml] DASHBOARD.json...

For each dashboard: the file is well-formed JSON; panel ids are unique (rows and nested panels
included); every panel, target and query variable uses the data source `${datasource}`, a declared
variable of type datasource; the template variables `service` and `host` exist, and every `$var`
an expression uses is declared (or one of Grafana's `$__interval`, `$__rate_interval`,
`$__range`); every target has a PromQL expression; every metric name in every expression
(targets and template-variable queries) is documented in docs/metrics.md; every `check="..."`
and `signal="..."` value names a documented check id or downgrade signal. With --rules, the
`expr:` of every rule is held to the same standard (plus `up`, which Prometheus itself makes).
With --emit-rules FILE, every dashboard expression (Grafana variables replaced by `.*` or a
range) is written as a recording rule, so `promtool check rules FILE` proves it parses.
Standard library only. Exit status 0 when everything holds, 1 otherwise.
"""
import argparse
import json
import re
import sys

BUILTIN_VARIABLES = {"__interval", "__rate_interval", "__range", "__interval_ms", "__range_s"}
KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
            "group_left", "group_right", "inf", "nan", "start", "end"}
MODIFIER_LIST = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
IDENT = re.compile(r"(?<![\w.:$])([A-Za-z_:][A-Za-z0-9_:]*)")


def documented(path):
    """Metric names, check ids and downgrade signals from the docs' tables."""
    metrics, signals = set(), set()
    in_signals = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("Downgrade signals"):
                in_signals = True
            elif line.startswith("#"):
                in_signals = False
            m = re.match(r"\|\s*`([a-z_:][a-z0-9_:]*)`", line)
            if not m:
                continue
            if m.group(1).startswith("mailsec_"):
                metrics.add(m.group(1))
            elif in_signals:
                signals.add(m.group(1))
    return metrics, signals


def check_ids(path):
    ids = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\|\s*`([a-z0-9_]+)`\s*\|", line)
            if m:
                ids.add(m.group(1))
    return ids


def strip_strings(expr):
    out, i, n = [], 0, len(expr)
    while i < n:
        c = expr[i]
        if c in "\"'`":
            j = i + 1
            while j < n and expr[j] != c:
                j += 2 if expr[j] == "\\" and c != "`" else 1
            out.append('""')
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def metric_names(expr):
    """Metric names an expression selects (PromQL, Grafana variables allowed)."""
    e = re.sub(r"\$\{[A-Za-z_][^}]*\}|\$[A-Za-z_]\w*", "", expr)
    e = strip_strings(e)
    e = re.sub(r"\{[^{}]*\}", "{}", e)
    e = re.sub(r"\[[^\[\]]*\]", "[]", e)
    e = MODIFIER_LIST.sub(" ", e)
    names = set()
    for m in IDENT.finditer(e):
        name = m.group(1)
        rest = e[m.end():].lstrip()
        if rest.startswith("(") or name in KEYWORDS:
            continue
        names.add(name)
    return names


def label_values(expr, label):
    """Literal values a selector requires of `label` (= and =~ on a plain alternation)."""
    vals = set()
    for m in re.finditer(r"\b%s\s*(=~|=)\s*\"([^\"]*)\"" % label, expr):
        op, v = m.groups()
        parts = v.split("|") if op == "=~" else [v]
        if all(re.fullmatch(r"[a-z0-9_]+", p) for p in parts):
            vals.update(parts)
    return vals


def variable_query_exprs(query):
    q = query.get("query", "") if isinstance(query, dict) else (query or "")
    q = q.strip()
    m = re.fullmatch(r"label_values\((.*)\)", q, re.S)
    if m:
        args = m.group(1)
        # label_values(selector, label) or label_values(label)
        depth, split = 0, None
        for i, c in enumerate(args):
            if c in "({[":
                depth += 1
            elif c in ")}]":
                depth -= 1
            elif c == "," and depth == 0:
                split = i
        return [args[:split]] if split is not None else []
    m = re.fullmatch(r"query_result\((.*)\)", q, re.S)
    if m:
        return [m.group(1)]
    if re.fullmatch(r"(label_names|metrics)\(.*\)", q, re.S):
        return []
    return [q] if q else []


class Checker:
    def __init__(self, metrics, signals, checks):
        self.metrics, self.signals, self.checks = metrics, signals, checks
        self.errors = []
        self.exprs = 0
        self.declared = set()
        self.uids = set()
        self.dashboard_exprs = []

    def err(self, where, msg):
        self.errors.append("%s: %s" % (where, msg))

    def expr(self, where, e, extra=()):
        self.exprs += 1
        if not e.strip():
            self.err(where, "empty expression")
            return
        if e.count("(") != e.count(")") or e.count("{") != e.count("}"):
            self.err(where, "unbalanced brackets in %r" % e)
        for v in variables_used(e):
            if v not in self.declared:
                self.err(where, "variable $%s is not declared in the dashboard" % v)
        for name in sorted(metric_names(e)):
            if name not in self.metrics and name not in extra:
                self.err(where, "metric %r is not documented in docs/metrics.md (expr %r)" % (name, e))
        for v in sorted(label_values(e, "check")):
            if v not in self.checks:
                self.err(where, "check id %r is not in docs/checks.md" % v)
        for v in sorted(label_values(e, "signal")):
            if v not in self.signals:
                self.err(where, "downgrade signal %r is not documented" % v)

    def dashboard(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                dash = json.load(f)
        except (OSError, ValueError) as e:
            self.err(path, "not well-formed JSON: %s" % e)
            return
        ds_ok = lambda ds: isinstance(ds, dict) and ds.get("uid") == "${datasource}" \
            or ds == "${datasource}"
        var_list = dash.get("templating", {}).get("list", [])
        variables = {v.get("name"): v for v in var_list}
        if len(variables) != len(var_list):
            self.err(path, "duplicate template variable names")
        for name in ("datasource", "service", "host"):
            if name not in variables:
                self.err(path, "template variable %r missing" % name)
        if variables.get("datasource", {}).get("type") != "datasource" or \
                variables.get("datasource", {}).get("query") != "prometheus":
            self.err(path, "variable datasource must be of type datasource, query prometheus")
        self.declared = set(variables) | BUILTIN_VARIABLES
        if not isinstance(dash.get("uid"), str) or not dash.get("uid"):
            self.err(path, "dashboard uid missing")
        elif dash["uid"] in self.uids:
            self.err(path, "dashboard uid %r used twice" % dash["uid"])
        self.uids.add(dash.get("uid"))
        for name, v in variables.items():
            if v.get("type") == "query":
                if not ds_ok(v.get("datasource")):
                    self.err(path, "variable %s: datasource is not ${datasource}" % name)
                for e in variable_query_exprs(v.get("query")):
                    self.expr("%s: variable %s" % (path, name), e)
                    self.dashboard_exprs.append(e)
        if not isinstance(dash.get("schemaVersion"), int):
            self.err(path, "schemaVersion missing")
        ids, panels = set(), []
        stack = list(dash.get("panels", []))
        while stack:
            p = stack.pop(0)
            panels.append(p)
            stack.extend(p.get("panels", []))
        for p in panels:
            where = "%s: panel %r" % (path, p.get("title"))
            pid = p.get("id")
            if not isinstance(pid, int):
                self.err(where, "missing integer id")
            elif pid in ids:
                self.err(where, "duplicate panel id %d" % pid)
            ids.add(pid)
            if p.get("type") == "row":
                continue
            if not ds_ok(p.get("datasource")):
                self.err(where, "datasource is not ${datasource}")
            targets = p.get("targets") or []
            if not targets:
                self.err(where, "no targets")
            refs = [t.get("refId") for t in targets]
            if len(set(refs)) != len(refs):
                self.err(where, "duplicate refId")
            for t in targets:
                if not ds_ok(t.get("datasource", p.get("datasource"))):
                    self.err(where, "target %s: datasource is not ${datasource}" % t.get("refId"))
                self.expr("%s target %s" % (where, t.get("refId")), t.get("expr", ""))
                self.dashboard_exprs.append(t.get("expr", ""))
        return len(panels)

    def rules(self, path):
        """`expr:` values of a rule file (plain, quoted or block scalars), without a YAML library."""
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        i, found = 0, 0
        while i < len(lines):
            m = re.match(r"(\s*)(?:-\s+)?expr:\s*(.*)$", lines[i])
            if not m:
                i += 1
                continue
            indent, value = len(m.group(1)), m.group(2).strip()
            lineno = i + 1
            i += 1
            if value in ("", "|", "|-", ">", ">-"):
                body = []
                while i < len(lines) and (not lines[i].strip() or
                                          len(lines[i]) - len(lines[i].lstrip()) > indent):
                    body.append(lines[i].strip())
                    i += 1
                value = " ".join(x for x in body if x)
            elif value[:1] in "'\"" and value[-1:] == value[:1]:
                value = value[1:-1]
            value = re.sub(r"\s+#.*$", "", value) if value.count("#") else value
            found += 1
            self.expr("%s:%d" % (path, lineno), value, extra=("up",))
        if not found:
            self.err(path, "no expr found")
        return found


def variables_used(expr):
    """Grafana variables an expression uses ($name, ${name}, ${name:fmt}); not `$1` (regex groups)."""
    return {m.group(1) or m.group(2)
            for m in re.finditer(r"\$\{([A-Za-z_]\w*)(?::[^}]*)?\}|\$([A-Za-z_]\w*)", expr)}


def substitute(expr):
    """Grafana variables -> values Prometheus accepts, for a parse check."""
    e = re.sub(r"\$\{?__(rate_)?interval\}?|\$\{?__range\}?", "5m", expr)
    return re.sub(r"\$\{[A-Za-z_][^}]*\}|\$[A-Za-z_]\w*", ".*", e)


def emit_rules(path, exprs):
    with open(path, "w", encoding="utf-8") as f:
        f.write("# generated by tests/alerts/check_dashboard.py: dashboard expressions, parse check only\n")
        f.write("groups:\n  - name: dashboard_parse_check\n    rules:\n")
        for i, e in enumerate(exprs):
            f.write("      - record: dashboard:expr_%d:parse\n        expr: %s\n"
                    % (i, json.dumps(substitute(e))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", default="docs/metrics.md")
    ap.add_argument("--checks", default="docs/checks.md")
    ap.add_argument("--rules", action="append", default=[])
    ap.add_argument("--emit-rules", help="write the dashboard expressions as recording rules here")
    ap.add_argument("dashboards", nargs="+")
    a = ap.parse_args()
    metrics, signals = documented(a.docs)
    if len(metrics) < 10 or len(signals) < 9:
        print("check_dashboard: could not read the metric/signal tables of %s" % a.docs)
        return 1
    c = Checker(metrics, signals, check_ids(a.checks))
    npanels = sum(c.dashboard(d) or 0 for d in a.dashboards)
    nrules = sum(c.rules(r) for r in a.rules)
    if a.emit_rules:
        emit_rules(a.emit_rules, c.dashboard_exprs)
    for e in c.errors:
        print("check_dashboard: " + e)
    print("check_dashboard: %d dashboard(s), %d panels, %d rule expressions, %d expressions checked "
          "against %d documented metrics: %s" % (len(a.dashboards), npanels, nrules, c.exprs,
                                                 len(metrics), "FAIL" if c.errors else "OK"))
    return 1 if c.errors else 0


if __name__ == "__main__":
    sys.exit(main())
