#!/usr/bin/env bash
# Usage: quorum_failover_test.sh SAMSA_BINARY [ROUNDS]
# Three `samsa broker` processes with combined roles form a KRaft metadata quorum on loopback.
# First a topic with replication factor 3 is created through one broker and described through
# another (every partition: 3 replicas, a leader among them, the ISR all of them), and a few
# records go through console-producer and come back from console-consumer, and a topic config
# altered through one broker is described through another. Each round: find the
# leader with `samsa metadata-quorum describe --status`, kill -9 it, wait until another node
# leads a higher epoch, then until `topics --create` (replication factor 2, through a surviving
# broker) succeeds again; after the broker session timeout the killed node leads nothing, is
# out of every ISR (but one it is the last member of: Kafka keeps it there, leaderless) and is
# gone from the brokers kcat lists; restarted, it is listed again, leads such leaderless
# partitions again, and catches up on the metadata log (`describe --replication`). Also checks
# the --bootstrap-server path (a follower's broker names the leader, whose broker answers), and
# that group requests to a broker other than the group's coordinator answer NOT_COORDINATOR.
# (Partition data replication under failover is tests/interop/replication_failover_test.sh.)
# Timings are printed, never asserted; the waits only guard against a hang.
set -uo pipefail
SAMSA="$1"; ROUNDS="${2:-2}"
DIR=$(mktemp -d /tmp/samsa-quorum-XXXXXX)
. "$(dirname "$0")/three_nodes.sh"
fail() { echo "FAIL: $*"; for i in 1 2 3; do echo "--- node $i"; tail -20 "$DIR/node-$i.log"; done; exit 1; }
status() { "$SAMSA" metadata-quorum --bootstrap-controller "$CONTROLLERS" describe --status 2>/dev/null; }
field() { awk -v k="$1:" '$1 == k { print $2 }'; }
now_ms() { date +%s%3N; }
describe() { "$SAMSA" topics --describe "${@:2}" --bootstrap-server "127.0.0.1:${BPORT[$1]}" 2>&1; }
# The partition lines of `topics --describe` (kafka-topics' format) as "topic partition leader
# replicas isr", one a line.
partitions() {
  awk -F'\t' '$3 ~ /^Partition: / {
    for (i = 2; i <= NF; i++) { split($i, kv, ": "); f[kv[1]] = kv[2] }
    print f["Topic"], f["Partition"], f["Leader"], f["Replicas"], f["Isr"] }'
}
# Reads partitions' lines; prints what is wrong with a freshly created topic of N partitions
# and replication factor RF (nothing when all is right). With "full-isr" the ISR must be the
# replica set.
check_created() {
  awk -v n="$1" -v rf="$2" -v full="$3" '
    function canon(s,  a, k, i, j, t, r) {
      k = split(s, a, ",")
      for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      r = a[1]; for (i = 2; i <= k; i++) r = r "," a[i]; return r
    }
    { seen++
      k = split($4, reps, ","); delete dup; d = 0
      for (i = 1; i <= k; i++) { if (reps[i] in dup) d = 1; dup[reps[i]] = 1 }
      if (k != rf || d) print "partition " $2 ": replicas " $4 " are not " rf " distinct nodes"
      if (!($3 in dup)) print "partition " $2 ": leader " $3 " is not a replica (" $4 ")"
      if (full == "full-isr" && canon($5) != canon($4)) print "partition " $2 ": isr " $5 " is not the replicas " $4 }
    END { if (seen != n) print seen + 0 " partitions, not " n }'
}
# Reads partitions' lines; prints the ones that still count node K as leader or in the ISR.
# A partition whose ISR is only K keeps it (as Kafka does: no other replica has its data) and
# must then be leaderless.
check_fenced() {
  awk -v k="$1" '
    { n = split($5, isr, ","); in_isr = 0
      for (i = 1; i <= n; i++) if (isr[i] == k) in_isr = 1
      if ($3 == k) print "led by " k ": " $0
      else if (in_isr && !(n == 1 && $3 == -1)) print "isr holds " k ": " $0 }'
}
# Prints the partitions left without a leader (for the log: they lost their last ISR member).
leaderless() { awk '$3 == -1 { print "  leaderless: " $0 }'; }
listed() { kcat -b "127.0.0.1:${BPORT[$1]}" -L -m 5 2>/dev/null | grep -q "^  broker $2 at 127.0.0.1:${BPORT[$2]}"; }

for i in 1 2 3; do start $i; done
leader=""; epoch=0
for _ in $(seq 1 600); do
  s=$(status); leader=$(echo "$s" | field LeaderId); epoch=$(echo "$s" | field LeaderEpoch)
  [ -n "$leader" ] && [ "$leader" != "-1" ] && break
  sleep 0.1
done
[ -n "$leader" ] && [ "$leader" != "-1" ] || fail "no leader elected"
echo "leader: node $leader in epoch $epoch"
echo "$s" | grep -q "CurrentVoters:          \[1,2,3\]" || fail "voters not listed: $s"

# A follower's broker listener: DescribeQuorum is answered by the leader it names.
follower=$(( leader % 3 + 1 ))
via_broker=$("$SAMSA" metadata-quorum --bootstrap-server "127.0.0.1:${BPORT[$follower]}" describe --status 2>&1)
[ "$(echo "$via_broker" | field LeaderId)" = "$leader" ] || fail "--bootstrap-server via node $follower: $via_broker"

# Every broker registers with the active controller and is unfenced once it has caught up
# with the metadata log: until then a replication factor of 3 is refused.
third=$(( follower % 3 + 1 ))
for _ in $(seq 1 300); do
  listed "$third" 1 && listed "$third" 2 && listed "$third" 3 && break
  sleep 0.1
done
for i in 1 2 3; do listed "$third" "$i" || fail "broker $i is not listed by kcat -L via node $third"; done
echo "brokers 1, 2, 3 registered and live"

# A topic with replication factor 3: created through a follower's broker (forwarded to the
# active controller), described through the third node's.
out=$("$SAMSA" topics --create --topic replicated --partitions 2 --replication-factor 3 --bootstrap-server "127.0.0.1:${BPORT[$follower]}" 2>&1) ||
  fail "create --replication-factor 3 via node $follower: $out"
problems="not described yet"
for _ in $(seq 1 50); do
  d=$(describe "$third" --topic replicated)
  problems=$(echo "$d" | partitions | check_created 2 3 full-isr)
  [ -z "$problems" ] && break
  sleep 0.1
done
[ -z "$problems" ] || fail "topic replicated via node $third: $problems
$d"
echo "topic replicated (2 partitions, replication factor 3) created via node $follower, described via node $third:"
echo "$d" | partitions | sed 's/^/  /'
# Records through the partitions' leaders (the producer finds them from the metadata).
printf 'r1\nr2\nr3\nr4\nr5\n' | "$SAMSA" console-producer --topic replicated --bootstrap-server "127.0.0.1:${BPORT[$leader]}" >"$DIR/produce.out" 2>&1 ||
  fail "console-producer: $(cat "$DIR/produce.out")"
got=$(timeout 30 "$SAMSA" console-consumer --topic replicated --bootstrap-server "127.0.0.1:${BPORT[$third]}" --from-beginning \
  --max-messages 5 --timeout-ms 10000 2>/dev/null | sort | tr '\n' ' ')
[ "$got" = "r1 r2 r3 r4 r5 " ] || fail "console-consumer read back '$got', not r1..r5"
echo "5 records produced and read back"
# Group requests: the coordinator FindCoordinator names answers, the other brokers NOT_COORDINATOR.
/usr/bin/python3 "$(dirname "$0")/not_coordinator_check.py" "127.0.0.1:${BPORT[1]}" "127.0.0.1:${BPORT[2]}" "127.0.0.1:${BPORT[3]}" \
  >"$DIR/groups.out" 2>&1 || fail "not_coordinator_check: $(cat "$DIR/groups.out")"
sed 's/^/  /' "$DIR/groups.out"
# Topic configs: altered through one broker (forwarded to the active controller), described
# through another once its image has them; an invalid value is refused with Kafka's message.
configs() { "$SAMSA" configs --bootstrap-server "127.0.0.1:${BPORT[$1]}" --entity-type topics --entity-name replicated "${@:2}" 2>&1; }
out=$(configs "$follower" --alter --add-config retention.ms=3600000) || fail "configs --alter via node $follower: $out"
shown=""
for _ in $(seq 1 50); do
  c=$(configs "$third" --describe)
  if echo "$c" | grep -qx "  retention.ms=3600000"; then shown=yes; break; fi
  sleep 0.1
done
[ -n "$shown" ] || fail "retention.ms is not described via node $third: $c"
out=$(configs "$third" --alter --add-config retention.ms=soon) && fail "an invalid retention.ms was accepted: $out"
echo "$out" | grep -q "Invalid value soon for configuration retention.ms" || fail "invalid retention.ms: $out"
echo "topic config altered via node $follower, described via node $third; an invalid value refused"

for round in $(seq 1 "$ROUNDS"); do
  old=$leader; old_epoch=$epoch
  kill -9 "${PID[$old]}"; wait "${PID[$old]}" 2>/dev/null
  t0=$(now_ms); new=""
  for _ in $(seq 1 600); do
    s=$(status); new=$(echo "$s" | field LeaderId); epoch=$(echo "$s" | field LeaderEpoch)
    if [ -n "$new" ] && [ "$new" != "-1" ] && [ "$new" != "$old" ] && [ "$epoch" -gt "$old_epoch" ]; then break; fi
    new=""; sleep 0.05
  done
  [ -n "$new" ] || fail "round $round: no new leader after killing node $old"
  echo "round $round: killed leader $old (epoch $old_epoch); node $new leads epoch $epoch after $(( $(now_ms) - t0 )) ms"
  leader=$new
  # Topic creation works again: through the surviving node that is not the new leader (its
  # broker forwards to the new active controller). --if-not-exists: an attempt that timed out
  # may still have been committed.
  other=$(( 6 - old - new )); created=""
  for _ in $(seq 1 400); do
    if out=$("$SAMSA" topics --create --if-not-exists --topic "failover-$round" --partitions 2 --replication-factor 2 \
               --bootstrap-server "127.0.0.1:${BPORT[$other]}" 2>&1); then created=yes; break; fi
    sleep 0.05
  done
  [ -n "$created" ] || fail "round $round: topics --create via node $other kept failing: $out"
  echo "round $round: topic creation works again after $(( $(now_ms) - t0 )) ms (via node $other)"
  for _ in $(seq 1 50); do
    problems=$(describe "$new" --topic "failover-$round" | partitions | check_created 2 2 any-isr)
    [ -z "$problems" ] && break
    sleep 0.1
  done
  [ -z "$problems" ] || fail "round $round: topic failover-$round via node $new: $problems"
  # Past the broker session timeout the controller fences the killed node: out of every ISR,
  # leader of nothing, not among the live brokers.
  # (broker.session.timeout.ms is 9 s, counted from the new controller's activation.)
  fenced=""; give_up=$(( $(now_ms) + 20000 ))
  while [ "$(now_ms)" -lt "$give_up" ]; do
    d=$(describe "$new")
    problems=$(echo "$d" | partitions | check_fenced "$old")
    if [ -z "$problems" ] && echo "$d" | grep -q "Partition:" && ! listed "$new" "$old"; then fenced=yes; break; fi
    sleep 0.1
  done
  [ -n "$fenced" ] || fail "round $round: node $old still leads, is in an ISR, or is listed by kcat: ${problems:-listed}
$d"
  echo "round $round: node $old fenced (leads nothing, out of every ISR it was not the last of) after $(( $(now_ms) - t0 )) ms"
  echo "$d" | partitions | leaderless
  start "$old"; t1=$(now_ms); registered=""
  for _ in $(seq 1 300); do
    if listed "$new" "$old"; then registered=yes; break; fi
    sleep 0.1
  done
  [ -n "$registered" ] || fail "round $round: restarted node $old is not listed by kcat -L via node $new"
  echo "round $round: node $old restarted, a live broker again after $(( $(now_ms) - t1 )) ms"
  # Unfenced, it leads again the partitions it was the last ISR member of.
  for _ in $(seq 1 100); do
    d=$(describe "$new"); orphans=$(echo "$d" | partitions | leaderless)
    [ -z "$orphans" ] && break
    sleep 0.1
  done
  [ -z "$orphans" ] || fail "round $round: still leaderless with node $old back:
$orphans"
  caught_up=""
  for _ in $(seq 1 600); do
    r=$("$SAMSA" metadata-quorum --bootstrap-controller "$CONTROLLERS" describe --replication 2>/dev/null)
    lag=$(echo "$r" | awk -v n="$old" '$1 == n { print $3 }')
    if [ "$lag" = "0" ]; then caught_up=yes; break; fi
    sleep 0.1
  done
  [ -n "$caught_up" ] || fail "round $round: node $old did not catch up: $r"
  echo "round $round: node $old restarted and caught up"
done
for i in 1 2 3; do kill -TERM "${PID[$i]}"; done
for i in 1 2 3; do wait "${PID[$i]}" || fail "node $i did not stop cleanly"; done
echo "PASS"
