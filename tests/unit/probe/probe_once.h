// One endpoint probe of 127.0.0.1:port on a private io_context, for the probe tests that talk to
// scripted or hostile servers. Header-only: shared by the tests of the unit_probe binary.
#pragma once

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/strand.hpp>
#include <chrono>

#include "mailsec/probe/endpoint_probe.h"

namespace mailsec::probe::probe_test {

inline EndpointReport ProbeOnce(config::Service service, int port,
                                std::chrono::milliseconds timeout, PhaseTimeouts phases = {}) {
  config::EndpointTarget t;
  t.service = service;
  t.host = "127.0.0.1";
  t.host_is_ip = true;
  t.port = static_cast<uint16_t>(port);
  ProbeOptions o;
  o.helo_name = "probe.test";
  o.timeout = timeout;
  o.phases = phases;
  auto tls = tls::TlsContext::Create("");
  EXPECT_TRUE(tls.ok()) << tls.status().ToString();
  o.tls = *tls;
  asio::io_context io;
  EndpointReport out;
  asio::co_spawn(asio::make_strand(io), ProbeAddress(t, asio::ip::make_address("127.0.0.1"), o),
                 [&out](std::exception_ptr ep, EndpointReport r) {
                   EXPECT_FALSE(ep);
                   out = std::move(r);
                 });
  io.run();
  return out;
}

}  // namespace mailsec::probe::probe_test
