// What a SIGHUP reload of `vigie run` cannot apply: the keys read once at
// start (sources, queues, log writer, metrics listener, flow table sizes).
// A reload publishes the new policy snapshot (scope, lists, [[policy]],
// [[exception]], [dns], [inspect]) and names every other changed key in its
// warning, so an operator knows a restart is needed.
//
// Pure function of two configs; thread safety: none needed.
#ifndef VIGIE_GATEWAY_CLI_RELOAD_KEYS_H_
#define VIGIE_GATEWAY_CLI_RELOAD_KEYS_H_

#include <string>
#include <vector>

#include "gateway/policy/config.h"

namespace vigie {

// "[gateway] queues", "[log] format", ... for each key whose value differs
// between the running config and the reloaded one and that only a restart
// applies; empty when the reload applies everything.
std::vector<std::string> UnappliedReloadKeys(const Config& running, const Config& fresh);

}  // namespace vigie

#endif  // VIGIE_GATEWAY_CLI_RELOAD_KEYS_H_
