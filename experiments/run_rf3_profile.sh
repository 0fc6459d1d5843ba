#!/usr/bin/env bash
# Where the CPU of replication goes: the three-broker cluster of run_produce_bench.sh under the
# same acks=all load, on topic rf1 (one replica) and rf3 (three), each broker sampled by
# `perf record` for the middle of the run. Prints, per broker, its CPU seconds per GB produced,
# the share of its samples in each of the top symbols, and how much of its CPU went to copying
# into the page cache (the kernel's copy_folio_from_iter_atomic under pwrite); writes
# experiments/results/rf3_profile.md.
# Usage: experiments/run_rf3_profile.sh [build-dir]   (SECONDS_PER_RUN=10 REPS=2 by default)
set -euo pipefail
build=${1:-build}
export SECONDS_PER_RUN=${SECONDS_PER_RUN:-10}
profile_reps=${REPS:-2}
PRODUCE_BENCH_LIB=1 source "$(dirname "$0")/run_produce_bench.sh" "$build"
command -v perf > /dev/null || { echo "perf is needed (Debian: linux-perf)"; exit 1; }
out=experiments/results/rf3_profile.md
freq=999
report=$dir/report.txt
: > "$report"
for r in $(seq "$profile_reps"); do
  for topic in rf1 rf3; do
    "start_cluster_$topic"
    "$gen" --seconds "$secs" --size "$size" --port "$port" --server-pid "$server" --proto kafka --topic "$topic" \
      --partitions 1 --conns "$conns" --batch "$batch" --acks -1 > "$dir/gen.txt" &
    genpid=$!
    sleep 1
    perf record -q -F "$freq" -p "$server" -o "$dir/perf.data" -- sleep $((secs - 2)) 2> /dev/null
    wait "$genpid"
    mbps=$(val MBps < "$dir/gen.txt")
    # Per broker: its CPU seconds sampled, those in the page-cache copy, and its top symbols.
    perf report -i "$dir/perf.data" -n --sort pid,sym --stdio 2> /dev/null |
      awk -v topic="$topic" -v round="$r" -v mbps="$mbps" -v pids="$server" -v freq="$freq" '
        /^ +[0-9.]+%/ { n = $2; split($3, p, ":"); sym = $0; sub(/.*\] /, "", sym)
                        total[p[1]] += n; if (++k[p[1]] <= 6) { tn[p[1], k[p[1]]] = n; ts[p[1], k[p[1]]] = sym }
                        if (sym == "copy_folio_from_iter_atomic") copy[p[1]] = n }
        END { split(pids, ps, ",")
              for (i = 1; i <= 3; i++) for (j = 1; j <= k[ps[i]]; j++) if (j <= 6)
                top[ps[i]] = top[ps[i]] sprintf("%s %.0f%%; ", ts[ps[i], j], 100 * tn[ps[i], j] / total[ps[i]])
              for (i = 1; i <= 3; i++) printf "%s %s %s %d %.3f %.3f | %s\n", topic, round, mbps, i, total[ps[i]] / freq,
                                              copy[ps[i]] / freq, top[ps[i]] }' >> "$report"
    cat "$dir/gen.txt"
    stop_server
  done
done
python3 - "$report" "$out" "$("$samsa" --version | cut -d" " -f2)" "$secs" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" <<'PY'
import sys, statistics
rep, out, commit, secs, cpu = sys.argv[1:]
rows = []
for line in open(rep):
    head, top = line.split("|", 1)
    topic, rnd, mbps, node, cpu_s, copy_s = head.split()
    rows.append(dict(topic=topic, round=int(rnd), mbps=float(mbps), node=int(node), cpu_s=float(cpu_s), copy_s=float(copy_s), top=top.strip()))
window = int(secs) - 2
L = [f"# Where replication's CPU goes (commit {commit})", "",
     f"Machine: {cpu}, 2 cores. Command: `experiments/run_rf3_profile.sh build` (rf1 and rf3 in turn, each on a fresh",
     "three-broker cluster as in run_produce_bench.sh, acks=all, 4 connections, 100 records of 1 KiB per request;",
     f"`perf record -F 999` on the three brokers for {window} s in the middle of each {secs} s run).", "",
     "CPU s per GB is the broker's sampled CPU over the GB produced in the sampling window; page-cache copy is the part",
     "in the kernel's copy_folio_from_iter_atomic (pwrite copying the records into the page cache).", "",
     "| topic | round | MB/s | node | CPU s per GB | page-cache copy, s per GB | share of its CPU | top symbols |", "|---|---|---|---|---|---|---|---|"]
for r in rows:
    gb = r["mbps"] * window / 1000
    if r["cpu_s"] < 0.05 * window:  # a broker with no replica of the topic
        continue
    L.append(f"| {r['topic']} | {r['round']} | {r['mbps']:.0f} | {r['node']} | {r['cpu_s']/gb:.2f} | {r['copy_s']/gb:.2f} | "
             f"{100*r['copy_s']/r['cpu_s']:.0f}% | {r['top']} |")
def med(topic, key):
    v = [r[key] for r in rows if r["topic"] == topic and r["cpu_s"] >= 0.05 * window]
    return statistics.median(v) if v else float("nan")
def per_gb(topic, key):
    v = [r[key] / (r["mbps"] * window / 1000) for r in rows if r["topic"] == topic and r["cpu_s"] >= 0.05 * window]
    return statistics.median(v) if v else float("nan")
L += ["", f"Median page-cache copy per replica: rf1 {per_gb('rf1', 'copy_s'):.2f} s per GB, rf3 {per_gb('rf3', 'copy_s'):.2f} s per GB;",
      f"median MB/s rf1 {med('rf1', 'mbps'):.0f}, rf3 {med('rf3', 'mbps'):.0f}."]
# The ceiling replication's CPU leaves on this machine: all its cores for the three brokers (the
# generator's share ignored, in rf3's favour) over the summed CPU per GB of the three replicas.
cores = 2
rf3_rounds = sorted({r["round"] for r in rows if r["topic"] == "rf3"})
sums = [sum(r["cpu_s"] / (r["mbps"] * window / 1000) for r in rows if r["topic"] == "rf3" and r["round"] == k
            and r["cpu_s"] >= 0.05 * window) for k in rf3_rounds]
if sums:
    ceiling = cores / statistics.median(sums) * 1000
    busy = statistics.median([sum(r["cpu_s"] for r in rows if r["topic"] == "rf3" and r["round"] == k) / window for k in rf3_rounds])
    L += ["", f"The three rf3 replicas together use {statistics.median(sums):.2f} CPU s per GB (median over rounds), of which",
          f"{3 * per_gb('rf3', 'copy_s'):.2f} copying into the page cache. With all {cores} cores given to them, rf3 could reach",
          f"{ceiling:.0f} MB/s, {ceiling / med('rf1', 'mbps'):.2f} of rf1's median here; it reached {med('rf3', 'mbps'):.0f} with the brokers",
          f"busy {busy:.2f} cores of {cores}: the rest is CPU the replication pipeline leaves idle (a follower fetches again only",
          "once it has written the last answer, and the leader's high watermark moves only with the next fetch)."]
open(out, "w").write("\n".join(L) + "\n")
print("\n".join(L))
PY
