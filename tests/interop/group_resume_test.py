# Group consumers of kafka-python or confluent-kafka commit offsets; after a broker restart a new
# consumer of the same group resumes from them: it gets exactly the records produced after the
# commit.   usage: group_resume_test.py kafka-python|confluent-kafka
import os, subprocess, sys, time

bootstrap = os.environ["BOOTSTRAP"]
client = sys.argv[1]
topic, group = "resume-" + client, "group-" + client
here = os.path.dirname(os.path.abspath(__file__))

def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)

def produce(values):
    if client == "kafka-python":
        from kafka import KafkaProducer
        p = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
        for v in values:
            p.send(topic, value=v.encode()).get(timeout=10)
        p.close()
    else:
        from confluent_kafka import Producer
        p = Producer({"bootstrap.servers": bootstrap, "acks": "all"})
        for v in values:
            p.produce(topic, value=v.encode())
        if p.flush(20) != 0:
            fail("produce did not complete")

def consume_and_commit(expected):
    got = []
    deadline = time.time() + 30
    if client == "kafka-python":
        from kafka import KafkaConsumer
        c = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                          enable_auto_commit=False, session_timeout_ms=10000)
        while len(got) < expected and time.time() < deadline:
            for tp, msgs in c.poll(timeout_ms=500).items():
                got += [m.value.decode() for m in msgs]
        c.commit()
        c.close()
    else:
        from confluent_kafka import Consumer
        c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                      "enable.auto.commit": False, "session.timeout.ms": 10000})
        c.subscribe([topic])
        while len(got) < expected and time.time() < deadline:
            m = c.poll(0.5)
            if m is not None and not m.error():
                got.append(m.value().decode())
        c.commit(asynchronous=False)
        c.close()
    return got

subprocess.run([os.environ["SAMSA"], "topics", "--create", "--topic", topic, "--partitions", "2",
                "--bootstrap-server", bootstrap], check=True, stdout=subprocess.DEVNULL)
first = ["a%d" % i for i in range(20)]
produce(first)
got = consume_and_commit(len(first))
if sorted(got) != sorted(first):
    fail("first consumer got %r" % got)
second = ["b%d" % i for i in range(10)]
produce(second)
subprocess.run(["bash", os.path.join(here, "restart_broker.sh")], check=True)
got = consume_and_commit(len(second))
if sorted(got) != sorted(second):
    fail("after the restart the group resumed wrongly: %r" % got)
print(client, "group resume OK")
