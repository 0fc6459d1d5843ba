#!/usr/bin/env bash
# Usage: replication_failover_test.sh SAMSA_BINARY
# Kafka's durability promise on three `samsa broker` processes (combined roles, loopback): a topic
# with replication factor 3 and min.insync.replicas=2; kafka-python (unmodified) produces with
# acks=all while the partition's leader is killed with SIGKILL; the killed node restarts. Then
# every record the client saw acknowledged must be read back (by kafka-python, from the new
# leader) at its acknowledged offset with its value, and the client must have gone on producing
# after the failover. Timings are printed, never asserted; waits only guard against a hang.
set -uo pipefail
SAMSA="$1"
DIR=$(mktemp -d /tmp/samsa-replication-XXXXXX)
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$(dirname "$0")/three_nodes.sh"
fail() { echo "FAIL: $*"; for i in 1 2 3; do echo "--- node $i"; tail -15 "$DIR/node-$i.log"; done; exit 1; }
leader_of() { "$SAMSA" topics --describe --topic acked --bootstrap-server "$BOOTSTRAP" 2>/dev/null | awk '/Partition: 0/ { print $6 }'; }

for i in 1 2 3; do start "$i"; done
created=""
for _ in $(seq 1 100); do
  created=$("$SAMSA" topics --create --topic acked --partitions 1 --replication-factor 3 --config min.insync.replicas=2 \
    --bootstrap-server "$BOOTSTRAP" 2>&1) && break
  sleep 0.2
done
echo "$created" | grep -q "Created topic acked" || fail "create: $created"
leader=""
for _ in $(seq 1 50); do leader=$(leader_of); [ -n "$leader" ] && [ "$leader" != "-1" ] && break; sleep 0.1; done
echo "topic acked: replication factor 3, min.insync.replicas=2, leader node $leader"

/usr/bin/python3 "$HERE/acked_producer.py" "$BOOTSTRAP" acked 300 "$DIR/acked.txt" >"$DIR/producer.out" 2>&1 &
producer=$!
sleep 4
kill -9 "${PID[$leader]}"
killed_at=$(date +%s%3N)
echo "killed the leader, node $leader, with SIGKILL while kafka-python produced"
new_leader=""
for _ in $(seq 1 300); do
  new_leader=$(leader_of)
  [ -n "$new_leader" ] && [ "$new_leader" != "-1" ] && [ "$new_leader" != "$leader" ] && break
  sleep 0.1
done
echo "node $new_leader leads after $(( $(date +%s%3N) - killed_at )) ms"
start "$leader"
wait "$producer" || fail "producer: $(cat "$DIR/producer.out")"
cat "$DIR/producer.out" | tail -1
acked=$(wc -l < "$DIR/acked.txt")
[ "$acked" -gt 100 ] || fail "only $acked records acknowledged: $(cat "$DIR/producer.out")"
last=$(sort -n "$DIR/acked.txt" | tail -1)
echo "last acknowledged: $last"
/usr/bin/python3 - "$BOOTSTRAP" "$DIR/acked.txt" <<'PY' || fail "acknowledged records are missing"
import sys
from kafka import KafkaConsumer, TopicPartition
bootstrap, acked_file = sys.argv[1], sys.argv[2]
acked = {}
for line in open(acked_file):
    offset, value = line.split()
    acked[int(offset)] = value
c = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False, consumer_timeout_ms=15000)
tp = TopicPartition("acked", 0)
c.assign([tp])
c.seek_to_beginning(tp)
seen = {}
for m in c:
    seen[m.offset] = m.value.decode()
    if max(seen) >= max(acked):
        break
bad = [(o, v, seen.get(o)) for o, v in sorted(acked.items()) if seen.get(o) != v]
for o, v, got in bad[:10]:
    print(f"  offset {o}: acknowledged {v}, read {got}")
print(f"{len(acked)} acknowledged records, {len(acked) - len(bad)} read back at their offsets")
sys.exit(1 if bad else 0)
PY
echo "PASS: every acknowledged record survived the leader's SIGKILL"
