"""Usage: group_failover_check.py BOOTSTRAP find-coordinator GROUP [NOT_NODE]
       group_failover_check.py BOOTSTRAP consume GROUP TOPIC COUNT
       group_failover_check.py BOOTSTRAP committed GROUP TOPIC PARTITIONS

kafka-python's view of a consumer group on a samsa cluster, for group_failover_test.sh.
find-coordinator: prints the node FindCoordinator names (retrying while the answer is
COORDINATOR_NOT_AVAILABLE, or names NOT_NODE: a killed broker is named until its session
expires and another replica leads the group's partition). consume: a group member reads COUNT records, commits them
synchronously and prints, per partition, "P FIRST NEXT" (the first offset it read and the offset
it committed). committed: prints "P OFFSET" for each partition's committed offset (-1: none)."""
import sys
import time

from kafka import KafkaConsumer, TopicPartition
from kafka.client_async import KafkaClient
from kafka.protocol.commit import GroupCoordinatorRequest


def find_coordinator(bootstrap, group, not_node):
    client = KafkaClient(bootstrap_servers=bootstrap.split(","))
    give_up = time.monotonic() + 60
    while time.monotonic() < give_up:
        client.poll(future=client.cluster.request_update())
        node = client.least_loaded_node()
        # The killed broker stays in the metadata until its session expires: a node that does
        # not become ready soon is skipped, not waited for (kafka-python may pick it again).
        ready_by = time.monotonic() + 2
        while not client.ready(node) and time.monotonic() < ready_by:
            client.poll(timeout_ms=200)
        if not client.ready(node):
            continue
        future = client.send(node, GroupCoordinatorRequest[0](group))
        client.poll(future=future)
        if future.succeeded() and future.value.error_code == 0 and future.value.coordinator_id != not_node:
            print(future.value.coordinator_id)
            return 0
        time.sleep(0.3)
    print("FAIL: no coordinator within 60 s")
    return 1


def consume(bootstrap, group, topic, count):
    c = KafkaConsumer(topic, bootstrap_servers=bootstrap.split(","), group_id=group, auto_offset_reset="earliest",
                      enable_auto_commit=False, session_timeout_ms=10000, request_timeout_ms=30000)
    first, nxt, got = {}, {}, 0
    give_up = time.monotonic() + 90
    while got < count and time.monotonic() < give_up:
        for tp, msgs in c.poll(timeout_ms=500, max_records=count - got).items():
            for m in msgs:
                first.setdefault(tp.partition, m.offset)
                nxt[tp.partition] = m.offset + 1
                got += 1
    if got < count:
        print(f"FAIL: read {got} of {count} records in 90 s")
        return 1
    c.commit()  # synchronous: raises if the coordinator did not acknowledge it
    for p in sorted(first):
        print(p, first[p], nxt[p])
    c.close(autocommit=False)
    return 0


def committed(bootstrap, group, topic, partitions):
    c = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=group, enable_auto_commit=False)
    for p in range(partitions):
        offset = c.committed(TopicPartition(topic, p))
        print(p, -1 if offset is None else offset)
    c.close(autocommit=False)
    return 0


def main():
    bootstrap, mode = sys.argv[1], sys.argv[2]
    if mode == "find-coordinator":
        return find_coordinator(bootstrap, sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else -1)
    if mode == "consume":
        return consume(bootstrap, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    if mode == "committed":
        return committed(bootstrap, sys.argv[3], sys.argv[4], int(sys.argv[5]))
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
