"""Usage: not_coordinator_check.py HOST:PORT...  (every broker of a running cluster)

A group's requests go to its coordinator: kafka-python's FindCoordinator names one broker (the
leader of the group's partition of __consumer_offsets, which the first FindCoordinator creates:
COORDINATOR_NOT_AVAILABLE (15) until it has leaders), which answers Heartbeat and OffsetFetch for
the group as its coordinator; every other broker answers NOT_COORDINATOR (16), so a client that
asked the wrong broker looks again. Exits 1 on a wrong answer."""
import sys
import time

from kafka.client_async import KafkaClient
from kafka.protocol.commit import GroupCoordinatorRequest, OffsetFetchRequest
from kafka.protocol.group import HeartbeatRequest

COORDINATOR_LOAD_IN_PROGRESS = 14
COORDINATOR_NOT_AVAILABLE = 15
NOT_COORDINATOR = 16


def call(client, node, request):
    while not client.ready(node):
        client.poll(timeout_ms=200)
    future = client.send(node, request)
    client.poll(future=future)
    if future.failed():
        raise future.exception
    return future.value


def main():
    brokers = sys.argv[1:]
    client = KafkaClient(bootstrap_servers=brokers)
    client.poll(future=client.cluster.request_update())
    nodes = sorted(b.nodeId for b in client.cluster.brokers())
    if len(nodes) != len(brokers):
        print(f"FAIL: metadata lists brokers {nodes}, expected {len(brokers)}")
        return 1
    for group in ["cg-a", "cg-b", "cg-c", "cg-d"]:
        give_up = time.monotonic() + 30
        found = call(client, nodes[0], GroupCoordinatorRequest[0](group))
        while found.error_code == COORDINATOR_NOT_AVAILABLE and time.monotonic() < give_up:
            time.sleep(0.2)
            found = call(client, nodes[0], GroupCoordinatorRequest[0](group))
        if found.error_code != 0:
            print(f"FAIL: FindCoordinator({group}) error {found.error_code}")
            return 1
        for node in nodes:
            coordinator = node == found.coordinator_id
            # The broker that answered FindCoordinator may learn of the new leader of the group's
            # __consumer_offsets partition before the leader itself does (each applies the
            # metadata log on its own): until then the coordinator-to-be answers NOT_COORDINATOR
            # or COORDINATOR_LOAD_IN_PROGRESS (14), and a client looks again. Only that is retried.
            settle = time.monotonic() + 10
            while True:
                hb = call(client, node, HeartbeatRequest[0](group, 1, "nobody")).error_code
                fetched = call(client, node, OffsetFetchRequest[1](group, [("t", [0])])).topics
                fetch_error = fetched[0][1][0][3]
                settling = hb in (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS) or fetch_error in (
                    NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS)
                if not (coordinator and settling and time.monotonic() < settle):
                    break
                time.sleep(0.1)
            if coordinator != (hb != NOT_COORDINATOR) or coordinator != (fetch_error != NOT_COORDINATOR):
                print(f"FAIL: group {group} (coordinator {found.coordinator_id}): broker {node} answered "
                      f"heartbeat {hb}, offset fetch {fetch_error}")
                return 1
        print(f"group {group}: coordinator {found.coordinator_id}; the others answer NOT_COORDINATOR")
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
