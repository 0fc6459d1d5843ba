#!/usr/bin/env bash
# The seed's workflow with the samsa CLI, word for word, plus a restart in the middle: topic
# metadata and data must survive it.
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }

out=$("$SAMSA" topics --create --topic test-topic --partitions 2 --replication-factor 2 --bootstrap-server "$BOOTSTRAP" 2>&1) && fail "RF 2 on one broker was accepted"
grep -q "Replication factor: 2 larger than available brokers: 1" <<<"$out" || fail "unexpected error: $out"

"$SAMSA" topics --create --topic test-topic --partitions 2 --replication-factor 1 --bootstrap-server "$BOOTSTRAP" | grep -qx "Created topic test-topic." || fail "create"
desc=$("$SAMSA" topics --describe --topic test-topic --bootstrap-server "$BOOTSTRAP")
echo "$desc"
grep -q "PartitionCount: 2" <<<"$desc" || fail "describe: partition count"
[ "$(grep -c "Partition: " <<<"$desc")" -eq 2 ] || fail "describe: partition lines"

echo "Hello Kafka!" | "$SAMSA" console-producer --topic test-topic --bootstrap-server "$BOOTSTRAP" || fail "produce"
got=$("$SAMSA" console-consumer --topic test-topic --from-beginning --bootstrap-server "$BOOTSTRAP" --max-messages 1 2>/dev/null)
[ "$got" = "Hello Kafka!" ] || fail "consumed '$got'"

# Restart: the topic and its record survive.
stop_broker
start_broker
echo $BROKER_PID > "$SAMSA_DATA/broker.pid"
"$SAMSA" topics --list --bootstrap-server "$BOOTSTRAP" | grep -qx test-topic || fail "topic lost in restart"
got=$("$SAMSA" console-consumer --topic test-topic --from-beginning --bootstrap-server "$BOOTSTRAP" --max-messages 1 2>/dev/null)
[ "$got" = "Hello Kafka!" ] || fail "record lost in restart: '$got'"

"$SAMSA" topics --delete --topic test-topic --bootstrap-server "$BOOTSTRAP" || fail "delete"
"$SAMSA" topics --list --bootstrap-server "$BOOTSTRAP" | grep -q test-topic && fail "topic still listed after delete"
# Keys, the key separator and print.key.
printf 'k1:v1\nk2:v2\n' | "$SAMSA" console-producer --topic keyed --bootstrap-server "$BOOTSTRAP" --property parse.key=true --property key.separator=: || fail "keyed produce"
got=$("$SAMSA" console-consumer --topic keyed --from-beginning --bootstrap-server "$BOOTSTRAP" --max-messages 2 --property print.key=true 2>/dev/null | sort)
[ "$got" = "$(printf 'k1\tv1\nk2\tv2')" ] || fail "keyed consume: '$got'"
# Bad flags: usage and exit code 2.
set +e
"$SAMSA" topics --bogus --bootstrap-server "$BOOTSTRAP" >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad flag exit code"
"$SAMSA" console-consumer --bootstrap-server "$BOOTSTRAP" >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing --topic exit code"
set -e
echo "seed workflow OK"
