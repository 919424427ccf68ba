// The HTML status page: every target, its last result, age and error. Pure rendering.
#pragma once

#include <map>
#include <string>

#include "mailsec/plan/plan.h"
#include "mailsec/probe/report.h"

namespace mailsec::app {

struct StatusPageData {
  std::string version;
  std::string config_source;
  bool last_reload_successful = true;
  plan::Plan plan;
  std::map<std::string, probe::TargetResult> results;
  double now = 0;
};

std::string HtmlEscape(std::string_view s);
std::string RenderStatusPage(const StatusPageData& data);

}  // namespace mailsec::app
