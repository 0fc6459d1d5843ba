# confluent-kafka (librdkafka) against samsa: AdminClient create_topics/list_topics, Producer
# with acks=all, Consumer with assign.
import os, sys, time
from confluent_kafka import Producer, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap = os.environ["BOOTSTRAP"]
admin = AdminClient({"bootstrap.servers": bootstrap})
for topic, f in admin.create_topics([NewTopic("ck-topic", num_partitions=3, replication_factor=1)]).items():
    f.result(10)
md = admin.list_topics(timeout=10)
if "ck-topic" not in md.topics or len(md.topics["ck-topic"].partitions) != 3:
    print("FAIL: list_topics", md.topics)
    sys.exit(1)
errors = []
producer = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
for i in range(60):
    producer.produce("ck-topic", value=b"m%d" % i, partition=i % 3, on_delivery=lambda e, m: errors.append(e) if e else None)
if producer.flush(20) != 0 or errors:
    print("FAIL: delivery", errors)
    sys.exit(1)
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "ck-assign", "enable.auto.commit": False})
consumer.assign([TopicPartition("ck-topic", p, 0) for p in range(3)])
got = []
deadline = time.time() + 20
while len(got) < 60 and time.time() < deadline:
    m = consumer.poll(0.5)
    if m is not None and not m.error():
        got.append(m.value())
consumer.close()
if sorted(got) != sorted(b"m%d" % i for i in range(60)):
    print("FAIL: consumed", len(got), got[:5])
    sys.exit(1)
print("confluent-kafka OK", len(got))
