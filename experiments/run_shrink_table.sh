#!/usr/bin/env bash
# Shrinking failing runs to minimal fault schedules (samsa-sim --shrink): for each of Kafka's
# historical replication bugs found by the random cluster nemesis, each planted controller bug
# and each planted broker and groups bug, its first failing run (replication_bugs.md,
# tests/cluster_test.cc, planted_bugs.md) is shrunk; the table
# gives the events before and after, the fault durations before and after, the runs and wall
# time it took, the check that still fails, and the command that replays the shrunk schedule
# (the shrunk files are kept in experiments/results/shrunk/). Writes
# experiments/results/shrink.md. Usage: experiments/run_shrink_table.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
sim=$build/sim/samsa-sim
SCAN=${SCAN:-30}  # seeds after the listed one to look for a failing run in
out=experiments/results/shrink.md
dir=experiments/results/shrunk
mkdir -p "$dir"
# The failing runs: each random-nemesis row of replication_bugs.md (Kafka's historical bugs), the
# planted controller bugs with their first failing seeds (tests/cluster_test.cc), and each
# broker and groups row of planted_bugs.md; one "bug<TAB>samsa-sim flags" line each.
cases=$(python3 - <<'PY'
import re
def replays(path, keep):
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        m = re.search(r"`samsa-sim ([^`#]+?)\s*(#[^`]*)?`", line)
        if m and keep(cells, m.group(1)):
            print(cells[0] + "\t" + m.group(1).strip())
replays("experiments/results/replication_bugs.md", lambda c, a: "--schedule" not in a)
for bug, seed in [("keep-fenced-in-isr", 2), ("elect-outside-isr", 1), ("ack-before-commit", 66)]:
    print(f"{bug}\t--scenario cluster --seed {seed} --bug {bug}")
replays("experiments/results/planted_bugs.md", lambda c, a: len(c) > 1 and c[1] in ("broker", "groups"))
# The Raft quorum's planted bugs that the random nemesis catches (raft_planted_bugs.md), from seed 1.
for bug in ["vote-twice", "ack-before-fsync", "volatile-quorum-state"]:
    print(f"{bug}\t--scenario raft --seed 1 --bug {bug}")
PY
)
cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
commit=$("$sim" --version | cut -d" " -f2)  # what samsa-sim was built from, as its replay lines say
{
  echo "# Shrinking failing runs to minimal fault schedules"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; one simulation at a time."
  echo "Commit $commit, $(date -u +%Y-%m-%d). Build: $(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" | cut -d= -f2)."
  echo "Regenerate with \`experiments/run_shrink_table.sh $build\`."
  echo
  echo "Each row: \`samsa-sim FLAGS --shrink FILE\` for a failing run (the cluster scenario: Kafka's"
  echo "historical bugs from replication_bugs.md and the planted controller bugs, 40 s of faults, 40 s"
  echo "quiet; the broker and groups scenarios: the planted bugs of planted_bugs.md with their flags; the"
  echo "raft scenario: the Raft planted bugs its random nemesis catches, 30 s of faults, 20 s quiet):"
  echo "first a smaller run where it still fails (fewer brokers, one producer, two members, fewer records,"
  echo "a shorter fault phase), then ddmin over the nemesis' recorded events while one of the checks that failed"
  echo "still fails, then each duration halved while it still fails, then the fault phase shortened"
  echo "again. 0 events after: the bug fails with none of the nemesis' faults (what stays is the"
  echo "scenario's own script, e.g. the broker scenario's two power losses at its end, and buggify)."
  echo "The shrunk schedules are in experiments/results/shrunk/. Where the listed seed passes on this"
  echo "build (its schedule changed since the table it comes from), the next failing seed of up to"
  echo "$SCAN seeds after it is shrunk instead (the run column names the seed used)."
  echo
  echo "| bug | run | events before | events after | fault time before | after | smaller run | runs | wall s | still failing | replay |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  while IFS=$'\t' read -r bug args; do
    # The tables name the first failing seed of the build they were measured on; a later build
    # (a changed schedule) may fail a few seeds later: take the first failing seed from there.
    listed=$(sed -E 's/.*--seed ([0-9]+).*/\1/' <<< "$args")
    for try in $(seq "$listed" $((listed + SCAN))); do
      candidate=$(sed -E "s/--seed [0-9]+/--seed $try/" <<< "$args")
      # shellcheck disable=SC2086  # the flags are words
      if ! "$sim" $candidate --brief > /dev/null 2>&1; then args=$candidate; break; fi
    done
    seed=$(sed -E 's/.*--seed ([0-9]+).*/\1/' <<< "$args")
    scenario=$(sed -E 's/.*--scenario ([a-z-]+).*/\1/' <<< "$args")
    file="$dir/$scenario-$bug-seed$seed.txt"
    start=$(date +%s)
    # shellcheck disable=SC2086  # the flags are words
    "$sim" $args --shrink "$file" > "$tmp/run.txt" 2>&1 || true
    # A replay file holds no timing (its run is the same on any machine); it names where it was shrunk.
    [ -f "$file" ] && sed -i "1a # shrunk on: $cpu" "$file"
    wall=$(( $(date +%s) - start ))
    line=$(grep -E '^  shrunk ' "$tmp/run.txt" || true)
    if [ -z "$line" ]; then
      echo "| $bug | \`$args\` | - | - | - | - | - | - | $wall | (the run did not fail: nothing to shrink) | - |"
      continue
    fi
    # "  shrunk N events to M (fault durations X s to Y s) in R runs, W s; still failing C"
    read -r before after dbefore dafter runs failing <<< "$(sed -E 's/^  shrunk ([0-9]+) events to ([0-9]+) \(fault durations ([0-9.]+) s to ([0-9.]+) s\) in ([0-9]+) runs, [0-9.]+ s.*; still failing (.*)$/\1 \2 \3 \4 \5 \6/' <<< "$line")"
    smaller=$(grep -E '^  smaller run: ' "$tmp/run.txt" | sed -E 's/^  smaller run: //; s/ \(.*\)$//' || true)
    echo "| $bug | \`$args\` | $before | $after | ${dbefore} s | ${dafter} s | ${smaller:--} | $runs | $wall | $failing | \`samsa-sim --replay $file\` |"
  done <<< "$cases"
} > "$out"
cat "$out"
