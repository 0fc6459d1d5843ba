#!/usr/bin/env python3
"""samsa-sim --timeline, opened in headless Chromium (Debian's package): the page renders with
no server and no network, and what it draws matches the run's own data for known seeds.

Usage: check_timeline.py SAMSA_SIM WORKDIR
Exits 77 (ctest: skipped) when Chromium is not installed (scripts/setup.sh installs it).
"""
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


class Dom(html.parser.HTMLParser):
    """Every element of the rendered DOM with its attributes, and the text of #verdict."""

    def __init__(self):
        super().__init__()
        self.elements = []
        self.verdict = ""
        self._in_verdict = False
        self.table_rows = {"anomalies": 0, "checks": 0}
        self._table = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.elements.append((tag, a))
        self._in_verdict = a.get("id") == "verdict"
        if tag == "table":
            self._table = a.get("id")
        if tag == "tr" and self._table in self.table_rows:
            self.table_rows[self._table] += 1

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._in_verdict:
            self.verdict += data
            self._in_verdict = False

    def count(self, tag, cls_word=None, **attrs):
        n = 0
        for t, a in self.elements:
            if t != tag:
                continue
            if cls_word and cls_word not in a.get("class", "").split():
                continue
            if any(a.get(k.replace("_", "-")) != v for k, v in attrs.items()):
                continue
            n += 1
        return n


failures = []


def expect(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def page_data(path):
    text = open(path, encoding="utf-8").read()
    m = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    return text, json.loads(m.group(1))


def render(chromium, path, workdir):
    profile = os.path.join(workdir, "chromium-profile")
    out = subprocess.run([chromium, *CHROMIUM_FLAGS, "--user-data-dir=" + profile, "--dump-dom", "file://" + path],
                         capture_output=True, text=True, timeout=120)
    dom = Dom()
    dom.feed(out.stdout)
    return dom


def run_sim(sim, workdir, name, args):
    path = os.path.join(workdir, name)
    subprocess.run([sim, "--scenario", "cluster", *args, "--timeline", path], capture_output=True, timeout=600)
    return path


def check_failing(sim, chromium, workdir):
    # Kafka's KAFKA-1211 truncation (truncate to the high watermark) planted: seed 190 fails.
    args = ["--seed", "190", "--bug", "truncate-to-hw", "--fault-ms", "20000", "--quiet-ms", "20000"]
    path = run_sim(sim, workdir, "fail.html", args)
    text, d = page_data(path)
    again = open(run_sim(sim, workdir, "fail-again.html", args), encoding="utf-8").read()
    expect(text == again, "the same seed writes the same page, byte for byte")
    expect(not re.search(r'\b(src|href)\s*=', text), "the page loads nothing (no src= or href=)")
    expect(re.findall(r"https?://[^\"' ]+", text) == ["http://www.w3.org/2000/svg"],
           "the only URL in the page is the SVG namespace")
    dom = render(chromium, path, workdir)
    expect(dom.count("body", data_rendered="yes") == 1, "the script ran to its end (body data-rendered=yes)")
    expect(dom.verdict == "FAIL" and d["verdict"] == "FAIL", "verdict FAIL shown (got %r)" % dom.verdict)
    names = sorted(a.get("data-name") for t, a in dom.elements if t == "g" and "partition" in a.get("class", "").split())
    expect(names == ["events-0", "events-1", "events-acks1-0", "events-acks1-1"],
           "one group per partition of both topics (got %s)" % names)
    replicas = sum(len(p["replicas"]) for p in d["partitions"])
    expect(dom.count("polyline", "leo") == replicas and replicas >= 8, "a log-end line per replica (%d)" % replicas)
    expect(dom.count("polyline", "hw") == len(d["partitions"]), "a high-watermark line per partition")
    expect(dom.count("rect", "leader") >= len(d["partitions"]), "every partition shows a leader")
    expect(dom.count("rect", "isr") > 0, "followers in the ISR are shown")
    expect(dom.count("g", "node") == len(d["nodes"]) and len(d["nodes"]) >= 6, "a lane per node (%d)" % len(d["nodes"]))
    for broker in ("node1", "node2", "node3"):
        expect(any(n["name"] == broker for n in d["nodes"]), "broker %s named" % broker)
    expect(dom.count("rect", "down") > 0, "crashed nodes drawn down")
    bands = [b for b in d["network"] if b["kind"] == "partition"]
    expect(dom.count("rect", "partition") == len(bands) and bands, "a band per network partition (%d)" % len(bands))
    expect(dom.count("circle", "nemesis-event") == len(d["nemesis"]) and d["nemesis"], "a mark per nemesis decision")
    expect(dom.count("rect", "ops") > 0 and d["clients"], "client operations drawn")
    marks = len(d["anomalies"])
    expect(marks > 0 and dom.count("line", "anomaly") == marks, "a line per anomaly (%d)" % marks)
    expect(dom.table_rows["anomalies"] == marks + 1, "the anomaly table lists them")
    expect(dom.table_rows["checks"] == len(d["checks"]) + 1, "the checks table lists every check")
    failed = {c["name"] for c in d["checks"] if not c["ok"]}
    timed = {a["check"] for a in d["anomalies"] if a["t"] is not None}
    expect("leader-completeness" in failed and "leader-completeness" in timed,
           "leader-completeness failed and is placed in time (timed: %s)" % sorted(timed))
    timed = [a for a in d["anomalies"] if a["t"] is not None]
    expect(timed and all(0 <= a["t"] <= d["end_s"] for a in timed), "anomalies placed in time within the run")


def check_passing(sim, chromium, workdir):
    path = run_sim(sim, workdir, "pass.html", ["--seed", "3", "--fault-ms", "10000", "--quiet-ms", "20000"])
    _, d = page_data(path)
    dom = render(chromium, path, workdir)
    expect(dom.verdict == "PASS", "a passing seed shows PASS (got %r)" % dom.verdict)
    expect(dom.count("line", "anomaly") == 0 and not d["anomalies"], "and no anomaly")
    expect(dom.count("g", "partition") == len(d["partitions"]) > 0, "and its partitions")


def main():
    sim, workdir = sys.argv[1], sys.argv[2]
    os.makedirs(workdir, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("SKIP: Chromium is not installed (scripts/setup.sh installs Debian's chromium)")
        return 77
    check_failing(sim, chromium, workdir)
    check_passing(sim, chromium, workdir)
    print("%d failed" % len(failures) if failures else "all passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
