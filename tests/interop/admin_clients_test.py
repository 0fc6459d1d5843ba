# The admin APIs from real clients: kafka-python's KafkaAdminClient (CreatePartitions,
# AlterConfigs, DescribeConfigs for a broker, DeleteGroups), confluent-kafka's AdminClient
# (CreatePartitions, AlterConfigs, DescribeConfigs), and, for the APIs neither Debian client has,
# a small flexible-versions client written here from the protocol guide (independent of samsa's
# codec): ApiVersions v3, Metadata v12 topic ids against partition.metadata on disk,
# DescribeCluster v1, IncrementalAlterConfigs v1, DeleteRecords v2 and OffsetDelete v0.
import base64, os, socket, struct, sys, time
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic
from kafka.structs import OffsetAndMetadata
import confluent_kafka.admin as ck

bootstrap = os.environ["BOOTSTRAP"]
host, port = bootstrap.split(":")

def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)

# --- a minimal client for flexible versions ---
def uvarint(n):
    out = b""
    while n >= 0x80:
        out += bytes([(n & 0x7F) | 0x80]); n >>= 7
    return out + bytes([n])
def cstr(s): return uvarint(len(s) + 1) + s.encode()
def carr(items): return uvarint(len(items) + 1) + b"".join(items)
TAGS = b"\x00"

class R:
    def __init__(self, b): self.b, self.i = b, 0
    def take(self, n):
        v = self.b[self.i:self.i + n]; self.i += n
        if len(v) != n: fail("short response")
        return v
    def i8(self): return struct.unpack(">b", self.take(1))[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]
    def uv(self):
        n = s = 0
        while True:
            b = self.take(1)[0]; n |= (b & 0x7F) << s; s += 7
            if b < 0x80: return n
    def cstr(self):
        n = self.uv() - 1
        return None if n < 0 else self.take(n).decode()
    def carr(self, f): return [f(self) for _ in range(self.uv() - 1)]
    def tags(self):
        for _ in range(self.uv()): self.uv(); self.take(self.uv())

sock = socket.create_connection((host, int(port)))
corr = 0
def call(key, version, body, flexible=True, header_v1=True):
    global corr
    corr += 1
    header = struct.pack(">hhi", key, version, corr) + struct.pack(">h", 4) + b"test" + (TAGS if flexible else b"")
    frame = header + body
    sock.sendall(struct.pack(">i", len(frame)) + frame)
    size = struct.unpack(">i", recv(4))[0]
    r = R(recv(size))
    if r.i32() != corr: fail("correlation id")
    if flexible and header_v1: r.tags()
    return r
def recv(n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk: fail("connection closed")
        out += chunk
    return out

r = call(18, 3, cstr("samsa-test") + cstr("1.0") + TAGS, header_v1=False)  # ApiVersions: header v0
if r.i16() != 0: fail("ApiVersions v3 error")
keys = {k: (mn, mx) for k, mn, mx in r.carr(lambda r: (r.i16(), r.i16(), (r.i16(), r.tags())[0]))}
for key in (21, 33, 37, 42, 44, 47, 60):
    if key not in keys: fail("API %d not advertised" % key)
if keys[3][1] < 12 or keys[1][1] != 15: fail("Metadata/Fetch maxima %r %r" % (keys[3], keys[1]))

admin = KafkaAdminClient(bootstrap_servers=bootstrap)
admin.create_topics([NewTopic("adm-py", num_partitions=2, replication_factor=1)])

# Metadata v12: the topic id matches partition.metadata in every partition directory.
body = carr([b"\x00" * 16 + cstr("adm-py") + TAGS]) + b"\x00" + b"\x00" + TAGS
r = call(3, 12, body)
r.i32(); r.carr(lambda r: (r.i32(), r.cstr(), r.i32(), r.cstr(), r.tags()))
r.cstr(); r.i32()
def topic(r):
    err, name, tid, internal = r.i16(), r.cstr(), r.take(16), r.i8()
    parts = r.carr(lambda r: (r.i16(), r.i32(), r.i32(), r.i32(), r.carr(R.i32), r.carr(R.i32), r.carr(R.i32), r.tags())[:4])
    r.i32(); r.tags()
    return err, name, tid, parts
(err, name, tid, parts), = r.carr(topic)
if err or name != "adm-py" or tid == b"\x00" * 16: fail("Metadata v12 %r %r %r" % (err, name, tid))
if any(p[3] != 0 for p in parts): fail("leader epochs %r" % parts)
text = base64.urlsafe_b64encode(tid).decode().rstrip("=")
for p in range(2):
    meta = open(os.path.join(os.environ["SAMSA_DATA"], "data", "adm-py-%d" % p, "partition.metadata")).read()
    if meta != "version: 0\ntopic_id: %s\n" % text: fail("partition.metadata %r, id %s" % (meta, text))

r = call(60, 1, b"\x00" + b"\x01" + TAGS)  # DescribeCluster v1
r.i32()
if r.i16() != 0: fail("DescribeCluster error")
r.cstr(); r.i8()
cluster_id = r.cstr()
if not cluster_id or not cluster_id.startswith("samsa-"): fail("cluster id %r" % cluster_id)

# kafka-python: CreatePartitions, AlterConfigs, DescribeConfigs (topic and broker).
admin.create_partitions({"adm-py": NewPartitions(total_count=4)})
admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, "adm-py", configs={"retention.ms": "3600000"})])
def topic_configs(name):
    res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])[0].resources[0]
    return {c[0]: c[1] for c in res[4]}
if topic_configs("adm-py").get("retention.ms") != "3600000": fail("kafka-python alter_configs")
broker = admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "1")])[0].resources[0]
if broker[0] != 0 or not any(c[0] == "log.dirs" for c in broker[4]): fail("broker configs %r" % (broker,))

# IncrementalAlterConfigs v1: set segment.ms, delete retention.ms.
res = struct.pack(">b", 2) + cstr("adm-py") + carr([cstr("segment.ms") + b"\x00" + cstr("60000") + TAGS,
                                                   cstr("retention.ms") + b"\x01" + b"\x00" + TAGS]) + TAGS
r = call(44, 1, carr([res]) + b"\x00" + TAGS)
r.i32()
errs = r.carr(lambda r: (r.i16(), r.cstr(), r.i8(), r.cstr(), r.tags())[0])
if errs != [0]: fail("IncrementalAlterConfigs %r" % errs)
cfg = topic_configs("adm-py")
if cfg.get("segment.ms") != "60000" or cfg.get("retention.ms") == "3600000": fail("incremental configs %r" % cfg)

# confluent-kafka: CreatePartitions, AlterConfigs, DescribeConfigs.
cadmin = ck.AdminClient({"bootstrap.servers": bootstrap})
for _, f in cadmin.create_partitions([ck.NewPartitions("adm-py", 6)]).items(): f.result(10)
for _, f in cadmin.alter_configs([ck.ConfigResource("topic", "adm-py", set_config={"retention.ms": "7200000"})]).items(): f.result(10)
for _, f in cadmin.describe_configs([ck.ConfigResource("topic", "adm-py")]).items():
    if f.result(10)["retention.ms"].value != "7200000": fail("confluent-kafka alter/describe configs")
if len(cadmin.list_topics(timeout=10).topics["adm-py"].partitions) != 6: fail("confluent-kafka create_partitions")

# Records, a group with committed offsets, then DeleteRecords v2 and OffsetDelete v0.
producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
for i in range(10): producer.send("adm-py", value=b"x%d" % i, partition=0)
producer.flush(); producer.close()
r = call(21, 2, carr([cstr("adm-py") + carr([struct.pack(">iq", 0, 4) + TAGS]) + TAGS]) + struct.pack(">i", 5000) + TAGS)
r.i32()
((low, err),), = r.carr(lambda r: (r.cstr(), r.carr(lambda r: (r.i32(), r.i64(), r.i16(), r.tags())[1:3]), r.tags())[1])
if (low, err) != (4, 0): fail("DeleteRecords %r" % ((low, err),))
consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id="adm-group", enable_auto_commit=False)
tp0, tp1 = TopicPartition("adm-py", 0), TopicPartition("adm-py", 1)
if consumer.beginning_offsets([tp0])[tp0] != 4: fail("log start after DeleteRecords")
consumer.commit({tp0: OffsetAndMetadata(6, ""), tp1: OffsetAndMetadata(0, "")})
consumer.close()
body = struct.pack(">h", 9) + b"adm-group" + struct.pack(">i", 1) + struct.pack(">h", 6) + b"adm-py" + struct.pack(">ii", 1, 1)
r = call(47, 0, body, flexible=False)
top, _ = r.i16(), r.i32()
if top != 0: fail("OffsetDelete error %d" % top)
offsets = admin.list_consumer_group_offsets("adm-group")
if tp1 in offsets or offsets.get(tp0).offset != 6: fail("after OffsetDelete %r" % offsets)

# kafka-python: DeleteGroups.
result = dict(admin.delete_consumer_groups(["adm-group"]))
if result.get("adm-group") is None or result["adm-group"].errno != 0: fail("delete_consumer_groups %r" % result)
if "adm-group" in [g[0] for g in admin.list_consumer_groups()]: fail("deleted group still listed")
admin.close()
print("admin clients OK")
