// Waiting for SIGINT/SIGTERM from a fiber, through a signalfd watched by the reactor, so that
// `samsa broker` shuts down cleanly (flushing and checkpointing its logs) on Ctrl-C or kill.
#pragma once

#include "real/backend/reactor.h"
#include "runtime/status.h"

namespace samsa::real {

// Blocks SIGINT and SIGTERM for the process (call before starting helper threads' work) and
// returns a signalfd for them, or -1.
int block_termination_signals();
// Suspends the calling fiber until one of those signals arrives (or the fiber is cancelled).
Status wait_for_termination(Reactor& reactor, int signal_fd);

}  // namespace samsa::real
