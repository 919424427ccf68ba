// A scripted DNS server on 127.0.0.1 for resolver tests: UDP and TCP on the same port, answering
// each (name, type) with a canned reply: records, an rcode, the AD bit, silence, garbage, or a
// truncated UDP reply that sends the client to TCP. Names not scripted get REFUSED.
//
// It encodes replies itself (uncompressed, except that an owner equal to the question name is a
// pointer to it), independently of the parser under test. Runs on its own thread; every wait in
// it is bounded (poll of 50 ms, delays capped at 5 s); the destructor stops and joins it.
// Set() and queries() are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace mailsec::testing {

struct MockRr {
  std::string name;
  uint16_t type = 1;
  std::vector<uint8_t> rdata;
  uint32_t ttl = 300;
};

struct MockDnsReply {
  enum class Kind : uint8_t {
    kAnswer,   // a well-formed reply with rcode, ad and the records below
    kSilent,   // no reply at all
    kGarbage,  // right id and question, then an answer record running past the end
  };
  Kind kind = Kind::kAnswer;
  uint8_t rcode = 0;
  bool ad = false;
  bool truncate_udp = false;  // over UDP: TC=1 and no records; over TCP: the full reply
  int delay_ms = 0;           // wait before replying (blocks the server thread; capped at 5 s)
  std::vector<MockRr> answers;
  std::vector<MockRr> authority;
};

struct SeenQuery {
  std::string name;  // lower case, no trailing dot
  uint16_t type = 0;
  bool tcp = false;
  bool rd = false;
  bool ad = false;
  bool has_opt = false;
  bool dnssec_ok = false;
  uint16_t udp_payload = 0;
};

class MockDnsServer {
 public:
  MockDnsServer();
  ~MockDnsServer();
  MockDnsServer(const MockDnsServer&) = delete;
  MockDnsServer& operator=(const MockDnsServer&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  void Set(std::string_view name, uint16_t type, MockDnsReply reply);
  std::vector<SeenQuery> queries() const;

 private:
  void Run();
  // The reply to one query, or nothing (silence, or bytes that are not a query).
  std::optional<std::vector<uint8_t>> Handle(const std::vector<uint8_t>& query, bool tcp);

  int udp_fd_ = -1;
  int tcp_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, uint16_t>, MockDnsReply> script_;  // guarded by mu_
  std::vector<SeenQuery> seen_;                                      // guarded by mu_
  std::thread thread_;
};

// Rdata encoders for MockRr (names uncompressed, in presentation form without escapes).
std::vector<uint8_t> EncodeDnsName(std::string_view name);
std::vector<uint8_t> RdataA(std::string_view dotted_quad);
std::vector<uint8_t> RdataAaaa(std::string_view text);
std::vector<uint8_t> RdataName(std::string_view name);  // CNAME, PTR, NS
std::vector<uint8_t> RdataMx(uint16_t preference, std::string_view exchange);
std::vector<uint8_t> RdataTxt(const std::vector<std::string>& strings);
std::vector<uint8_t> RdataSrv(uint16_t priority, uint16_t weight, uint16_t port,
                              std::string_view target);
std::vector<uint8_t> RdataTlsa(uint8_t usage, uint8_t selector, uint8_t matching_type,
                               const std::vector<uint8_t>& data);
std::vector<uint8_t> RdataCaa(uint8_t flags, std::string_view tag, std::string_view value);

}  // namespace mailsec::testing
