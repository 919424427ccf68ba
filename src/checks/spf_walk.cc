// The sans-IO walk of an SPF include/redirect tree (RFC 7208 §4.6.4, §5.2, §6.1) and the SPF
// verdicts of CHECKS.md section 5.
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "checks/text_util.h"
#include "mailsec/base/text.h"
#include "mailsec/checks/spf.h"

namespace mailsec::checks {
namespace {

using internal::NormalizeName;

constexpr size_t kPrintName = 80;      // a domain name quoted in a detail
constexpr size_t kMaxDetailItems = 3;  // problems listed in one detail; the rest are counted

bool IsTempError(SpfDnsAnswer::Kind k) {
  return k == SpfDnsAnswer::Kind::kServFail || k == SpfDnsAnswer::Kind::kTimeout ||
         k == SpfDnsAnswer::Kind::kMalformed;
}

// NXDOMAIN, or NOERROR without an answer (RFC 7208 §4.6.4 "void lookup").
bool IsVoid(const SpfDnsAnswer& a) {
  return a.kind == SpfDnsAnswer::Kind::kNxDomain || a.kind == SpfDnsAnswer::Kind::kNoData ||
         (a.kind == SpfDnsAnswer::Kind::kOk && a.records.empty());
}

std::string_view KindName(SpfDnsAnswer::Kind k) {
  switch (k) {
    case SpfDnsAnswer::Kind::kOk:
      return "no records";
    case SpfDnsAnswer::Kind::kNxDomain:
      return "NXDOMAIN";
    case SpfDnsAnswer::Kind::kNoData:
      return "no records";
    case SpfDnsAnswer::Kind::kServFail:
      return "SERVFAIL";
    case SpfDnsAnswer::Kind::kTimeout:
      return "timeout";
    case SpfDnsAnswer::Kind::kMalformed:
      return "malformed answer";
  }
  return "?";
}

// "a; b; c (and 2 more)"
std::string JoinDetails(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < kMaxDetailItems; ++i) {
    if (i > 0) out += "; ";
    out += items[i];
  }
  if (items.size() > kMaxDetailItems) {
    out += " (and " + std::to_string(items.size() - kMaxDetailItems) + " more)";
  }
  return out;
}

}  // namespace

const Finding* SpfResult::Find(std::string_view check) const {
  for (const Finding& f : findings) {
    if (f.check == check) return &f;
  }
  return nullptr;
}

struct SpfWalk::State {
  // Why a query was asked.
  enum class Purpose { kTop, kInclude, kRedirect, kMx, kAddress, kExp };
  struct Pending {
    SpfQuery query;
    Purpose purpose = Purpose::kTop;
    std::string term;  // the term that caused it, printable
    int depth = 0;     // of the record the answer will be (include/redirect)
    bool top_chain = false;
  };
  // One record on the current include/redirect path.
  struct Frame {
    std::string domain;
    SpfRecord record;
    size_t next = 0;  // next term to evaluate
    bool redirect_followed = false;
    bool top_chain = false;  // the domain's record or reached from it by redirect only
    int depth = 0;
    size_t visited = 0;              // index in result.visited
    std::set<std::string> includes;  // include targets of this record, for duplicates
  };

  std::string domain;
  std::optional<Pending> pending;
  std::vector<Frame> stack;
  int queries = 0;
  bool finished = false;
  SpfResult result;

  // Facts gathered for the verdicts.
  bool top_answered = false;  // the domain's TXT answer was read (no DNS error)
  std::string top_dns_error;
  SpfSelection selection;
  std::string syntax_error;
  bool walked = false;           // the domain's record parsed and its tree was walked
  bool tree_incomplete = false;  // an include/redirect TXT failed: parts of the tree unknown
  bool any_temperror = false;    // some lookup failed temporarily
  bool include_seen = false;     // an include or redirect anywhere in the tree
  std::vector<std::string> include_failures;
  std::vector<std::string> include_errors;
  std::vector<std::string> include_duplicates;
  int mx_queried = 0;
  std::vector<std::string> mx_failures;
  bool mx_error = false;
  std::vector<std::string> ptr_domains;
  bool all_error = false;       // a redirect on the top chain failed temporarily
  std::string all_detail;       // why the final all is "none", when a redirect went wrong
  SpfRecord top_record;         // a copy of the domain's record, for the checks after the walk
  bool exp_considered = false;  // AskExp ran
  bool exp_answered = false;
  bool exp_error = false;
  std::string exp_detail;  // empty: the exp text is fine

  explicit State(std::string d) : domain(NormalizeName(d)) {
    pending = Pending{SpfQuery{domain, SpfQueryType::kTxt}, Purpose::kTop, "", 0, true};
    queries = 1;
  }

  bool OnPath(const std::string& name) const {
    for (const Frame& f : stack) {
      if (f.domain == name) return true;
    }
    return false;
  }

  // Sets the next query unless the walk budget is spent.
  bool Ask(Pending p) {
    if (queries >= kSpfMaxWalkQueries) {
      result.truncated = true;
      stack.clear();
      return false;
    }
    ++queries;
    pending = std::move(p);
    return true;
  }

  void Push(std::string name, SpfRecord record, SpfVisited::Via via, int depth, bool top_chain) {
    if (top_chain) {
      if (const SpfTerm* all = record.All()) {
        result.all_qualifier = std::string(1, static_cast<char>(all->qualifier));
      } else if (record.Redirect() == nullptr) {
        result.all_qualifier = "none";
      }
    }
    result.visited.push_back(SpfVisited{name, via, depth, 0});
    Frame f;
    f.domain = std::move(name);
    f.record = std::move(record);
    f.top_chain = top_chain;
    f.depth = depth;
    f.visited = result.visited.size() - 1;
    stack.push_back(std::move(f));
  }

  void CountLookup(Frame& f) {
    ++result.dns_lookups;
    ++result.visited[f.visited].lookups;
  }

  // Evaluates terms until a query is needed or the tree is done.
  void Advance() {
    while (!pending && !stack.empty()) {
      Frame& f = stack.back();
      if (f.next < f.record.terms.size()) {
        const SpfTerm& t = f.record.terms[f.next++];
        StepTerm(f, t);
        continue;
      }
      const SpfTerm* redirect = f.record.Redirect();
      // §6.1: redirect is ignored when the record has an "all".
      if (redirect != nullptr && f.record.All() == nullptr && !f.redirect_followed) {
        f.redirect_followed = true;
        include_seen = true;
        CountLookup(f);
        const std::string term = Printable(redirect->text, kPrintName);
        if (redirect->domain_has_macros) {
          if (f.top_chain) all_detail = "the final all is behind a redirect with macros";
          continue;
        }
        std::string target = NormalizeName(redirect->domain);
        if (OnPath(target)) {
          include_failures.push_back("redirect loop at " + term);
          if (f.top_chain) all_detail = "redirect loop";
          continue;
        }
        Ask(Pending{SpfQuery{std::move(target), SpfQueryType::kTxt}, Purpose::kRedirect, term,
                    f.depth + 1, f.top_chain});
        continue;
      }
      stack.pop_back();
    }
  }

  void StepTerm(Frame& f, const SpfTerm& t) {
    using K = SpfTerm::Kind;
    if (t.kind == K::kRedirect || !t.CountsAsLookup()) return;
    CountLookup(f);
    const std::string term = Printable(t.text, kPrintName);
    if (t.kind == K::kPtr) {
      ptr_domains.push_back(Printable(f.domain, kPrintName));
      return;
    }
    if (t.kind == K::kInclude) include_seen = true;
    if (t.domain_has_macros) return;  // depends on the sender: not walked
    std::string target = t.domain.empty() ? f.domain : NormalizeName(t.domain);
    switch (t.kind) {
      case K::kInclude:
        if (!f.includes.insert(target).second) {
          include_duplicates.push_back(term + " twice in " + Printable(f.domain, kPrintName));
          // Still walked: receivers evaluate it again and pay its lookups again.
        }
        if (OnPath(target)) {
          include_failures.push_back("include loop at " + term);
          return;
        }
        Ask(Pending{SpfQuery{std::move(target), SpfQueryType::kTxt}, Purpose::kInclude, term,
                    f.depth + 1, false});
        return;
      case K::kMx:
        Ask(Pending{SpfQuery{std::move(target), SpfQueryType::kMx}, Purpose::kMx, term, 0, false});
        return;
      case K::kA:
        Ask(Pending{SpfQuery{std::move(target), SpfQueryType::kAddress}, Purpose::kAddress, term, 0,
                    false});
        return;
      case K::kExists:
        Ask(Pending{SpfQuery{std::move(target), SpfQueryType::kA}, Purpose::kAddress, term, 0,
                    false});
        return;
      default:
        return;
    }
  }

  void OnTop(const SpfDnsAnswer& a) {
    if (IsTempError(a.kind)) {
      any_temperror = true;
      top_dns_error = std::string(KindName(a.kind));
      return;
    }
    top_answered = true;
    selection =
        SelectSpfRecord(a.kind == SpfDnsAnswer::Kind::kOk ? a.records : std::vector<std::string>{});
    if (selection.kind != SpfSelection::Kind::kOne) return;
    result.present = true;
    result.record = selection.record;
    Result<SpfRecord> r = ParseSpfRecord(selection.record);
    if (!r.ok()) {
      syntax_error = r.status().message();
      return;
    }
    walked = true;
    Push(domain, std::move(r).value(), SpfVisited::Via::kTop, 0, true);
  }

  void OnTarget(const Pending& p, const SpfDnsAnswer& a) {
    const bool redirect = p.purpose == Purpose::kRedirect;
    if (IsTempError(a.kind)) {
      any_temperror = true;
      tree_incomplete = true;
      include_errors.push_back(p.term + ": " + std::string(KindName(a.kind)));
      if (redirect && p.top_chain) all_error = true;
      return;
    }
    std::string problem;
    if (IsVoid(a)) {
      ++result.void_lookups;
      problem = "no SPF record (" + std::string(KindName(a.kind)) + ")";
    } else {
      SpfSelection sel = SelectSpfRecord(a.records);
      if (sel.kind == SpfSelection::Kind::kNone) {
        problem = "no SPF record";
      } else if (sel.kind == SpfSelection::Kind::kMultiple) {
        problem = std::to_string(sel.candidates) + " SPF records";
      } else {
        Result<SpfRecord> r = ParseSpfRecord(sel.record);
        if (!r.ok()) {
          problem = "invalid record: " + r.status().message();
        } else {
          Push(p.query.name, std::move(r).value(),
               redirect ? SpfVisited::Via::kRedirect : SpfVisited::Via::kInclude, p.depth,
               p.top_chain);
          return;
        }
      }
    }
    include_failures.push_back(p.term + ": " + problem);
    if (redirect && p.top_chain) all_detail = "redirect target has no valid SPF record";
  }

  void OnMx(const Pending& p, const SpfDnsAnswer& a) {
    ++mx_queried;
    if (IsTempError(a.kind)) {
      any_temperror = true;
      mx_error = true;
      return;
    }
    if (IsVoid(a)) {
      ++result.void_lookups;
      return;
    }
    if (static_cast<int>(a.records.size()) > kSpfMaxMxNames) {
      mx_failures.push_back(p.term + " has " + std::to_string(a.records.size()) + " MX names");
    }
  }

  void OnAddress(const SpfDnsAnswer& a) {
    if (IsTempError(a.kind)) {
      any_temperror = true;
      return;
    }
    if (IsVoid(a)) ++result.void_lookups;
  }

  void OnExp(const SpfDnsAnswer& a) {
    exp_answered = true;
    if (IsTempError(a.kind)) {
      exp_error = true;
      exp_detail = "exp TXT lookup: " + std::string(KindName(a.kind));
      return;
    }
    if (IsVoid(a)) {
      exp_detail = "exp target has no TXT record";
    } else if (a.records.size() > 1) {
      exp_detail = "exp target has " + std::to_string(a.records.size()) + " TXT records";
    } else if (Status st = ValidateSpfExplanation(a.records.front()); !st.ok()) {
      exp_detail = "exp text: " + st.message();
    }
  }

  // After the tree: the explanation of the domain's own record (§6.2), which costs no lookup.
  void AskExp() {
    if (exp_considered || !walked || result.truncated) return;
    exp_considered = true;
    const SpfTerm* exp = top_record.Exp();
    if (exp == nullptr || exp->domain_has_macros) return;
    Ask(Pending{SpfQuery{NormalizeName(exp->domain), SpfQueryType::kTxt}, Purpose::kExp,
                Printable(exp->text, kPrintName), 0, false});
  }

  void Feed(const SpfDnsAnswer& a) {
    if (!pending) return;
    Pending p = std::move(*pending);
    pending.reset();
    switch (p.purpose) {
      case Purpose::kTop:
        OnTop(a);
        if (walked) top_record = stack.front().record;
        break;
      case Purpose::kInclude:
      case Purpose::kRedirect:
        OnTarget(p, a);
        break;
      case Purpose::kMx:
        OnMx(p, a);
        break;
      case Purpose::kAddress:
        OnAddress(a);
        break;
      case Purpose::kExp:
        OnExp(a);
        break;
    }
    Advance();
    if (!pending) AskExp();
    if (!pending) Finish();
  }

  void Add(std::string_view check, CheckVerdict v, std::string detail) {
    result.findings.push_back(Finding{check, v, std::move(detail)});
  }

  void Finish() {
    finished = true;
    result.temperror = any_temperror;
    using V = CheckVerdict;
    const SpfSelection& sel = selection;
    // SPF-01
    if (!top_answered) {
      Add(kSpfPresentCheck, V::kError, "TXT lookup failed: " + top_dns_error);
      return;
    }
    if (sel.kind == SpfSelection::Kind::kOne) {
      Add(kSpfPresentCheck, V::kPass, "");
    } else if (sel.kind == SpfSelection::Kind::kMultiple) {
      Add(kSpfPresentCheck, V::kFail,
          std::to_string(sel.candidates) + " SPF records (RFC 7208 §4.5 permerror)");
    } else {
      Add(kSpfPresentCheck, V::kFail,
          sel.version_glued ? "no SPF record; a TXT starts with \"v=spf1\" without a space"
                            : "no SPF record");
    }
    // SPF-02 (the Sender ID part; an RR of type SPF needs a TYPE99 query the DNS layer lacks).
    Add(kSpfObsoleteCheck, sel.sender_id ? V::kWarn : V::kPass,
        sel.sender_id ? "a Sender ID (spf2.0/) record is published" : "");
    if (!result.present) return;
    // SPF-11
    const size_t size = result.record.size();
    if (size > kSpfWarnUdpRecordBytes) {
      Add(kSpfRecordSizeCheck, V::kWarn,
          std::to_string(size) + " bytes: may not fit a 512-byte UDP answer");
    } else if (size > kSpfWarnRecordBytes) {
      Add(kSpfRecordSizeCheck, V::kWarn, std::to_string(size) + " bytes (RFC 7208 §3.4: 450)");
    } else {
      Add(kSpfRecordSizeCheck, V::kPass, "");
    }
    // SPF-03
    if (!walked) {
      Add(kSpfSyntaxCheck, V::kFail, syntax_error);
      return;
    }
    Add(kSpfSyntaxCheck, V::kPass, "");
    // SPF-04
    const std::string count = std::to_string(result.dns_lookups);
    if (result.dns_lookups > kSpfMaxDnsLookups) {
      Add(kSpfLookupLimitCheck, V::kFail,
          (result.truncated ? "at least " : "") + count + " DNS-querying terms (limit 10)");
    } else if (tree_incomplete) {
      Add(kSpfLookupLimitCheck, V::kError,
          "count incomplete (" + count + " so far): " + JoinDetails(include_errors));
    } else if (result.dns_lookups >= kSpfWarnDnsLookups) {
      Add(kSpfLookupLimitCheck, V::kWarn, count + " DNS-querying terms (limit 10)");
    } else {
      Add(kSpfLookupLimitCheck, V::kPass, count + " DNS-querying terms");
    }
    // SPF-05: only when some mx mechanism could be looked up.
    if (!mx_failures.empty()) {
      Add(kSpfMxLimitCheck, V::kFail, JoinDetails(mx_failures) + " (limit 10)");
    } else if (mx_queried > 0) {
      Add(kSpfMxLimitCheck, mx_error || tree_incomplete ? V::kError : V::kPass,
          mx_error ? "an MX lookup failed" : "");
    }
    // SPF-06
    const std::string voids = std::to_string(result.void_lookups);
    if (result.void_lookups > kSpfMaxVoidLookups) {
      Add(kSpfVoidLimitCheck, V::kFail, voids + " void lookups (limit 2)");
    } else if (any_temperror) {
      Add(kSpfVoidLimitCheck, V::kError, voids + " void lookups so far; a lookup failed");
    } else {
      Add(kSpfVoidLimitCheck, V::kPass, voids + " void lookups");
    }
    // SPF-07
    if (include_seen) {
      if (!include_failures.empty()) {
        Add(kSpfIncludeCheck, V::kFail, JoinDetails(include_failures));
      } else if (!include_errors.empty()) {
        Add(kSpfIncludeCheck, V::kError, JoinDetails(include_errors));
      } else if (!include_duplicates.empty()) {
        Add(kSpfIncludeCheck, V::kWarn, JoinDetails(include_duplicates));
      } else {
        Add(kSpfIncludeCheck, V::kPass, "");
      }
    }
    // SPF-08
    if (!ptr_domains.empty()) {
      Add(kSpfPtrCheck, V::kWarn, "ptr used in " + JoinDetails(ptr_domains));
    } else {
      Add(kSpfPtrCheck, tree_incomplete ? V::kError : V::kPass, "");
    }
    // SPF-09
    const std::string& q = result.all_qualifier;
    if (all_error) {
      Add(kSpfAllCheck, V::kError, "the redirect target could not be read");
    } else if (q == "-" || q == "~") {
      Add(kSpfAllCheck, V::kPass, q + "all");
    } else if (q == "+") {
      Add(kSpfAllCheck, V::kFail, "+all lets every host send");
    } else if (q == "?") {
      Add(kSpfAllCheck, V::kFail, "?all (neutral) at the top level");
    } else {
      Add(kSpfAllCheck, V::kFail, all_detail.empty() ? "no all and no redirect" : all_detail);
    }
    // SPF-10: terms after "all" (only exp= belongs there), and the exp text.
    const std::vector<SpfTerm>& terms = top_record.terms;
    for (size_t i = 0; i < terms.size(); ++i) {
      if (terms[i].kind != SpfTerm::Kind::kAll) continue;
      std::vector<std::string> after;
      for (size_t j = i + 1; j < terms.size(); ++j) {
        if (terms[j].kind != SpfTerm::Kind::kExp) {
          after.push_back(Printable(terms[j].text, kPrintName));
        }
      }
      Add(kSpfAfterAllCheck, after.empty() ? V::kPass : V::kWarn,
          after.empty() ? "" : "ignored after all: " + JoinDetails(after));
      break;
    }
    if (exp_answered) {
      Add(kSpfExpCheck,
          exp_error            ? V::kError
          : exp_detail.empty() ? V::kPass
                               : V::kWarn,
          exp_detail);
    }
    result.valid = !result.truncated && !any_temperror && result.dns_lookups <= kSpfMaxDnsLookups &&
                   result.void_lookups <= kSpfMaxVoidLookups && mx_failures.empty() &&
                   include_failures.empty();
  }
};

SpfWalk::SpfWalk(std::string domain) : state_(std::make_unique<State>(std::move(domain))) {}
SpfWalk::~SpfWalk() = default;
SpfWalk::SpfWalk(SpfWalk&&) noexcept = default;
SpfWalk& SpfWalk::operator=(SpfWalk&&) noexcept = default;

std::optional<SpfQuery> SpfWalk::NextQuery() const {
  if (!state_->pending) return std::nullopt;
  return state_->pending->query;
}

void SpfWalk::Feed(const SpfDnsAnswer& answer) { state_->Feed(answer); }

bool SpfWalk::done() const { return state_->finished; }

const SpfResult& SpfWalk::result() const { return state_->result; }

}  // namespace mailsec::checks
