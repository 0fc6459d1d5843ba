#!/usr/bin/env bash
# kcat -G: two members of one group on a 4-partition topic own disjoint partitions covering all
# four; when one leaves (SIGTERM) and when one is killed (SIGKILL) the other takes all four
# within the session timeout.
set -uo pipefail
fail() { echo "FAIL: $*"; for f in "$work"/*.err; do echo "--- $f"; tail -5 "$f"; done; exit 1; }
command -v kcat >/dev/null || { echo "FAIL: kcat missing"; exit 1; }
work=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
"$SAMSA" topics --create --topic gt --partitions 4 --bootstrap-server "$BOOTSTRAP" >/dev/null || fail "create"
member() {  # member NAME: a kcat group consumer in the background
  kcat -b "$BOOTSTRAP" -G grp gt -X session.timeout.ms=6000 -X heartbeat.interval.ms=500 -f '%p %o\n' \
    >"$work/$1.out" 2>"$work/$1.err" &
  echo $!
}
# The partitions in a member's latest "assigned:" line (empty after a revoke with nothing new).
owned() {
  grep -aE "assigned:|revoked:" "$work/$1.err" | tail -1 | grep "assigned:" | grep -oE '\[[0-9]+\]' | tr -d '[]' | sort | tr '\n' ' '
}
wait_for() {  # wait_for SECONDS CONDITION...
  local until=$((SECONDS + $1)); shift
  while [ $SECONDS -lt $until ]; do "$@" && return 0; sleep 0.2; done
  return 1
}
split_ok() { local a b; a=$(owned "A$round"); b=$(owned "B$round"); [ -n "$a" ] && [ -n "$b" ] && [ "$(echo $a $b | tr ' ' '\n' | sort | tr '\n' ' ')" = "0 1 2 3 " ]; }
all_on_a() { [ "$(owned "A$round")" = "0 1 2 3 " ]; }

round=0
for how in TERM KILL; do
  round=$((round + 1))  # fresh log files each round: a killed kcat may still hold the old ones
  a=$(member "A$round")
  wait_for 20 all_on_a || fail "A never got all partitions"
  b=$(member "B$round")
  wait_for 30 split_ok || fail "no disjoint split between A ($(owned "A$round")) and B ($(owned "B$round"))"
  echo "split: A=[$(owned "A$round")] B=[$(owned "B$round")]"
  kill -"$how" "$b"
  start=$SECONDS
  wait_for 20 all_on_a || fail "after SIG$how of B, A has $(owned "A$round")"
  echo "after SIG$how of B: A owns all 4 after $((SECONDS - start)) s"
  kill -TERM "$a"; wait "$a" 2>/dev/null; wait "$b" 2>/dev/null
done
echo "kcat group OK"
