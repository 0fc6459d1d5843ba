#!/usr/bin/env bash
# Regenerates experiments/results/sim_campaigns.md and experiments/results/planted_bugs.md:
# a campaign of SEEDS consecutive seeds per scenario (default 1000) and the planted-bug table
# over PLANTED_SEEDS seeds per bug (default 20). Two simulations run at a time (one per core);
# each is single-threaded. Usage: experiments/run_sim_campaigns.sh [build-dir]
# ONLY=planted regenerates planted_bugs.md alone (one simulation at a time).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
seeds=${SEEDS:-1000}
planted_seeds=${PLANTED_SEEDS:-20}
sim=$build/sim/samsa-sim
out=experiments/results
tmp=$(mktemp -d)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
commit=$("$sim" --version | cut -d" " -f2)  # what samsa-sim was built from, as its replay lines say
lanes="two simulations at a time, one core each"
[ "${ONLY:-}" = planted ] && lanes="one simulation at a time"
header() {
  echo "Machine: $cpu, $(nproc) cores; $lanes. Commit $commit,"
  echo "$(date -u +%Y-%m-%d). Build: $(grep -m1 CMAKE_BUILD_TYPE: "$build/CMakeCache.txt" | cut -d= -f2)."
  if [ "${ONLY:-}" = planted ]; then
    echo "Regenerate with \`ONLY=planted experiments/run_sim_campaigns.sh\` (PLANTED_SEEDS=$planted_seeds)."
  else
    echo "Regenerate with \`experiments/run_sim_campaigns.sh\` (SEEDS=$seeds PLANTED_SEEDS=$planted_seeds)."
  fi
}

write_planted() {
{
  echo "# Planted bugs"
  echo
  header
  echo
  echo "Each planted bug (src/runtime/planted_bugs.h; plans in sim/scenarios/planted_bugs.cc) runs"
  echo "over $planted_seeds seeds of its scenario with the bug switched on, and the same seeds without"
  echo "it (baseline failures must be 0: what catches the bug is the bug). Durability bugs must be"
  echo "caught in at least 90% of seeds. The Raft quorum's planted bugs are in raft_planted_bugs.md."
  echo
  echo "    $sim --planted-bugs --seed 1 --seeds $planted_seeds"
  echo
  cat "$tmp/planted.md"
} > "$out/planted_bugs.md"
}

if [ "${ONLY:-}" = planted ]; then
  $sim --planted-bugs --seed 1 --seeds "$planted_seeds" > "$tmp/planted.md" 2>&1 || true
  write_planted
  rm -rf "$tmp"
  echo "wrote $out/planted_bugs.md"
  exit 0
fi

# Lane 1: the broker scenario (the slowest). Lane 2: the others, then the planted bugs.
( $sim --scenario broker --seed 1 --seeds "$seeds" --brief > "$tmp/broker.txt" 2>&1 || true ) &
lane1=$!
for s in groups raft log-demo; do
  $sim --scenario $s --seed 1 --seeds "$seeds" --brief > "$tmp/$s.txt" 2>&1 || true
done
( $sim --planted-bugs --seed 1 --seeds "$planted_seeds" > "$tmp/planted.md" 2>&1 || true )
wait $lane1

{
  echo "# Simulator campaigns"
  echo
  header
  echo
  echo "Each seed: 60 s of faults drawn by the seed's swarm (which kinds, their rates, the broker's"
  echo "settings), then healing and a quiet period with liveness checks; broker seeds end with a"
  echo "crash that keeps the unsynced tail's length but not its data, then a power loss that keeps"
  echo "nothing unsynced, then a final read. Per scenario: the summary samsa-sim prints, with every"
  echo "check's count of failed and vacuous seeds and examined operations, and every buggify site."
  echo
  echo "| scenario | seeds | failed | simulated s | wall s | simulated s per wall s |"
  echo "|---|---|---|---|---|---|"
  for s in broker groups raft log-demo; do
    line=$(grep -E '^[0-9]+ seeds, ' "$tmp/$s.txt" || echo "? seeds, ? failed; ? simulated s in ? wall s (?x real time)")
    echo "$line" | sed -E "s/^([0-9?]+) seeds, ([0-9?]+) failed; ([0-9.?]+) simulated s in ([0-9.?]+) wall s \\(([0-9.?]+)x real time\\)/| $s | \\1 | \\2 | \\3 | \\4 | \\5 |/"
  done
  for s in broker groups raft log-demo; do
    echo
    echo "## $s"
    echo
    echo "    $sim --scenario $s --seed 1 --seeds $seeds --brief"
    echo
    echo '```'
    sed -n '/^[0-9]* seeds, /,$p' "$tmp/$s.txt"
    grep -E '^seed [0-9]+ \(' "$tmp/$s.txt" | head -20 || true
    echo '```'
  done
} > "$out/sim_campaigns.md"

write_planted
rm -rf "$tmp"
echo "wrote $out/sim_campaigns.md and $out/planted_bugs.md"
