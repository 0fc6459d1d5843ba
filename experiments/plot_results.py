#!/usr/bin/env python3
"""Plots of the results tables: reads the Markdown tables the scripts in experiments/ write to
experiments/results/*.md and draws each as a PNG next to it (gnuplot, Debian's gnuplot-nox).
Nothing is typed in: a plot whose results file or table is missing is skipped and named.

Usage: experiments/plot_results.py [OUT_DIR]   (default: experiments/results)
Exits 1 when gnuplot fails or a file it should have drawn is missing or empty."""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "experiments", "results")


def table(name, n=1):
    """The nth Markdown table of results/NAME as a list of dicts (header -> cell), or None."""
    path = os.path.join(RESULTS, name)
    if not os.path.exists(path):
        return None
    tables, current = [], []
    for line in open(path, encoding="utf-8"):
        if line.startswith("|"):
            current.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    if len(tables) < n:
        return None
    head, *rows = tables[n - 1]
    return [dict(zip(head, r)) for r in rows if not set("".join(r)) <= set("-: ")]


def machine(name):
    text = open(os.path.join(RESULTS, name), encoding="utf-8").read()
    m = re.search(r"Machine: ([^,\n;]+)", text)
    return m.group(1).strip() if m else "unknown machine"


def number(cell):
    m = re.search(r"-?[0-9][0-9,]*\.?[0-9]*", cell or "")
    return float(m.group(0).replace(",", "")) if m else None


def gnuplot(script, data, tmp, source):
    """Runs `script` with each of `data` as a .dat file; the plot names the machine `source`
    (a results file) was measured on, as the table does."""
    label = f'set label 99 "machine: {machine(source)} (from {source})" at screen 0.99,0.015 right font ",8"\n'
    script = script.replace("set grid y\n", "set grid y\n" + label, 1)
    paths = {}
    for key, rows in data.items():
        paths[key] = os.path.join(tmp, key + ".dat")
        with open(paths[key], "w") as f:
            for r in rows:
                f.write(" ".join(f'"{c}"' if isinstance(c, str) else "NaN" if c is None else repr(c) for c in r) + "\n")
    subprocess.run(["gnuplot"], input=script.format(**paths), text=True, check=True)
    out = re.search(r'set output "([^"]+)"', script).group(1)
    name_machine(out, f"{machine(source)} (from {source})")


def name_machine(png, machine_text):
    """Writes the machine into the PNG itself as a tEXt chunk (key "Machine"), beside the label
    drawn on it, so a tool reading the file finds where it was measured without the table."""
    data = open(png, "rb").read()
    ihdr_end = 8 + 4 + 4 + 13 + 4  # signature, then IHDR: length, type, 13 bytes, CRC
    body = b"tEXt" + b"Machine\0" + machine_text.encode("latin-1", "replace")
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    open(png, "wb").write(data[:ihdr_end] + chunk + data[ihdr_end:])


HEAD = 'set terminal pngcairo size 900,{h} noenhanced font "sans,10"\nset output "{out}"\nset grid y\n'


def plot_replication_bugs(out, tmp):
    rows = table("replication_bugs.md")
    if not rows:
        return None
    data, limit = [], 30
    for r in rows:
        seeds = [number(s) if not s.startswith(">") else limit + 1 for s in r["seeds to detect (per range)"].split()]
        data.append([r["bug"]] + [s if s is not None else limit + 1 for s in seeds])
    ranges = max(len(d) - 1 for d in data)
    script = HEAD.format(h=420, out=out) + (
        'set title "Kafka\'s historical replication bugs, fix off: seeds to first failure per range ({m}; >%d drawn at %d)"\n'
        'set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n'
        'set key top left\nset ylabel "seeds to detect"\nset yrange [0:%d]\nset xtics rotate by -20\n' % (limit, limit + 1, limit + 3)
    ).replace("{m}", machine("replication_bugs.md")) + "plot " + ", ".join(
        f'"{{d}}" using {i + 2}' + (":xtic(1)" if i == 0 else "") + f' title "range {i + 1}"' for i in range(ranges))
    gnuplot(script + "\n", {"d": [d + [0] * (ranges + 1 - len(d)) for d in data]}, tmp, "replication_bugs.md")
    return out


def plot_planted_bugs(out, tmp):
    rows = table("planted_bugs.md")
    if not rows:
        return None
    data = [[r["bug"], number(r["caught"]), number(r["baseline failures"])] for r in rows]
    baseline = sum(d[2] or 0 for d in data)
    script = HEAD.format(h=80 + 22 * len(data), out=out) + (
        'set title "Planted bugs: share of seeds that catch each (the same seeds without the bug: %d failures)"\n'
        'set style fill solid 0.8 border -1\nset xrange [0:105]\nset xlabel "%% of seeds caught"\n'
        'set ytics nomirror\nset yrange [-1:%d]\nunset grid\nset grid x\n'
        'plot "{d}" using ($2*0.5):0:($2*0.5):(0.35):yticlabels(1) with boxxyerror notitle\n' % (baseline, len(data)))
    gnuplot(script, {"d": data}, tmp, "planted_bugs.md")
    return out


def plot_shrink(out, tmp):
    rows = table("shrink.md")
    if not rows:
        return None
    def label(r):
        scenario = re.search(r"--scenario (\S+)", r["run"])
        seed = re.search(r"--seed (\d+)", r["run"])
        return f'{r["bug"]} ({scenario.group(1) if scenario else "?"} {seed.group(1) if seed else "?"})'
    data = [[label(r), number(r["events before"]), number(r["events after"])]
            for r in rows if number(r["events before"]) is not None]
    if not data:
        return None
    script = HEAD.format(h=520, out=out).replace("900,", "1200,") + (
        'set title "Shrinking failing runs: nemesis events before and after (samsa-sim --shrink)"\n'
        'set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8 border -1\n'
        'set key top left\nset ylabel "fault events"\nset yrange [0:*]\nset xtics rotate by -40 font ",8"\nset bmargin 10\n'
        'plot "{d}" using 2:xtic(1) title "before", "" using 3 title "after (still failing)"\n')
    gnuplot(script, {"d": data}, tmp, "shrink.md")
    return out


def plot_sim_speed(out, tmp):
    rows = table("sim_speed.md")
    if not rows:
        return None
    base = [[r["run"], number(r["x real time"])] for r in rows if not re.search(r"-(brokers|producers)-", r["run"])]
    brokers = [[int(r["run"].rsplit("-", 1)[1]), number(r["x real time"])] for r in rows if "-brokers-" in r["run"]]
    producers = [[int(r["run"].rsplit("-", 1)[1]), number(r["x real time"])] for r in rows if "-producers-" in r["run"]]
    rates = [[int(r["run"].rsplit("-", 1)[1]), number(r["x real time"])] for r in rows if "-rate-" in r["run"]]
    base = [b for b in base if "-rate-" not in b[0]]
    panels = 4 if rates else 3
    script = HEAD.format(h=380, out=out).replace("900,", "1500,") + (
        'set multiplot layout 1,%d title "samsa-sim speed on one core ({m})"\n'
        'set style fill solid 0.8 border -1\nset ylabel "simulated s per wall s"\nset xtics rotate by -30\nset yrange [0:*]\n'
        'plot "{d}" using 0:2:(0.6):xtic(1) with boxes notitle\n'
        'set xtics norotate\nset xlabel "brokers (cluster scenario)"\n'
        'plot "{b}" using 1:2 with linespoints pt 7 notitle\n'
        'set xlabel "producer nodes (broker scenario)"\nset logscale x 2\n'
        'plot "{p}" using 1:2 with linespoints pt 7 notitle\n' % panels)
    if rates:
        script += ('set xlabel "sends/s per producer (3 brokers, 3 producers)"\n'
                   'plot "{r}" using 1:2 with linespoints pt 7 notitle\n')
    script = (script + 'unset multiplot\n').replace("{m}", machine("sim_speed.md"))
    gnuplot(script, {"d": base, "b": brokers, "p": producers, "r": rates}, tmp, "sim_speed.md")
    return out


def plot_failover(out, tmp):
    rows = table("replication_failover.md")
    if not rows:
        return None
    data = [[f'{r["where"]}: {r["client"]}', number(r["min"]), number(r["median"]), number(r["max"])] for r in rows]
    script = HEAD.format(h=360, out=out) + (
        'set title "Leader killed: time until the client is acknowledged again (min, median, max)"\n'
        'set ylabel "ms"\nset yrange [0:*]\nset xrange [-0.5:%d]\nset xtics rotate by -20\n'
        'plot "{d}" using 0:3:2:4:xtic(1) with yerrorbars pt 7 ps 1.5 notitle\n' % len(data))
    gnuplot(script, {"d": data}, tmp, "replication_failover.md")
    return out


def plot_sim_campaigns(out, tmp):
    rows = table("sim_campaigns.md")
    if not rows:
        return None
    data = [[r["scenario"], number(r["simulated s per wall s"])] for r in rows]
    script = HEAD.format(h=340, out=out) + (
        'set title "Campaigns of 1000 seeds: simulated seconds per wall second, per scenario"\n'
        'set style fill solid 0.8 border -1\nset logscale y 10\nset ylabel "simulated s per wall s (log)"\n'
        'plot "{d}" using 0:2:(0.6):xtic(1) with boxes notitle\n')
    gnuplot(script, {"d": data}, tmp, "sim_campaigns.md")
    return out


def short_target(ratio):
    """A label for a row of produce_bench.md's ratios table, short enough for an axis."""
    what = "CPU/GB" if "CPU" in ratio else ""
    if "consume" in ratio:
        return "consume / loopback TCP"
    if "replication" in ratio:
        return "rf3 / rf1, acks=all"
    if "flush.messages" in ratio:
        return "fsync/msg / Redis always, " + ("batched" if "batches" in ratio else "1 in flight")
    peer = "NATS" if "NATS" in ratio else "Redis" if "Redis" in ratio else ratio[:20]
    return f"produce / {peer}" + (f" ({what})" if what else "")


def plot_produce_bench(out, tmp):
    rows = table("produce_bench.md")
    if not rows:
        return None
    data = [[r["target"].replace(" (the generator's ceiling)", ""), number(r["x null sink"]), number(r["server CPU s per GB"])]
            for r in rows]
    consume = [[r["target"].replace(" (the baseline)", "").replace(" (the generator's ceiling)", ""), number(r["x loopback TCP"])]
               for r in table("produce_bench.md", 4) or [] if "x loopback TCP" in r]
    # Each issue 13 target as the share of it reached (>= 1: met); a "< x" target inverted.
    targets = []
    for r in table("produce_bench.md", 2) or []:
        value, bound = number(r.get("value")), number(r.get("target"))
        if value and bound:
            targets.append([short_target(r["ratio"]), bound / value if r["target"].startswith("<") else value / bound])
    # A results file from before a section existed: its panel says so instead of failing.
    consume = consume or [["(no consume table)", 0]]
    targets = targets or [["(no ratios table)", 1]]
    script = HEAD.format(h=900, out=out).replace("900,", "1300,") + (
        'set multiplot layout 2,2 title "Produce and consume, 1 KiB records, one load generator (experiments/run_produce_bench.sh)"\n'
        'set style fill solid 0.8 border -1\nset xtics rotate by -25 font ",8"\nset bmargin 8\nset yrange [0:*]\n'
        'set offsets 0.6, 0.6, 0, 0\n'
        'set ylabel "produce throughput / the null sink\'s (same run)"\nplot "{d}" using 0:2:(0.6):xtic(1) with boxes notitle\n'
        'set ylabel "server CPU s per GB produced"\nplot "{d}" using 0:3:(0.6):xtic(1) with boxes notitle\n'
        'set ylabel "consume MB/s / loopback TCP\'s (same run)"\nplot "{c}" using 0:2:(0.6):xtic(1) with boxes notitle\n'
        'set ylabel "share of issue 13\'s target reached (>= 1: met)"\nset logscale y 10\nset yrange [*:*]\n'
        'plot "{t}" using 0:2:(0.6):xtic(1) with boxes notitle, 1 with lines dt 2 lc rgb "black" notitle\n'
        'unset multiplot\n')
    gnuplot(script, {"d": data, "c": consume, "t": targets}, tmp, "produce_bench.md")
    return out


PLOTS = [("replication_bugs.png", plot_replication_bugs), ("planted_bugs.png", plot_planted_bugs),
         ("shrink.png", plot_shrink), ("sim_speed.png", plot_sim_speed), ("replication_failover.png", plot_failover),
         ("sim_campaigns.png", plot_sim_campaigns), ("produce_bench.png", plot_produce_bench)]


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else RESULTS
    if shutil.which("gnuplot") is None:
        print("FAIL: gnuplot is not installed (scripts/setup.sh installs gnuplot-nox)")
        return 1
    os.makedirs(out_dir, exist_ok=True)
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in PLOTS:
            out = os.path.join(out_dir, name)
            try:
                made = fn(out, tmp)
            except (subprocess.CalledProcessError, KeyError) as e:
                print(f"FAIL {name}: {e}")
                bad += 1
                continue
            if made is None:
                print(f"skip {name}: its results table is missing (run its script in experiments/)")
            elif not os.path.exists(out) or os.path.getsize(out) == 0:
                print(f"FAIL {name}: gnuplot wrote nothing")
                bad += 1
            else:
                print(f"ok   {name} ({os.path.getsize(out)} bytes)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
