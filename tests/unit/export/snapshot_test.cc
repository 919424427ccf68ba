#include "mailsec/export/snapshot.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "export/collector.h"

namespace mailsec::exporter {
namespace {

using probe::EndpointReport;
using probe::Failure;
using probe::Phase;
using probe::Signal;

void SetPhase(EndpointReport* r, Phase p, double seconds) {
  r->phase_seconds[static_cast<size_t>(p)] = seconds;
}

EndpointReport NotReached() {
  EndpointReport r;
  r.phase_seconds.fill(-1);
  return r;
}

// A full STARTTLS success: dialogue, TLS 1.3, a trusted certificate.
EndpointReport SmtpSuccess() {
  EndpointReport r = NotReached();
  r.target = {config::Service::kSmtp, "mx.example.org", 25, false};
  r.ip = "192.0.2.10";
  r.success = true;
  r.started_at = 1700000100;
  r.finished_at = 1700000100.75;
  r.duration_seconds = 0.75;
  SetPhase(&r, Phase::kResolve, 0.0625);
  SetPhase(&r, Phase::kConnect, 0.125);
  SetPhase(&r, Phase::kGreeting, 0.25);
  SetPhase(&r, Phase::kCapabilities, 0.03125);
  SetPhase(&r, Phase::kStartTls, 0.03125);
  SetPhase(&r, Phase::kHandshake, 0.125);
  SetPhase(&r, Phase::kTlsCapabilities, 0.0625);
  SetPhase(&r, Phase::kQuit, 0.0625);
  r.starttls_offered = true;
  r.tls.handshake_ok = true;
  r.tls.version = "TLSv1.3";
  r.tls.cipher = "TLS_AES_256_GCM_SHA384";
  r.tls.group = "x25519";
  r.tls.ocsp_stapled = false;
  r.tls.has_leaf = true;
  tls::CertFacts& leaf = r.tls.leaf.Edit();
  leaf.not_before = 1700000000;
  leaf.not_after = 1707776000;
  leaf.subject_cn = "mx.example.org";
  leaf.issuer_cn = "Example \"Test\" CA";
  leaf.serial = "0A1B2C";
  leaf.fingerprint_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  leaf.key_type = "EC";
  leaf.key_bits = 256;
  leaf.signature_algorithm = "ecdsa-with-SHA256";
  leaf.curve = "prime256v1";
  leaf.signature_hash = "sha256";
  leaf.has_san = true;
  leaf.has_eku = true;
  leaf.eku_server_auth = true;
  leaf.has_key_usage = true;
  leaf.key_usage = tls::kKeyUsageDigitalSignature;
  tls::CertFacts inter;
  inter.subject_cn = "Example \"Test\" CA";
  inter.key_type = "EC";
  inter.key_bits = 384;
  inter.curve = "secp384r1";
  inter.signature_algorithm = "ecdsa-with-SHA384";
  inter.signature_hash = "sha384";
  r.tls.chain = {r.tls.leaf, inter};
  r.tls.chain_in_order = true;
  r.tls.chain_length = 2;
  r.tls.chain_not_after = 1707000000;
  r.tls.trusted = true;
  r.tls.verify_result = "ok";
  r.tls.hostname_match = true;
  r.signals[static_cast<size_t>(Signal::kPlaintextAuth)] = true;
  return r;
}

// Connection refused: nothing past connect.
EndpointReport ImapRefused() {
  EndpointReport r = NotReached();
  r.target = {config::Service::kImap, "imap.example.org", 143, false};
  r.ip = "192.0.2.20";
  r.success = false;
  r.failure = Failure::kConnectRefused;
  r.failure_phase = Phase::kConnect;
  r.error = "connect: connection refused";
  r.started_at = 1700000200;
  r.finished_at = 1700000200.5;
  r.duration_seconds = 0.5;
  SetPhase(&r, Phase::kResolve, 0.25);
  SetPhase(&r, Phase::kConnect, 0.25);
  return r;
}

Snapshot KnownSnapshot() {
  Snapshot s;
  s.exporter.version = "0.1.0";
  s.exporter.revision = "abc1234";
  s.exporter.openssl_version = "OpenSSL 3.0.11 19 Sep 2023";
  s.exporter.last_reload_successful = true;
  s.exporter.last_reload_success_timestamp = 1700000000;
  s.exporter.targets_by_kind = {{"domain", 0}, {"endpoint", 2}};
  s.exporter.probes_total = {{{"endpoint", "failure"}, 3}, {{"endpoint", "success"}, 7}};
  s.results["smtp://mx.example.org:25"] = Publish({"smtp://mx.example.org:25", {SmtpSuccess()}});
  s.results["imap://imap.example.org:143"] =
      Publish({"imap://imap.example.org:143", {ImapRefused()}});
  return s;
}

TEST(RenderSnapshotTest, KnownSnapshotRendersExactly) {
  const std::string kExpected =
      R"(# HELP mailsec_build_info Build of the exporter: version, git revision and the OpenSSL it runs with; always 1.
# TYPE mailsec_build_info gauge
mailsec_build_info{version="0.1.0",revision="abc1234",openssl_version="OpenSSL 3.0.11 19 Sep 2023"} 1
# HELP mailsec_cert_chain_length Number of certificates the server sent, leaf included.
# TYPE mailsec_cert_chain_length gauge
mailsec_cert_chain_length{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 2
# HELP mailsec_cert_chain_not_after_timestamp_seconds Earliest notAfter over the served chain, in Unix seconds.
# TYPE mailsec_cert_chain_not_after_timestamp_seconds gauge
mailsec_cert_chain_not_after_timestamp_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 1707000000
# HELP mailsec_cert_hostname_match 1 if the leaf certificate matches the target host (RFC 6125).
# TYPE mailsec_cert_hostname_match gauge
mailsec_cert_hostname_match{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 1
# HELP mailsec_cert_info Facts of the leaf certificate; always 1.
# TYPE mailsec_cert_info gauge
mailsec_cert_info{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",subject_cn="mx.example.org",issuer_cn="Example \"Test\" CA",serial="0A1B2C",fingerprint_sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",key_type="EC",key_bits="256",signature_algorithm="ecdsa-with-SHA256"} 1
# HELP mailsec_cert_not_after_timestamp_seconds notAfter of the leaf certificate, in Unix seconds.
# TYPE mailsec_cert_not_after_timestamp_seconds gauge
mailsec_cert_not_after_timestamp_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 1707776000
# HELP mailsec_cert_not_before_timestamp_seconds notBefore of the leaf certificate, in Unix seconds.
# TYPE mailsec_cert_not_before_timestamp_seconds gauge
mailsec_cert_not_before_timestamp_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 1700000000
# HELP mailsec_cert_trusted 1 if the served chain verifies against the trust store now.
# TYPE mailsec_cert_trusted gauge
mailsec_cert_trusted{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 1
# HELP mailsec_cert_verify_result_info Verdict of chain verification as a short name (ok, expired, self_signed, ...); always 1.
# TYPE mailsec_cert_verify_result_info gauge
mailsec_cert_verify_result_info{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",result="ok"} 1
# HELP mailsec_check_result Verdict of one check of docs/checks.md: 0 pass, 1 warn, 2 fail, 3 error.
# TYPE mailsec_check_result gauge
mailsec_check_result{service="imap",host="imap.example.org",port="143",ip="192.0.2.20",check="endpoint_reachable"} 2
mailsec_check_result{service="imap",host="imap.example.org",port="143",ip="192.0.2.20",check="starttls_available"} 3
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="endpoint_reachable"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="starttls_available"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="starttls_masked"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="plaintext_auth"} 2
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="starttls_lost"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="tls_downgraded"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="starttls_response_injection"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="capabilities_after_tls"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="starttls_after_tls"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="tls_version"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_trusted"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_chain_complete"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_self_signed"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_expiry"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_sct"} 1
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_hostname"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_san_present"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_key_strength"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_signature_algorithm"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_chain_order"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_validity_period"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_extended_key_usage"} 0
mailsec_check_result{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",check="cert_must_staple"} 0
# HELP mailsec_config_last_reload_success_timestamp_seconds When the configuration was last loaded successfully, in Unix seconds.
# TYPE mailsec_config_last_reload_success_timestamp_seconds gauge
mailsec_config_last_reload_success_timestamp_seconds 1700000000
# HELP mailsec_config_last_reload_successful 1 if the last configuration load or reload succeeded.
# TYPE mailsec_config_last_reload_successful gauge
mailsec_config_last_reload_successful 1
# HELP mailsec_downgrade_signal 1 if the downgrade signal was seen in the last probe, else 0.
# TYPE mailsec_downgrade_signal gauge
mailsec_downgrade_signal{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",signal="starttls_missing"} 0
mailsec_downgrade_signal{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",signal="starttls_masked"} 0
mailsec_downgrade_signal{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",signal="starttls_rejected"} 0
mailsec_downgrade_signal{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",signal="starttls_lost"} 0
mailsec_downgrade_signal{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",signal="tls_downgraded"} 0
mailsec_downgrade_signal{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",signal="plaintext_auth"} 1
mailsec_downgrade_signal{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",signal="response_injection"} 0
mailsec_downgrade_signal{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",signal="command_injection"} 0
mailsec_downgrade_signal{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",signal="policy_violation"} 0
# HELP mailsec_ocsp_stapled 1 if the server stapled an OCSP response.
# TYPE mailsec_ocsp_stapled gauge
mailsec_ocsp_stapled{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 0
# HELP mailsec_probe_duration_seconds Wall time of the last probe, in seconds.
# TYPE mailsec_probe_duration_seconds gauge
mailsec_probe_duration_seconds{service="imap",host="imap.example.org",port="143",ip="192.0.2.20"} 0.5
mailsec_probe_duration_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 0.75
# HELP mailsec_probe_failure_info Why and in which phase the last probe failed; always 1, absent on success.
# TYPE mailsec_probe_failure_info gauge
mailsec_probe_failure_info{service="imap",host="imap.example.org",port="143",ip="192.0.2.20",phase="connect",reason="connect_refused"} 1
# HELP mailsec_probe_phase_duration_seconds Time spent in each phase the last probe reached, in seconds.
# TYPE mailsec_probe_phase_duration_seconds gauge
mailsec_probe_phase_duration_seconds{service="imap",host="imap.example.org",port="143",ip="192.0.2.20",phase="resolve"} 0.25
mailsec_probe_phase_duration_seconds{service="imap",host="imap.example.org",port="143",ip="192.0.2.20",phase="connect"} 0.25
mailsec_probe_phase_duration_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",phase="resolve"} 0.0625
mailsec_probe_phase_duration_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",phase="connect"} 0.125
mailsec_probe_phase_duration_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",phase="greeting"} 0.25
mailsec_probe_phase_duration_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",phase="capabilities"} 0.03125
mailsec_probe_phase_duration_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",phase="starttls"} 0.03125
mailsec_probe_phase_duration_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",phase="handshake"} 0.125
mailsec_probe_phase_duration_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",phase="tls_capabilities"} 0.0625
mailsec_probe_phase_duration_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",phase="quit"} 0.0625
# HELP mailsec_probe_success 1 if the dialogue completed and, where the service has TLS, a TLS session was established.
# TYPE mailsec_probe_success gauge
mailsec_probe_success{service="imap",host="imap.example.org",port="143",ip="192.0.2.20"} 0
mailsec_probe_success{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 1
# HELP mailsec_probe_timestamp_seconds When the last probe finished, in Unix seconds.
# TYPE mailsec_probe_timestamp_seconds gauge
mailsec_probe_timestamp_seconds{service="imap",host="imap.example.org",port="143",ip="192.0.2.20"} 1700000200.5
mailsec_probe_timestamp_seconds{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 1700000100.75
# HELP mailsec_probes_total Probes run since the exporter started, by target kind and result.
# TYPE mailsec_probes_total counter
mailsec_probes_total{kind="endpoint",result="failure"} 3
mailsec_probes_total{kind="endpoint",result="success"} 7
# HELP mailsec_starttls_offered 1 if STARTTLS/STLS was advertised in the capabilities (STARTTLS services only).
# TYPE mailsec_starttls_offered gauge
mailsec_starttls_offered{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 1
# HELP mailsec_targets Configured targets, by kind.
# TYPE mailsec_targets gauge
mailsec_targets{kind="domain"} 0
mailsec_targets{kind="endpoint"} 2
# HELP mailsec_tls_cipher_info Negotiated cipher suite (OpenSSL name); always 1.
# TYPE mailsec_tls_cipher_info gauge
mailsec_tls_cipher_info{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",cipher="TLS_AES_256_GCM_SHA384"} 1
# HELP mailsec_tls_group_info Negotiated key-exchange group; always 1.
# TYPE mailsec_tls_group_info gauge
mailsec_tls_group_info{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",group="x25519"} 1
# HELP mailsec_tls_handshake_success 1 if a TLS handshake completed.
# TYPE mailsec_tls_handshake_success gauge
mailsec_tls_handshake_success{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10"} 1
# HELP mailsec_tls_version_info Negotiated TLS version; always 1.
# TYPE mailsec_tls_version_info gauge
mailsec_tls_version_info{service="smtp",host="mx.example.org",port="25",ip="192.0.2.10",version="TLSv1.3"} 1
)";
  EXPECT_EQ(RenderSnapshot(KnownSnapshot()), kExpected);
}

TEST(RenderReportsTest, RendersEndpointMetricsOnly) {
  const std::string text = RenderReports({SmtpSuccess(), ImapRefused()});
  EXPECT_NE(text.find("mailsec_probe_success{service=\"smtp\""), std::string::npos);
  EXPECT_NE(text.find("mailsec_probe_success{service=\"imap\""), std::string::npos);
  EXPECT_EQ(text.find("mailsec_build_info"), std::string::npos);
  EXPECT_EQ(text.find("mailsec_config_"), std::string::npos);
  EXPECT_EQ(text.find("mailsec_targets"), std::string::npos);
  EXPECT_EQ(text.find("mailsec_probes_total"), std::string::npos);
  // Same endpoint series as the snapshot, ordered by endpoint labels.
  EXPECT_LT(text.find("mailsec_probe_success{service=\"imap\""),
            text.find("mailsec_probe_success{service=\"smtp\""));
  EXPECT_EQ(RenderReports({}), "");
}

TEST(RenderSnapshotTest, EmptySnapshotHasOnlyExporterMetricsAndNoEmptyFamilies) {
  const std::string text = RenderSnapshot(Snapshot{});
  EXPECT_NE(text.find("# TYPE mailsec_build_info gauge\nmailsec_build_info{"), std::string::npos);
  EXPECT_NE(text.find("\nmailsec_config_last_reload_successful 1\n"), std::string::npos);
  EXPECT_EQ(text.find("mailsec_targets"), std::string::npos);
  EXPECT_EQ(text.find("mailsec_probes_total"), std::string::npos);
  EXPECT_EQ(text.find("service="), std::string::npos);
}

TEST(RenderSnapshotTest, ResolveFailureHasNoConnectionMetrics) {
  EndpointReport r = NotReached();
  r.target = {config::Service::kSubmission, "gone.example.org", 587, false};
  r.failure = Failure::kResolve;
  r.failure_phase = Phase::kResolve;
  SetPhase(&r, Phase::kResolve, 0.5);
  const std::string text = RenderReports({r});
  EXPECT_NE(text.find("mailsec_probe_failure_info{service=\"submission\",host=\"gone.example.org\","
                      "port=\"587\",ip=\"\",phase=\"resolve\",reason=\"resolve\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(text.find("mailsec_tls_handshake_success"), std::string::npos);
  EXPECT_EQ(text.find("mailsec_downgrade_signal"), std::string::npos);
  EXPECT_EQ(text.find("mailsec_starttls_offered"), std::string::npos);
  EXPECT_EQ(text.find("mailsec_cert_"), std::string::npos);
}

TEST(RenderSnapshotTest, ImplicitTlsServiceHasNoStartTlsOffered) {
  EndpointReport r = SmtpSuccess();
  r.target = {config::Service::kImaps, "imap.example.org", 993, false};
  const std::string text = RenderReports({r});
  EXPECT_EQ(text.find("mailsec_starttls_offered"), std::string::npos);
  EXPECT_NE(text.find("mailsec_tls_handshake_success{service=\"imaps\""), std::string::npos);
}

TEST(RenderSnapshotTest, StartTlsMissingReportsZeroesWithoutTlsFacts) {
  EndpointReport r = NotReached();
  r.target = {config::Service::kPop3, "pop.example.org", 110, false};
  r.ip = "2001:db8::1";
  r.failure = Failure::kStartTlsRefused;
  r.failure_phase = Phase::kCapabilities;
  SetPhase(&r, Phase::kResolve, 0);
  SetPhase(&r, Phase::kConnect, 0);
  SetPhase(&r, Phase::kGreeting, 0);
  SetPhase(&r, Phase::kCapabilities, 0);
  r.signals[static_cast<size_t>(Signal::kStartTlsMissing)] = true;
  const std::string text = RenderReports({r});
  const std::string labels =
      "{service=\"pop3\",host=\"pop.example.org\",port=\"110\",ip=\"2001:db8::1\"";
  EXPECT_NE(text.find("mailsec_starttls_offered" + labels + "} 0\n"), std::string::npos);
  EXPECT_NE(text.find("mailsec_tls_handshake_success" + labels + "} 0\n"), std::string::npos);
  EXPECT_NE(text.find("mailsec_downgrade_signal" + labels + ",signal=\"starttls_missing\"} 1\n"),
            std::string::npos);
  EXPECT_EQ(text.find("mailsec_tls_version_info"), std::string::npos);
  EXPECT_EQ(text.find("mailsec_ocsp_stapled"), std::string::npos);
  EXPECT_EQ(text.find("mailsec_cert_"), std::string::npos);
}

TEST(RenderSnapshotTest, SamplesOrderedByTargetIdThenEndpointLabels) {
  Snapshot s;
  EndpointReport a = ImapRefused();
  EndpointReport b = ImapRefused();
  b.ip = "192.0.2.3";
  EndpointReport c = ImapRefused();
  c.target.host = "other.example.org";
  c.ip = "192.0.2.1";
  s.results["b-target"] = Publish({"b-target", {a, b}});
  s.results["a-target"] = Publish({"a-target", {c}});
  const std::string text = RenderSnapshot(s);
  const size_t pc = text.find("mailsec_probe_success{service=\"imap\",host=\"other.example.org\"");
  const size_t pb = text.find("ip=\"192.0.2.3\"} 0\n");
  const size_t pa = text.find("ip=\"192.0.2.20\"} 0\n");
  ASSERT_NE(pc, std::string::npos);
  ASSERT_NE(pb, std::string::npos);
  ASSERT_NE(pa, std::string::npos);
  EXPECT_LT(pc, pb);  // a-target first
  EXPECT_LT(pa, pb);  // "192.0.2.20" < "192.0.2.3" as text
}

TEST(RenderSnapshotTest, DuplicateEndpointRendersOnceWithNewestReport) {
  Snapshot s;
  EndpointReport older = ImapRefused();
  EndpointReport newer = ImapRefused();
  newer.finished_at = older.finished_at + 60;
  s.results["example.org"] = Publish({"example.org", {older}});
  s.results["imap://imap.example.org:143"] = Publish({"imap://imap.example.org:143", {newer}});
  const std::string text = RenderSnapshot(s);
  const std::string series =
      "mailsec_probe_timestamp_seconds{service=\"imap\",host=\"imap.example.org\",port=\"143\","
      "ip=\"192.0.2.20\"} ";
  const size_t first = text.find(series);
  ASSERT_NE(first, std::string::npos);
  EXPECT_EQ(text.find(series, first + 1), std::string::npos);
  EXPECT_NE(text.find(series + "1700000260.5\n"), std::string::npos);
}

TEST(SnapshotStoreTest, StartsEmptyAndRejectsNull) {
  SnapshotStore store;
  ASSERT_NE(store.Current(), nullptr);
  EXPECT_TRUE(store.Current()->results.empty());
  store.Publish(nullptr);
  ASSERT_NE(store.Current(), nullptr);
}

TEST(SnapshotStoreTest, TargetLeavingThePlanLeavesMetrics) {
  SnapshotStore store;
  SnapshotCollector collector(store);
  store.Publish(std::make_shared<const Snapshot>(KnownSnapshot()));
  EXPECT_NE(RenderSnapshot(*store.Current()).find("host=\"imap.example.org\""), std::string::npos);
  Snapshot next = KnownSnapshot();
  next.results.erase("imap://imap.example.org:143");
  store.Publish(std::make_shared<const Snapshot>(std::move(next)));
  EXPECT_EQ(RenderSnapshot(*store.Current()).find("host=\"imap.example.org\""), std::string::npos);
  for (const auto& family : collector.Collect()) {
    for (const auto& metric : family.metric) {
      for (const auto& label : metric.label) EXPECT_NE(label.value, "imap.example.org");
    }
  }
}

TEST(SnapshotStoreTest, PublishAndCurrentFromTwoThreads) {
  constexpr int kRounds = 2000;
  SnapshotStore store;
  SnapshotCollector collector(store);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= kRounds; ++i) {
      Snapshot s = KnownSnapshot();
      s.exporter.version = std::to_string(i);
      store.Publish(std::make_shared<const Snapshot>(std::move(s)));
    }
    done = true;
  });
  int last = 0;
  int reads = 0;
  while (!done || reads == 0) {
    std::shared_ptr<const Snapshot> s = store.Current();
    ASSERT_NE(s, nullptr);
    const int v = s->exporter.version.empty() ? 0 : std::stoi(s->exporter.version);
    EXPECT_GE(v, last);  // a reader never sees an older snapshot after a newer one
    last = v;
    if (++reads % 50 == 0) {
      EXPECT_FALSE(collector.Collect().empty());
    }
  }
  writer.join();
  EXPECT_EQ(store.Current()->exporter.version, std::to_string(kRounds));
}

}  // namespace
}  // namespace mailsec::exporter
