#!/usr/bin/env bash
# Kafka's historical replication bugs, their fixes switched off in samsa's code, hunted by the
# cluster scenario (samsa-sim --scenario cluster --bug NAME): for each bug and each of RANGES seed
# ranges (starting at 1, 10001, 20001, ...), how many seeds it takes to find a violation (the
# first failing seed's position in its range; ">LIMIT" when none within LIMIT seeds), the checks
# that failed there, and the command that replays it. The same seeds without the bug are run
# too, as the baseline that must pass. Writes experiments/results/replication_bugs.md.
# Usage: experiments/run_replication_bugs.sh [build-dir]   (RANGES=3 LIMIT=150 BASELINE=50 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
ranges=${RANGES:-3}
limit=${LIMIT:-150}
baseline=${BASELINE:-50}
sim=$build/sim/samsa-sim
out=experiments/results/replication_bugs.md
bugs="truncate-to-hw naive-epoch-answer no-epoch-fencing no-elr unclean-election"
# KIP-279's divergence needs a leader elected on a log that lacks its follower's last epoch (an
# unclean election): its bug is hunted with the scripted kip-279 schedule.
# KIP-320's fencing matters once a consumer's stale epoch reaches the broker leading again after a
# truncation: the kip-320 schedule.
flags_of() {
  case $1 in
    naive-epoch-answer) echo "--schedule kip-279" ;;
    no-epoch-fencing) echo "--schedule kip-320" ;;
    *) echo "" ;;
  esac
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# First failing seed of [start, start+limit) with the given flags, or empty; its failed checks.
hunt() {
  local start=$1; shift
  local s
  for ((s = start; s < start + limit; s++)); do
    if ! "$sim" --scenario cluster --seed "$s" "$@" > "$tmp/run.txt" 2>&1; then
      echo "$s $(grep -E '^  check .* FAIL' "$tmp/run.txt" | awk '{ print $2 }' | paste -sd, -)"
      return
    fi
  done
}

started=$(date +%s)
commit=$("$sim" --version | cut -d" " -f2)  # what samsa-sim was built from, as its replay lines say
{
  echo "# Kafka's historical replication bugs in the simulator"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; one simulation at a time."
  echo "Commit $commit, $(date -u +%Y-%m-%d). Build: $(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" | cut -d= -f2)."
  echo "Regenerate with \`RANGES=$ranges LIMIT=$limit BASELINE=$baseline experiments/run_replication_bugs.sh $build\`."
  echo
  echo "Each seed: the cluster scenario (3-5 brokers, the metadata quorum combined on three of them or on"
  echo "three controller-only nodes; acks=all and acks=1 topics with replication factor 2-3 and"
  echo "min.insync.replicas 1-2; 40 s of faults, 40 s quiet)."
  echo 'naive-epoch-answer and no-epoch-fencing run scripted schedules instead of the random nemesis (`--schedule'
  echo 'kip-279` and `--schedule kip-320`: 3 brokers and 3 controller-only nodes, the story of the KIP on the acks=1'
  echo "topic's partition 0 with an unclean election; see samsa-sim --help and sim/scenarios/cluster_schedules.h)."
  echo "Seeds to detect: the first failing seed's position in its range of $limit seeds."
  echo
  echo "| bug | Kafka's fix | seeds to detect (per range) | median | worst | checks that failed (first range) | replay |"
  echo "|---|---|---|---|---|---|---|"
  for b in $bugs; do
    case $b in
      truncate-to-hw) fix="KIP-101 (leader epochs, no truncation to the HW)" ;;
      naive-epoch-answer) fix="KIP-279 (divergence by epoch, walking back)" ;;
      no-epoch-fencing) fix="KIP-320 (fencing by the current leader epoch)" ;;
      no-elr) fix="KIP-966 (eligible leader replicas)" ;;
      unclean-election) fix="KIP-106 (unclean.leader.election.enable=false by default)" ;;
    esac
    counts=() first_checks="" replay=""
    for ((r = 0; r < ranges; r++)); do
      start=$((1 + r * 10000))
      # shellcheck disable=SC2046
      found=$(hunt "$start" --bug "$b" $(flags_of "$b"))
      if [ -n "$found" ]; then
        seed=${found%% *}
        counts+=($((seed - start + 1)))
        if [ -z "$replay" ]; then
          replay="samsa-sim --scenario cluster --seed $seed --bug $b $(flags_of "$b")"
          replay=${replay% }
          first_checks=${found#* }
        fi
      else
        counts+=(">$limit")
      fi
    done
    # Not found within the limit counts as more than it: a median past the limit is ">limit".
    sorted=$(printf '%s\n' "${counts[@]}" | sed "s/^>.*/$((limit + 1))/" | sort -n)
    median=$(echo "$sorted" | awk -v l="$limit" '{ a[NR] = $1 } END { m = a[int((NR + 1) / 2)]; print (m > l ? ">" l : m) }')
    worst=$(echo "$sorted" | tail -1)
    if printf '%s\n' "${counts[@]}" | grep -q '>'; then worst=">$limit"; fi
    echo "| $b | $fix | $(IFS=' '; echo "${counts[*]}") | $median | $worst | ${first_checks:-none} | \`${replay:--}\` |"
  done
  echo
  baseline_failed=0 schedule_failed=0
  for ((r = 0; r < ranges; r++)); do
    start=$((1 + r * 10000))
    "$sim" --scenario cluster --seed "$start" --seeds "$baseline" --brief > "$tmp/base.txt" 2>&1 || true
    n=$(grep -oE '^[0-9]+ seeds, [0-9]+ failed' "$tmp/base.txt" | awk '{ print $3 }')
    baseline_failed=$((baseline_failed + ${n:-$baseline}))
    for sched in kip-279 kip-320; do
      "$sim" --scenario cluster --schedule $sched --seed "$start" --seeds "$baseline" --brief > "$tmp/base.txt" 2>&1 || true
      n=$(grep -oE '^[0-9]+ seeds, [0-9]+ failed' "$tmp/base.txt" | awk '{ print $3 }')
      schedule_failed=$((schedule_failed + ${n:-$baseline}))
    done
  done
  echo "Baseline: the first $baseline seeds of each range without any bug: $baseline_failed failed of $((ranges * baseline));"
  echo "with the kip-279 and kip-320 schedules: $schedule_failed failed of $((2 * ranges * baseline))."
  echo "Wall time: $(( $(date +%s) - started )) s."
} > "$out"
cat "$out"
