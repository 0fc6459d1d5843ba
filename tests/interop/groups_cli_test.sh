#!/usr/bin/env bash
# samsa's group tools: console-consumer --group commits what it printed (no more), a second run
# resumes after it, and consumer-groups --list / --describe show offsets, log end and lag.
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }
"$SAMSA" topics --create --topic cg --partitions 3 --bootstrap-server "$BOOTSTRAP" >/dev/null
seq 0 29 | sed 's/^/v/' | "$SAMSA" console-producer --topic cg --bootstrap-server "$BOOTSTRAP"
first=$("$SAMSA" console-consumer --topic cg --group sg --from-beginning --max-messages 20 --bootstrap-server "$BOOTSTRAP" 2>/dev/null)
[ "$(wc -l <<<"$first")" -eq 20 ] || fail "first run printed $(wc -l <<<"$first")"
"$SAMSA" consumer-groups --list --bootstrap-server "$BOOTSTRAP" | grep -qx sg || fail "group not listed"
desc=$("$SAMSA" consumer-groups --describe --group sg --bootstrap-server "$BOOTSTRAP")
echo "$desc"
grep -q "CURRENT-OFFSET  LOG-END-OFFSET  LAG" <<<"$desc" || fail "describe header"
committed=$(awk '$1=="sg" && $4 != "-" {s+=$4} END {print s}' <<<"$desc")
[ "$committed" -eq 20 ] || fail "committed $committed offsets for 20 printed records"
rest=$("$SAMSA" console-consumer --topic cg --group sg --from-beginning --timeout-ms 3000 --bootstrap-server "$BOOTSTRAP" 2>/dev/null)
all=$(printf '%s\n%s\n' "$first" "$rest" | sort)
[ "$all" = "$(seq 0 29 | sed 's/^/v/' | sort)" ] || fail "the two runs together did not print every record exactly once"
lag=$("$SAMSA" consumer-groups --describe --group sg --bootstrap-server "$BOOTSTRAP" | awk '$1=="sg" {s+=$6} END {print s}')
[ "$lag" -eq 0 ] || fail "lag $lag after consuming everything"
echo "groups CLI OK"
