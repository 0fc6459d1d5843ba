#!/usr/bin/env bash
# Usage: group_failover_test.sh SAMSA_BINARY
# A consumer group survives the loss of its coordinator's broker (the replicated
# __consumer_offsets, Kafka's design): three `samsa broker` processes (combined roles, loopback);
# a topic with two partitions, replication factor 3, min.insync.replicas 2, and 400 records. A
# kafka-python group member reads 150 and commits them; the coordinator FindCoordinator names
# (the leader of the group's partition of __consumer_offsets, replication factor 3) is killed
# with SIGKILL. Another broker must become the group's coordinator, it must hand out exactly the
# committed offsets, and a new member must resume there, read the other 250 and commit them.
# Waits only guard against a hang; timings are printed, never asserted.
set -uo pipefail
SAMSA="$1"
DIR=$(mktemp -d /tmp/samsa-groupfail-XXXXXX)
. "$(dirname "$0")/three_nodes.sh"
CHECK="/usr/bin/python3 $(dirname "$0")/group_failover_check.py"
fail() { echo "FAIL: $*"; for i in 1 2 3; do echo "--- node $i"; tail -8 "$DIR/node-$i.log"; done; exit 1; }
now_ms() { date +%s%3N; }

for i in 1 2 3; do start "$i"; done
create_topic gf --partitions 2 --replication-factor 3 --config min.insync.replicas=2
seq 1 400 | "$SAMSA" console-producer --topic gf --bootstrap-server "$BOOTSTRAP" --request-required-acks all \
  || fail "produce failed"

member() {  # member NAME COUNT BOOTSTRAP: a group member reads COUNT records and commits them
  $CHECK "$3" consume gf-group gf "$2" > "$DIR/$1.out" || fail "$1 member: $(cat "$DIR/$1.out")"
  echo "$1 member read and committed (partition first next):"; sed 's/^/  /' "$DIR/$1.out"
}
member first 150 "$BOOTSTRAP"
coordinator=$($CHECK "$BOOTSTRAP" find-coordinator gf-group) || fail "find-coordinator: $coordinator"
"$SAMSA" topics --describe --topic __consumer_offsets --bootstrap-server "$BOOTSTRAP" | head -1
echo "the group's coordinator is node $coordinator: SIGKILL"
t0=$(now_ms)
kill -9 "${PID[$coordinator]}"
wait "${PID[$coordinator]}" 2>/dev/null
survivors=""
for i in 1 2 3; do [ "$i" != "$coordinator" ] && survivors="$survivors${survivors:+,}127.0.0.1:${BPORT[$i]}"; done
moved=$($CHECK "$survivors" find-coordinator gf-group "$coordinator") || fail "no new coordinator: $moved"
echo "node $moved coordinates the group $(( $(now_ms) - t0 )) ms after the kill"

$CHECK "$survivors" committed gf-group gf 2 > "$DIR/committed.out" || fail "committed: $(cat "$DIR/committed.out")"
echo "committed offsets on the new coordinator:"; sed 's/^/  /' "$DIR/committed.out"
while read -r p first next; do
  got=$(awk -v p="$p" '$1 == p { print $2 }' "$DIR/committed.out")
  [ "$got" = "$next" ] || fail "partition $p: the new coordinator has offset $got, the first member committed $next"
done < "$DIR/first.out"

member second 250 "$survivors"
while read -r p first next; do
  was=$(awk -v p="$p" '$1 == p { print $3 }' "$DIR/first.out")
  [ "$first" = "${was:-0}" ] || fail "partition $p: the second member began at $first, not at the commit ${was:-0}"
done < "$DIR/second.out"
$CHECK "$survivors" committed gf-group gf 2 > "$DIR/final.out" || fail "committed: $(cat "$DIR/final.out")"
total=$(awk '{ s += $2 } END { print s }' "$DIR/final.out")
[ "$total" = 400 ] || fail "the group committed $total of 400 records: $(cat "$DIR/final.out")"
echo "group failover OK: 400 records read once across the coordinator's loss"
