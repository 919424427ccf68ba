#include "mailsec/config/config.h"

#include <fcntl.h>
// toml++ 3.3 asserts (debug builds) or assumes (clang with NDEBUG) preconditions of its own that
// hostile config text breaks (found by tests/fuzz/config_fuzz.cc, e.g. "[[~"): every build
// behaves as the GCC release build does, where the check is a no-op and the parser goes on to
// report an error.
#define TOML_ASSERT(expr) ((void)0)
#include <toml++/toml.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <utility>

#include "config/host_name.h"
#include "mailsec/base/limits.h"
#include "mailsec/base/text.h"

namespace mailsec::config {

namespace {

// Quoted, printable and short, for messages about untrusted text.
std::string Quote(std::string_view s) { return "\"" + Printable(s, 64) + "\""; }

// ---------------------------------------------------------------------------------------------
// Durations.

struct Unit {
  std::string_view name;
  int64_t ms;
};

// In the only order a duration may use them.
constexpr Unit kUnits[] = {
    {"w", 7 * 24 * 3600 * 1000LL},
    {"d", 24 * 3600 * 1000LL},
    {"h", 3600 * 1000LL},
    {"m", 60 * 1000LL},
    {"s", 1000LL},
    {"ms", 1LL},
};

Status BadDuration(std::string_view text, std::string_view reason) {
  return Status::InvalidArgument("bad duration " + Quote(text) + ": " + std::string(reason));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// ---------------------------------------------------------------------------------------------
// TOML helpers.

std::string_view TypeName(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "table";
    case toml::node_type::array:
      return "array";
    case toml::node_type::string:
      return "string";
    case toml::node_type::integer:
      return "integer";
    case toml::node_type::floating_point:
      return "float";
    case toml::node_type::boolean:
      return "boolean";
    case toml::node_type::date:
      return "date";
    case toml::node_type::time:
      return "time";
    case toml::node_type::date_time:
      return "date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

int LineOf(const toml::source_region& r) {
  const toml::source_index line = r.begin.line;
  return line > static_cast<toml::source_index>(std::numeric_limits<int>::max())
             ? std::numeric_limits<int>::max()
             : static_cast<int>(line);
}
int LineOf(const toml::node& n) { return LineOf(n.source()); }

std::string Indexed(std::string_view key, size_t i) {
  return std::string(key) + "[" + std::to_string(i) + "]";
}

std::string Join(std::string_view parent, const toml::key& k) {
  return std::string(parent) + "." + Printable(k.str(), 64);
}

// Turns one TOML document into a Config, refusing at the first problem. Every message is
// "SOURCE:LINE: KEY: reason".
class Loader {
 public:
  explicit Loader(std::string_view source) : source_(source) {}

  Status Load(const toml::table& root, Config* cfg) {
    for (auto&& [k, v] : root) {
      const std::string key = Printable(k.str(), 64);
      Status s;
      if (k.str() == "global") {
        s = LoadGlobal(v, &cfg->global);
      } else if (k.str() == "web") {
        s = LoadWeb(v, &cfg->web);
      } else if (k.str() == "domain") {
        s = LoadDomains(v, &cfg->domains);
      } else if (k.str() == "endpoint") {
        s = LoadEndpoints(v, &cfg->endpoints);
      } else {
        s = UnknownKey(k, key);
      }
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

 private:
  Status Error(int line, std::string_view key, std::string_view reason) const {
    std::string m(source_);
    m += ':';
    m += std::to_string(line);
    m += ": ";
    m += key;
    m += ": ";
    m += reason;
    return Status::InvalidArgument(std::move(m));
  }

  Status UnknownKey(const toml::key& k, std::string_view path) const {
    return Error(LineOf(k.source()), path, "unknown key");
  }

  Status WrongType(const toml::node& n, std::string_view key, std::string_view want) const {
    return Error(LineOf(n), key,
                 "expected " + std::string(want) + ", got " + std::string(TypeName(n.type())));
  }

  Status GetTable(const toml::node& n, std::string_view key, const toml::table** out) const {
    *out = n.as_table();
    if (*out == nullptr) return WrongType(n, key, "a table");
    return Status::Ok();
  }

  // [[name]] sections, or an array of inline tables.
  Status GetTableArray(const toml::node& n, std::string_view key, const toml::array** out) const {
    *out = n.as_array();
    if (*out == nullptr) return WrongType(n, key, "an array of tables");
    for (size_t i = 0; i < (*out)->size(); ++i) {
      const toml::node& e = *(*out)->get(i);
      if (!e.is_table()) return WrongType(e, Indexed(key, i), "a table");
    }
    return Status::Ok();
  }

  Status GetString(const toml::node& n, std::string_view key, std::string* out) const {
    const toml::value<std::string>* v = n.as_string();
    if (v == nullptr) return WrongType(n, key, "a string");
    if (v->get().find('\0') != std::string::npos) return Error(LineOf(n), key, "contains NUL");
    *out = v->get();
    return Status::Ok();
  }

  Status GetNonEmptyString(const toml::node& n, std::string_view key, std::string* out) const {
    if (Status s = GetString(n, key, out); !s.ok()) return s;
    if (out->empty()) return Error(LineOf(n), key, "empty");
    return Status::Ok();
  }

  // An array of strings; `check` (may be null) validates each element and may rewrite it.
  template <typename Check>
  Status GetStringArray(const toml::node& n, std::string_view key, std::vector<std::string>* out,
                        Check check) const {
    const toml::array* a = n.as_array();
    if (a == nullptr) return WrongType(n, key, "an array of strings");
    std::vector<std::string> items;
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::node& e = *a->get(i);
      const std::string ekey = Indexed(key, i);
      std::string item;
      if (Status s = GetString(e, ekey, &item); !s.ok()) return s;
      if (std::string reason = check(&item); !reason.empty()) {
        return Error(LineOf(e), ekey, reason);
      }
      items.push_back(std::move(item));
    }
    *out = std::move(items);
    return Status::Ok();
  }

  Status GetDuration(const toml::node& n, std::string_view key, bool positive,
                     Duration* out) const {
    std::string text;
    if (Status s = GetString(n, key, &text); !s.ok()) return s;
    Result<Duration> d = ParseDuration(text);
    if (!d.ok()) return Error(LineOf(n), key, d.status().message());
    if (positive && d->count() == 0) {
      return Error(LineOf(n), key, "bad duration " + Quote(text) + ": must be greater than zero");
    }
    *out = *d;
    return Status::Ok();
  }

  Status LoadGlobal(const toml::node& n, GlobalConfig* g) {
    const toml::table* t = nullptr;
    if (Status s = GetTable(n, "global", &t); !s.ok()) return s;
    for (auto&& [k, v] : *t) {
      const std::string key = Join("global", k);
      const std::string_view name = k.str();
      Status s;
      if (name == "interval") {
        s = GetDuration(v, key, /*positive=*/true, &g->interval);
      } else if (name == "scan_interval") {
        s = GetDuration(v, key, /*positive=*/true, &g->scan_interval);
      } else if (name == "timeout") {
        s = GetDuration(v, key, /*positive=*/true, &g->timeout);
      } else if (name == "concurrency") {
        s = LoadConcurrency(v, key, &g->concurrency);
      } else if (name == "helo_name") {
        s = GetNonEmptyString(v, key, &g->helo_name);
        if (s.ok() && !ValidHeloName(g->helo_name)) {
          s = Error(LineOf(v), key, "bad helo name " + Quote(g->helo_name));
        }
      } else if (name == "resolvers") {
        s = GetStringArray(v, key, &g->resolvers, CheckResolver);
      } else if (name == "ca_file") {
        s = GetString(v, key, &g->ca_file);
      } else if (name == "state_file") {
        s = GetString(v, key, &g->state_file);
      } else if (name == "history_retention") {
        s = GetDuration(v, key, /*positive=*/true, &g->history_retention);
      } else if (name == "state_save_interval") {
        s = GetDuration(v, key, /*positive=*/true, &g->state_save_interval);
      } else if (name == "ip_family") {
        s = LoadIpFamily(v, key, &g->ip_family);
      } else if (name == "open_relay_recipient") {
        s = GetString(v, key, &g->open_relay_recipient);
        if (s.ok() && !g->open_relay_recipient.empty() && !ValidMailbox(g->open_relay_recipient)) {
          s = Error(LineOf(v), key,
                    "bad mailbox " + Quote(g->open_relay_recipient) + " (want LOCAL@DOMAIN)");
        }
      } else {
        s = UnknownKey(k, key);
      }
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

  Status LoadConcurrency(const toml::node& n, std::string_view key, int* out) const {
    const toml::value<int64_t>* v = n.as_integer();
    if (v == nullptr) return WrongType(n, key, "an integer");
    const int64_t c = v->get();
    if (c < 1 || c > 100000) {
      return Error(LineOf(n), key, std::to_string(c) + " is out of range 1..100000");
    }
    *out = static_cast<int>(c);
    return Status::Ok();
  }

  Status LoadIpFamily(const toml::node& n, std::string_view key, IpFamily* out) const {
    std::string text;
    if (Status s = GetString(n, key, &text); !s.ok()) return s;
    if (text == "any") {
      *out = IpFamily::kAny;
    } else if (text == "ipv4") {
      *out = IpFamily::kIpv4;
    } else if (text == "ipv6") {
      *out = IpFamily::kIpv6;
    } else {
      return Error(LineOf(n), key,
                   "unknown ip family " + Quote(text) + " (want \"any\", \"ipv4\" or \"ipv6\")");
    }
    return Status::Ok();
  }

  // EHLO's argument: a host name or an address literal ("[192.0.2.1]", "[IPv6:2001:db8::1]").
  static bool ValidHeloName(const std::string& h) {
    std::string ignored;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']') {
      const std::string_view inner = std::string_view(h).substr(1, h.size() - 2);
      if (inner.size() > 5 && EqualsIgnoreCase(inner.substr(0, 5), "ipv6:")) {
        return internal::ParseIpv6(inner.substr(5), &ignored);
      }
      return internal::ParseIpv4(inner, &ignored);
    }
    return internal::ParseHostName(h, &ignored).ok();
  }

  // "IPv4[:PORT]", "[IPv6]:PORT", "[IPv6]" or a bare IPv6. Returns a reason, empty when valid.
  static std::string CheckResolver(std::string* r) {
    const std::string_view t = *r;
    const std::string bad = "bad resolver " + Quote(t) + ": ";
    std::string_view ip = t;
    std::string_view port;
    bool v6 = false;
    bool has_port = false;
    if (!t.empty() && t.front() == '[') {
      const size_t close = t.find(']');
      if (close == std::string_view::npos) return bad + "unterminated \"[\"";
      ip = t.substr(1, close - 1);
      v6 = true;
      const std::string_view after = t.substr(close + 1);
      if (!after.empty()) {
        if (after.front() != ':') return bad + "unexpected " + Quote(after) + " after \"]\"";
        port = after.substr(1);
        has_port = true;
      }
    } else if (const size_t colon = t.find(':'); colon != std::string_view::npos) {
      if (t.find(':', colon + 1) != std::string_view::npos) {
        v6 = true;  // bare IPv6, no port
      } else {
        ip = t.substr(0, colon);
        port = t.substr(colon + 1);
        has_port = true;
      }
    }
    std::string canonical;
    if (v6 ? !internal::ParseIpv6(ip, &canonical) : !internal::ParseIpv4(ip, &canonical)) {
      return bad + (v6 ? "not an ipv6 address" : "not an ipv4 address");
    }
    uint16_t p = 0;
    if (has_port) {
      if (Status s = internal::ParsePort(port, /*allow_zero=*/false, &p); !s.ok()) {
        return bad + s.message();
      }
    }
    return "";
  }

  // "[HOST]:PORT" where HOST is empty (all addresses), an IPv4, a bracketed IPv6 or a name.
  // Port 0 (any free port) is allowed: tests use it. Returns a reason, empty when valid.
  static std::string CheckListenAddress(std::string_view t) {
    const std::string bad = "bad listen address " + Quote(t) + ": ";
    const size_t colon = t.rfind(':');
    if (colon == std::string_view::npos) return bad + "missing \":PORT\"";
    const std::string_view host = t.substr(0, colon);
    uint16_t port = 0;
    if (Status s = internal::ParsePort(t.substr(colon + 1), /*allow_zero=*/true, &port); !s.ok()) {
      return bad + s.message();
    }
    if (host.empty()) return "";
    std::string canonical;
    bool is_ip = false;
    if (Status s = internal::ParseHost(host, &canonical, &is_ip); !s.ok()) {
      return bad + s.message();
    }
    return "";
  }

  Status LoadWeb(const toml::node& n, WebConfig* w) {
    const toml::table* t = nullptr;
    if (Status s = GetTable(n, "web", &t); !s.ok()) return s;
    for (auto&& [k, v] : *t) {
      const std::string key = Join("web", k);
      const std::string_view name = k.str();
      Status s;
      if (name == "listen_address") {
        s = GetString(v, key, &w->listen_address);
        if (s.ok()) {
          if (std::string reason = CheckListenAddress(w->listen_address); !reason.empty()) {
            s = Error(LineOf(v), key, reason);
          }
        }
      } else if (name == "probe_allow") {
        s = GetStringArray(v, key, &w->probe_allow, [](std::string* glob) -> std::string {
          return glob->empty() ? "empty glob" : "";
        });
      } else if (name == "tls_cert_file") {
        s = GetReadableFile(v, key, &w->tls_cert_file);
      } else if (name == "tls_key_file") {
        s = GetReadableFile(v, key, &w->tls_key_file);
      } else if (name == "max_concurrent_probes") {
        s = LoadConcurrency(v, key, &w->max_concurrent_probes);
      } else if (name == "basic_auth_users") {
        s = LoadBasicAuthUsers(v, key, &w->basic_auth_users);
      } else {
        s = UnknownKey(k, key);
      }
      if (!s.ok()) return s;
    }
    if (w->tls_cert_file.empty() != w->tls_key_file.empty()) {
      return Error(LineOf(n), "web",
                   "tls_cert_file and tls_key_file go together: set both for HTTPS, or neither");
    }
    return Status::Ok();
  }

  // A path the exporter must be able to read now (a typo is refused at load, not at first use).
  Status GetReadableFile(const toml::node& n, std::string_view key, std::string* out) const {
    if (Status s = GetNonEmptyString(n, key, out); !s.ok()) return s;
    if (::access(out->c_str(), R_OK) != 0) {
      return Error(LineOf(n), key, "cannot read " + Quote(*out) + ": " + std::strerror(errno));
    }
    return Status::Ok();
  }

  // [web.basic_auth_users]: user = "bcrypt hash". Only bcrypt ($2a$, $2b$, $2y$): a fast or
  // plaintext hash on a network-facing endpoint is refused. The hash itself is never echoed.
  Status LoadBasicAuthUsers(const toml::node& n, std::string_view key,
                            std::map<std::string, std::string>* out) const {
    const toml::table* t = nullptr;
    if (Status s = GetTable(n, key, &t); !s.ok()) return s;
    std::map<std::string, std::string> users;
    for (auto&& [user, hash] : *t) {
      const std::string ukey = Join(std::string(key), user);
      const std::string name(user.str());
      if (name.empty() || name.find(':') != std::string::npos ||
          name.find_first_of(std::string("\0\r\n", 3)) != std::string::npos) {
        return Error(LineOf(hash), ukey, "a user name must be non-empty, without ':'");
      }
      std::string h;
      if (Status s = GetString(hash, ukey, &h); !s.ok()) return s;
      const bool bcrypt = h.size() == 60 && h[0] == '$' && h[1] == '2' &&
                          (h[2] == 'a' || h[2] == 'b' || h[2] == 'y') && h[3] == '$';
      if (!bcrypt) {
        return Error(LineOf(hash), ukey,
                     "not a bcrypt hash (want \"$2y$...\", 60 characters, as htpasswd -nB "
                     "prints it)");
      }
      users[name] = h;
    }
    *out = std::move(users);
    return Status::Ok();
  }

  // A SHA-256 certificate fingerprint: 64 hex digits, optionally in colon-separated pairs as
  // `openssl x509 -fingerprint -sha256` prints it. Lower-cases it and drops the colons.
  static std::string CheckFingerprint(std::string* fp) {
    const std::string bad = "bad fingerprint " + Quote(*fp) + ": ";
    std::string hex;
    for (char c : *fp) {
      if (c == ':') continue;
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!ok) return bad + "not hexadecimal";
      hex.push_back(c);
    }
    if (hex.size() != 64) return bad + "a SHA-256 fingerprint has 64 hex digits";
    *fp = AsciiLower(hex);
    return "";
  }

  // A certificate serial number in hex, as `openssl x509 -serial` prints it ("serial=0A1B..."
  // without the prefix) or with colons: upper-cased, leading zeros stripped (as CertFacts::serial).
  static std::string CheckSerial(std::string* serial) {
    const std::string bad = "bad serial " + Quote(*serial) + ": ";
    std::string hex;
    for (char c : *serial) {
      if (c == ':') continue;
      const bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      if (!ok) return bad + "not hexadecimal";
      hex.push_back(static_cast<char>(c >= 'a' ? c - 'a' + 'A' : c));
    }
    if (hex.empty()) return bad + "no digits";
    if (hex.size() > 40) return bad + "more than 20 bytes (RFC 5280 §4.1.2.2)";
    const size_t first = hex.find_first_not_of('0');
    *serial = first == std::string::npos ? "0" : hex.substr(first);
    return "";
  }

  // A DKIM selector (RFC 6376 §3.1): dot-separated labels. Underscores are allowed because DNS
  // owner names may carry them and some providers use them. Lower-cases it.
  static std::string CheckSelector(std::string* sel) {
    const std::string bad = "bad selector " + Quote(*sel) + ": ";
    if (sel->empty()) return bad + "empty";
    if (sel->size() > 200) return bad + "longer than 200 characters";
    size_t label = 0;
    for (char c : *sel) {
      if (c == '.') {
        if (label == 0) return bad + "empty label";
        label = 0;
        continue;
      }
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
      if (!ok) return bad + "bad character " + Quote(std::string_view(&c, 1));
      if (++label > 63) return bad + "label longer than 63 characters";
    }
    if (label == 0) return bad + "empty label";
    *sel = AsciiLower(*sel);
    return "";
  }

  Status LoadDomains(const toml::node& n, std::vector<DomainConfig>* out) {
    const toml::array* a = nullptr;
    if (Status s = GetTableArray(n, "domain", &a); !s.ok()) return s;
    std::map<std::string, int> seen;  // name -> line
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::table& t = *a->get(i)->as_table();
      const std::string prefix = Indexed("domain", i);
      DomainConfig d;
      const toml::node* name_node = nullptr;
      for (auto&& [k, v] : t) {
        const std::string key = Join(prefix, k);
        Status s;
        if (k.str() == "name") {
          name_node = &v;
          std::string text;
          s = GetString(v, key, &text);
          if (s.ok()) {
            Result<std::string> name = ParseDomainName(text);
            if (!name.ok()) {
              s = Error(LineOf(v), key, name.status().message());
            } else {
              d.name = *name;
              d.line = LineOf(v);
            }
          }
        } else if (k.str() == "dkim_selectors") {
          s = GetStringArray(v, key, &d.dkim_selectors, CheckSelector);
          if (s.ok()) s = CheckUniqueSelectors(v, key, d.dkim_selectors);
        } else {
          s = UnknownKey(k, key);
        }
        if (!s.ok()) return s;
      }
      if (name_node == nullptr) return Error(LineOf(t), prefix + ".name", "missing required key");
      const auto [it, inserted] = seen.emplace(d.name, d.line);
      if (!inserted) {
        return Error(d.line, prefix + ".name",
                     "duplicate domain " + Quote(d.name) + " (first at line " +
                         std::to_string(it->second) + ")");
      }
      out->push_back(std::move(d));
      if (Status s = CheckTargetCount(t, prefix); !s.ok()) return s;
    }
    return Status::Ok();
  }

  Status CheckUniqueSelectors(const toml::node& n, std::string_view key,
                              const std::vector<std::string>& selectors) const {
    const toml::array& a = *n.as_array();
    for (size_t i = 0; i < selectors.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (selectors[i] == selectors[j]) {
          return Error(LineOf(*a.get(i)), Indexed(key, i),
                       "duplicate selector " + Quote(selectors[i]));
        }
      }
    }
    return Status::Ok();
  }

  Status LoadEndpoints(const toml::node& n, std::vector<EndpointConfig>* out) {
    const toml::array* a = nullptr;
    if (Status s = GetTableArray(n, "endpoint", &a); !s.ok()) return s;
    std::map<std::string, int> seen;  // canonical target -> line
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::table& t = *a->get(i)->as_table();
      const std::string prefix = Indexed("endpoint", i);
      EndpointConfig e;
      bool has_target = false;
      for (auto&& [k, v] : t) {
        const std::string key = Join(prefix, k);
        Status s;
        if (k.str() == "target") {
          has_target = true;
          std::string text;
          s = GetString(v, key, &text);
          if (s.ok()) {
            Result<EndpointTarget> target = ParseEndpointTarget(text);
            if (!target.ok()) {
              s = Error(LineOf(v), key, target.status().message());
            } else {
              e.target = *target;
              e.line = LineOf(v);
            }
          }
        } else if (k.str() == "expect_fingerprint_sha256") {
          s = GetStringArray(v, key, &e.pins.fingerprints_sha256, CheckFingerprint);
          if (s.ok() && e.pins.fingerprints_sha256.empty()) {
            s = Error(LineOf(v), key, "empty (leave the key out to expect nothing)");
          }
        } else if (k.str() == "expect_issuer_cn") {
          s = GetNonEmptyString(v, key, &e.pins.issuer_cn);
        } else if (k.str() == "expect_serial") {
          s = GetStringArray(v, key, &e.pins.serials, CheckSerial);
          if (s.ok() && e.pins.serials.empty()) {
            s = Error(LineOf(v), key, "empty (leave the key out to expect nothing)");
          }
        } else {
          s = UnknownKey(k, key);
        }
        if (!s.ok()) return s;
      }
      if (!has_target) return Error(LineOf(t), prefix + ".target", "missing required key");
      const std::string canonical = e.target.ToString();
      const auto [it, inserted] = seen.emplace(canonical, e.line);
      if (!inserted) {
        return Error(e.line, prefix + ".target",
                     "duplicate target " + Quote(canonical) + " (first at line " +
                         std::to_string(it->second) + ")");
      }
      out->push_back(std::move(e));
      if (Status s = CheckTargetCount(t, prefix); !s.ok()) return s;
    }
    return Status::Ok();
  }

  Status CheckTargetCount(const toml::table& t, std::string_view key) {
    if (++targets_ > kMaxTargets) {
      return Error(LineOf(t), key, "too many targets (limit " + std::to_string(kMaxTargets) + ")");
    }
    return Status::Ok();
  }

  std::string_view source_;
  size_t targets_ = 0;
};

constexpr std::string_view kEmbeddedDefault =
    R"(# mailsec_exporter's built-in configuration, used without --config.file: every service of
# localhost on its default port, everything else at its default.
[[endpoint]]
target = "smtp://localhost"

[[endpoint]]
target = "submission://localhost"

[[endpoint]]
target = "submissions://localhost"

[[endpoint]]
target = "imap://localhost"

[[endpoint]]
target = "imaps://localhost"

[[endpoint]]
target = "pop3://localhost"

[[endpoint]]
target = "pop3s://localhost"

[[endpoint]]
target = "sieve://localhost"
)";

constexpr std::string_view kEmbeddedSource = "<embedded default>";

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  if (text.empty()) return BadDuration(text, "empty");
  if (text.front() == '-') return BadDuration(text, "negative");
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  int64_t total = 0;
  size_t next_unit = 0;  // index into kUnits of the smallest unit still allowed
  size_t i = 0;
  while (i < text.size()) {
    if (!IsDigit(text[i])) {
      if (IsLetter(text[i])) return BadDuration(text, "missing number");
      return BadDuration(text, "unexpected character " + Quote(text.substr(i, 1)));
    }
    int64_t n = 0;
    while (i < text.size() && IsDigit(text[i])) {
      const int digit = text[i] - '0';
      if (n > (kMax - digit) / 10) return BadDuration(text, "too large");
      n = n * 10 + digit;
      ++i;
    }
    if (i == text.size()) return BadDuration(text, "missing unit");
    if (text[i] == '.') return BadDuration(text, "fractions are not allowed");
    const size_t start = i;
    while (i < text.size() && IsLetter(text[i])) ++i;
    const std::string_view unit = text.substr(start, i - start);
    if (unit.empty()) {
      return BadDuration(text, "unexpected character " + Quote(text.substr(start, 1)));
    }
    size_t u = 0;
    while (u < std::size(kUnits) && kUnits[u].name != unit) ++u;
    if (u == std::size(kUnits)) return BadDuration(text, "unknown unit " + Quote(unit));
    if (u < next_unit) return BadDuration(text, "unit " + Quote(unit) + " out of order");
    next_unit = u + 1;
    if (n > kMax / kUnits[u].ms) return BadDuration(text, "too large");
    const int64_t part = n * kUnits[u].ms;
    if (total > kMax - part) return BadDuration(text, "too large");
    total += part;
  }
  // Deadlines are steady_clock time points in nanoseconds: a duration beyond a few centuries
  // would overflow them. Nothing here needs more than ten years.
  constexpr int64_t kTenYearsMs = int64_t{3650} * 24 * 3600 * 1000;
  if (total > kTenYearsMs) return BadDuration(text, "too large (more than 3650 days)");
  return Duration(total);
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  uint64_t rest = static_cast<uint64_t>(ms);
  if (ms < 0) {
    out = "-";
    rest = 0 - rest;  // well defined for INT64_MIN too
  }
  for (const Unit& u : kUnits) {
    const uint64_t n = rest / static_cast<uint64_t>(u.ms);
    if (n == 0) continue;
    out += std::to_string(n);
    out += u.name;
    rest -= n * static_cast<uint64_t>(u.ms);
  }
  return out;
}

// toml++ 3.3 (Debian 12) reaches __builtin_unreachable() in is_non_ascii_horizontal_whitespace
// for some code points (U+00A1..U+0499, U+2C5E..U+2FFF, U+3001..U+3057, U+FB26..U+FEFE: gaps in
// its search table), which it calls on
// the characters of most positions, strings included (found by tests/fuzz/config_fuzz.cc):
// undefined behaviour on a hostile or mistyped file. Such characters, and raw control characters
// (TOML forbids them but tab), are refused before toml++ sees the text; in a basic string they
// can be written as \uXXXX. Returns why (with the 1-based line in *line), or "".
namespace {
std::string UnsafeForToml(std::string_view t, int* line) {
  *line = 1;
  // Bounded: every turn moves i forward.
  for (size_t i = 0; i < t.size();) {
    const auto b = static_cast<unsigned char>(t[i]);
    if (b == '\n') ++*line;
    if ((b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7F) {
      return "control character";
    }
    if (b < 0x80) {
      ++i;
      continue;
    }
    // The code point of a well-formed 2- or 3-byte sequence (toml++ rejects the rest itself).
    uint32_t cp = 0;
    size_t len = 1;
    auto cont = [&t](size_t k) {
      return k < t.size() && (static_cast<unsigned char>(t[k]) & 0xC0) == 0x80;
    };
    if ((b & 0xE0) == 0xC0 && cont(i + 1)) {
      cp = ((b & 0x1Fu) << 6) | (static_cast<unsigned char>(t[i + 1]) & 0x3Fu);
      len = 2;
    } else if ((b & 0xF0) == 0xE0 && cont(i + 1) && cont(i + 2)) {
      cp = ((b & 0x0Fu) << 12) | ((static_cast<unsigned char>(t[i + 1]) & 0x3Fu) << 6) |
           (static_cast<unsigned char>(t[i + 2]) & 0x3Fu);
      len = 3;
    }
    // Exactly where the table has gaps (computed from toml++ 3.3's bitmask and its cases).
    static constexpr std::pair<uint32_t, uint32_t> kMishandled[] = {
        {0xA1, 0x499}, {0x2C5E, 0x2FFF}, {0x3001, 0x3057}, {0xFB26, 0xFEFE}};
    for (const auto& [lo, hi] : kMishandled) {
      if (cp < lo || cp > hi) continue;
      char hex[8];
      std::snprintf(hex, sizeof hex, "%04X", static_cast<unsigned>(cp));
      return std::string("character U+") + hex +
             " is not accepted (the TOML parser mishandles it); write it as \\u" + hex +
             " in a \"basic string\"";
    }
    i += len;
    continue;
  }
  return "";
}
}  // namespace

bool ValidMailbox(std::string_view m) {
  const size_t at = m.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) return false;
  constexpr std::string_view kSpecials = "!#$%&'*+-/=?^_`{|}~.";
  for (size_t i = 0; i < at; ++i) {
    const unsigned char c = static_cast<unsigned char>(m[i]);
    if (!std::isalnum(c) && kSpecials.find(static_cast<char>(c)) == std::string_view::npos) {
      return false;
    }
  }
  const std::string_view local = m.substr(0, at);
  if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
    return false;
  }
  std::string ignored;
  return internal::ParseHostName(m.substr(at + 1), &ignored).ok();
}

Result<Config> ParseConfig(std::string_view text, std::string_view source) {
  if (text.size() > kMaxConfigBytes) {
    return Status::InvalidArgument(std::string(source) + ":0: file: larger than " +
                                   std::to_string(kMaxConfigBytes) + " bytes");
  }
  int line = 0;
  if (std::string why = UnsafeForToml(text, &line); !why.empty()) {
    return Status::InvalidArgument(std::string(source) + ":" + std::to_string(line) +
                                   ": toml: " + why);
  }
  toml::table root;
#if TOML_EXCEPTIONS
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(std::string(source) + ":" + std::to_string(LineOf(e.source())) +
                                   ": toml: " + Printable(e.description(), 200));
  }
#else
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) {
    const toml::parse_error& e = parsed.error();
    return Status::InvalidArgument(std::string(source) + ":" + std::to_string(LineOf(e.source())) +
                                   ": toml: " + Printable(e.description(), 200));
  }
  root = std::move(parsed).table();
#endif
  Config cfg;
  cfg.source = std::string(source);
  if (Status s = Loader(source).Load(root, &cfg); !s.ok()) return s;
  return cfg;
}

Result<Config> LoadConfigFile(const std::string& path) {
  const auto cannot_read = [&path](int err) {
    return Status::InvalidArgument(path + ":0: file: cannot read: " + std::strerror(err));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cannot_read(errno);
  std::string text;
  char buf[64 * 1024];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return cannot_read(err);
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxConfigBytes) {
      ::close(fd);
      return Status::InvalidArgument(path + ":0: file: larger than " +
                                     std::to_string(kMaxConfigBytes) + " bytes");
    }
  }
  ::close(fd);
  return ParseConfig(text, path);
}

std::string_view EmbeddedDefaultToml() { return kEmbeddedDefault; }

Config EmbeddedDefaultConfig() {
  Result<Config> cfg = ParseConfig(kEmbeddedDefault, kEmbeddedSource);
  if (!cfg.ok()) std::abort();  // a bug of ours; the unit tests parse it
  cfg->is_embedded_default = true;
  return std::move(cfg).value();
}

}  // namespace mailsec::config
