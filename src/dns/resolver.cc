#include "mailsec/dns/resolver.h"

#include <ares.h>
#include <poll.h>

#include <asio/co_spawn.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <map>
#include <mutex>
#include <utility>

namespace mailsec::dns {

namespace {

DnsAnswer Fail(Outcome outcome, std::string_view name, std::string error) {
  DnsAnswer a;
  a.outcome = outcome;
  a.canonical_name = std::string(name);
  a.error = std::move(error);
  return a;
}

// One query's result, shared between the waiting coroutine and the c-ares callback (which may
// come after the coroutine stopped waiting, or never before the channel is destroyed). Touched on
// the resolver's strand only.
struct Pending {
  bool done = false;
  int status = ARES_ETIMEOUT;
  std::vector<uint8_t> reply;
  asio::steady_timer* waiter = nullptr;  // the coroutine's timer while it waits, else null
};

void OnAresReply(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  std::unique_ptr<std::shared_ptr<Pending>> holder(static_cast<std::shared_ptr<Pending>*>(arg));
  Pending& p = **holder;
  p.done = true;
  p.status = status;
  if (abuf != nullptr && alen > 0) p.reply.assign(abuf, abuf + alen);
  if (p.waiter != nullptr) p.waiter->cancel();
}

DnsAnswer FromAres(const Pending& p, std::string_view name, RrType type) {
  switch (p.status) {
    case ARES_SUCCESS:
      return InterpretReply(p.reply, name, type);
    case ARES_ESERVFAIL:
      return Fail(Outcome::kServFail, name, "server failure");
    case ARES_ENOTIMP:
      return Fail(Outcome::kServFail, name, "server does not implement the query");
    case ARES_EREFUSED:
      return Fail(Outcome::kRefused, name, "server refused the query");
    case ARES_ETIMEOUT:
      return Fail(Outcome::kTimeout, name, "no server answered");
    case ARES_ECONNREFUSED:
      return Fail(Outcome::kServFail, name, "no server reachable (connection refused)");
    case ARES_EBADRESP:
      return Fail(Outcome::kMalformed, name, "malformed reply");
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
      return Fail(Outcome::kTimeout, name, "resolver shut down");
    default:
      return Fail(Outcome::kServFail, name, std::string("c-ares: ") + ares_strerror(p.status));
  }
}

std::once_flag g_ares_library_once;

}  // namespace

struct AresResolver::Impl : std::enable_shared_from_this<AresResolver::Impl> {
  using Strand = asio::strand<asio::any_io_executor>;

  // One c-ares socket watched by the loop. The descriptor does not own the fd (c-ares closes it):
  // it is released before c-ares closes it and before it is destroyed.
  struct Watch {
    Watch(const Strand& s, ares_socket_t f) : fd(f), descriptor(s) {}
    ~Watch() { (void)descriptor.release(); }
    ares_socket_t fd;
    asio::posix::stream_descriptor descriptor;
    bool want_read = false;
    bool want_write = false;
    bool read_pending = false;
    bool write_pending = false;
    bool closed = false;
  };

  explicit Impl(const asio::any_io_executor& executor)
      : strand(asio::make_strand(executor)), timer(strand) {}
  ~Impl() { Shutdown(); }

  static void SockStateCallback(void* data, ares_socket_t fd, int readable, int writable) {
    static_cast<Impl*>(data)->OnSockState(fd, readable != 0, writable != 0);
  }

  // Called by c-ares from inside its calls (so on the strand, or from ares_destroy): records what
  // c-ares wants to hear about; Pump() arms the waits once the c-ares call has returned.
  void OnSockState(ares_socket_t fd, bool readable, bool writable) {
    auto it = watches.find(fd);
    if (!readable && !writable) {  // c-ares is about to close the socket
      if (it != watches.end()) {
        Close(*it->second);
        watches.erase(it);
      }
      return;
    }
    if (it == watches.end()) {
      auto w = std::make_shared<Watch>(strand, fd);
      std::error_code ec;
      w->descriptor.assign(fd, ec);
      // If the reactor refuses the fd, Pump() still polls it and the timer still runs c-ares'
      // timeouts; the query cannot hang.
      it = watches.emplace(fd, std::move(w)).first;
    }
    it->second->want_read = readable;
    it->second->want_write = writable;
  }

  static void Close(Watch& w) {
    w.closed = true;
    std::error_code ignored;
    if (w.descriptor.is_open()) w.descriptor.cancel(ignored);
    (void)w.descriptor.release();
  }

  void Arm(const std::shared_ptr<Watch>& w) {
    if (w->closed || !w->descriptor.is_open()) return;
    if (w->want_read && !w->read_pending) {
      w->read_pending = true;
      w->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                               [self = shared_from_this(), w](const std::error_code& ec) {
                                 w->read_pending = false;
                                 if (ec || w->closed || self->shut_down) return;
                                 ares_process_fd(self->channel, w->fd, ARES_SOCKET_BAD);
                                 self->Pump();
                               });
    }
    if (w->want_write && !w->write_pending) {
      w->write_pending = true;
      w->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                               [self = shared_from_this(), w](const std::error_code& ec) {
                                 w->write_pending = false;
                                 if (ec || w->closed || self->shut_down) return;
                                 ares_process_fd(self->channel, ARES_SOCKET_BAD, w->fd);
                                 self->Pump();
                               });
    }
  }

  // Runs after every c-ares call. The reactor is edge-triggered and c-ares may leave bytes in a
  // socket (it reads a TCP reply's length and body in separate calls), so readiness that arrived
  // before a wait was armed would be lost: arm first, then poll without waiting, and hand what is
  // ready to c-ares until nothing is. Bounded per turn; a busy channel yields to other handlers.
  void Pump() {
    if (shut_down) return;
    constexpr int kMaxRounds = 16;
    for (int round = 0; round < kMaxRounds; ++round) {
      bool progressed = false;
      std::vector<std::shared_ptr<Watch>> snapshot;
      snapshot.reserve(watches.size());
      for (auto& entry : watches) snapshot.push_back(entry.second);
      for (const auto& w : snapshot) {
        if (w->closed || shut_down) continue;
        Arm(w);
        pollfd p{w->fd, 0, 0};
        if (w->want_read) p.events |= POLLIN;
        if (w->want_write) p.events |= POLLOUT;
        if (p.events == 0 || ::poll(&p, 1, 0) != 1) continue;
        const bool failed = (p.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0;
        const bool rd = w->want_read && ((p.revents & POLLIN) != 0 || failed);
        const bool wr = w->want_write && ((p.revents & POLLOUT) != 0 || failed);
        if (!rd && !wr) continue;
        ares_process_fd(channel, rd ? w->fd : ARES_SOCKET_BAD, wr ? w->fd : ARES_SOCKET_BAD);
        progressed = true;
      }
      if (!progressed) {
        ArmTimer();
        return;
      }
    }
    if (!pump_posted) {
      pump_posted = true;
      asio::post(strand, [self = shared_from_this()] {
        self->pump_posted = false;
        self->Pump();
      });
    }
    ArmTimer();
  }

  // c-ares' own retransmission and per-attempt timeouts, driven by a timer of the loop.
  void ArmTimer() {
    if (shut_down) return;
    const uint64_t gen = ++timer_generation;
    timeval tv{};
    timeval* next = ares_timeout(channel, nullptr, &tv);
    if (next == nullptr) {  // nothing in flight
      timer.cancel();
      return;
    }
    timer.expires_after(std::chrono::seconds(next->tv_sec) +
                        std::chrono::microseconds(next->tv_usec));
    timer.async_wait([self = shared_from_this(), gen](const std::error_code& ec) {
      if (ec || self->shut_down || gen != self->timer_generation) return;
      ares_process_fd(self->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
      self->Pump();
    });
  }

  // Ends every query (their callbacks see ARES_EDESTRUCTION), closes the sockets, stops the timer.
  void Shutdown() {
    if (shut_down) return;
    shut_down = true;
    ++timer_generation;
    timer.cancel();
    if (channel != nullptr) {
      ares_destroy(channel);
      channel = nullptr;
    }
    for (auto& entry : watches) Close(*entry.second);
    watches.clear();
  }

  static asio::awaitable<DnsAnswer> QueryOnStrand(std::shared_ptr<Impl> self, std::string name,
                                                  RrType type, net::Deadline deadline,
                                                  bool checking_disabled) {
    if (self->shut_down) co_return Fail(Outcome::kTimeout, name, "resolver shut down");
    auto query = BuildQuery(name, type, 0, /*dnssec_ok=*/true, checking_disabled);
    if (!query.ok()) co_return Fail(Outcome::kMalformed, name, query.status().message());
    if (net::SteadyClock::now() >= deadline) {
      co_return Fail(Outcome::kTimeout, name, "deadline passed before the query was sent");
    }
    auto pending = std::make_shared<Pending>();
    // c-ares replaces the id with a unique one of its own.
    ares_send(self->channel, query->data(), static_cast<int>(query->size()), &OnAresReply,
              new std::shared_ptr<Pending>(pending));
    self->Pump();
    if (!pending->done) {
      asio::steady_timer waiter(self->strand);
      waiter.expires_at(deadline);
      pending->waiter = &waiter;
      // Unhooks the timer however the frame ends (also when it is destroyed while suspended), so
      // a late callback cannot touch it.
      struct Unhook {
        Pending* p;
        ~Unhook() { p->waiter = nullptr; }
      } unhook{pending.get()};
      std::error_code ec;
      co_await waiter.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    // A reply that comes later finds `pending` alone and is dropped with it.
    if (!pending->done) co_return Fail(Outcome::kTimeout, name, "no reply before the deadline");
    co_return FromAres(*pending, name, type);
  }

  Strand strand;
  // Everything below is confined to `strand` (or touched when no handler can run: construction,
  // destruction of the last reference).
  ares_channel channel = nullptr;
  asio::steady_timer timer;
  uint64_t timer_generation = 0;
  std::map<ares_socket_t, std::shared_ptr<Watch>> watches;
  bool shut_down = false;
  bool pump_posted = false;
};

Result<std::unique_ptr<AresResolver>> AresResolver::Create(asio::any_io_executor executor,
                                                           const ResolverOptions& options) {
  std::call_once(g_ares_library_once, [] { (void)ares_library_init(ARES_LIB_INIT_ALL); });
  if (options.tries < 1) return Status::InvalidArgument("resolver tries must be at least 1");
  if (options.attempt_timeout.count() < 1) {
    return Status::InvalidArgument("resolver attempt timeout must be positive");
  }
  std::string csv;
  for (const std::string& s : options.servers) {
    if (s.empty() || s.find_first_of(", \t") != std::string::npos) {
      return Status::InvalidArgument("bad resolver address \"" + s + "\"");
    }
    if (!csv.empty()) csv += ',';
    csv += s;
  }

  auto impl = std::make_shared<Impl>(executor);
  ares_options opts{};
  // EDNS: accept UDP replies up to ednspsz (else c-ares goes to TCP past 512 bytes) and retry
  // without the OPT record when a server answers FORMERR without one (RFC 6891 §7).
  // NOCHECKRESP: hand SERVFAIL, NOTIMP and REFUSED replies to us rather than retrying them, so
  // the outcome keeps the server's rcode (c-ares 1.18 reports both as ECONNREFUSED otherwise).
  opts.flags = ARES_FLAG_EDNS | ARES_FLAG_NOCHECKRESP;
  opts.ednspsz = kEdnsUdpPayload;
  opts.timeout = static_cast<int>(options.attempt_timeout.count());
  opts.tries = options.tries;
  opts.sock_state_cb = &Impl::SockStateCallback;
  opts.sock_state_cb_data = impl.get();
  const int mask = ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
                   ARES_OPT_SOCK_STATE_CB;
  if (int rc = ares_init_options(&impl->channel, &opts, mask); rc != ARES_SUCCESS) {
    impl->channel = nullptr;
    return Status::Unavailable(std::string("c-ares init: ") + ares_strerror(rc));
  }
  if (!csv.empty()) {
    if (int rc = ares_set_servers_ports_csv(impl->channel, csv.c_str()); rc != ARES_SUCCESS) {
      return Status::InvalidArgument("bad resolver list \"" + csv + "\": " + ares_strerror(rc));
    }
  }
  return std::unique_ptr<AresResolver>(new AresResolver(std::move(impl)));
}

AresResolver::AresResolver(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

AresResolver::~AresResolver() {
  // Handlers of the loop hold the Impl; the shutdown must run on the strand like every c-ares
  // call. If the loop never runs it, the last reference (dropped when the io_context discards the
  // handlers) shuts the channel down instead.
  asio::post(impl_->strand, [impl = impl_] { impl->Shutdown(); });
}

asio::awaitable<DnsAnswer> AresResolver::Query(std::string name, RrType type,
                                               net::Deadline deadline) {
  std::shared_ptr<Impl> impl = impl_;  // `this` is not touched after the first suspension
  co_return co_await asio::co_spawn(
      impl->strand, Impl::QueryOnStrand(impl, std::move(name), type, deadline, false),
      asio::use_awaitable);
}

asio::awaitable<DnsAnswer> AresResolver::QueryUnvalidated(std::string name, RrType type,
                                                          net::Deadline deadline) {
  std::shared_ptr<Impl> impl = impl_;
  co_return co_await asio::co_spawn(
      impl->strand, Impl::QueryOnStrand(impl, std::move(name), type, deadline, true),
      asio::use_awaitable);
}

}  // namespace mailsec::dns
