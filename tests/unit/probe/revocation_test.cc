// Revocation checks against an in-process PKI and HTTP servers on 127.0.0.1: an OCSP responder
// that parses our request and answers it with OCSP_basic_sign (signed by the CA, a delegated
// responder, or someone else), and a CRL server (X509_CRL_sign). Every wait is bounded.
#include "mailsec/probe/revocation.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/thread_pool.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "mailsec/probe/scan_target.h"
#include "testing/http_test_server.h"
#include "testing/scripted_server.h"
#include "testing/silent_listener.h"

namespace mailsec::probe {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;
using Verdict = RevocationResult::Status;

// --- A throw-away PKI ----------------------------------------------------------------------------

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

Pkey NewKey() { return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

bool AddExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

struct CertSpec {
  std::string cn;
  bool ca = false;
  bool ocsp_signing = false;  // EKU id-kp-OCSPSigning (a delegated responder)
  std::string aia;            // X509V3 config syntax, e.g. "OCSP;URI:http://..."; empty: none
  std::string cdp;            // e.g. "URI:http://.../ca.crl"; empty: none
};

long NextSerial() {
  static std::atomic<long> serial{1000};
  return serial++;
}

// Signed by (issuer, issuer_key), or self-signed when issuer is null.
Cert MakeCert(const CertSpec& spec, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key) {
  Cert cert(X509_new());
  X509* c = cert.get();
  bool ok = X509_set_version(c, 2) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(c), NextSerial()) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(c), -86400) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(c), 30 * 86400) != nullptr &&
            X509_set_pubkey(c, key) == 1;
  ok = ok && X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>(spec.cn.c_str()), -1,
                                        -1, 0) == 1;
  X509* signer = issuer != nullptr ? issuer : c;
  ok = ok && X509_set_issuer_name(c, X509_get_subject_name(signer)) == 1;
  if (spec.ca) {
    ok = ok && AddExt(c, signer, NID_basic_constraints, "critical,CA:TRUE") &&
         AddExt(c, signer, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         AddExt(c, signer, NID_subject_key_identifier, "hash");
  } else {
    ok = ok && AddExt(c, signer, NID_basic_constraints, "CA:FALSE");
    ok = ok &&
         AddExt(c, signer, NID_ext_key_usage, spec.ocsp_signing ? "OCSPSigning" : "serverAuth");
  }
  if (!spec.aia.empty()) ok = ok && AddExt(c, signer, NID_info_access, spec.aia);
  if (!spec.cdp.empty()) ok = ok && AddExt(c, signer, NID_crl_distribution_points, spec.cdp);
  ok = ok && X509_sign(c, issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0;
  if (!ok) return nullptr;
  return cert;
}

struct Ca {
  Pkey key;
  Cert cert;
};

Ca MakeCa(const std::string& cn) {
  Ca ca;
  ca.key = NewKey();
  CertSpec spec;
  spec.cn = cn;
  spec.ca = true;
  if (ca.key) ca.cert = MakeCert(spec, ca.key.get(), nullptr, nullptr);
  return ca;
}

std::vector<uint8_t> Der(X509* cert) {
  unsigned char* buf = nullptr;
  const int len = i2d_X509(cert, &buf);
  std::vector<uint8_t> out;
  if (len > 0) out.assign(buf, buf + len);
  OPENSSL_free(buf);
  return out;
}

long SerialOf(X509* cert) { return ASN1_INTEGER_get(X509_get0_serialNumber(cert)); }

tls::TlsFacts Facts(X509* leaf, X509* issuer) {
  tls::TlsFacts f;
  f.handshake_ok = true;
  f.has_leaf = true;
  f.leaf.Edit().der = Der(leaf);
  f.chain.push_back(f.leaf);
  if (issuer != nullptr) {
    tls::CertFacts ca;
    ca.der = Der(issuer);
    f.chain.push_back(ca);
  }
  f.chain_length = static_cast<int>(f.chain.size());
  return f;
}

std::string OcspAia(int port) { return "OCSP;URI:http://127.0.0.1:" + std::to_string(port) + "/"; }
std::string CrlCdp(int port) { return "URI:http://127.0.0.1:" + std::to_string(port) + "/ca.crl"; }

// A CRL of `ca` listing `revoked`, signed by `signing_key` (the CA's when null), DER or PEM.
std::string MakeCrl(const Ca& ca, const std::vector<long>& revoked, long next_update_secs = 3600,
                    EVP_PKEY* signing_key = nullptr, bool pem = false) {
  X509_CRL* crl = X509_CRL_new();
  ASN1_TIME* last = X509_gmtime_adj(nullptr, -60);
  ASN1_TIME* next = X509_gmtime_adj(nullptr, next_update_secs);
  bool ok = X509_CRL_set_version(crl, 1) == 1 &&
            X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca.cert.get())) == 1 &&
            X509_CRL_set1_lastUpdate(crl, last) == 1 && X509_CRL_set1_nextUpdate(crl, next) == 1;
  for (long serial : revoked) {
    X509_REVOKED* r = X509_REVOKED_new();
    ASN1_INTEGER* s = ASN1_INTEGER_new();
    ok = ok && ASN1_INTEGER_set(s, serial) == 1 && X509_REVOKED_set_serialNumber(r, s) == 1 &&
         X509_REVOKED_set_revocationDate(r, last) == 1 && X509_CRL_add0_revoked(crl, r) == 1;
    ASN1_INTEGER_free(s);
  }
  ok = ok && X509_CRL_sort(crl) == 1 &&
       X509_CRL_sign(crl, signing_key != nullptr ? signing_key : ca.key.get(), EVP_sha256()) > 0;
  ASN1_TIME_free(last);
  ASN1_TIME_free(next);
  std::string out;
  if (ok && pem) {
    BIO* bio = BIO_new(BIO_s_mem());
    if (PEM_write_bio_X509_CRL(bio, crl) == 1) {
      char* data = nullptr;
      const long len = BIO_get_mem_data(bio, &data);
      out.assign(data, static_cast<size_t>(len));
    }
    BIO_free(bio);
  } else if (ok) {
    unsigned char* buf = nullptr;
    const int len = i2d_X509_CRL(crl, &buf);
    if (len > 0) out.assign(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
  }
  X509_CRL_free(crl);
  return out;
}

// --- Servers -------------------------------------------------------------------------------------

// An httplib server on 127.0.0.1 (any free port), on its own thread; `setup` registers handlers.
class HttpServer {
 public:
  explicit HttpServer(const std::function<void(httplib::Server&)>& setup) {
    server_.set_keep_alive_timeout(1);
    server_.set_read_timeout(2, 0);
    server_.set_write_timeout(2, 0);
    setup(server_);
    port_ = server_.bind_to_any_port("127.0.0.1");
    EXPECT_GT(port_, 0);
    thread_ = testing::ListenInBackground(server_);
  }
  ~HttpServer() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
};

// How the in-process OCSP responder answers.
struct Responder {
  X509* signer = nullptr;       // certificate named in the response (ResponderID)
  EVP_PKEY* key = nullptr;      // key that signs it
  bool include_signer = true;   // embed the signer's certificate
  bool answer_unknown = false;  // answer "unknown" for everything not revoked
  bool wrong_nonce = false;     // put a nonce of its own instead of echoing ours
  long next_update_secs = 3600;
  int http_status = 200;  // anything else: send this status and no OCSP body
};

// What the responder saw, for the assertions, and the serials it answers "revoked" (filled
// once the leaves, which carry the server's port, exist).
struct Seen {
  std::mutex mu;  // guards everything below
  std::set<long> revoked;
  int requests = 0;
  std::string method;
  std::string content_type;
  std::string host;
  bool had_nonce = false;
};

std::string Respond(const Responder& r, const std::string& request_der, Seen* seen) {
  const auto* p = reinterpret_cast<const unsigned char*>(request_der.data());
  OCSP_REQUEST* req = d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request_der.size()));
  if (req == nullptr || OCSP_request_onereq_count(req) != 1) {
    OCSP_REQUEST_free(req);
    return "";
  }
  OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, 0));
  ASN1_INTEGER* serial = nullptr;
  OCSP_id_get0_info(nullptr, nullptr, nullptr, &serial, id);
  const long n = serial != nullptr ? ASN1_INTEGER_get(serial) : -1;
  int status = r.answer_unknown ? V_OCSP_CERTSTATUS_UNKNOWN : V_OCSP_CERTSTATUS_GOOD;
  {
    std::lock_guard<std::mutex> lock(seen->mu);
    seen->had_nonce = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce, -1) >= 0;
    if (seen->revoked.count(n) != 0) status = V_OCSP_CERTSTATUS_REVOKED;
  }

  OCSP_BASICRESP* bs = OCSP_BASICRESP_new();
  ASN1_TIME* this_update = X509_gmtime_adj(nullptr, -60);
  ASN1_TIME* next_update = X509_gmtime_adj(nullptr, r.next_update_secs);
  ASN1_TIME* revoked_at = X509_gmtime_adj(nullptr, -3600);
  bool ok = OCSP_basic_add1_status(
                bs, id, status,
                status == V_OCSP_CERTSTATUS_REVOKED ? OCSP_REVOKED_STATUS_KEYCOMPROMISE : -1,
                status == V_OCSP_CERTSTATUS_REVOKED ? revoked_at : nullptr, this_update,
                next_update) != nullptr;
  if (r.wrong_nonce) {
    ok = ok && OCSP_basic_add1_nonce(bs, nullptr, -1) == 1;
  } else {
    ok = ok && OCSP_copy_nonce(bs, req) > 0;
  }
  ok = ok && OCSP_basic_sign(bs, r.signer, r.key, EVP_sha256(), nullptr,
                             r.include_signer ? 0 : OCSP_NOCERTS) == 1;
  std::string out;
  if (ok) {
    OCSP_RESPONSE* resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    unsigned char* buf = nullptr;
    const int len = resp != nullptr ? i2d_OCSP_RESPONSE(resp, &buf) : 0;
    if (len > 0) out.assign(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
    OPENSSL_free(buf);
    OCSP_RESPONSE_free(resp);
  }
  ASN1_TIME_free(this_update);
  ASN1_TIME_free(next_update);
  ASN1_TIME_free(revoked_at);
  OCSP_BASICRESP_free(bs);
  OCSP_REQUEST_free(req);
  return out;
}

void Revoke(Seen* seen, X509* cert) {
  std::lock_guard<std::mutex> lock(seen->mu);
  seen->revoked.insert(SerialOf(cert));
}

// The OCSP responder at "/" (POST), answering as `r` says.
std::function<void(httplib::Server&)> OcspAt(const Responder& r, Seen* seen) {
  return [&r, seen](httplib::Server& s) {
    s.Post("/", [&r, seen](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(seen->mu);
        ++seen->requests;
        seen->method = req.method;
        seen->content_type = req.get_header_value("Content-Type");
        seen->host = req.get_header_value("Host");
      }
      if (r.http_status != 200) {
        res.status = r.http_status;
        if (r.http_status / 100 == 3) res.set_header("Location", "/");
        return;
      }
      res.set_content(Respond(r, req.body, seen), "application/ocsp-response");
    });
  };
}

// Leaves are made before the CRL server exists (its port goes into them), so the CRL is served
// through a slot filled afterwards.
struct CrlSlot {
  std::mutex mu;  // guards body
  std::string body;
};

std::function<void(httplib::Server&)> CrlFrom(CrlSlot* slot) {
  return [slot](httplib::Server& s) {
    s.Get("/ca.crl", [slot](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(slot->mu);
      res.set_content(slot->body, "application/pkix-crl");
    });
  };
}

void Fill(CrlSlot* slot, std::string body) {
  std::lock_guard<std::mutex> lock(slot->mu);
  slot->body = std::move(body);
}

using testing::SilentListener;

// --- Fixture -------------------------------------------------------------------------------------

class RevocationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::signal(SIGPIPE, SIG_IGN);  // as main() does
    ca_ = new Ca(MakeCa("mailsec revocation test CA"));
    // Same name, other key: what a forger would sign with.
    rogue_ = new Ca(MakeCa("mailsec revocation test CA"));
  }
  static void TearDownTestSuite() {
    delete ca_;
    delete rogue_;
    ca_ = rogue_ = nullptr;
  }
  void SetUp() override { ASSERT_TRUE(ca_->cert && rogue_->cert) << "test PKI generation failed"; }

  // A leaf of the CA with the given AIA/CDP (X509V3 config syntax; empty: none).
  static Cert Leaf(const std::string& aia, const std::string& cdp) {
    Pkey key = NewKey();
    CertSpec spec;
    spec.cn = "mx.example.test";
    spec.aia = aia;
    spec.cdp = cdp;
    Cert c = MakeCert(spec, key.get(), ca_->cert.get(), ca_->key.get());
    EXPECT_TRUE(c);
    return c;
  }

  static Responder CaSigned() {
    Responder r;
    r.signer = ca_->cert.get();
    r.key = ca_->key.get();
    r.include_signer = false;  // as a CA signing its own responses usually does
    return r;
  }

  static RevocationOptions Options(milliseconds timeout = milliseconds(5000)) {
    RevocationOptions o;
    o.timeout = timeout;
    return o;
  }

  static RevocationResult Check(X509* leaf, const RevocationOptions& o = Options()) {
    return CheckRevocationBlocking(Facts(leaf, ca_->cert.get()), o);
  }

  static Ca* ca_;
  static Ca* rogue_;
};

Ca* RevocationTest::ca_ = nullptr;
Ca* RevocationTest::rogue_ = nullptr;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// --- Staple --------------------------------------------------------------------------------------

TEST_F(RevocationTest, StapledRevokedIsFinal) {
  // The OCSP URL leads nowhere: the staple must answer without any fetch.
  Cert leaf = Leaf(OcspAia(testing::UnusedLoopbackPort()), "");
  tls::TlsFacts f = Facts(leaf.get(), ca_->cert.get());
  f.ocsp_stapled = true;
  f.ocsp_staple_status = "revoked";
  RevocationResult r = CheckRevocationBlocking(f, Options());
  EXPECT_EQ(r.status, Verdict::kRevoked);
  EXPECT_EQ(r.source, "ocsp_staple");
}

TEST_F(RevocationTest, StapledGoodAndUnknown) {
  Cert leaf = Leaf("", "");
  tls::TlsFacts f = Facts(leaf.get(), nullptr);  // the staple needs no issuer
  f.ocsp_staple_status = "good";
  EXPECT_EQ(CheckRevocationBlocking(f, Options()).status, Verdict::kGood);
  f.ocsp_staple_status = "unknown";
  RevocationResult r = CheckRevocationBlocking(f, Options());
  EXPECT_EQ(r.status, Verdict::kUnknown);
  EXPECT_EQ(r.source, "ocsp_staple");
}

// --- OCSP ----------------------------------------------------------------------------------------

TEST_F(RevocationTest, OcspGood) {
  Responder resp = CaSigned();
  Seen seen;
  HttpServer server(OcspAt(resp, &seen));
  Cert leaf = Leaf(OcspAia(server.port()), "");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kGood) << r.detail;
  EXPECT_EQ(r.source, "ocsp");
  EXPECT_TRUE(Contains(r.detail, "http://127.0.0.1:" + std::to_string(server.port()) + "/"))
      << r.detail;
  std::lock_guard<std::mutex> lock(seen.mu);
  EXPECT_EQ(seen.requests, 1);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_EQ(seen.content_type, "application/ocsp-request");
  EXPECT_TRUE(seen.had_nonce);
}

TEST_F(RevocationTest, OcspRevoked) {
  Responder resp = CaSigned();
  Seen seen;
  HttpServer server(OcspAt(resp, &seen));
  Cert good = Leaf(OcspAia(server.port()), "");
  Cert bad = Leaf(OcspAia(server.port()), "");
  Revoke(&seen, bad.get());
  RevocationResult r = Check(bad.get());
  EXPECT_EQ(r.status, Verdict::kRevoked) << r.detail;
  EXPECT_EQ(r.source, "ocsp");
  EXPECT_TRUE(Contains(r.detail, "keyCompromise")) << r.detail;
  EXPECT_EQ(Check(good.get()).status, Verdict::kGood);
}

TEST_F(RevocationTest, OcspUrlWithHostNameIsResolved) {
  // "localhost" goes through the resolver (getaddrinfo, /etc/hosts) and stays on loopback; the
  // Host header keeps the name.
  Responder resp = CaSigned();
  Seen seen;
  HttpServer server(OcspAt(resp, &seen));
  // No path: asked at "/". The host is lower-cased.
  Cert leaf = Leaf("OCSP;URI:http://LocalHost:" + std::to_string(server.port()), "");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kGood) << r.detail;
  EXPECT_EQ(r.source, "ocsp");
  std::lock_guard<std::mutex> lock(seen.mu);
  EXPECT_EQ(seen.host, "localhost:" + std::to_string(server.port()));
}

TEST_F(RevocationTest, OcspDelegatedResponderIsAccepted) {
  Pkey key = NewKey();
  CertSpec spec;
  spec.cn = "mailsec test OCSP responder";
  spec.ocsp_signing = true;
  Cert delegate = MakeCert(spec, key.get(), ca_->cert.get(), ca_->key.get());
  ASSERT_TRUE(delegate);
  Responder resp;
  resp.signer = delegate.get();
  resp.key = key.get();
  Seen seen;
  HttpServer server(OcspAt(resp, &seen));
  Cert leaf = Leaf(OcspAia(server.port()), "");
  Revoke(&seen, leaf.get());
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kRevoked) << r.detail;
  EXPECT_EQ(r.source, "ocsp");
}

TEST_F(RevocationTest, OcspDelegateWithoutOcspSigningIsRejected) {
  // Certified by the CA, but for serverAuth only: not authorised to answer for it.
  Pkey key = NewKey();
  CertSpec spec;
  spec.cn = "some server of the CA";
  Cert other = MakeCert(spec, key.get(), ca_->cert.get(), ca_->key.get());
  ASSERT_TRUE(other);
  Responder resp;
  resp.signer = other.get();
  resp.key = key.get();
  Seen seen;
  HttpServer server(OcspAt(resp, &seen));
  Cert leaf = Leaf(OcspAia(server.port()), "");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested) << r.detail;
  EXPECT_TRUE(Contains(r.detail, "signature not trusted")) << r.detail;
}

TEST_F(RevocationTest, OcspSignedByWrongKeyIsUntested) {
  // A CA of the same name but another key signs "good", its certificate embedded.
  Responder resp;
  resp.signer = rogue_->cert.get();
  resp.key = rogue_->key.get();
  Seen seen;
  HttpServer server(OcspAt(resp, &seen));
  Cert leaf = Leaf(OcspAia(server.port()), "");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_EQ(r.source, "");
  EXPECT_TRUE(Contains(r.detail, "signature not trusted")) << r.detail;

  // The same without the embedded certificate: the name points at the real CA, whose key does
  // not verify the signature.
  resp.include_signer = false;
  r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "signature not trusted")) << r.detail;
}

TEST_F(RevocationTest, OcspUnknownWithoutCrl) {
  Responder resp = CaSigned();
  resp.answer_unknown = true;
  Seen seen;
  HttpServer server(OcspAt(resp, &seen));
  Cert leaf = Leaf(OcspAia(server.port()), "");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUnknown) << r.detail;
  EXPECT_EQ(r.source, "ocsp");
}

TEST_F(RevocationTest, OcspNonceMismatchIsUntested) {
  Responder resp = CaSigned();
  resp.wrong_nonce = true;
  Seen seen;
  HttpServer server(OcspAt(resp, &seen));
  Cert leaf = Leaf(OcspAia(server.port()), "");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "nonce mismatch")) << r.detail;
}

TEST_F(RevocationTest, OcspStaleResponseIsUntested) {
  Responder resp = CaSigned();
  resp.next_update_secs = -600;  // past, beyond the 5-minute leeway
  Seen seen;
  HttpServer server(OcspAt(resp, &seen));
  Cert leaf = Leaf(OcspAia(server.port()), "");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "not current")) << r.detail;
}

TEST_F(RevocationTest, OcspRedirectIsNotFollowed) {
  Responder resp = CaSigned();
  resp.http_status = 302;
  Seen seen;
  HttpServer server(OcspAt(resp, &seen));
  Cert leaf = Leaf(OcspAia(server.port()), "");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "HTTP 302")) << r.detail;
  std::lock_guard<std::mutex> lock(seen.mu);
  EXPECT_EQ(seen.requests, 1);
}

TEST_F(RevocationTest, OcspResponderDownIsUntested) {
  const int port = testing::UnusedLoopbackPort();
  Cert leaf = Leaf(OcspAia(port), "");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_EQ(r.source, "");
  EXPECT_TRUE(Contains(r.detail, "127.0.0.1:" + std::to_string(port))) << r.detail;
  EXPECT_TRUE(Contains(r.detail, "connection failed")) << r.detail;
}

TEST_F(RevocationTest, SilentResponderIsUntestedWithinTheBudget) {
  SilentListener silent;
  Cert leaf = Leaf(OcspAia(silent.port()), "");
  const auto start = SteadyClock::now();
  RevocationResult r = Check(leaf.get(), Options(milliseconds(1000)));
  const auto took = SteadyClock::now() - start;
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "timed out")) << r.detail;
  EXPECT_GE(took, milliseconds(900));
  EXPECT_LT(took, milliseconds(3000));
}

TEST_F(RevocationTest, OcspFailureFallsBackToCrl) {
  CrlSlot slot;
  HttpServer crl(CrlFrom(&slot));
  const int dead = testing::UnusedLoopbackPort();
  Cert leaf = Leaf(OcspAia(dead), CrlCdp(crl.port()));
  Fill(&slot, MakeCrl(*ca_, {SerialOf(leaf.get())}));
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kRevoked) << r.detail;
  EXPECT_EQ(r.source, "crl");
}

// --- CRL -----------------------------------------------------------------------------------------

TEST_F(RevocationTest, CrlRevokedAndGood) {
  CrlSlot slot;
  HttpServer server(CrlFrom(&slot));
  Cert revoked = Leaf("", CrlCdp(server.port()));
  Cert good = Leaf("", CrlCdp(server.port()));
  Fill(&slot, MakeCrl(*ca_, {SerialOf(revoked.get()), 7, 8}));
  RevocationResult r = Check(revoked.get());
  EXPECT_EQ(r.status, Verdict::kRevoked) << r.detail;
  EXPECT_EQ(r.source, "crl");
  EXPECT_TRUE(Contains(r.detail, "/ca.crl")) << r.detail;
  r = Check(good.get());
  EXPECT_EQ(r.status, Verdict::kGood) << r.detail;
  EXPECT_EQ(r.source, "crl");
}

TEST_F(RevocationTest, CrlInPemIsRead) {
  CrlSlot slot;
  HttpServer server(CrlFrom(&slot));
  Cert revoked = Leaf("", CrlCdp(server.port()));
  Fill(&slot, MakeCrl(*ca_, {SerialOf(revoked.get())}, 3600, nullptr, /*pem=*/true));
  RevocationResult r = Check(revoked.get());
  EXPECT_EQ(r.status, Verdict::kRevoked) << r.detail;
}

TEST_F(RevocationTest, OcspUnknownThenCrlAnswers) {
  Responder resp = CaSigned();
  resp.answer_unknown = true;
  Seen seen;
  HttpServer ocsp(OcspAt(resp, &seen));
  CrlSlot slot;
  HttpServer crl(CrlFrom(&slot));
  Cert leaf = Leaf(OcspAia(ocsp.port()), CrlCdp(crl.port()));
  Fill(&slot, MakeCrl(*ca_, {SerialOf(leaf.get())}));
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kRevoked) << r.detail;
  EXPECT_EQ(r.source, "crl");
}

TEST_F(RevocationTest, CrlOverTheCapIsUntested) {
  CrlSlot slot;
  HttpServer server(CrlFrom(&slot));
  Cert leaf = Leaf("", CrlCdp(server.port()));
  std::vector<long> many;
  for (long i = 1; i <= 500; ++i) many.push_back(i);  // ~20 KB of entries
  many.push_back(SerialOf(leaf.get()));
  const std::string body = MakeCrl(*ca_, many);
  ASSERT_GT(body.size(), 8u * 1024);
  Fill(&slot, body);
  RevocationOptions o = Options();
  o.max_crl_bytes = 8 * 1024;
  RevocationResult r = Check(leaf.get(), o);
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "over 8192 bytes")) << r.detail;
  // The default cap reads it.
  EXPECT_EQ(Check(leaf.get()).status, Verdict::kRevoked);
}

TEST_F(RevocationTest, CrlSignedByWrongKeyIsUntested) {
  CrlSlot slot;
  HttpServer server(CrlFrom(&slot));
  Cert leaf = Leaf("", CrlCdp(server.port()));
  Fill(&slot, MakeCrl(*ca_, {}, 3600, rogue_->key.get()));  // "not listed", forged
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "signature does not verify")) << r.detail;
}

TEST_F(RevocationTest, ExpiredCrlIsUntested) {
  CrlSlot slot;
  HttpServer server(CrlFrom(&slot));
  Cert leaf = Leaf("", CrlCdp(server.port()));
  Fill(&slot, MakeCrl(*ca_, {}, -3600));
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "nextUpdate")) << r.detail;
}

TEST_F(RevocationTest, GarbageCrlIsUntested) {
  CrlSlot slot;
  HttpServer server(CrlFrom(&slot));
  Cert leaf = Leaf("", CrlCdp(server.port()));
  Fill(&slot, "<html>not a CRL</html>");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "does not parse")) << r.detail;
}

// --- Nothing to ask ------------------------------------------------------------------------------

TEST_F(RevocationTest, NoAiaNoCdpIsUntested) {
  Cert leaf = Leaf("", "");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_EQ(r.source, "");
  EXPECT_TRUE(Contains(r.detail, "no http OCSP responder or CRL")) << r.detail;
}

TEST_F(RevocationTest, HttpsAndLdapOnlyAreUntested) {
  Cert leaf = Leaf("OCSP;URI:https://ocsp.example.test/",
                   "URI:ldap://ldap.example.test/cn=ca?certificateRevocationList");
  RevocationResult r = Check(leaf.get());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "no http OCSP responder or CRL")) << r.detail;
}

TEST_F(RevocationTest, IssuerNotServedIsUntested) {
  Cert leaf = Leaf(OcspAia(testing::UnusedLoopbackPort()), "");
  RevocationResult r = CheckRevocationBlocking(Facts(leaf.get(), nullptr), Options());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "issuer")) << r.detail;
  // A certificate of the same name but another key, served in its place, does not count.
  r = CheckRevocationBlocking(Facts(leaf.get(), rogue_->cert.get()), Options());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "issuer")) << r.detail;
}

TEST_F(RevocationTest, EmptyOrBrokenLeafIsUntested) {
  tls::TlsFacts f;
  EXPECT_EQ(CheckRevocationBlocking(f, Options()).status, Verdict::kUntested);
  f.chain.emplace_back();
  f.chain.back().Edit().der = {0x30, 0x82, 0xff, 0xff, 0x01};
  RevocationResult r = CheckRevocationBlocking(f, Options());
  EXPECT_EQ(r.status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.detail, "does not parse")) << r.detail;
}

// --- Intermediates (CERT-09/10 for the chain) ----------------------------------------------------

// A root (the fixture's CA) -> intermediate -> leaf PKI whose CRLs are served by two servers,
// one per issuer, and a trust store holding the root alone (what the exporter's ca_file is).
class ChainRevocationTest : public RevocationTest {
 protected:
  void SetUp() override {
    RevocationTest::SetUp();
    root_crl_ = std::make_unique<HttpServer>(CrlFrom(&root_slot_));
    inter_crl_ = std::make_unique<HttpServer>(CrlFrom(&inter_slot_));
    inter_ =
        MakeIntermediate("URI:http://127.0.0.1:" + std::to_string(root_crl_->port()) + "/ca.crl");
    ASSERT_TRUE(inter_.cert);
    leaf_ = LeafOf(inter_, CrlCdp(inter_crl_->port()));
    ASSERT_TRUE(leaf_);
    Fill(&root_slot_, MakeCrl(*ca_, {}));
    Fill(&inter_slot_, MakeCrl(inter_, {}));

    char dir[] = "/tmp/mailsec-revocation-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    const std::string pem = dir_ + "/root.pem";
    FILE* f = std::fopen(pem.c_str(), "w");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(PEM_write_X509(f, ca_->cert.get()), 1);
    std::fclose(f);
    Result<std::shared_ptr<tls::TlsContext>> ctx = tls::TlsContext::Create(pem);
    ASSERT_TRUE(ctx.ok()) << ctx.status().message();
    trust_ = *ctx;
  }
  void TearDown() override {
    if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }

  static Ca MakeIntermediate(const std::string& cdp, const std::string& aia = "") {
    Ca inter;
    inter.key = NewKey();
    CertSpec spec;
    spec.cn = "mailsec revocation test intermediate";
    spec.ca = true;
    spec.cdp = cdp;
    spec.aia = aia;
    if (inter.key) inter.cert = MakeCert(spec, inter.key.get(), ca_->cert.get(), ca_->key.get());
    return inter;
  }

  static Cert LeafOf(const Ca& issuer, const std::string& cdp) {
    Pkey key = NewKey();
    CertSpec spec;
    spec.cn = "mx.example.test";
    spec.cdp = cdp;
    return MakeCert(spec, key.get(), issuer.cert.get(), issuer.key.get());
  }

  RevocationOptions WithTrust() const {
    RevocationOptions o = Options();
    o.trust = trust_;
    return o;
  }

  CrlSlot root_slot_;
  CrlSlot inter_slot_;
  std::unique_ptr<HttpServer> root_crl_;
  std::unique_ptr<HttpServer> inter_crl_;
  Ca inter_;
  Cert leaf_;
  std::string dir_;
  std::shared_ptr<const tls::TlsContext> trust_;
};

TEST_F(ChainRevocationTest, IntermediateOnItsRootsCrlIsRevoked) {
  Fill(&root_slot_, MakeCrl(*ca_, {SerialOf(inter_.cert.get())}));
  // Served as servers do: leaf and intermediate; the root comes from the trust store.
  RevocationResult r = CheckRevocationBlocking(Facts(leaf_.get(), inter_.cert.get()), WithTrust());
  EXPECT_EQ(r.status, Verdict::kGood) << r.detail;  // the leaf itself is not listed
  EXPECT_EQ(r.source, "crl");
  ASSERT_EQ(r.intermediates.size(), 1u);
  const RevocationResult::Element& e = r.intermediates[0];
  EXPECT_EQ(e.depth, 1);
  EXPECT_EQ(e.subject_cn, "mailsec revocation test intermediate");
  EXPECT_EQ(e.status, Verdict::kRevoked) << e.detail;
  EXPECT_EQ(e.source, "crl");

  std::optional<checks::Finding> f = ChainRevocationFinding(r);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->check, kScanChainRevokedCheck);
  EXPECT_EQ(f->verdict, checks::CheckVerdict::kFail);
  EXPECT_TRUE(Contains(f->detail, "depth 1 \"mailsec revocation test intermediate\": REVOKED"))
      << f->detail;
}

TEST_F(ChainRevocationTest, IntermediateNotListedIsGoodAndTheLeafStillCounts) {
  Fill(&inter_slot_, MakeCrl(inter_, {SerialOf(leaf_.get())}));
  RevocationResult r = CheckRevocationBlocking(Facts(leaf_.get(), inter_.cert.get()), WithTrust());
  EXPECT_EQ(r.status, Verdict::kRevoked) << r.detail;
  ASSERT_EQ(r.intermediates.size(), 1u);
  EXPECT_EQ(r.intermediates[0].status, Verdict::kGood) << r.intermediates[0].detail;
  std::optional<checks::Finding> f = ChainRevocationFinding(r);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->verdict, checks::CheckVerdict::kPass) << f->detail;
}

TEST_F(ChainRevocationTest, WithoutTheRootTheIntermediateIsUntested) {
  Fill(&root_slot_, MakeCrl(*ca_, {SerialOf(inter_.cert.get())}));
  RevocationResult r = CheckRevocationBlocking(Facts(leaf_.get(), inter_.cert.get()), Options());
  EXPECT_EQ(r.status, Verdict::kGood) << r.detail;
  ASSERT_EQ(r.intermediates.size(), 1u);
  EXPECT_EQ(r.intermediates[0].status, Verdict::kUntested);
  EXPECT_TRUE(Contains(r.intermediates[0].detail, "trust store")) << r.intermediates[0].detail;
  EXPECT_FALSE(ChainRevocationFinding(r).has_value());  // untested: no series
}

TEST_F(ChainRevocationTest, AServedRootAnswersForTheIntermediateOverOcsp) {
  // The root's responder, signing its own answers, says the intermediate is revoked; the root
  // is served after the intermediate and no trust store is given.
  Responder resp = CaSigned();
  Seen seen;
  HttpServer ocsp(OcspAt(resp, &seen));
  Ca inter = MakeIntermediate("", OcspAia(ocsp.port()));
  ASSERT_TRUE(inter.cert);
  Cert leaf = LeafOf(inter, "");
  Revoke(&seen, inter.cert.get());
  tls::TlsFacts facts = Facts(leaf.get(), inter.cert.get());
  tls::CertFacts root;
  root.der = Der(ca_->cert.get());
  facts.chain.push_back(root);
  RevocationResult r = CheckRevocationBlocking(facts, Options());
  EXPECT_EQ(r.status, Verdict::kUntested);  // the leaf names no responder
  ASSERT_EQ(r.intermediates.size(), 1u);    // the served root is an anchor, not checked
  EXPECT_EQ(r.intermediates[0].status, Verdict::kRevoked) << r.intermediates[0].detail;
  EXPECT_EQ(r.intermediates[0].source, "ocsp");
  EXPECT_EQ(ChainRevocationFinding(r)->verdict, checks::CheckVerdict::kFail);
}

TEST_F(ChainRevocationTest, IntermediateWithoutSourcesIsNotAsked) {
  Ca inter = MakeIntermediate("");
  ASSERT_TRUE(inter.cert);
  Cert leaf = LeafOf(inter, CrlCdp(inter_crl_->port()));
  Fill(&inter_slot_, MakeCrl(inter, {}));
  RevocationResult r = CheckRevocationBlocking(Facts(leaf.get(), inter.cert.get()), WithTrust());
  EXPECT_EQ(r.status, Verdict::kGood) << r.detail;
  ASSERT_EQ(r.intermediates.size(), 1u);
  EXPECT_TRUE(r.intermediates[0].no_source);
  EXPECT_EQ(r.intermediates[0].status, Verdict::kUntested);
  EXPECT_FALSE(ChainRevocationFinding(r).has_value());
}

TEST_F(ChainRevocationTest, ALeafIssuedByATrustStoreRootIsChecked) {
  // No intermediate: the root issued the leaf and is not served.
  Cert leaf = Leaf("", "URI:http://127.0.0.1:" + std::to_string(root_crl_->port()) + "/ca.crl");
  Fill(&root_slot_, MakeCrl(*ca_, {SerialOf(leaf.get())}));
  RevocationResult r = CheckRevocationBlocking(Facts(leaf.get(), nullptr), WithTrust());
  EXPECT_EQ(r.status, Verdict::kRevoked) << r.detail;
  EXPECT_TRUE(r.intermediates.empty());
  EXPECT_FALSE(ChainRevocationFinding(r).has_value());
}

TEST_F(ChainRevocationTest, UnknownIntermediateWarnsAndALongPathIsCut) {
  RevocationResult r;
  RevocationResult::Element good;
  good.depth = 1;
  good.subject_cn = "I1";
  good.status = Verdict::kGood;
  RevocationResult::Element unknown = good;
  unknown.depth = 2;
  unknown.subject_cn = "I2";
  unknown.status = Verdict::kUnknown;
  r.intermediates = {good, unknown};
  std::optional<checks::Finding> f = ChainRevocationFinding(r);
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->verdict, checks::CheckVerdict::kWarn);
  EXPECT_TRUE(Contains(f->detail, "depth 2 \"I2\": unknown to the responder")) << f->detail;
  // A hostile chain of many long names still gives a bounded detail.
  r.intermediates.assign(50, good);
  for (auto& e : r.intermediates) e.subject_cn.assign(120, 'x');
  f = ChainRevocationFinding(r);
  ASSERT_TRUE(f.has_value());
  EXPECT_LE(f->detail.size(), 1024u);

  // The walk itself stops at max_intermediates: a served chain of three intermediates with
  // a limit of two.
  Ca i1 = MakeIntermediate("");
  ASSERT_TRUE(i1.cert);
  Ca i2;
  i2.key = NewKey();
  CertSpec spec;
  spec.cn = "second";
  spec.ca = true;
  i2.cert = MakeCert(spec, i2.key.get(), i1.cert.get(), i1.key.get());
  Ca i3;
  i3.key = NewKey();
  spec.cn = "third";
  i3.cert = MakeCert(spec, i3.key.get(), i2.cert.get(), i2.key.get());
  ASSERT_TRUE(i2.cert && i3.cert);
  Cert leaf = LeafOf(i3, "");
  tls::TlsFacts facts = Facts(leaf.get(), i3.cert.get());
  for (X509* c : {i2.cert.get(), i1.cert.get()}) {
    tls::CertFacts cf;
    cf.der = Der(c);
    facts.chain.push_back(cf);
  }
  RevocationOptions o = WithTrust();
  o.max_intermediates = 2;
  r = CheckRevocationBlocking(facts, o);
  ASSERT_EQ(r.intermediates.size(), 3u);
  EXPECT_EQ(r.intermediates[0].subject_cn, "third");
  EXPECT_EQ(r.intermediates[1].subject_cn, "second");
  EXPECT_TRUE(Contains(r.intermediates[2].detail, "more than 2")) << r.intermediates[2].detail;
}

// --- URL discovery -------------------------------------------------------------------------------

TEST_F(RevocationTest, UrlsKeepOnlyHttp) {
  Cert leaf = Leaf(
      "OCSP;URI:https://ocsp.example.test/,OCSP;URI:http://ocsp.example.test/a,"
      "caIssuers;URI:http://ca.example.test/ca.der,OCSP;URI:HTTP://OCSP2.example.test",
      "URI:ldap://ldap.example.test/x,URI:http://crl.example.test/ca.crl");
  const std::vector<uint8_t> der = Der(leaf.get());
  EXPECT_EQ(OcspUrls(der),
            (std::vector<std::string>{"http://ocsp.example.test/a", "HTTP://OCSP2.example.test"}));
  EXPECT_EQ(CrlUrls(der), std::vector<std::string>{"http://crl.example.test/ca.crl"});
  EXPECT_TRUE(OcspUrls({}).empty());
  EXPECT_TRUE(CrlUrls({0x30, 0x00}).empty());
}

// --- The awaitable form --------------------------------------------------------------------------

asio::awaitable<RevocationResult> AwaitCheck(tls::TlsFacts facts, RevocationOptions options,
                                             asio::thread_pool* pool, std::thread::id* resumed_on) {
  RevocationResult r = co_await CheckRevocation(std::move(facts), options, *pool);
  *resumed_on = std::this_thread::get_id();
  co_return r;
}

TEST_F(RevocationTest, AwaitableRunsOnThePoolAndResumesOnTheCaller) {
  Responder resp = CaSigned();
  Seen seen;
  HttpServer server(OcspAt(resp, &seen));
  Cert leaf = Leaf(OcspAia(server.port()), "");
  Revoke(&seen, leaf.get());

  asio::io_context io;
  asio::thread_pool pool(1);
  std::thread::id resumed_on;
  std::future<RevocationResult> fut = asio::co_spawn(
      io, AwaitCheck(Facts(leaf.get(), ca_->cert.get()), Options(), &pool, &resumed_on),
      asio::use_future);
  io.run_for(std::chrono::seconds(10));  // returns once the coroutine is done
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  RevocationResult r = fut.get();
  EXPECT_EQ(r.status, Verdict::kRevoked) << r.detail;
  EXPECT_EQ(r.source, "ocsp");
  EXPECT_EQ(resumed_on, std::this_thread::get_id());
  pool.join();
}

}  // namespace
}  // namespace mailsec::probe
