// Every size and time limit that bounds what mailsec reads from untrusted peers, with the reason
// for each value. Parsers take these structs so tests can shrink them.
#pragma once

#include <chrono>
#include <cstddef>

namespace mailsec {

// Limits on one line-oriented protocol reply (SMTP, IMAP, POP3, ManageSieve).
struct ReplyLimits {
  // RFC 5321 §4.5.3.1.5 caps a reply line at 512 octets; real servers exceed it (long EHLO
  // keyword lists, banners), so allow 4x before calling the peer broken.
  size_t max_line = 2048;
  // A multi-line reply longer than this is hostile or broken; EHLO lists are ~20 lines.
  size_t max_lines = 200;
  // Whole reply, bytes.
  size_t max_total = 64 * 1024;
};

// Limits on a whole dialogue with one endpoint (all replies together), so a peer that answers
// every command at length cannot make one probe read without bound.
struct DialogueLimits {
  size_t max_total_bytes = 256 * 1024;
  size_t max_commands = 16;
};

// Limits on text shown in logs and on the status page.
struct PrintLimits {
  // Untrusted text is cut to this many bytes before it is logged or exported.
  size_t max_printable = 160;
};

// A label value longer than this is not a fact anyone reads on a dashboard, and a hostile CN of
// many kilobytes in every series of an endpoint would bloat every scrape; certificate facts worth
// keeping (CNs are at most 64 characters by RFC 5280, SHA-256 fingerprints 64) fit easily.
inline constexpr size_t kMaxLabelValueBytes = 256;

// The configuration file: anything larger is not a hand-written config.
inline constexpr size_t kMaxConfigBytes = 4 * 1024 * 1024;
// Targets per config: bounds memory and the metric cardinality of one exporter.
inline constexpr size_t kMaxTargets = 10000;

}  // namespace mailsec

namespace mailsec {

// Per-phase budgets of one endpoint probe; each is further capped by the probe's overall
// timeout, so a slow phase cannot eat the whole budget unnoticed, and the report says where the
// time went.
struct PhaseTimeouts {
  // A SYN that gets no answer in 10 s will not get one.
  std::chrono::milliseconds connect{10'000};
  // Greeting delays (tarpits, Postfix postscreen's greet wait of 6 s, busy servers) are legitimate;
  // allow them most of the default 20 s budget.
  std::chrono::milliseconds greeting{15'000};
  // Each command after the greeting; RFC 5321 §4.5.3.2 allows minutes, probes cannot wait that
  // long.
  std::chrono::milliseconds command{10'000};
  std::chrono::milliseconds handshake{10'000};
};

}  // namespace mailsec
