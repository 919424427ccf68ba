#include "app/status_page.h"

#include <cstdio>

#include "mailsec/base/text.h"

namespace mailsec::app {

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

namespace {

std::string Age(double now, double then) {
  if (then <= 0) return "never";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0fs ago", now - then);
  return buf;
}

const char* VerdictWord(checks::CheckVerdict v) {
  switch (v) {
    case checks::CheckVerdict::kPass:
      return "pass";
    case checks::CheckVerdict::kWarn:
      return "warn";
    case checks::CheckVerdict::kFail:
      return "fail";
    case checks::CheckVerdict::kError:
      return "error";
  }
  return "?";
}

std::string Findings(const probe::EndpointReport& r) {
  std::string out;
  for (int i = 0; i < probe::kSignalCount; ++i) {
    if (r.signals[i]) {
      if (!out.empty()) out += ", ";
      const auto s = static_cast<probe::Signal>(i);
      out += std::string(SignalName(s)) + " (" + std::string(probe::SignalDescription(s)) +
             (r.signal_evidence[i].empty() ? "" : ": " + r.signal_evidence[i]) + ")";
    }
  }
  if (r.tls.has_leaf && !r.tls.trusted) {
    if (!out.empty()) out += ", ";
    out += "certificate " + r.tls.verify_result;
  }
  if (r.tls.has_leaf && !r.tls.hostname_match) {
    if (!out.empty()) out += ", ";
    out += "certificate does not match host";
  }
  const auto add_checks = [&out](const std::vector<checks::Finding>& findings) {
    for (const checks::Finding& f : findings) {
      if (f.verdict == checks::CheckVerdict::kPass) continue;
      if (!out.empty()) out += ", ";
      out += std::string(f.check) + " " + VerdictWord(f.verdict);
    }
  };
  add_checks(r.dane.findings);
  if (r.scan) add_checks(r.scan->findings);
  return out;
}

// The non-passing domain checks, one per line: "check (verdict): detail".
std::string DomainFindings(const probe::DomainReport& d) {
  std::string out;
  for (const checks::Finding& f : d.findings) {
    if (f.verdict == checks::CheckVerdict::kPass) continue;
    if (!out.empty()) out += "\n";
    out += std::string(f.check) + " (" + VerdictWord(f.verdict) + "): " + Printable(f.detail, 200);
  }
  return out;
}

bool DomainOk(const probe::DomainReport& d) {
  if (!d.dns_ok) return false;
  for (const checks::Finding& f : d.findings) {
    if (f.verdict == checks::CheckVerdict::kFail) return false;
  }
  return true;
}

}  // namespace

std::string RenderStatusPage(const StatusPageData& d) {
  std::string h;
  h += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>mailsec_exporter</title>"
       "<style>body{font-family:sans-serif}td,th{padding:2px 8px;text-align:left}"
       ".ok{color:#060}.fail{color:#a00}</style></head><body>\n";
  h += "<h1>mailsec_exporter " + HtmlEscape(d.version) + "</h1>\n";
  h += "<p>Config: " + HtmlEscape(d.config_source) +
       (d.last_reload_successful ? "" : " <b class=\"fail\">(last reload failed)</b>") +
       " &middot; <a href=\"/metrics\">metrics</a></p>\n";
  h += "<table>\n<tr><th>target</th><th>kind</th><th>address</th><th>result</th><th>last probe</th>"
       "<th>TLS</th><th>certificate expires</th><th>findings</th><th>error</th></tr>\n";
  static const plan::Plan kNone;
  for (const auto& t : (d.plan != nullptr ? *d.plan : kNone).targets) {
    auto it = d.results.find(t.id);
    if (it == d.results.end() || (it->second->endpoints.empty() && !it->second->domain)) {
      h +=
          "<tr><td>" + HtmlEscape(t.id) + "</td><td>" + std::string(plan::KindName(t.kind)) +
          "</td><td></td><td>pending</td><td>never</td><td></td><td></td><td></td><td></td></tr>\n";
      continue;
    }
    if (const auto& dom = it->second->domain) {
      std::string errors;
      for (const auto& e : dom->dns_errors) errors += (errors.empty() ? "" : "\n") + e;
      h += "<tr><td>" + HtmlEscape(t.id) + "</td><td>domain</td><td>" +
           (dom->dnssec_secure ? "DNSSEC secure" : "DNSSEC not validated") + "</td><td class=\"" +
           (DomainOk(*dom) ? "ok\">ok" : "fail\">failed") + "</td><td>" +
           Age(d.now, dom->finished_at) + "</td><td></td><td></td><td><pre>" +
           HtmlEscape(DomainFindings(*dom)) + "</pre></td><td><pre>" + HtmlEscape(errors) +
           "</pre></td></tr>\n";
    }
    for (const auto& r : it->second->endpoints) {
      std::string expires;
      if (r.tls.has_leaf) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f days",
                      (static_cast<double>(r.tls.leaf->not_after) - d.now) / 86400.0);
        expires = buf;
      }
      const std::string name =
          r.discovered_by.empty() ? t.id : t.id + " \u2192 " + r.target.ToString();
      h += "<tr><td>" + HtmlEscape(name) + "</td><td>" +
           (r.discovered_by.empty() ? std::string(plan::KindName(t.kind)) : r.discovered_by) +
           "</td><td>" + HtmlEscape(r.ip) + "</td><td class=\"" +
           (r.success ? "ok\">ok" : "fail\">failed") + "</td><td>" + Age(d.now, r.finished_at) +
           "</td><td>" + HtmlEscape(r.tls.handshake_ok ? r.tls.version + " " + r.tls.cipher : "") +
           "</td><td>" + expires + "</td><td>" + HtmlEscape(Findings(r)) + "</td><td>" +
           HtmlEscape(r.error) + "</td></tr>\n";
    }
  }
  h += "</table>\n</body></html>\n";
  return h;
}

}  // namespace mailsec::app
