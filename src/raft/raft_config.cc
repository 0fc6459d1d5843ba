#include "raft/raft_config.h"

#include <charconv>

namespace samsa::raft {

bool RaftBugs::enable(std::string_view name) {
  bool* flags[] = {&vote_twice, &stale_vote, &commit_old_epoch, &ack_before_fsync, &volatile_quorum_state,
                   &follower_hw_regress};
  static_assert(std::size(kNames) == std::size(flags));
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (name == kNames[i]) {
      *flags[i] = true;
      return true;
    }
  }
  return false;
}

Result<std::map<int32_t, Address>> parse_voters(std::string_view text) {
  std::map<int32_t, Address> voters;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const size_t at = entry.find('@');
    if (at == std::string_view::npos) return Errc::invalid_argument;
    int32_t id = -1;
    auto [end, ec] = std::from_chars(entry.data(), entry.data() + at, id);
    if (ec != std::errc{} || end != entry.data() + at || id < 0) return Errc::invalid_argument;
    Result<Address> address = Address::parse(entry.substr(at + 1));
    if (!address.ok()) return Errc::invalid_argument;
    if (!voters.emplace(id, *address).second) return Errc::invalid_argument;
  }
  if (voters.empty()) return Errc::invalid_argument;
  return voters;
}

}  // namespace samsa::raft
