#!/usr/bin/env bash
# Usage: replication_failover_test.sh SAMSA_BINARY
# Kafka's durability promise on three `samsa broker` processes (combined roles, loopback): a topic
# with three partitions, replication factor 3 and min.insync.replicas=2. Three unmodified clients
# produce with acks=all at once, each to its own partition (kafka-python to 0, confluent-kafka to
# 1, kafkajs to 2), while the leader of a partition is killed with SIGKILL and restarted, three
# times (a different partition's leader each time). Then kcat reads every partition back: every
# record a client saw acknowledged must be there at its acknowledged offset with its value, and
# every client must have had records acknowledged after the last failover. Timings are printed,
# never asserted; waits only guard against a hang.
set -uo pipefail
SAMSA="$1"
DIR=$(mktemp -d /tmp/samsa-replication-XXXXXX)
HERE="$(cd "$(dirname "$0")" && pwd)"
. "$(dirname "$0")/three_nodes.sh"
fail() { echo "FAIL: $*"; for i in 1 2 3; do echo "--- node $i"; tail -15 "$DIR/node-$i.log"; done; exit 1; }
describe() { "$SAMSA" topics --describe --topic acked --bootstrap-server "$BOOTSTRAP" 2>/dev/null; }
# The value after NAME: on partition P's line of --describe.
field_of() { describe | awk -v p="$1" -v name="$2:" '{ for (i = 1; i < NF; i++) if ($i == "Partition:" && $(i+1) == p) { for (j = 1; j < NF; j++) if ($j == name) print $(j+1) } }'; }
now_ms() { date +%s%3N; }
STOP="$DIR/stop"  # the producers stop when it exists
CLIENTS=(kafka-python confluent-kafka kafkajs)

for i in 1 2 3; do start "$i"; done
create_topic acked --partitions 3 --replication-factor 3 --config min.insync.replicas=2
for p in 0 1 2; do
  for _ in $(seq 1 100); do [ "$(field_of "$p" Isr | tr ',' '\n' | wc -l)" = 3 ] && break; sleep 0.1; done
done
describe

/usr/bin/python3 "$HERE/acked_producer.py" kafka-python "$BOOTSTRAP" acked 0 "$STOP" "$DIR/acked-0.txt" >"$DIR/producer-0.out" 2>&1 &
p0=$!
/usr/bin/python3 "$HERE/acked_producer.py" confluent-kafka "$BOOTSTRAP" acked 1 "$STOP" "$DIR/acked-1.txt" >"$DIR/producer-1.out" 2>&1 &
p1=$!
node "$HERE/node/kafkajs_acked_producer.js" "$BOOTSTRAP" acked 2 "$STOP" "$DIR/acked-2.txt" >"$DIR/producer-2.out" 2>&1 &
p2=$!
sleep 4
last_kill=0
declare -A KILLED_AT
for round in 0 1 2; do
  leader=$(field_of "$round" Leader)
  [ -n "$leader" ] && [ "$leader" != "-1" ] || fail "partition $round has no leader"
  kill -9 "${PID[$leader]}"
  last_kill=$(now_ms)
  KILLED_AT[$round]=$last_kill
  echo "round $round: killed node $leader (leader of partition $round, written by ${CLIENTS[$round]}) with SIGKILL"
  new_leader=""
  for _ in $(seq 1 300); do
    new_leader=$(field_of "$round" Leader)
    [ -n "$new_leader" ] && [ "$new_leader" != "-1" ] && [ "$new_leader" != "$leader" ] && break
    sleep 0.1
  done
  echo "  node $new_leader leads partition $round after $(( $(now_ms) - last_kill )) ms"
  sleep 1
  start "$leader"
  for _ in $(seq 1 300); do [ "$(field_of "$round" Isr | tr ',' '\n' | wc -l)" = 3 ] && break; sleep 0.1; done
  echo "  node $leader restarted; partition $round's ISR is $(field_of "$round" Isr) after $(( $(now_ms) - last_kill )) ms"
  sleep 2
done
sleep 2
touch "$STOP"
wait "$p0" || fail "kafka-python producer: $(tail -5 "$DIR/producer-0.out")"
wait "$p1" || fail "confluent-kafka producer: $(tail -5 "$DIR/producer-1.out")"
wait "$p2" || fail "kafkajs producer: $(tail -5 "$DIR/producer-2.out")"
for p in 0 1 2; do tail -1 "$DIR/producer-$p.out"; done
describe

bad=0
for p in 0 1 2; do
  acked="$DIR/acked-$p.txt"
  count=$(wc -l < "$acked")
  [ "$count" -gt 50 ] || fail "${CLIENTS[$p]}: only $count records acknowledged: $(tail -3 "$DIR/producer-$p.out")"
  after=$(awk -v t="$last_kill" '$3 > t' "$acked" | wc -l)
  [ "$after" -gt 0 ] || fail "${CLIENTS[$p]}: nothing acknowledged after the last failover"
  kcat -C -b "$BOOTSTRAP" -t acked -p "$p" -o beginning -e -q -f '%o %s\n' > "$DIR/read-$p.txt" 2>"$DIR/kcat-$p.err" \
    || fail "kcat partition $p: $(cat "$DIR/kcat-$p.err")"
  missing=$(awk 'NR == FNR { got[$1] = $2; next } got[$1] != $2 { print "  offset " $1 ": acknowledged " $2 ", read " (($1 in got) ? got[$1] : "nothing") }' \
    "$DIR/read-$p.txt" "$acked")
  if [ -n "$missing" ]; then
    echo "${CLIENTS[$p]} (partition $p): acknowledged records missing or changed:"; echo "$missing" | head -10
    bad=1
  fi
  # Of the records handed to the client after the kill, the first acknowledged.
  first=$(awk -v t="${KILLED_AT[$p]}" '$4 > t && (m == "" || $3 < m) { m = $3 } END { print m }' "$acked")
  [ -n "$first" ] || fail "${CLIENTS[$p]}: nothing sent after the kill was acknowledged"
  echo "failover of partition $p: leader killed to the first acks=all acknowledgement (${CLIENTS[$p]}): $(( first - KILLED_AT[$p] )) ms"
  echo "${CLIENTS[$p]} (partition $p): $count acknowledged, $after after the last failover, all read back by kcat at their offsets: $([ -z "$missing" ] && echo yes || echo NO)"
done
[ "$bad" = 0 ] || fail "acknowledged records are missing"
echo "PASS: every acknowledged record survived three leader SIGKILLs, from all four clients"
