#include "mailsec/findings/history.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "mailsec/base/text.h"

namespace mailsec::findings {
namespace {

constexpr int kStateVersion = 1;

bool Reached(const probe::EndpointReport& r, probe::Phase p) {
  return r.phase_seconds[static_cast<int>(p)] >= 0;
}

std::string IsoTime(double unix_seconds) {
  const time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string RankName(int rank) {
  switch (rank) {
    case 13:
      return "TLSv1.3";
    case 12:
      return "TLSv1.2";
    case 11:
      return "TLSv1.1";
    case 10:
      return "TLSv1";
    case 3:
      return "SSLv3";
    default:
      return "an older version";
  }
}

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

int TlsVersionRank(std::string_view v) {
  if (v == "TLSv1.3") return 13;
  if (v == "TLSv1.2") return 12;
  if (v == "TLSv1.1") return 11;
  if (v == "TLSv1") return 10;
  if (v == "SSLv3") return 3;
  return 0;
}

std::string UnexpectedCertChange(const CertSeen& before, const tls::CertFacts& now,
                                 bool seen_before) {
  if (seen_before) return "a leaf served earlier is back (swapped back from a newer one)";
  if (before.issuer_cn != now.issuer_cn) {
    return "issuer changed from \"" + Printable(before.issuer_cn, 60) + "\" to \"" +
           Printable(now.issuer_cn, 60) + "\"";
  }
  if (now.not_after <= before.not_after) {
    return "the new leaf expires no later than the one it replaced";
  }
  return "";
}

std::string HistoryKey(const probe::EndpointReport& r) { return r.target.ToString() + " " + r.ip; }

void History::Observe(probe::EndpointReport* r, double now) {
  if (r->ip.empty()) return;  // nothing was reached: nothing to remember
  std::lock_guard<std::mutex> lock(mu_);
  EndpointHistory& h = entries_[HistoryKey(*r)];
  dirty_ = true;
  h.last_probe = now;

  // STARTTLS: only when the capabilities were read do we know whether it was offered.
  const bool starttls_service =
      config::ServiceTlsMode(r->target.service) == config::TlsMode::kStartTls;
  if (starttls_service && Reached(*r, probe::Phase::kCapabilities)) {
    if (r->starttls_offered) {
      if (h.starttls_first_seen == 0) h.starttls_first_seen = now;
      h.starttls_last_seen = now;
    } else if (h.starttls_last_seen > 0) {
      // Offered before, missing now: stays raised until STARTTLS comes back.
      probe::RaiseSignal(r, probe::Signal::kStartTlsLost,
                         "offered from " + IsoTime(h.starttls_first_seen) + " until " +
                             IsoTime(h.starttls_last_seen) + ", missing since");
    }
  }

  if (r->tls.handshake_ok) {
    const int rank = TlsVersionRank(r->tls.version);
    if (rank > 0 && rank < h.best_tls_version) {
      probe::RaiseSignal(r, probe::Signal::kTlsDowngraded,
                         r->tls.version + " negotiated; " + RankName(h.best_tls_version) +
                             " was negotiated before");
    }
    if (rank > h.best_tls_version) h.best_tls_version = rank;
  }

  if (r->tls.has_leaf && !r->tls.leaf->fingerprint_sha256.empty()) {
    const std::string& fp = r->tls.leaf->fingerprint_sha256;
    CertSeen* seen = nullptr;
    for (auto& c : h.certs) {
      if (c.fingerprint_sha256 == fp) seen = &c;
    }
    if (!h.certs.empty() && h.certs.back().fingerprint_sha256 != fp) {
      ++h.cert_changes;
      std::string why = UnexpectedCertChange(h.certs.back(), *r->tls.leaf, seen != nullptr);
      if (!why.empty()) {
        h.unexpected_change = std::move(why);
        h.unexpected_change_at = now;
      }
    }
    if (seen == nullptr) {
      h.certs.push_back(
          {fp, r->tls.leaf->spki_sha256, r->tls.leaf->issuer_cn, r->tls.leaf->not_after, now, now});
      seen = &h.certs.back();
    } else {
      seen->last_seen = now;
      // Keep "most recently served last", so a change is a change of the last element.
      CertSeen moved = *seen;
      std::erase_if(h.certs, [&](const CertSeen& c) { return c.fingerprint_sha256 == fp; });
      h.certs.push_back(moved);
      seen = &h.certs.back();
    }
    if (h.certs.size() > kMaxCertsPerEndpoint) h.certs.erase(h.certs.begin());
    r->cert_first_seen = h.certs.back().first_seen;
    if (!h.unexpected_change.empty() &&
        now - h.unexpected_change_at < kUnexpectedChangeWarnSeconds) {
      r->cert_unexpected_change =
          h.unexpected_change + " (" + IsoTime(h.unexpected_change_at) + ")";
    }
  }
  r->cert_changes = h.cert_changes;
}

namespace {
std::string MtaStsKey(const std::string& domain) { return domain + " mta-sts"; }
}  // namespace

bool History::GetMtaSts(const std::string& domain, checks::MtaStsSeen* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(MtaStsKey(domain));
  if (it == entries_.end() || it->second.mta_sts_id.empty()) return false;
  out->id = it->second.mta_sts_id;
  out->body_hash = it->second.mta_sts_body_hash;
  return true;
}

void History::ObserveMtaSts(const std::string& domain, const checks::MtaStsSeen& seen, double now) {
  std::lock_guard<std::mutex> lock(mu_);
  EndpointHistory& h = entries_[MtaStsKey(domain)];
  h.mta_sts_id = seen.id;
  h.mta_sts_body_hash = seen.body_hash;
  h.last_probe = now;
  dirty_ = true;
}

void History::Prune(const std::set<std::string>& live_targets, double now, double retention) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = entries_.begin(); it != entries_.end();) {
    const std::string target = it->first.substr(0, it->first.find(' '));
    if (!live_targets.count(target) && now - it->second.last_probe > retention) {
      it = entries_.erase(it);
      dirty_ = true;
    } else {
      ++it;
    }
  }
}

std::string History::Serialize() const {
  nlohmann::json endpoints = nlohmann::json::object();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, h] : entries_) {
      nlohmann::json certs = nlohmann::json::array();
      for (const auto& c : h.certs) {
        certs.push_back({{"fingerprint_sha256", c.fingerprint_sha256},
                         {"spki_sha256", c.spki_sha256},
                         {"issuer_cn", c.issuer_cn},
                         {"not_after", c.not_after},
                         {"first_seen", c.first_seen},
                         {"last_seen", c.last_seen}});
      }
      endpoints[key] = {{"starttls_first_seen", h.starttls_first_seen},
                        {"starttls_last_seen", h.starttls_last_seen},
                        {"best_tls_version", h.best_tls_version},
                        {"cert_changes", h.cert_changes},
                        {"last_probe", h.last_probe},
                        {"certs", certs}};
      if (!h.unexpected_change.empty()) {
        endpoints[key]["unexpected_change"] = h.unexpected_change;
        endpoints[key]["unexpected_change_at"] = h.unexpected_change_at;
      }
      if (!h.mta_sts_id.empty()) {
        endpoints[key]["mta_sts_id"] = h.mta_sts_id;
        endpoints[key]["mta_sts_body_hash"] = h.mta_sts_body_hash;
      }
    }
  }
  nlohmann::json doc = {{"version", kStateVersion}, {"endpoints", endpoints}};
  // Invalid UTF-8 from a hostile certificate must not make the dump throw.
  return doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {

// Typed reads of the state file that refuse what a hand-edited or hostile file may hold: a
// float where an integer belongs, a number beyond the target type (nlohmann's get<int>() on
// 1e85 is undefined behaviour), a string where a number belongs.
struct BadField : std::runtime_error {
  using std::runtime_error::runtime_error;
};

double Real(const nlohmann::json& e, const char* key, bool required = true) {
  if (!e.contains(key) && !required) return 0;
  const nlohmann::json& v = e.at(key);
  if (!v.is_number()) throw BadField(std::string(key) + " is not a number");
  return v.get<double>();
}

int64_t Integer(const nlohmann::json& e, const char* key, int64_t lo, int64_t hi) {
  const nlohmann::json& v = e.at(key);
  if (!v.is_number_integer()) throw BadField(std::string(key) + " is not an integer");
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) {
    throw BadField(std::string(key) + " is out of range");
  }
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi) throw BadField(std::string(key) + " is out of range");
  return x;
}

uint64_t Unsigned(const nlohmann::json& e, const char* key, bool required = true) {
  if (!e.contains(key) && !required) return 0;
  const nlohmann::json& v = e.at(key);
  if (!v.is_number_unsigned()) throw BadField(std::string(key) + " is not a non-negative integer");
  return v.get<uint64_t>();
}

std::string Text(const nlohmann::json& e, const char* key, bool required = true) {
  if (!e.contains(key) && !required) return "";
  const nlohmann::json& v = e.at(key);
  if (!v.is_string()) throw BadField(std::string(key) + " is not a string");
  return v.get<std::string>();
}

}  // namespace

Result<std::map<std::string, EndpointHistory>> History::Parse(std::string_view text) {
  std::map<std::string, EndpointHistory> out;
  try {
    nlohmann::json doc = nlohmann::json::parse(text);
    if (!doc.is_object() || !doc.contains("version") ||
        Integer(doc, "version", 0, 1'000'000) != kStateVersion) {
      return Status::Malformed("state file: unknown version");
    }
    const nlohmann::json& endpoints = doc.at("endpoints");
    if (!endpoints.is_object()) return Status::Malformed("state file: endpoints is not an object");
    for (const auto& [key, e] : endpoints.items()) {
      EndpointHistory h;
      if (!e.is_object()) throw BadField("an entry is not an object");
      h.starttls_first_seen = Real(e, "starttls_first_seen");
      h.starttls_last_seen = Real(e, "starttls_last_seen");
      h.best_tls_version = static_cast<int>(Integer(e, "best_tls_version", 0, 100));
      h.cert_changes = Unsigned(e, "cert_changes");
      h.last_probe = Real(e, "last_probe");
      h.unexpected_change = Text(e, "unexpected_change", false);
      h.unexpected_change_at = Real(e, "unexpected_change_at", false);
      h.mta_sts_id = Text(e, "mta_sts_id", false);
      h.mta_sts_body_hash = Unsigned(e, "mta_sts_body_hash", false);
      const nlohmann::json& certs = e.at("certs");
      if (!certs.is_array()) throw BadField("certs is not an array");
      for (const auto& c : certs) {
        if (h.certs.size() >= kMaxCertsPerEndpoint) break;
        if (!c.is_object()) throw BadField("a certificate is not an object");
        h.certs.push_back({Text(c, "fingerprint_sha256"), Text(c, "spki_sha256", false),
                           Text(c, "issuer_cn"),
                           Integer(c, "not_after", std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::max()),
                           Real(c, "first_seen"), Real(c, "last_seen")});
      }
      out[key] = std::move(h);
    }
  } catch (const nlohmann::json::exception& e) {
    return Status::Malformed(std::string("state file: ") + e.what());
  } catch (const BadField& e) {
    return Status::Malformed(std::string("state file: ") + e.what());
  }
  return out;
}

Status History::Save(const std::string& path) const {
  const std::string text = Serialize();
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Status::IoError(Errno("cannot create", tmp));
  size_t off = 0;
  // Bounded: every turn writes at least one byte or fails.
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Status s = Status::IoError(Errno("cannot write", tmp));
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status s = Status::IoError(Errno("cannot fsync", tmp));
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status s = Status::IoError(Errno("cannot rename to", path));
    ::unlink(tmp.c_str());
    return s;
  }
  // The rename itself must survive a crash: sync the directory entry too.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  std::lock_guard<std::mutex> lock(mu_);
  dirty_ = false;
  return Status::Ok();
}

void History::Load(const std::string& path, std::string* warning) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno != ENOENT) *warning = Errno("cannot read state file", path) + "; starting fresh";
    return;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = buf.str();
  Result<std::map<std::string, EndpointHistory>> parsed =
      text.size() > kMaxStateFileBytes ? Result<std::map<std::string, EndpointHistory>>(
                                             Status::Malformed("state file too large"))
                                       : Parse(text);
  if (!parsed.ok()) {
    const std::string aside =
        path + ".corrupt-" + std::to_string(static_cast<int64_t>(::time(nullptr)));
    const bool moved = ::rename(path.c_str(), aside.c_str()) == 0;
    *warning = parsed.status().message() + "; " +
               (moved ? "moved aside to " + aside : Errno("could not move aside", path)) +
               "; starting fresh";
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  entries_ = std::move(parsed).value();
  dirty_ = false;
}

bool History::dirty() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dirty_;
}

size_t History::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

bool History::Get(const std::string& key, EndpointHistory* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  *out = it->second;
  return true;
}

}  // namespace mailsec::findings
