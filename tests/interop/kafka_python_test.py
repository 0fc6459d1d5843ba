# kafka-python against samsa: KafkaAdminClient create/delete, KafkaProducer, KafkaConsumer with
# manual assignment.
import os, sys
from kafka import KafkaProducer, KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic

bootstrap = os.environ["BOOTSTRAP"]
admin = KafkaAdminClient(bootstrap_servers=bootstrap)
admin.create_topics([NewTopic(name="py-topic", num_partitions=2, replication_factor=1)])
producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
sent = {}
for i in range(50):
    md = producer.send("py-topic", key=b"k%d" % i, value=b"v%d" % i, partition=i % 2).get(timeout=10)
    sent[(md.partition, md.offset)] = b"v%d" % i
producer.flush()
consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=3000)
tps = [TopicPartition("py-topic", 0), TopicPartition("py-topic", 1)]
consumer.assign(tps)
consumer.seek_to_beginning(*tps)
got = {(m.partition, m.offset): m.value for m in consumer}
consumer.close()
if got != sent:
    print("FAIL: consumed", got, "expected", sent)
    sys.exit(1)
admin.delete_topics(["py-topic"])
if "py-topic" in admin.list_topics():
    print("FAIL: topic still there after delete")
    sys.exit(1)
print("kafka-python OK", len(got))
