// SimRuntime: the Runtime of one incarnation of a simulated node. Created by Simulator::start,
// destroyed by Simulator::crash after the node's fibers were unwound. Everything it does goes
// through the Simulator (fibers, clock, randomness), SimNetwork and the node's SimDisk.
#pragma once

#include "sim/world/sim_disk.h"
#include "sim/world/sim_network.h"
#include "sim/world/simulator.h"

namespace samsa::sim {

class SimRuntime final : public Runtime {
 public:
  SimRuntime(Simulator& sim, SimNode& node) : sim_(sim), node_(node) {}

  NodeId node_id() const override { return node_.id; }
  Instant now() const override { return sim_.now(); }
  int64_t wall_clock_ms() const override { return sim_.wall_clock_ms(node_.id); }
  std::string boot_id() const override { return "boot-" + std::to_string(node_.boots); }
  Status sleep_until(Deadline deadline) override { return sim_.sleep_until(deadline); }

  FiberId spawn(std::string name, std::function<void()> body) override {
    return sim_.spawn(node_.id, std::move(name), std::move(body));
  }
  Status join(FiberId fiber, Deadline deadline) override { return sim_.join(fiber, deadline); }
  void yield() override { sim_.yield(); }
  void cancel(FiberId fiber) override { sim_.cancel(fiber); }
  bool cancelled() const override { return sim_.cancelled(); }
  FiberId current_fiber() const override { return sim_.current(); }
  Status park(Deadline deadline) override { return sim_.park(deadline); }
  void unpark(FiberId fiber) override { sim_.unpark(fiber); }

  Result<std::unique_ptr<Listener>> listen(const Address& address) override {
    return sim_.network().listen(node_.id, address);
  }
  Result<std::unique_ptr<Socket>> connect(const Address& address, Deadline deadline) override {
    return sim_.network().connect(node_.id, address, deadline);
  }
  Status send_file(Socket& socket, File& file, uint64_t offset, uint64_t length, Deadline deadline) override;

  Result<std::unique_ptr<File>> open_file(const std::string& path, OpenMode mode) override {
    return node_.disk->open(path, mode);
  }
  Status remove_file(const std::string& path) override { return node_.disk->remove_file(path); }
  Status rename(const std::string& from, const std::string& to) override { return node_.disk->rename(from, to); }
  Status create_dir(const std::string& path) override { return node_.disk->create_dir(path); }
  Status remove_dir(const std::string& path) override { return node_.disk->remove_dir(path); }
  Result<std::vector<std::string>> list_dir(const std::string& path) override { return node_.disk->list_dir(path); }
  Status sync_dir(const std::string& path) override { return node_.disk->sync_dir(path); }

  uint64_t random_u64() override { return sim_.random_u64(); }
  bool buggify(std::string_view site) override { return sim_.buggify(site); }
  uint64_t open_files_max() const override { return node_.open_fds_max; }

  void log(LogLevel level, std::string_view message) override { sim_.log_line(node_.id, level, message); }
  bool log_enabled(LogLevel level) const override { return level >= sim_.options().log_level; }

 private:
  Simulator& sim_;
  SimNode& node_;
};

}  // namespace samsa::sim
