// The protocol codec: batches produced by a real client (kcat/librdkafka, captured into
// tests/data/ from a samsa broker's segment files, one per codec), round trips of every message in
// the schema at every described version, truncation always detected, hand-computed wire layouts
// (classic and flexible: compact strings, tagged fields, header v2) and bounded rejection of
// lying lengths and tags.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "client/compression.h"
#include "protocol/api_versions.h"
#include "protocol/group_messages.h"
#include "message_filler.h"

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

std::vector<std::byte> b(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int x : v) out.push_back(static_cast<std::byte>(x));
  return out;
}

// For every message and data struct in the schema, at every described version, from several
// filled samples: decode(encode(m)) == m, encoding again gives the same bytes, and every strict
// prefix fails to decode.
TEST(Messages, EveryMessageRoundTripsAtEveryDescribedVersion) {
  size_t messages = 0, cases = 0;
  for_each_message([&]<typename M>() {
    ++messages;
    for (int16_t v = M::kMinVersion; v <= M::kMaxVersion; ++v) {
      for (uint32_t seed = 0; seed < 4; ++seed) {
        M m;
        Filler filler(seed);
        m.serde(filler, v);
        std::vector<std::byte> bytes = encode(m, v);
        Result<M> back = decode<M>(bytes, v);
        ASSERT_TRUE(back.ok()) << M::kName << " v" << v << " seed " << seed;
        EXPECT_TRUE(*back == m) << M::kName << " v" << v << " seed " << seed;
        EXPECT_EQ(encode(*back, v), bytes) << M::kName << " v" << v;
        for (size_t cut = 0; cut < bytes.size(); ++cut) {
          EXPECT_FALSE(decode<M>(ConstBytes(bytes).first(cut), v).ok()) << M::kName << " v" << v << " cut at " << cut;
        }
        ++cases;
      }
    }
  });
  EXPECT_GE(messages, 40u);  // every API's request and response, headers and data structs
  EXPECT_GT(cases, 1000u);
}

// What samsa advertises lies within what the schema describes (also a static_assert), and the
// flexible-version boundary of each API is the protocol guide's.
TEST(Messages, AdvertisedVersionsAreDescribedWithTheGuidesFlexibleVersions) {
  for (const ApiRange& r : kSupportedApis) {
    const DescribedApi* d = described_api(static_cast<int16_t>(r.key));
    ASSERT_NE(d, nullptr);
    EXPECT_LE(r.max_version, d->max_version) << d->name;
  }
  EXPECT_TRUE(is_flexible(ApiKey::api_versions, 3));
  EXPECT_FALSE(is_flexible(ApiKey::api_versions, 2));
  EXPECT_TRUE(is_flexible(ApiKey::metadata, 9));
  EXPECT_FALSE(is_flexible(ApiKey::metadata, 8));
  EXPECT_TRUE(is_flexible(ApiKey::fetch, 12));
  EXPECT_TRUE(is_flexible(ApiKey::produce, 9));
  EXPECT_FALSE(is_flexible(ApiKey::offset_delete, 0));
  EXPECT_EQ(request_header_version(ApiKey::metadata, 9), 2);
  EXPECT_EQ(request_header_version(ApiKey::metadata, 8), 1);
  EXPECT_EQ(response_header_version(ApiKey::metadata, 9), 1);
  EXPECT_EQ(response_header_version(ApiKey::api_versions, 3), 0);  // always v0
  // Fetch to v15: topic ids (v13) and the follower's ReplicaState (v15, KIP-903).
  EXPECT_EQ(described_api(static_cast<int16_t>(ApiKey::fetch))->max_version, 15);
  EXPECT_EQ(supported_range(static_cast<int16_t>(ApiKey::fetch))->max_version, 15);
  for (ApiKey k : {ApiKey::vote, ApiKey::begin_quorum_epoch, ApiKey::end_quorum_epoch, ApiKey::describe_quorum,
                   ApiKey::alter_partition, ApiKey::fetch_snapshot, ApiKey::broker_registration,
                   ApiKey::broker_heartbeat, ApiKey::unregister_broker}) {
    EXPECT_NE(described_api(static_cast<int16_t>(k)), nullptr);
    EXPECT_FALSE(supported_range(static_cast<int16_t>(k)).has_value());
  }
}

// Fetch v15's follower state is a tagged field replacing replica_id; v13 sends topic ids.
TEST(Messages, HandComputedFetchV15ReplicaStateAndVotePreVote) {
  FetchRequest f;
  f.replica_state = {.replica_id = 2, .replica_epoch = 7};
  f.max_wait_ms = 1;
  f.min_bytes = 1;
  f.max_bytes = 100;
  // No replica_id in v15: max_wait, min_bytes, max_bytes, isolation, session id, epoch, topics,
  // forgotten, rack, then tag 1 of 13 bytes: replica_id, replica_epoch, empty tag buffer.
  std::vector<std::byte> want = b({0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 1, 1, 1,
                                   1, 1, 13, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 7, 0});
  EXPECT_EQ(encode(f, 15), want);
  VoteRequest v;
  v.topics = {{.topic_name = "m", .partitions = {{.partition_index = 0, .replica_epoch = 3, .replica_id = 1,
                                                  .last_offset_epoch = 2, .last_offset = 9, .pre_vote = true}}}};
  std::vector<std::byte> v2 = encode(v, 2);
  std::vector<std::byte> v0 = encode(v, 0);
  EXPECT_EQ(v2.size(), v0.size() + 4 + 32 + 1);  // voter_id, two directory ids, pre_vote
  EXPECT_EQ(v2[v2.size() - 4], std::byte{1});     // pre_vote, then partition, topic, request tags
}

// AlterPartition (flexible from v0): v2 names a topic by id instead of by name (KIP-841), v3
// sends each ISR member with its broker epoch instead of the plain ISR (KIP-903), v1 adds the
// leader recovery state (KIP-704).
TEST(Messages, HandComputedAlterPartitionVersions) {
  AlterPartitionRequest req;
  req.broker_id = 1;
  req.broker_epoch = 5;
  AlterPartitionRequest::Topic t{.topic_name = "t"};
  for (uint8_t i = 0; i < 16; ++i) t.topic_id.bytes[i] = i + 1;
  t.partitions = {{.partition_index = 0, .leader_epoch = 2, .new_isr = {1, 2},
                   .new_isr_with_epochs = {{.broker_id = 1, .broker_epoch = 5}, {.broker_id = 2, .broker_epoch = 7}},
                   .leader_recovery_state = 0, .partition_epoch = 3}};
  req.topics = {t};
  std::vector<std::byte> head = b({0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 2});  // broker id, epoch, 1 topic
  std::vector<std::byte> id = b({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  std::vector<std::byte> part = b({2, 0, 0, 0, 0, 0, 0, 0, 2});  // 1 partition: index 0, leader epoch 2
  std::vector<std::byte> isr_v3 = b({3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 7, 0});
  std::vector<std::byte> isr_v2 = b({3, 0, 0, 0, 1, 0, 0, 0, 2});
  std::vector<std::byte> tail = b({0, 0, 0, 0, 3, 0, 0, 0});  // recovery state, partition epoch, three tag buffers
  auto cat = [](std::initializer_list<std::vector<std::byte>> parts) {
    std::vector<std::byte> out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  EXPECT_EQ(encode(req, 3), cat({head, id, part, isr_v3, tail}));
  EXPECT_EQ(encode(req, 2), cat({head, id, part, isr_v2, tail}));
  EXPECT_EQ(encode(req, 1), cat({head, b({2, 't'}), part, isr_v2, tail}));
  EXPECT_EQ(encode(req, 0), cat({head, b({2, 't'}), part, isr_v2, b({0, 0, 0, 3, 0, 0, 0})}));
  AlterPartitionResponse resp;
  resp.topics = {{.topic_id = t.topic_id,
                  .partitions = {{.partition_index = 0, .leader_id = 1, .leader_epoch = 2, .isr = {1, 2}, .partition_epoch = 4}}}};
  // throttle, top-level error, 1 topic (id), 1 partition: index, error, leader, leader epoch,
  // ISR [1, 2], recovery state, partition epoch, then the partition, topic and response tags.
  EXPECT_EQ(encode(resp, 3), cat({b({0, 0, 0, 0, 0, 0, 2}), id,
                                  b({2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 4, 0, 0, 0})}));
}

TEST(Messages, HandComputedClassicLayouts) {
  ApiVersionsResponse av;
  av.api_keys = {{.api_key = 18, .min_version = 0, .max_version = 2}};
  EXPECT_EQ(encode(av, 0), b({0, 0, 0, 0, 0, 1, 0, 18, 0, 0, 0, 2}));  // error_code, [api_key min max]
  MetadataRequest m;
  m.topics = std::vector<MetadataRequest::Topic>{{.name = "a"}};
  EXPECT_EQ(encode(m, 0), b({0, 0, 0, 1, 0, 1, 'a'}));
  m.topics.reset();  // v1+: null array means every topic
  EXPECT_EQ(encode(m, 1), b({0xff, 0xff, 0xff, 0xff}));
}

// Request header v2 keeps client_id a classic (INT16-length) nullable string, then a tag buffer;
// the ApiVersions v3 body uses compact strings (uvarint length + 1) and ends with its own tags.
TEST(Messages, HandComputedRequestHeaderV2AndCompactStrings) {
  RequestHeader h{.api_key = 18, .api_version = 3, .correlation_id = 7, .client_id = std::string("ab")};
  EXPECT_EQ(encode(h, 2), b({0, 18, 0, 3, 0, 0, 0, 7, 0, 2, 'a', 'b', 0}));
  EXPECT_EQ(encode(h, 1), b({0, 18, 0, 3, 0, 0, 0, 7, 0, 2, 'a', 'b'}));
  h.client_id.reset();
  EXPECT_EQ(encode(h, 2), b({0, 18, 0, 3, 0, 0, 0, 7, 0xff, 0xff, 0}));
  ApiVersionsRequest req{.client_software_name = "samsa", .client_software_version = "1"};
  EXPECT_EQ(encode(req, 3), b({6, 's', 'a', 'm', 's', 'a', 2, '1', 0}));
  EXPECT_EQ(encode(req, 2), b({}));
  ResponseHeader rh{.correlation_id = 258};
  EXPECT_EQ(encode(rh, 1), b({0, 0, 1, 2, 0}));
  EXPECT_EQ(encode(rh, 0), b({0, 0, 1, 2}));
  // A compact string of 200 bytes: its length + 1 = 201 as a uvarint is 0xc9 0x01.
  CreateTopicsResponse::Config c{.name = std::string(200, 'x'), .value = std::nullopt};
  std::vector<std::byte> bytes = encode(c, 5);
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], std::byte{0xc9});
  EXPECT_EQ(bytes[1], std::byte{0x01});
  EXPECT_EQ(bytes[202], std::byte{0});  // null compact nullable string
}

// Metadata v9, the first flexible version: compact nullable array (0 = null), booleans, tags.
TEST(Messages, HandComputedFlexibleMetadataRequest) {
  MetadataRequest m;
  EXPECT_EQ(encode(m, 9), b({0, 1, 0, 0, 0}));  // topics null, auto create, cluster ops, topic ops, tags
  m.topics = std::vector<MetadataRequest::Topic>{{.name = "t"}};
  // v10: [topic_id (16 zero bytes), compact nullable name, tags]
  std::vector<std::byte> want = b({2});
  want.resize(17, std::byte{0});
  for (std::byte x : b({2, 't', 0, 1, 0, 0, 0})) want.push_back(x);
  EXPECT_EQ(encode(m, 10), want);
}

// A tagged field is written only when it differs from its default: ApiVersions v3 with
// FinalizedFeaturesEpoch (tag 1) = 5.
TEST(Messages, HandComputedTaggedFields) {
  ApiVersionsResponse av;
  av.api_keys = {{.api_key = 18, .min_version = 0, .max_version = 3}};
  const std::vector<std::byte> untagged = b({0, 0, 2, 0, 18, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(encode(av, 3), untagged);
  av.finalized_features_epoch = 5;
  std::vector<std::byte> tagged = untagged;
  tagged.back() = std::byte{1};  // one tagged field
  for (std::byte x : b({1, 8, 0, 0, 0, 0, 0, 0, 0, 5})) tagged.push_back(x);  // tag 1, 8 bytes, int64 5
  EXPECT_EQ(encode(av, 3), tagged);
  Result<ApiVersionsResponse> back = decode<ApiVersionsResponse>(tagged, 3);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->finalized_features_epoch, 5);
  // An unknown tag (9, three bytes) is skipped; the known one is still read.
  std::vector<std::byte> unknown = tagged;
  unknown[untagged.size() - 1] = std::byte{2};
  for (std::byte x : b({9, 3, 0xaa, 0xbb, 0xcc})) unknown.push_back(x);
  back = decode<ApiVersionsResponse>(unknown, 3);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->finalized_features_epoch, 5);
}

// Lies in the lengths never allocate past the frame and never decode.
TEST(Messages, GarbageLengthsAndTagsAreRejectedBoundedly) {
  // Compact string length 2^31 in a 6-byte body.
  EXPECT_FALSE((decode<ApiVersionsRequest>(b({0x80, 0x80, 0x80, 0x80, 0x08, 0}), 3).ok()));
  // A uvarint longer than five bytes, or with bits beyond 32.
  EXPECT_FALSE((decode<ApiVersionsRequest>(b({0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), 3).ok()));
  EXPECT_FALSE((decode<ApiVersionsRequest>(b({0xff, 0xff, 0xff, 0xff, 0x1f}), 3).ok()));
  // A compact array of 2^32 - 2 elements.
  EXPECT_FALSE((decode<ApiVersionsResponse>(b({0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0, 0, 0}), 3).ok()));
  // A null compact array where the version does not allow null.
  EXPECT_FALSE((decode<ApiVersionsResponse>(b({0, 0, 0, 0, 0, 0, 0, 0}), 3).ok()));
  const std::vector<std::byte> head = b({0, 0, 1, 0, 0, 0, 0});  // error, no keys, throttle 0
  auto with_tags = [&](std::initializer_list<int> tags) {
    std::vector<std::byte> v = head;
    for (std::byte x : b(tags)) v.push_back(x);
    return decode<ApiVersionsResponse>(v, 3).ok();
  };
  EXPECT_TRUE(with_tags({0}));
  EXPECT_FALSE(with_tags({1, 9, 100, 0}));           // a tag's size beyond the frame
  EXPECT_FALSE(with_tags({2, 9, 0, 9, 0}));          // the same tag twice
  EXPECT_FALSE(with_tags({2, 9, 0, 4, 0}));          // tags out of order
  EXPECT_FALSE(with_tags({1, 1, 9, 0, 0, 0, 0, 0, 0, 0, 0, 5}));  // int64 in a 9-byte tag
  EXPECT_FALSE(with_tags({1, 1, 4, 0, 0, 0, 5}));    // int64 in a 4-byte tag
  EXPECT_FALSE(with_tags({200}));                     // more tags than bytes
}

// Records decoded from a shared frame are views into it (no copy), keep it alive after every
// other owner let go, compare equal to the copying decode, and encode back to the same bytes.
TEST(Messages, RecordsDecodedFromASharedFrameAreViewsThatKeepItAlive) {
  ProduceRequest req;
  req.acks = -1;
  req.timeout_ms = 1000;
  std::vector<std::byte> records(5000);
  for (size_t i = 0; i < records.size(); ++i) records[i] = static_cast<std::byte>(i * 7);
  req.topics.push_back({.name = "t", .partitions = {{.index = 3, .records = RecordsField{.bytes = records}}}});
  for (int16_t version : {3, 9}) {
    const std::vector<std::byte> body = encode(req, version);
    auto frame = std::make_shared<const FrameBuffer>(body.begin(), body.end());
    Result<ProduceRequest> shared = decode_shared<ProduceRequest>(ConstBytes(*frame), frame, version);
    ASSERT_TRUE(shared.ok());
    const RecordsField& r = shared->topics.at(0).partitions.at(0).records;
    ASSERT_TRUE(r.frame != nullptr);
    EXPECT_TRUE(r.bytes.empty()) << "copied";
    EXPECT_GE(r.view.data(), frame->data());
    EXPECT_LE(r.view.data() + r.view.size(), frame->data() + frame->size());
    const std::byte* inside = r.view.data();
    frame.reset();
    EXPECT_EQ(r.view.data(), inside);
    EXPECT_TRUE(std::equal(r.data().begin(), r.data().end(), records.begin(), records.end()));
    Result<ProduceRequest> copied = decode<ProduceRequest>(body, version);
    ASSERT_TRUE(copied.ok());
    EXPECT_TRUE(copied->topics.at(0).partitions.at(0).records.frame == nullptr);
    EXPECT_TRUE(*copied == *shared);
    EXPECT_EQ(encode(*shared, version), body);
    RecordsField taken = shared->topics.at(0).partitions.at(0).records;
    EXPECT_EQ(taken.take_bytes(), records);
  }
}

TEST(Messages, UuidTextFormIsKafkasBase64) {
  Uuid zero;
  EXPECT_EQ(zero.to_string(), "AAAAAAAAAAAAAAAAAAAAAA");
  Uuid u = Uuid::from_random(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  EXPECT_EQ(u.bytes[6] >> 4, 4);       // version 4
  EXPECT_EQ(u.bytes[8] >> 6, 2);       // IETF variant
  ASSERT_EQ(u.to_string().size(), 22u);
  EXPECT_EQ(Uuid::parse(u.to_string()), u);
  EXPECT_FALSE(Uuid::parse("short").has_value());
  for (uint64_t i = 0; i < 200; ++i) EXPECT_NE(Uuid::from_random(~i << 56 | i, i).to_string()[0], '-');
}

}  // namespace
}  // namespace samsa::kafka
