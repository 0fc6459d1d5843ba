// `samsa broker [--config FILE]`: runs one node (the broker and, with process.roles, a member of
// the KRaft metadata quorum) until SIGINT/SIGTERM.
#include <cstdio>

#include <signal.h>
#include <unistd.h>

#include "server/node.h"
#include "real/tools/cli.h"
#include "real/backend/real_runtime.h"
#include "real/backend/signals.h"
#include "samsa_version.h"

namespace samsa::real {

int run_broker_command(const BrokerArgs& args) {
  keep_freed_memory_for_broker();
  const int signal_fd = block_termination_signals();
  int exit_code = 0;
  RealOptions options;
  options.log_level = args.verbose ? LogLevel::debug : LogLevel::info;
  run_real(options, [&](Runtime& rt) {
    rt.log(LogLevel::info, "samsa commit " SAMSA_COMMIT);  // as Kafka logs its version and commit id
    // The file, then each --override (later keys win, as with Kafka's --override).
    std::string text;
    if (!args.config_file.empty()) {
      Result<std::vector<std::byte>> raw = read_file(rt, args.config_file, 1 << 20);
      if (!raw.ok()) {
        std::fprintf(stderr, "samsa broker: cannot read %s: %s\n", args.config_file.c_str(), errc_name(raw.error()));
        exit_code = 1;
        return;
      }
      text.assign(reinterpret_cast<const char*>(raw->data()), raw->size());
    }
    for (const std::string& o : args.overrides) text += "\n" + o;
    std::string error;
    Result<server::NodeConfig> config = server::NodeConfig::parse(text, &error);
    if (!config.ok()) {
      std::fprintf(stderr, "samsa broker: %s\n", error.c_str());
      exit_code = 1;
      return;
    }
    server::Node b(rt, *config);
    if (!b.start().ok()) {
      b.stop();
      exit_code = 1;
      return;
    }
    // A failed log dir halts the node (exit code 1), as Kafka does; a supervisor restarts it.
    bool failed = false;
    const FiberId watch = rt.spawn("log-dir-watch", [&] {
      if (b.wait_for_failure(Deadline::never()).code() == Errc::io_error) {
        failed = true;
        ::kill(::getpid(), SIGTERM);  // wakes the wait below through the signal fd
      }
    });
    (void)wait_for_termination(static_cast<RealRuntime&>(rt).reactor(), signal_fd);
    rt.cancel(watch);
    (void)rt.join(watch, Deadline::never());
    // SIGTERM: hand the leaderships over first (controlled shutdown); a failed disk halts at once.
    if (failed) b.stop();
    else b.shutdown();
    if (failed) exit_code = 1;
  });
  return exit_code;
}

}  // namespace samsa::real
