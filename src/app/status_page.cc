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

std::string Findings(const probe::EndpointReport& r) {
  std::string out;
  for (int i = 0; i < probe::kSignalCount; ++i) {
    if (r.signals[i]) {
      if (!out.empty()) out += ", ";
      out += SignalName(static_cast<probe::Signal>(i));
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
  return out;
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
  for (const auto& t : d.plan.targets) {
    auto it = d.results.find(t.id);
    if (it == d.results.end() || it->second.endpoints.empty()) {
      const char* state = t.kind == plan::Kind::kDomain
                              ? "not probed: domain checks arrive with the DNS layer"
                              : "pending";
      h += "<tr><td>" + HtmlEscape(t.id) + "</td><td>" + std::string(plan::KindName(t.kind)) +
           "</td><td></td><td>" + state +
           "</td><td>never</td><td></td><td></td><td></td><td></td></tr>\n";
      continue;
    }
    for (const auto& r : it->second.endpoints) {
      std::string expires;
      if (r.tls.has_leaf) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f days",
                      (static_cast<double>(r.tls.leaf.not_after) - d.now) / 86400.0);
        expires = buf;
      }
      h += "<tr><td>" + HtmlEscape(t.id) + "</td><td>" + std::string(plan::KindName(t.kind)) +
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
