// The HTML status page: every target, its last result, age and error. Pure rendering.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "mailsec/plan/plan.h"
#include "mailsec/probe/report.h"

namespace mailsec::app {

struct StatusPageData {
  std::string version;
  std::string config_source;
  bool last_reload_successful = true;
  std::shared_ptr<const plan::Plan> plan;  // shared with the exporter; null: no plan yet
  // The published results, shared, not copied: a copy of every report of a big fleet per page
  // view was ~10 KB per endpoint for a moment, taken under the exporter's lock. Never null.
  std::map<std::string, std::shared_ptr<const probe::TargetResult>> results;
  double now = 0;
};

std::string HtmlEscape(std::string_view s);
std::string RenderStatusPage(const StatusPageData& data);

}  // namespace mailsec::app
