// Internal to the probe layer: the protocol dialogue of a service, shared by the fast probe and
// the deep scan.
#pragma once

#include <memory>

#include "mailsec/config/target.h"
#include "mailsec/net/transport.h"
#include "mailsec/probe/endpoint_probe.h"
#include "mailsec/proto/dialogue.h"

namespace mailsec::probe::internal {

// The dialogue of `service` over `transport` with the options' HELO name and limits. `transport`
// must outlive the dialogue (or be switched away first).
std::unique_ptr<proto::Dialogue> MakeDialogue(config::Service service, net::Transport* transport,
                                              const ProbeOptions& options);

}  // namespace mailsec::probe::internal
