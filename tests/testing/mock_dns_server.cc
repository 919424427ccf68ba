#include "testing/mock_dns_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace mailsec::testing {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

void Put16(std::vector<uint8_t>* out, uint16_t v) {
  out->push_back(static_cast<uint8_t>(v >> 8));
  out->push_back(static_cast<uint8_t>(v & 0xff));
}

void Put32(std::vector<uint8_t>* out, uint32_t v) {
  Put16(out, static_cast<uint16_t>(v >> 16));
  Put16(out, static_cast<uint16_t>(v & 0xffff));
}

void Append(std::vector<uint8_t>* out, const std::vector<uint8_t>& more) {
  out->insert(out->end(), more.begin(), more.end());
}

int BindLoopback(int type, int port) {
  int fd = ::socket(AF_INET, type, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int LocalPort(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return ntohs(addr.sin_port);
}

struct Client {
  int fd = -1;
  std::vector<uint8_t> buf;
};

}  // namespace

std::vector<uint8_t> EncodeDnsName(std::string_view name) {
  std::vector<uint8_t> out;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  out.push_back(0);
  return out;
}

std::vector<uint8_t> RdataA(std::string_view dotted_quad) {
  std::vector<uint8_t> out(4);
  ::inet_pton(AF_INET, std::string(dotted_quad).c_str(), out.data());
  return out;
}

std::vector<uint8_t> RdataAaaa(std::string_view text) {
  std::vector<uint8_t> out(16);
  ::inet_pton(AF_INET6, std::string(text).c_str(), out.data());
  return out;
}

std::vector<uint8_t> RdataName(std::string_view name) { return EncodeDnsName(name); }

std::vector<uint8_t> RdataMx(uint16_t preference, std::string_view exchange) {
  std::vector<uint8_t> out;
  Put16(&out, preference);
  Append(&out, EncodeDnsName(exchange));
  return out;
}

std::vector<uint8_t> RdataTxt(const std::vector<std::string>& strings) {
  std::vector<uint8_t> out;
  for (const std::string& s : strings) {
    out.push_back(static_cast<uint8_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
  }
  return out;
}

std::vector<uint8_t> RdataSrv(uint16_t priority, uint16_t weight, uint16_t port,
                              std::string_view target) {
  std::vector<uint8_t> out;
  Put16(&out, priority);
  Put16(&out, weight);
  Put16(&out, port);
  Append(&out, EncodeDnsName(target));
  return out;
}

std::vector<uint8_t> RdataTlsa(uint8_t usage, uint8_t selector, uint8_t matching_type,
                               const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out = {usage, selector, matching_type};
  Append(&out, data);
  return out;
}

std::vector<uint8_t> RdataCaa(uint8_t flags, std::string_view tag, std::string_view value) {
  std::vector<uint8_t> out = {flags, static_cast<uint8_t>(tag.size())};
  out.insert(out.end(), tag.begin(), tag.end());
  out.insert(out.end(), value.begin(), value.end());
  return out;
}

MockDnsServer::MockDnsServer() {
  // UDP and TCP on one port (c-ares uses the same port for both): pick the UDP port, then take
  // the same TCP port, trying again on the rare clash.
  for (int attempt = 0; attempt < 50 && tcp_fd_ < 0; ++attempt) {
    if (udp_fd_ >= 0) ::close(udp_fd_);
    udp_fd_ = BindLoopback(SOCK_DGRAM, 0);
    if (udp_fd_ < 0) continue;
    port_ = LocalPort(udp_fd_);
    tcp_fd_ = BindLoopback(SOCK_STREAM, port_);
    if (tcp_fd_ >= 0 && ::listen(tcp_fd_, 16) != 0) {
      ::close(tcp_fd_);
      tcp_fd_ = -1;
    }
  }
  thread_ = std::thread([this] { Run(); });
}

MockDnsServer::~MockDnsServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (udp_fd_ >= 0) ::close(udp_fd_);
  if (tcp_fd_ >= 0) ::close(tcp_fd_);
}

void MockDnsServer::Set(std::string_view name, uint16_t type, MockDnsReply reply) {
  std::lock_guard<std::mutex> lock(mu_);
  script_[{Lower(name), type}] = std::move(reply);
}

std::vector<SeenQuery> MockDnsServer::queries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

void MockDnsServer::Run() {
  std::vector<Client> clients;
  std::vector<uint8_t> buf(65536);
  while (!stop_) {
    std::vector<pollfd> fds;
    fds.push_back({udp_fd_, POLLIN, 0});
    fds.push_back({tcp_fd_, POLLIN, 0});
    for (const Client& c : clients) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 50) <= 0) continue;

    if (fds[0].revents & POLLIN) {
      sockaddr_in from{};
      socklen_t from_len = sizeof from;
      ssize_t n = ::recvfrom(udp_fd_, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from),
                             &from_len);
      if (n > 0) {
        auto reply = Handle(std::vector<uint8_t>(buf.begin(), buf.begin() + n), /*tcp=*/false);
        if (reply) {
          ::sendto(udp_fd_, reply->data(), reply->size(), 0, reinterpret_cast<sockaddr*>(&from),
                   from_len);
        }
      }
    }
    if (fds[1].revents & POLLIN) {
      int fd = ::accept(tcp_fd_, nullptr, nullptr);
      if (fd >= 0) clients.push_back(Client{fd, {}});
    }
    for (size_t i = 2; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Client& c = clients[i - 2];
      ssize_t n = ::recv(c.fd, buf.data(), buf.size(), 0);
      if (n <= 0) {
        ::close(c.fd);
        c.fd = -1;
        continue;
      }
      c.buf.insert(c.buf.end(), buf.begin(), buf.begin() + n);
      while (c.buf.size() >= 2) {
        const size_t len = (size_t{c.buf[0]} << 8) | c.buf[1];
        if (c.buf.size() < 2 + len) break;
        std::vector<uint8_t> query(c.buf.begin() + 2, c.buf.begin() + 2 + static_cast<long>(len));
        c.buf.erase(c.buf.begin(), c.buf.begin() + 2 + static_cast<long>(len));
        auto reply = Handle(query, /*tcp=*/true);
        if (!reply) continue;
        std::vector<uint8_t> framed;
        Put16(&framed, static_cast<uint16_t>(reply->size()));
        Append(&framed, *reply);
        // Two writes, so that the client sees the length before the body, as from real servers.
        ::send(c.fd, framed.data(), 2, MSG_NOSIGNAL);
        ::send(c.fd, framed.data() + 2, framed.size() - 2, MSG_NOSIGNAL);
      }
    }
    clients.erase(
        std::remove_if(clients.begin(), clients.end(), [](const Client& c) { return c.fd < 0; }),
        clients.end());
  }
  for (const Client& c : clients) ::close(c.fd);
}

std::optional<std::vector<uint8_t>> MockDnsServer::Handle(const std::vector<uint8_t>& q, bool tcp) {
  if (q.size() < 12) return std::nullopt;
  const uint16_t qdcount = static_cast<uint16_t>((q[4] << 8) | q[5]);
  const uint16_t arcount = static_cast<uint16_t>((q[10] << 8) | q[11]);
  if (qdcount != 1) return std::nullopt;
  SeenQuery seen;
  seen.tcp = tcp;
  seen.rd = (q[2] & 0x01) != 0;
  seen.ad = (q[3] & 0x20) != 0;
  size_t pos = 12;
  std::string name;
  while (pos < q.size() && q[pos] != 0) {
    const size_t len = q[pos];
    if (len > 63 || pos + 1 + len > q.size()) return std::nullopt;
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(&q[pos + 1]), len);
    pos += 1 + len;
  }
  if (pos + 5 > q.size()) return std::nullopt;
  pos += 1;
  seen.name = Lower(name);
  seen.type = static_cast<uint16_t>((q[pos] << 8) | q[pos + 1]);
  pos += 4;
  const size_t question_end = pos;
  // An OPT record right after the question (what BuildQuery and c-ares send).
  if (arcount >= 1 && pos + 11 <= q.size() && q[pos] == 0 && q[pos + 1] == 0 && q[pos + 2] == 41) {
    seen.has_opt = true;
    seen.udp_payload = static_cast<uint16_t>((q[pos + 3] << 8) | q[pos + 4]);
    seen.dnssec_ok = (q[pos + 7] & 0x80) != 0;
  }

  MockDnsReply reply;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seen_.push_back(seen);
    auto it = script_.find({seen.name, seen.type});
    if (it != script_.end()) {
      reply = it->second;
    } else {
      reply.rcode = 5;  // REFUSED
    }
  }
  if (reply.delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(reply.delay_ms, 5000)));
  }
  if (reply.kind == MockDnsReply::Kind::kSilent) return std::nullopt;

  std::vector<uint8_t> out(q.begin(), q.begin() + 2);  // id
  const bool truncated = reply.truncate_udp && !tcp;
  uint8_t flags1 = 0x80 | (q[2] & 0x01);  // QR, RD copied
  if (truncated) flags1 |= 0x02;
  uint8_t flags2 = 0x80 | (reply.ad ? 0x20 : 0) | (reply.rcode & 0x0f);  // RA, AD, rcode
  out.push_back(flags1);
  out.push_back(flags2);
  const std::vector<MockRr> none;
  const bool garbage = reply.kind == MockDnsReply::Kind::kGarbage;
  const std::vector<MockRr>& answers = truncated ? none : reply.answers;
  const std::vector<MockRr>& authority = truncated ? none : reply.authority;
  Put16(&out, 1);
  Put16(&out, garbage ? 1 : static_cast<uint16_t>(answers.size()));
  Put16(&out, garbage ? 0 : static_cast<uint16_t>(authority.size()));
  Put16(&out, (!garbage && seen.has_opt) ? 1 : 0);
  out.insert(out.end(), q.begin() + 12, q.begin() + static_cast<long>(question_end));
  if (garbage) {
    // Owner: pointer to the question; A/IN; rdlength 64 with 3 bytes present.
    Append(&out, {0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x40, 1, 2, 3});
    return out;
  }
  auto put_rr = [&](const MockRr& rr) {
    if (Lower(rr.name) == seen.name) {
      Append(&out, {0xc0, 0x0c});  // compressed: points at the question name
    } else {
      Append(&out, EncodeDnsName(rr.name));
    }
    Put16(&out, rr.type);
    Put16(&out, 1);
    Put32(&out, rr.ttl);
    Put16(&out, static_cast<uint16_t>(rr.rdata.size()));
    Append(&out, rr.rdata);
  };
  for (const MockRr& rr : answers) put_rr(rr);
  for (const MockRr& rr : authority) put_rr(rr);
  if (seen.has_opt) {
    Append(&out, {0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00,
                  static_cast<uint8_t>(seen.dnssec_ok ? 0x80 : 0x00), 0x00, 0x00, 0x00});
  }
  return out;
}

}  // namespace mailsec::testing
