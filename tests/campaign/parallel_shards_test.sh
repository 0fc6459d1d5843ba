#!/usr/bin/env bash
# The README's sharded campaign, on this machine: GNU parallel runs three shards of a seed range
# as local jobs (as it would on several hosts with -S), and `samsa-sim --merge` of their JSON
# lines prints the same summary as the campaign run in one process. Without one shard the merge
# names the missing seeds and fails.
# Usage: parallel_shards_test.sh path/to/samsa-sim
set -euo pipefail
sim=$1
if ! command -v parallel >/dev/null; then
  echo "FAIL: GNU parallel is not installed (scripts/setup.sh installs it)"
  exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
args=(--scenario raft --fault-ms 8000 --quiet-ms 5000 --seeds 1..9 --brief)
parallel --will-cite --jobs 3 "$sim" "${args[@]}" --shard {}/3 --json "$dir/{}.jsonl" ::: 0 1 2 > /dev/null
speedless() { sed '/^$/d; s/ in [0-9.]* wall s (.*$//'; }
"$sim" --merge "$dir"/0.jsonl "$dir"/1.jsonl "$dir"/2.jsonl | speedless > "$dir/merged.txt"
"$sim" "${args[@]}" | sed -n '/^[0-9]* seeds, /,$p' | speedless > "$dir/whole.txt"
if ! diff "$dir/whole.txt" "$dir/merged.txt"; then
  echo "FAIL: the merged shards' summary differs from the whole campaign's"
  exit 1
fi
grep -q '^9 seeds, 0 failed' "$dir/merged.txt" || { echo "FAIL: expected 9 passing seeds"; cat "$dir/merged.txt"; exit 1; }
if out=$("$sim" --merge "$dir"/0.jsonl "$dir"/2.jsonl); then
  echo "FAIL: a merge without shard 1 passed"
  exit 1
fi
grep -q '^missing: 3 seeds' <<< "$out" || { echo "FAIL: the missing shard's seeds were not named"; echo "$out"; exit 1; }
echo "PASS: 3 shards by GNU parallel merge into the one-process summary; a missing shard is named"
