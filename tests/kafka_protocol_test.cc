// The protocol codec: batches produced by a real client (kcat/librdkafka, captured into
// tests/data/ from a samsa broker's segment files, one per codec), round trips of every message at
// every advertised version, truncation always detected, and hand-computed wire layouts.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "client/compression.h"
#include "protocol/api_versions.h"
#include "protocol/group_messages.h"

namespace samsa::kafka {
namespace {

std::vector<std::byte> read_data(const std::string& name) {
  std::ifstream in(std::string(SAMSA_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(raw.size());
  std::transform(raw.begin(), raw.end(), out.begin(), [](char c) { return std::byte(c); });
  return out;
}

std::string text(const std::optional<std::vector<std::byte>>& b) {
  return b ? std::string(reinterpret_cast<const char*>(b->data()), b->size()) : "null";
}

TEST(RealClientBatches, KcatBatchesOfEveryCodecValidateAndDecode) {
  for (const auto& [codec, expected] : std::vector<std::pair<std::string, Compression>>{
           {"none", Compression::none}, {"gzip", Compression::gzip}, {"snappy", Compression::snappy},
           {"lz4", Compression::lz4}, {"zstd", Compression::zstd}}) {
    std::vector<std::byte> batch = read_data("kcat-" + codec + ".batch");
    ASSERT_FALSE(batch.empty()) << codec;
    ASSERT_TRUE(validate_batch(batch).ok()) << codec;  // the CRC librdkafka computed
    auto h = parse_batch_header(batch);
    EXPECT_EQ(h->compression(), expected) << codec;
    auto records = client::decode_batch_records(batch);
    ASSERT_TRUE(records.ok()) << codec << ": " << errc_name(records.error());
    ASSERT_EQ(records->size(), 3u) << codec;
    EXPECT_EQ(text((*records)[0].key), "key1");
    EXPECT_EQ(text((*records)[2].value), "third");
    EXPECT_EQ(text((*records)[0].value).rfind("Hello Kafka! Hello Kafka! ", 0), 0u) << codec;
    EXPECT_EQ(text((*records)[1].value).size(), 2 * text((*records)[0].value).size()) << codec;
    ASSERT_EQ((*records)[0].headers.size(), 1u);
    EXPECT_EQ((*records)[0].headers[0].key, "h1");
    EXPECT_EQ((*records)[2].offset, h->base_offset + 2);
  }
}

// Encodes, decodes and encodes again: the bytes must match, and every strict prefix must fail.
template <typename M>
void round_trip(M message, int16_t version) {
  std::vector<std::byte> bytes = encode(message, version);
  Result<M> back = decode<M>(bytes, version);
  ASSERT_TRUE(back.ok()) << typeid(M).name() << " v" << version;
  EXPECT_EQ(encode(*back, version), bytes) << typeid(M).name() << " v" << version;
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE((decode<M>(ConstBytes(bytes).first(cut), version).ok())) << typeid(M).name() << " v" << version << " cut at " << cut;
  }
}

int16_t max_version(ApiKey key) { return supported_range(static_cast<int16_t>(key))->max_version; }

TEST(Messages, EveryMessageRoundTripsAtEveryAdvertisedVersion) {
  BatchBuilder b(1000);
  b.add(1000, as_bytes("k"), as_bytes("v"));
  const RecordsField records{false, b.build(), nullptr, 0, 0};
  for (int16_t v = 0; v <= max_version(ApiKey::metadata); ++v) {
    MetadataRequest req;
    req.topics = std::vector<std::string>{"a", "bb"};
    round_trip(req, v);
    MetadataResponse resp;
    resp.brokers.push_back({1, "host", 9092, std::nullopt});
    resp.topics.push_back({0, "a", false, {{0, 0, 1, {1}, {1}, {}}}});
    round_trip(resp, v);
  }
  for (int16_t v = 0; v <= max_version(ApiKey::produce); ++v) {
    ProduceRequest req;
    req.acks = -1;
    req.topics.push_back({"t", {{0, records}, {1, records}}});
    round_trip(req, v);
    ProduceResponse resp;
    resp.responses.push_back({"t", {{0, 0, 42, -1, 0}}});
    round_trip(resp, v);
  }
  for (int16_t v = 0; v <= max_version(ApiKey::fetch); ++v) {
    FetchRequest req;
    req.topics.push_back({"t", {{0, 5, 100, 0, 1 << 20}}});
    round_trip(req, v);
    FetchResponse resp;
    FetchResponse::Partition p;
    p.high_watermark = 10;
    p.aborted_transactions.emplace();
    p.records = records;
    resp.responses.push_back({"t", {p}});
    round_trip(resp, v);
  }
  for (int16_t v = 0; v <= max_version(ApiKey::list_offsets); ++v) {
    ListOffsetsRequest req;
    req.topics.push_back({"t", {{0, -2, 1}}});
    round_trip(req, v);
    ListOffsetsResponse resp;
    resp.topics.push_back({"t", {{0, 0, {7}, -1, 7}}});
    round_trip(resp, v);
  }
  for (int16_t v = 0; v <= max_version(ApiKey::create_topics); ++v) {
    CreateTopicsRequest req;
    req.topics.push_back({"t", 3, 1, {}, {{"retention.ms", "1000"}, {"x", std::nullopt}}});
    round_trip(req, v);
    CreateTopicsResponse resp;
    resp.topics.push_back({"t", 36, std::string("exists")});
    round_trip(resp, v);
  }
  for (int16_t v = 0; v <= max_version(ApiKey::describe_configs); ++v) {
    DescribeConfigsRequest req;
    req.resources.push_back({2, "t", std::vector<std::string>{"retention.ms"}});
    round_trip(req, v);
    DescribeConfigsResponse resp;
    DescribeConfigsResponse::Result r;
    r.resource_type = 2;
    r.resource_name = "t";
    r.configs.push_back({"retention.ms", std::string("1"), false, false, 1, false, {}});
    resp.results.push_back(r);
    round_trip(resp, v);
  }
  for (int16_t v = 0; v <= max_version(ApiKey::join_group); ++v) {
    JoinGroupRequest req{"g", 10000, 30000, "m", std::nullopt, "consumer", {{"range", {std::byte{1}}}}};
    round_trip(req, v);
    JoinGroupResponse resp;
    resp.generation_id = 3;
    resp.members.push_back({"m", std::nullopt, {std::byte{2}}});
    round_trip(resp, v);
  }
  for (int16_t v = 0; v <= max_version(ApiKey::offset_commit); ++v) {
    OffsetCommitRequest req;
    req.group_id = "g";
    req.topics.push_back({"t", {{0, 99, -1, -1, std::string("meta")}}});
    round_trip(req, v);
  }
  for (int16_t v = 0; v <= max_version(ApiKey::offset_fetch); ++v) {
    OffsetFetchRequest req;
    req.group_id = "g";
    req.topics = std::vector<OffsetFetchRequest::Topic>{{"t", {0, 1}}};
    round_trip(req, v);
    OffsetFetchResponse resp;
    resp.topics.push_back({"t", {{0, 99, -1, std::nullopt, 0}}});
    round_trip(resp, v);
  }
  for (int16_t v = 0; v <= max_version(ApiKey::leave_group); ++v) {
    LeaveGroupRequest req{"g", "m", {{"m", std::nullopt}}};
    if (v >= 3) req.member_id.clear();
    round_trip(req, v);
  }
  for (int16_t v = 0; v <= max_version(ApiKey::describe_groups); ++v) {
    DescribeGroupsResponse resp;
    DescribeGroupsResponse::Group g;
    g.group_id = "g";
    g.members.push_back({"m", std::nullopt, "c", "h", {}, {}});
    resp.groups.push_back(g);
    round_trip(resp, v);
  }
}

TEST(Messages, HandComputedWireLayouts) {
  ApiVersionsResponse av;
  av.api_keys = {{18, 0, 2}};
  const std::vector<std::byte> want = {std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1},
                                       std::byte{0}, std::byte{18}, std::byte{0}, std::byte{0}, std::byte{0}, std::byte{2}};
  EXPECT_EQ(encode(av, 0), want);  // error_code, [api_key min max]
  MetadataRequest m;
  m.topics = std::vector<std::string>{"a"};
  EXPECT_EQ(encode(m, 0), (std::vector<std::byte>{std::byte{0}, std::byte{0}, std::byte{0}, std::byte{1}, std::byte{0},
                                                  std::byte{1}, std::byte{'a'}}));
  m.topics.reset();  // v1+: null array means every topic
  EXPECT_EQ(encode(m, 1), (std::vector<std::byte>{std::byte{0xff}, std::byte{0xff}, std::byte{0xff}, std::byte{0xff}}));
}

}  // namespace
}  // namespace samsa::kafka
