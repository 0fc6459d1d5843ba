#!/usr/bin/env bash
# A broker under a small file descriptor limit (ulimit -n 256, set by the caller): a topic with
# more partitions than it can hold is refused with Kafka's POLICY_VIOLATION and a clear message
# before anything changes; what fits is created and served; a config Kafka refuses (a segment
# per batch) is refused; and the broker restarts and serves what it has.
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }
S() { "$SAMSA" "$@" --bootstrap-server "$BOOTSTRAP"; }

[ "$(ulimit -n)" -le 256 ] || fail "run me under ulimit -n 256 (it is $(ulimit -n))"
out=$(S topics --create --topic huge --partitions 10000 2>&1) && fail "10000 partitions accepted under ulimit -n $(ulimit -n)"
grep -q "limit" <<<"$out" || fail "unexpected refusal: $out"
S topics --list | grep -q huge && fail "the refused topic is listed"
[ -z "$(ls "$SAMSA_DATA/data" | grep '^huge-' || true)" ] || fail "partition directories of the refused topic exist"

S topics --create --topic small --partitions 20 | grep -qx "Created topic small." || fail "20 partitions refused"
out=$(S topics --create --topic more --partitions 60 2>&1) && fail "a topic past the budget was accepted"
grep -q "limit" <<<"$out" || fail "unexpected refusal: $out"
out=$(S topics --create --topic tiny-segments --config segment.bytes=1 2>&1) && fail "segment.bytes=1 accepted"
grep -q "at least 1048576" <<<"$out" || fail "unexpected refusal: $out"

for i in $(seq 1 20); do echo "m$i"; done | S console-producer --topic small || fail "produce"
got=$(S console-consumer --topic small --from-beginning --max-messages 20 2>/dev/null | sort | tr '\n' ' ')
[ "$(wc -w <<<"$got")" -eq 20 ] || fail "consumed: $got"

stop_broker
start_broker
echo $BROKER_PID > "$SAMSA_DATA/broker.pid"
got=$(S console-consumer --topic small --from-beginning --max-messages 20 2>/dev/null | wc -l)
[ "$got" -eq 20 ] || fail "after the restart: $got records"
grep -q "resource_exhausted" "$SAMSA_DATA/broker.log" && fail "the broker ran out of descriptors: $(grep resource_exhausted "$SAMSA_DATA/broker.log" | head -3)"
echo "ok"
