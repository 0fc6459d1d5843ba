# KIP-345 with a real client: two confluent-kafka (librdkafka) consumers with group.instance.id
# share a topic. One is closed (a static member sends no LeaveGroup) and restarted with the same
# instance id: it must get its old partitions back while the other member sees no rebalance (no
# revocation, no new assignment) and both keep consuming. Then a commit to a topic that does not
# exist fails with UNKNOWN_TOPIC_OR_PARTITION for that partition only.
import os, subprocess, sys, time
from confluent_kafka import Consumer, Producer, TopicPartition, KafkaException

bootstrap = os.environ["BOOTSTRAP"]
topic, group = "static-topic", "static-group"

def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)

subprocess.run([os.environ["SAMSA"], "topics", "--create", "--topic", topic, "--partitions", "4",
                "--bootstrap-server", bootstrap], check=True, stdout=subprocess.DEVNULL)

events = {"a": [], "b": []}
def consumer(name):
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "group.instance.id": "instance-" + name,
                  "session.timeout.ms": 30000, "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "partition.assignment.strategy": "range"})
    c.subscribe([topic], on_assign=lambda _, ps: events[name].append(("assign", sorted(p.partition for p in ps))),
                on_revoke=lambda _, ps: events[name].append(("revoke", sorted(p.partition for p in ps))))
    return c

def poll_until(consumers, cond, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        for c in consumers:
            c.poll(0.1)
        if cond():
            return
    fail("timed out waiting for " + what + ": " + repr(events))

a, b = consumer("a"), consumer("b")
assigned = lambda n: [e for e in events[n] if e[0] == "assign" and e[1]]
poll_until([a, b], lambda: assigned("a") and assigned("b") and
           len(assigned("a")[-1][1]) + len(assigned("b")[-1][1]) == 4, 40, "both members assigned")
a_parts = assigned("a")[-1][1]
b_events = len(events["b"])
a.close()  # static: no LeaveGroup, the member stays in the group until its session times out
events["a"].clear()
a = consumer("a")
poll_until([a, b], lambda: assigned("a"), 20, "the restarted member's assignment")
if assigned("a")[-1][1] != a_parts:
    fail("the restarted static member got %r, had %r" % (assigned("a")[-1][1], a_parts))
end = time.time() + 5
while time.time() < end:  # give a rebalance, were there one, time to reach b
    a.poll(0.1)
    b.poll(0.1)
if len(events["b"]) != b_events:
    fail("the other member saw a rebalance: %r" % events["b"][b_events:])

p = Producer({"bootstrap.servers": bootstrap})
for i in range(8):
    p.produce(topic, value=b"v%d" % i, partition=i % 4)
p.flush(10)
got = set()
deadline = time.time() + 20
while len(got) < 8 and time.time() < deadline:
    for c in (a, b):
        m = c.poll(0.1)
        if m is not None and not m.error():
            got.add(m.value())
if len(got) != 8:
    fail("consumed %d of 8 after the static rejoin" % len(got))

# A commit naming a topic that does not exist: only that partition fails.
try:
    result = b.commit(offsets=[TopicPartition(topic, assigned("b")[-1][1][0], 1), TopicPartition("no-such-topic", 0, 1)],
                      asynchronous=False)
    fail("commit to an unknown topic succeeded: %r" % result)
except KafkaException as e:
    if "UNKNOWN_TOPIC_OR_PART" not in str(e):
        fail("unexpected commit error %r" % e)
committed = b.committed([TopicPartition(topic, assigned("b")[-1][1][0])], timeout=10)
if committed[0].offset != 1:
    fail("the known partition's commit was lost: %r" % committed)
a.close()
b.close()
print("static membership OK; a restarted static member kept", a_parts, "without a rebalance")
