#include "raft/quorum_state.h"

#include <charconv>

#include <fmt/format.h>

#include "log/checkpoint_file.h"

namespace samsa::raft {

std::string QuorumStateFile::encode(const ElectionState& s, const std::vector<int32_t>& voters) {
  std::string voter_list;
  for (int32_t v : voters) voter_list += fmt::format("{}{{\"voterId\":{}}}", voter_list.empty() ? "" : ",", v);
  return fmt::format("{{\"clusterId\":\"\",\"leaderId\":{},\"leaderEpoch\":{},\"votedId\":{},\"appliedOffset\":0,"
                     "\"currentVoters\":[{}],\"data_version\":0}}\n",
                     s.leader_id.value_or(-1), s.epoch, s.voted_id.value_or(-1), voter_list);
}

namespace {

// The integer after "key": in a flat JSON object we wrote ourselves.
std::optional<int64_t> json_int(std::string_view text, std::string_view key) {
  const std::string quoted = fmt::format("\"{}\":", key);
  const size_t at = text.find(quoted);
  if (at == std::string_view::npos) return std::nullopt;
  const char* begin = text.data() + at + quoted.size();
  int64_t v = 0;
  auto [end, ec] = std::from_chars(begin, text.data() + text.size(), v);
  if (ec != std::errc{} || end == begin) return std::nullopt;
  return v;
}

}  // namespace

Result<ElectionState> QuorumStateFile::decode(std::string_view text) {
  const std::optional<int64_t> leader = json_int(text, "leaderId");
  const std::optional<int64_t> epoch = json_int(text, "leaderEpoch");
  const std::optional<int64_t> voted = json_int(text, "votedId");
  if (!leader || !epoch || !voted || *epoch < 0 || *epoch > INT32_MAX || text.find("data_version") == std::string_view::npos) {
    return Errc::corrupt;
  }
  ElectionState s;
  s.epoch = static_cast<int32_t>(*epoch);
  if (*leader >= 0) s.leader_id = static_cast<int32_t>(*leader);
  if (*voted >= 0) s.voted_id = static_cast<int32_t>(*voted);
  return s;
}

Result<ElectionState> QuorumStateFile::load() {
  Result<std::vector<std::byte>> data = read_file(rt_, dir_ + "/" + kFileName, kFileBytesMax);
  if (data.error() == Errc::not_found) return ElectionState{};
  if (!data.ok()) return data.status();
  return decode(std::string_view(reinterpret_cast<const char*>(data->data()), data->size()));
}

Status QuorumStateFile::store(const ElectionState& state, const std::vector<int32_t>& voters, bool durable) {
  const std::string text = encode(state, voters);
  return write_file_atomically(rt_, dir_, kFileName, std::as_bytes(std::span(text.data(), text.size())), durable);
}

}  // namespace samsa::raft
