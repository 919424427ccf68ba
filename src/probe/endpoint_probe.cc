#include "mailsec/probe/endpoint_probe.h"

#include <algorithm>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "mailsec/base/text.h"
#include "mailsec/checks/dane.h"
#include "mailsec/net/transport.h"
#include "mailsec/proto/dialogue.h"
#include "probe/dialogue_factory.h"

namespace mailsec::probe {

std::unique_ptr<proto::Dialogue> internal::MakeDialogue(config::Service s, net::Transport* t,
                                                        const ProbeOptions& o) {
  using config::Service;
  switch (s) {
    case Service::kSmtp:
    case Service::kSubmission:
    case Service::kSubmissions:
      return proto::MakeSmtpDialogue(t, o.helo_name, o.reply_limits, o.dialogue_limits);
    case Service::kImap:
    case Service::kImaps:
      return proto::MakeImapDialogue(t, o.reply_limits, o.dialogue_limits);
    case Service::kPop3:
    case Service::kPop3s:
      return proto::MakePop3Dialogue(t, o.reply_limits, o.dialogue_limits);
    case Service::kSieve:
      return proto::MakeSieveDialogue(t, o.reply_limits, o.dialogue_limits);
  }
  return nullptr;
}
namespace {

using config::Service;
using internal::MakeDialogue;
using Steady = net::SteadyClock;

// Maps a dialogue step's error to the closed failure set.
Failure StepFailure(const Status& s, Failure on_timeout) {
  switch (s.code()) {
    case Status::Code::kTimeout:
      return on_timeout;
    case Status::Code::kClosed:
      return Failure::kConnectionClosed;
    case Status::Code::kRefused:
      return Failure::kRejected;
    case Status::Code::kMalformed:
      return Failure::kProtocolError;
    default:
      return Failure::kConnectionClosed;
  }
}

// Runs one probe of one address and fills the report. Phases are timed one by one.
class AddressProbe {
 public:
  AddressProbe(const config::EndpointTarget& target, const ProbeOptions& o, EndpointReport* r)
      : target_(target), o_(o), r_(r) {
    overall_ = Steady::now() + o.timeout;
  }

  asio::awaitable<void> Run(const asio::ip::address& address) {
    co_await Converse(address);
    // STRIP-05: plaintext nobody asked for, found when the next command was due (it was
    // dropped, never read as a reply).
    if (dialogue_ != nullptr && !dialogue_->unsolicited().empty()) {
      r_->unsolicited_before_tls = Printable(dialogue_->unsolicited(), 200);
      RaiseSignal(r_, Signal::kResponseInjection,
                  "unasked before STARTTLS: " + r_->unsolicited_before_tls);
    }
  }

 private:
  asio::awaitable<void> Converse(const asio::ip::address& address) {
    r_->ip = address.to_string();

    Begin(Phase::kConnect);
    std::unique_ptr<net::TcpTransport> tcp;
    net::ConnectOutcome c = co_await net::Connect(asio::ip::tcp::endpoint(address, target_.port),
                                                  Deadline(o_.phases.connect), &tcp);
    End();
    if (c.error != net::ConnectError::kNone) {
      Fail(c.error == net::ConnectError::kRefused   ? Failure::kConnectRefused
           : c.error == net::ConnectError::kTimeout ? Failure::kConnectTimeout
                                                    : Failure::kConnectError,
           c.message);
      co_return;
    }

    std::unique_ptr<net::Transport> tls_transport;
    if (implicit_) {
      if (!co_await DoHandshake(*tcp, &tls_transport)) co_return;
    }
    net::Transport* transport = tls_transport ? tls_transport.get() : tcp.get();
    dialogue_ = MakeDialogue(target_.service, transport, o_);
    proto::Dialogue* dialogue = dialogue_.get();

    Begin(Phase::kGreeting);
    net::Deadline greeting_deadline = Deadline(o_.phases.greeting);
    if (!implicit_) {
      // Keep a moment of the budget to tell a silent server from an implicit-TLS port.
      greeting_deadline = std::min(greeting_deadline, overall_ - ModeCheckReserve());
    }
    Status s = co_await dialogue->Greeting(greeting_deadline);
    End();
    r_->greeting = Printable(dialogue->greeting_line(), 120);
    if (!s.ok()) {
      Fail(StepFailure(s, Failure::kGreetingTimeout), s.message());
      if (!implicit_ && s.code() == Status::Code::kTimeout && co_await SpeaksImplicitTls(address)) {
        Fail(Failure::kWrongTlsMode,
             "no greeting, but the port completes a TLS handshake: it speaks implicit TLS");
      }
      co_return;
    }

    Begin(implicit_ ? Phase::kTlsCapabilities : Phase::kCapabilities);
    Result<proto::Capabilities> caps = co_await dialogue->AskCapabilities(Command());
    End();
    if (!caps.ok()) {
      Fail(StepFailure(caps.status(), Failure::kCommandTimeout), caps.status().message());
      co_return;
    }
    if (implicit_) {
      r_->tls_capabilities = caps->keywords;
      r_->tls_auth_mechanisms = caps->auth;
    } else {
      r_->capabilities = caps->keywords;
      r_->auth_mechanisms = caps->auth;
      r_->starttls_offered = caps->starttls;
      if (caps->plaintext_login) {
        RaiseSignal(r_, Signal::kPlaintextAuth, PlaintextLoginEvidence(*caps));
      }
      if (caps->starttls_masked && !caps->starttls) {
        RaiseSignal(r_, Signal::kStartTlsMasked, "capability " + MaskedKeyword(*caps));
      }
      if (dialogue->preauth()) {
        // IMAP PREAUTH: the session is authenticated in plaintext and STARTTLS is no longer
        // allowed (RFC 9051 §7.1.4; USX21's PREAUTH downgrade).
        r_->preauth = true;
        Fail(Failure::kStartTlsRefused, "PREAUTH greeting: STARTTLS impossible", Phase::kStartTls);
        co_await Quit(*dialogue);
        co_return;
      }
      if (!caps->starttls) {
        RaiseSignal(r_, Signal::kStartTlsMissing,
                    "not in the capabilities: " + Join(caps->keywords, " ", 160));
        Fail(Failure::kStartTlsRefused, "STARTTLS not offered", Phase::kStartTls);
        co_await Quit(*dialogue);
        co_return;
      }

      Begin(Phase::kStartTls);
      s = co_await dialogue->StartTls(Command());
      End();
      if (!s.ok()) {
        if (s.code() == Status::Code::kRefused) {
          RaiseSignal(r_, Signal::kStartTlsRejected, s.message());
          if (dialogue->starttls_unrecognized()) {
            // Advertised, then "command not recognized": something on the path rewrote the
            // command (Cisco "inspect esmtp" answers 500 to the XXXXXXXA it made of it).
            RaiseSignal(r_, Signal::kStartTlsMasked, "advertised, then " + s.message());
          }
          Fail(Failure::kStartTlsRefused, s.message());
          co_await Quit(*dialogue);
        } else {
          Fail(StepFailure(s, Failure::kCommandTimeout), s.message());
        }
        co_return;
      }
      // Bytes the server sent after its go-ahead but before the handshake were read in
      // plaintext: a man in the middle could have put them there. Report, then forget them.
      std::string injected = dialogue->SwitchTransport(nullptr);
      if (!injected.empty()) {
        r_->injected_after_go_ahead = Printable(injected, 200);
        RaiseSignal(r_, Signal::kResponseInjection,
                    "after the STARTTLS go-ahead: " + r_->injected_after_go_ahead);
      }
      if (!co_await DoHandshake(*tcp, &tls_transport)) co_return;
      dialogue->SwitchTransport(tls_transport.get());

      Begin(Phase::kTlsCapabilities);
      caps = co_await dialogue->AskCapabilities(Command());
      End();
      if (!caps.ok()) {
        Fail(StepFailure(caps.status(), Failure::kCommandTimeout), caps.status().message());
        co_return;
      }
      r_->tls_capabilities = caps->keywords;
      r_->tls_auth_mechanisms = caps->auth;
    }
    co_await Quit(*dialogue);
    r_->success = true;
    tcp->Close();
  }

  net::Deadline Deadline(std::chrono::milliseconds budget) const {
    return std::min(overall_, Steady::now() + budget);
  }
  net::Deadline Command() const { return Deadline(o_.phases.command); }
  // A quarter of the budget, at most 3 s: enough for a TLS handshake on loopback or a LAN.
  std::chrono::milliseconds ModeCheckReserve() const {
    return std::min<std::chrono::milliseconds>(std::chrono::seconds(3), o_.timeout / 4);
  }

  void Begin(Phase p) {
    phase_ = p;
    phase_start_ = Steady::now();
  }
  void End() {
    r_->phase_seconds[static_cast<int>(phase_)] =
        std::chrono::duration<double>(Steady::now() - phase_start_).count();
  }
  void Fail(Failure f, const std::string& message) { Fail(f, message, phase_); }
  void Fail(Failure f, const std::string& message, Phase p) {
    r_->success = false;
    r_->failure = f;
    r_->failure_phase = p;
    r_->error = std::string(PhaseName(p)) + ": " + Printable(message, 200);
  }
  static std::string Join(const std::vector<std::string>& words, const char* sep, size_t max) {
    std::string out;
    for (const auto& w : words) {
      if (out.size() >= max) break;
      out += (out.empty() ? "" : sep) + w;
    }
    return out.empty() ? "(none)" : out;
  }
  // What made the capabilities a plaintext login offer, in the protocol's words.
  std::string PlaintextLoginEvidence(const proto::Capabilities& caps) const {
    switch (target_.service) {
      case Service::kImap:
        return "before TLS: " +
               std::string(std::find(caps.keywords.begin(), caps.keywords.end(), "LOGINDISABLED") ==
                                   caps.keywords.end()
                               ? "no LOGINDISABLED"
                               : "LOGINDISABLED") +
               ", AUTH=" + Join(caps.auth, " AUTH=", 80);
      case Service::kPop3:
        return "before STLS: " + Join(caps.keywords, " ", 120);
      default:
        return "before TLS: AUTH " + Join(caps.auth, " ", 120);
    }
  }
  static std::string MaskedKeyword(const proto::Capabilities& caps) {
    for (const auto& k : caps.keywords) {
      if (proto::LooksMasked(k, 8) || proto::LooksMasked(k, 4)) return k;
    }
    return "(masked)";
  }

  asio::awaitable<bool> DoHandshake(net::TcpTransport& tcp, std::unique_ptr<net::Transport>* out) {
    tls::HandshakeRequest req;
    if (!target_.host_is_ip) req.sni = target_.host;
    req.verify_host = target_.host;
    req.deadline = Deadline(o_.phases.handshake);
    req.now_unix = static_cast<int64_t>(ToUnixSeconds(o_.clock->Now()));
    Begin(Phase::kHandshake);
    Status s = co_await tls::Handshake(*o_.tls, tcp, req, &r_->tls, out);
    End();
    if (!s.ok()) {
      Failure f = Failure::kHandshakeFailed;
      if (s.code() == Status::Code::kTimeout) {
        f = Failure::kHandshakeTimeout;
      } else if (s.code() == Status::Code::kMalformed) {
        // On an implicit-TLS port a plaintext answer means the port is in the wrong mode
        // (CHECKS.md STRIP-11); after a STARTTLS go-ahead it is just a broken server.
        f = implicit_ ? Failure::kWrongTlsMode : Failure::kProtocolError;
      }
      Fail(f, s.message());
      co_return false;
    }
    co_return true;
  }

  // A STARTTLS port that stays silent may be an implicit-TLS port (the server waits for our
  // ClientHello). Tries a handshake on a fresh connection within what is left of the budget,
  // at most a few seconds; the facts it gathers are not kept.
  asio::awaitable<bool> SpeaksImplicitTls(const asio::ip::address& address) {
    const net::Deadline deadline = Deadline(ModeCheckReserve());
    if (deadline <= Steady::now()) co_return false;
    std::unique_ptr<net::TcpTransport> tcp;
    net::ConnectOutcome c =
        co_await net::Connect(asio::ip::tcp::endpoint(address, target_.port), deadline, &tcp);
    if (c.error != net::ConnectError::kNone) co_return false;
    tls::HandshakeRequest req;
    if (!target_.host_is_ip) req.sni = target_.host;
    req.verify_host = target_.host;
    req.deadline = deadline;
    tls::TlsFacts ignored;
    std::unique_ptr<net::Transport> tls_transport;
    Status s = co_await tls::Handshake(*o_.tls, *tcp, req, &ignored, &tls_transport);
    tcp->Close();
    co_return s.ok();
  }

  asio::awaitable<void> Quit(proto::Dialogue& d) {
    Begin(Phase::kQuit);
    Status ignored = co_await d.Quit(Command());
    (void)ignored;  // a server that hangs up on QUIT has still answered everything we asked
    End();
  }

  const config::EndpointTarget& target_;
  const ProbeOptions& o_;
  const bool implicit_ = config::ServiceTlsMode(target_.service) == config::TlsMode::kImplicit;
  EndpointReport* r_;
  std::unique_ptr<proto::Dialogue> dialogue_;
  net::Deadline overall_;
  Phase phase_ = Phase::kResolve;
  Steady::time_point phase_start_;
};

// Resolves `host` through the configured resolver: A and AAAA (as ip_family allows), each under
// its own deadline. Returns "" on success, else the reason ("resolve: A nxdomain, ...").
asio::awaitable<std::string> ResolveHost(const std::string& host, const ProbeOptions& options,
                                         std::vector<asio::ip::address>* out) {
  // RFC 6761 §6.3: "localhost" and names below it are the loopback addresses, answered without
  // asking DNS (the embedded default config probes localhost; a DNS server may not know it).
  if (host == "localhost" || host.ends_with(".localhost")) {
    if (options.ip_family != config::IpFamily::kIpv6) {
      out->push_back(asio::ip::address(asio::ip::address_v4::loopback()));
    }
    if (options.ip_family != config::IpFamily::kIpv4) {
      out->push_back(asio::ip::address(asio::ip::address_v6::loopback()));
    }
    co_return std::string();
  }
  if (options.resolver == nullptr) co_return "resolve: no resolver configured";
  std::string why;
  const dns::RrType types[] = {dns::RrType::kA, dns::RrType::kAaaa};
  for (dns::RrType type : types) {
    if (type == dns::RrType::kA && options.ip_family == config::IpFamily::kIpv6) continue;
    if (type == dns::RrType::kAaaa && options.ip_family == config::IpFamily::kIpv4) continue;
    const auto budget = std::min(options.dns_timeout, options.timeout);
    dns::DnsAnswer a = co_await options.resolver->Query(host, type, Steady::now() + budget);
    if (a.outcome != dns::Outcome::kOk) {
      why += (why.empty() ? "resolve: " : ", ") + dns::RrTypeName(type) + " " +
             std::string(dns::OutcomeName(a.outcome));
      continue;
    }
    for (const dns::Record& rr : a.records) {
      std::error_code ec;
      asio::ip::address addr;
      if (const auto* v4 = std::get_if<dns::AData>(&rr.data)) {
        addr = asio::ip::make_address(v4->ToString(), ec);
      } else if (const auto* v6 = std::get_if<dns::AaaaData>(&rr.data)) {
        addr = asio::ip::make_address(v6->ToString(), ec);
      } else {
        continue;
      }
      if (!ec && std::find(out->begin(), out->end(), addr) == out->end()) out->push_back(addr);
    }
  }
  co_return out->empty() ? why : std::string();
}

// DANE (RFC 6698, RFC 7672): TLSA at _PORT._tcp.HOST, matched against each address's chain.
std::string TlsaName(const config::EndpointTarget& target) {
  return "_" + std::to_string(target.port) + "._tcp." + target.host;
}

void ApplyDane(const config::EndpointTarget& target, const dns::DnsAnswer& a,
               TargetResult* result) {
  const std::string name = TlsaName(target);
  checks::DaneInputs in;
  in.smtp = target.service == Service::kSmtp;
  switch (a.outcome) {
    case dns::Outcome::kOk:
    case dns::Outcome::kNoData:
      in.tlsa_status = Status::Ok();
      break;
    case dns::Outcome::kNxDomain:
      in.tlsa_status = Status::NotFound(name + ": nxdomain");
      break;
    default:
      in.tlsa_status = Status::Unavailable(name + ": " + std::string(dns::OutcomeName(a.outcome)));
      break;
  }
  in.tlsa_secure = a.authenticated_data;
  for (const dns::Record& rr : a.records) {
    if (const auto* t = std::get_if<dns::TlsaData>(&rr.data)) {
      in.tlsa.push_back({t->usage, t->selector, t->matching_type, t->data});
    }
  }
  for (EndpointReport& r : result->endpoints) {
    checks::DaneInputs mine = in;
    mine.hostname_match = r.tls.hostname_match;
    for (const tls::CertRef& c : r.tls.chain) mine.chain.push_back({c->der, c->spki_der});
    if (r.ip.empty()) continue;  // never connected: nothing to match, and no series
    checks::DaneAssessment d = checks::AssessDane(mine);
    r.dane.looked_up = true;
    r.dane.tlsa_present = d.present;
    r.dane.tlsa_secure = in.tlsa_secure;
    r.dane.usable = d.usable;
    r.dane.match = d.match;
    r.dane.findings = std::move(d.findings);
    // A secure, usable TLSA RRset obliges DANE senders to TLS with a matching chain (RFC 7672
    // §2.2): an endpoint that fails that is a policy violation.
    if (d.usable && in.tlsa_secure && r.tls_required_by.empty()) {
      r.tls_required_by = "DANE TLSA at " + name;
    }
    if (d.usable && in.tlsa_secure && !d.match) {
      RaiseSignal(&r, Signal::kPolicyViolation,
                  "DNSSEC-signed TLSA at " + name + " requires TLS with a matching chain; " +
                      (r.tls.handshake_ok ? "no usable record matches the served chain"
                                          : "TLS failed: " + r.error));
    }
  }
}

}  // namespace

asio::awaitable<EndpointReport> ProbeAddress(config::EndpointTarget target,
                                             asio::ip::address address, ProbeOptions options) {
  if (options.clock == nullptr) options.clock = &SystemClock();
  EndpointReport report;
  report.target = target;
  report.phase_seconds.fill(-1);
  report.started_at = ToUnixSeconds(options.clock->Now());
  const auto t0 = Steady::now();
  AddressProbe probe(target, options, &report);
  co_await probe.Run(address);
  report.duration_seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  report.finished_at = ToUnixSeconds(options.clock->Now());
  co_return report;
}

asio::awaitable<TargetResult> ProbeEndpointTarget(config::EndpointTarget target,
                                                  ProbeOptions options) {
  if (options.clock == nullptr) options.clock = &SystemClock();
  TargetResult result;
  result.target_id = target.ToString();

  std::vector<asio::ip::address> addresses;
  EndpointReport failed;
  failed.target = target;
  failed.phase_seconds.fill(-1);
  failed.started_at = ToUnixSeconds(options.clock->Now());
  const auto t0 = Steady::now();
  std::string resolve_error;
  if (target.host_is_ip) {
    std::error_code ec;
    asio::ip::address a = asio::ip::make_address(target.host, ec);
    if (ec) {
      resolve_error = "resolve: bad address literal";
    } else {
      addresses.push_back(a);
    }
  } else {
    resolve_error = co_await ResolveHost(target.host, options, &addresses);
  }
  failed.phase_seconds[static_cast<int>(Phase::kResolve)] =
      std::chrono::duration<double>(Steady::now() - t0).count();
  if (addresses.empty()) {
    failed.failure = Failure::kResolve;
    failed.failure_phase = Phase::kResolve;
    failed.error = resolve_error.empty() ? std::string("resolve: no address of the allowed family")
                                         : resolve_error;
    failed.duration_seconds = std::chrono::duration<double>(Steady::now() - t0).count();
    failed.finished_at = ToUnixSeconds(options.clock->Now());
    result.endpoints.push_back(std::move(failed));
    co_return result;
  }
  for (const auto& a : addresses) {
    EndpointReport r = co_await ProbeAddress(target, a, options);
    r.phase_seconds[static_cast<int>(Phase::kResolve)] =
        failed.phase_seconds[static_cast<int>(Phase::kResolve)];
    result.endpoints.push_back(std::move(r));
  }
  // One host should serve one certificate on all its addresses (CHECKS.md CERT-16): a different
  // leaf on one address is a misconfiguration or an interception.
  for (auto& r : result.endpoints) {
    for (const auto& other : result.endpoints) {
      if (&other == &r || !r.tls.has_leaf || !other.tls.has_leaf) continue;
      r.cert_compared = true;
      if (other.tls.leaf->fingerprint_sha256 != r.tls.leaf->fingerprint_sha256) {
        r.cert_differs = true;
      }
    }
  }
  // STRIP-02: STARTTLS offered on one address of the host but not on another is stripping on
  // one path (or one half-configured server).
  if (config::ServiceTlsMode(target.service) == config::TlsMode::kStartTls) {
    for (auto& r : result.endpoints) {
      if (r.phase_seconds[static_cast<int>(Phase::kCapabilities)] < 0) continue;
      for (const auto& other : result.endpoints) {
        if (&other == &r || other.phase_seconds[static_cast<int>(Phase::kCapabilities)] < 0) {
          continue;
        }
        r.starttls_compared = true;
        if (!r.starttls_offered && other.starttls_offered && r.starttls_offered_elsewhere.empty()) {
          r.starttls_offered_elsewhere = other.ip;
        }
      }
    }
  }
  if (!target.host_is_ip && options.resolver != nullptr) {
    const auto budget = std::min(options.dns_timeout, options.timeout);
    dns::DnsAnswer tlsa = co_await options.resolver->Query(TlsaName(target), dns::RrType::kTlsa,
                                                           Steady::now() + budget);
    ApplyDane(target, tlsa, &result);
  }
  co_return result;
}

bool IsCritical(const EndpointReport& r) {
  if (!r.success) return true;
  if (r.tls.has_leaf && (!r.tls.trusted || !r.tls.hostname_match)) return true;
  for (bool s : r.signals) {
    if (s) return true;
  }
  if (r.scan) {
    for (const checks::Finding& f : r.scan->findings) {
      if (f.verdict == checks::CheckVerdict::kFail) return true;
    }
  }
  return false;
}

}  // namespace mailsec::probe
