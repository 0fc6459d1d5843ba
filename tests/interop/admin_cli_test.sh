#!/usr/bin/env bash
# samsa's admin tools with Kafka's flags: topics --alter --partitions (CreatePartitions), configs
# --describe/--alter for topics and brokers (DescribeConfigs, IncrementalAlterConfigs),
# delete-records --offset-json-file (DeleteRecords), consumer-groups --reset-offsets (every --to-*
# option, --dry-run and --execute), --delete-offsets (OffsetDelete) and --delete (DeleteGroups),
# and cluster-id (DescribeCluster). Each result is checked through another API.
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }
S() { "$SAMSA" "$@" --bootstrap-server "$BOOTSTRAP"; }

S topics --create --topic adm --partitions 2 >/dev/null
S topics --alter --topic adm --partitions 4
S topics --describe --topic adm | grep -q "PartitionCount: 4" || fail "alter --partitions 4"
S topics --alter --topic adm --partitions 3 2>/dev/null && fail "shrinking a topic was accepted"

S configs --entity-type topics --entity-name adm --alter --add-config retention.ms=1234,segment.bytes=1048576 | grep -q "Completed updating config for topic adm"
out=$(S configs --entity-type topics --entity-name adm --describe)
grep -q "retention.ms=1234" <<<"$out" && grep -q "segment.bytes=1048576" <<<"$out" || fail "topic configs: $out"
S configs --entity-type topics --entity-name adm --alter --delete-config retention.ms >/dev/null
out=$(S configs --entity-type topics --entity-name adm --describe)
grep -q "retention.ms" <<<"$out" && fail "delete-config left retention.ms: $out"
S topics --describe --topic adm | grep -q "Configs: segment.bytes=1048576" || fail "topics --describe configs"
S configs --entity-type topics --entity-name adm --alter --add-config no.such.config=1 2>/dev/null && fail "unknown config accepted"
S configs --entity-type brokers --entity-name 1 --alter --add-config log.retention.ms=7200000 >/dev/null
S configs --entity-type brokers --entity-name 1 --describe | grep -q "log.retention.ms=7200000" || fail "broker config"

seq 0 39 | sed 's/^/r/' | "$SAMSA" console-producer --topic adm --bootstrap-server "$BOOTSTRAP" --property parse.key=false
cat > "$SAMSA_DATA/offsets.json" <<JSON
{"partitions": [{"topic": "adm", "partition": 0, "offset": 3},
                {"topic": "adm", "partition": 1, "offset": -1}], "version": 1}
JSON
out=$(S delete-records --offset-json-file "$SAMSA_DATA/offsets.json")
echo "$out"
grep -q "partition: adm-0	low_watermark: 3" <<<"$out" || fail "delete-records partition 0"
rest=$("$SAMSA" console-consumer --topic adm --partition 1 --offset earliest --timeout-ms 2000 --bootstrap-server "$BOOTSTRAP" 2>/dev/null | wc -l)
[ "$rest" -eq 0 ] || fail "partition 1 still has $rest records after deleting up to the high watermark"

# A group with offsets on every partition, then reset.
"$SAMSA" console-consumer --topic adm --group rg --from-beginning --timeout-ms 3000 --bootstrap-server "$BOOTSTRAP" >/dev/null 2>&1 || true
committed() { S consumer-groups --describe --group rg | awk -v p="$1" '$1=="rg" && $3==p {print $4}'; }
end0=$(committed 0)
dry=$(S consumer-groups --reset-offsets --group rg --topic adm:0 --to-earliest --dry-run)
grep -qE "rg +adm +0 +3" <<<"$dry" || fail "dry run: $dry"
[ "$(committed 0)" = "$end0" ] || fail "--dry-run changed the offset"
S consumer-groups --reset-offsets --group rg --topic adm:0 --to-earliest --execute >/dev/null
[ "$(committed 0)" = 3 ] || fail "to-earliest gave $(committed 0)"
S consumer-groups --reset-offsets --group rg --topic adm:0 --shift-by 2 --execute >/dev/null
[ "$(committed 0)" = 5 ] || fail "shift-by 2 gave $(committed 0)"
S consumer-groups --reset-offsets --group rg --topic adm:0 --to-offset 7 --execute >/dev/null
[ "$(committed 0)" = 7 ] || fail "to-offset 7 gave $(committed 0)"
S consumer-groups --reset-offsets --group rg --topic adm:0 --to-latest --execute >/dev/null
[ "$(committed 0)" = "$end0" ] || fail "to-latest gave $(committed 0), want $end0"
S consumer-groups --reset-offsets --group rg --all-topics --to-datetime 2000-01-01T00:00:00.000 --execute >/dev/null
[ "$(committed 0)" = 3 ] || fail "to-datetime in the past gave $(committed 0)"

S consumer-groups --delete-offsets --group rg --topic adm:2 | grep -qE "adm +2 +Successful" || fail "delete-offsets"
[ -z "$(committed 2)" ] || fail "partition 2's offset survived --delete-offsets"
S consumer-groups --delete --group rg | grep -q "Deletion of requested consumer groups ('rg') was successful" || fail "delete group"
S consumer-groups --list | grep -qx rg && fail "deleted group still listed"
out=$(S consumer-groups --delete --group rg 2>&1) && fail "deleting a missing group succeeded"
grep -q GROUP_ID_NOT_FOUND <<<"$out" || fail "deleting a missing group: $out"

S cluster-id | grep -qE "^Cluster ID: samsa-[0-9a-f]{16}$" || fail "cluster-id"
echo "admin CLI OK"
