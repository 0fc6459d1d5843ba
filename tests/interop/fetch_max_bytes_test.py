# KIP-74 with a real client: a confluent-kafka (librdkafka) consumer with fetch.max.bytes=1000000
# reads large messages from several partitions. A broker that returns every partition's first
# batch regardless of the response budget sends ~1.8 MB answers, which librdkafka rejects as an
# invalid response size and then stalls; samsa must keep each response within the budget (only
# the first batch may exceed it) so that every message arrives.
import os, sys, time
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = os.environ["BOOTSTRAP"]
topic, partitions, per_partition, size = "kip74", 3, 3, 600_000
admin = AdminClient({"bootstrap.servers": bootstrap})
for _, f in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).items():
    f.result(10)
producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 0, "batch.num.messages": 1})
errors = []
for i in range(partitions * per_partition):
    value = (b"%06d" % i) * (size // 6)
    producer.produce(topic, value=value, partition=i % partitions,
                     on_delivery=lambda e, m: errors.append(e) if e else None)
if producer.flush(30) != 0 or errors:
    print("FAIL: delivery", errors)
    sys.exit(1)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "kip74", "enable.auto.commit": False,
                     "fetch.max.bytes": 1000000, "max.partition.fetch.bytes": 1048576,
                     # the least librdkafka allows (fetch.max.bytes + 512): a larger answer is
                     # rejected as an invalid response size
                     "receive.message.max.bytes": 1000512,
                     "fetch.wait.max.ms": 100})
consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
got, problems = set(), []
deadline = time.time() + 30
while len(got) < partitions * per_partition and time.time() < deadline:
    m = consumer.poll(0.5)
    if m is None:
        continue
    if m.error():
        problems.append(str(m.error()))
        continue
    if len(m.value()) != size // 6 * 6:
        problems.append("short value %d" % len(m.value()))
    got.add(m.value()[:6])
consumer.close()
if len(got) != partitions * per_partition or problems:
    print("FAIL: received %d of %d; errors: %s" % (len(got), partitions * per_partition, problems[:3]))
    sys.exit(1)
print("fetch.max.bytes OK: %d messages of %d bytes" % (len(got), size))
