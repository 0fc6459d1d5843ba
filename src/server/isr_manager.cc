#include "server/isr_manager.h"

#include <fmt/format.h>

#include "runtime/log.h"

namespace samsa::server {

void IsrManager::start() {
  SAMSA_ASSERT(fiber_ == kNoFiber);
  fiber_ = rt_.spawn("isr-manager", [this] { loop(); });
}

void IsrManager::stop() {
  if (fiber_ == kNoFiber) return;
  rt_.cancel(fiber_);
  (void)rt_.join(fiber_, Deadline::never());
  fiber_ = kNoFiber;
}

void IsrManager::loop() {
  for (;;) {
    if (rt_.sleep(kCheckInterval).code() == Errc::cancelled) return;
    if (cluster_.ready()) (void)send_changes();
  }
}

bool IsrManager::send_changes() {
  kafka::AlterPartitionRequest req;
  std::map<model::TopicPartition, int32_t> sent;
  const controller::MetadataImage& image = metadata_.image();
  for (const auto& [tp, partition] : partitions_.all()) {
    if (sent.size() >= kPartitionsPerRequestMax) break;
    const replication::PartitionState& state = partition->state();
    auto pending = in_flight_.find(tp);
    if (pending != in_flight_.end() && pending->second == state.partition_epoch.value) continue;
    const std::optional<std::vector<int32_t>> wanted = partition->wanted_isr(lag_max_);
    if (!wanted) continue;
    const controller::TopicImage* topic = image.topic(tp.topic);
    if (topic == nullptr || topic->id.to_string() != state.topic_id) continue;  // the metadata moved on
    kafka::AlterPartitionRequest::Partition p{.partition_index = tp.partition, .leader_epoch = state.leader_epoch.value,
                                              .partition_epoch = state.partition_epoch.value};
    for (int32_t id : *wanted) {
      // KIP-903: a member this leader saw fetch is named with the broker epoch its fetch
      // carried, so that a broker that restarted since (a new registration, maybe a shorter
      // log) is not added on what its previous incarnation showed: the controller refuses the
      // stale epoch (INELIGIBLE_REPLICA). Others (itself) with the epoch the metadata has.
      const controller::BrokerRegistration* b = image.broker(id);
      const int64_t fetched = partition->follower_broker_epoch(model::BrokerId{id});
      const int64_t epoch = fetched >= 0 ? fetched : b != nullptr ? b->epoch.value : -1;
      p.new_isr_with_epochs.push_back({.broker_id = id, .broker_epoch = epoch});
    }
    if (req.topics.empty() || req.topics.back().topic_id != topic->id) req.topics.push_back({.topic_id = topic->id});
    req.topics.back().partitions.push_back(std::move(p));
    sent[tp] = state.partition_epoch.value;
    partition->set_requested_isr(*wanted);
    rt_.log(LogLevel::info, fmt::format("{}: asking the controller for ISR [{}] (was [{}])", tp.to_string(),
                                        fmt::join(*wanted, ","), fmt::join(state.isr, ",")));
  }
  if (sent.empty()) return false;
  const kafka::AlterPartitionResponse resp = cluster_.alter_partition(std::move(req));  // suspends
  changes_sent_ += sent.size();
  // Unreachable controller, timeout, stale broker epoch: the next round asks again. The requested
  // members keep counting for the high watermark (the controller may have applied the change
  // before the answer was lost; dropping them here let the high watermark pass a new member's
  // log end, and an acknowledged record was lost when that member was elected:
  // samsa-sim --scenario groups --brokers 3 --seed 182 before this fix).
  if (resp.error_code != 0) return true;
  for (const auto& t : resp.topics) {
    const controller::TopicImage* topic = metadata_.image().topic_by_id(t.topic_id);
    if (topic == nullptr) continue;
    for (const auto& p : t.partitions) {
      model::TopicPartition tp{topic->name, p.partition_index};
      auto it = sent.find(tp);
      if (it == sent.end()) continue;
      if (p.error_code == 0) {
        in_flight_[tp] = it->second;  // until the metadata log brings the change
      } else {
        in_flight_.erase(tp);
        if (std::shared_ptr<replication::Partition> partition = partitions_.find(tp)) partition->clear_requested_isr();
        rt_.log(LogLevel::info, fmt::format("{}: ISR change refused ({})", tp.to_string(),
                                            kafka::error_name(static_cast<kafka::Error>(p.error_code))));
      }
    }
  }
  return true;
}

}  // namespace samsa::server
