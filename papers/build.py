#!/usr/bin/env python3
"""Builds the paper: papers/samsa.md with every `<!-- table: FILE N -->` replaced by the Nth
Markdown table of FILE (a path from the repository's root, a results file that a script in
experiments/ writes), followed by the line naming FILE and the command that regenerates it;
and every `<!-- figure: FILE.png CAPTION -->` by that image (drawn from the results tables by
experiments/plot_results.py), copied next to the built paper.
Writes OUT/samsa.md, and OUT/samsa.html when Python's markdown module (Debian's
python3-markdown) is present. Fails, naming it, on a marker whose file or table is missing.

Usage: papers/build.py [OUT]   (default: papers/out)"""
import html
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARKER = re.compile(r"<!-- table: (\S+) (\d+) -->")
FIGURE = re.compile(r"<!-- figure: (\S+\.png) (.+?) -->")


def tables_of(text):
    """The Markdown tables of text, each as its lines."""
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def regenerate_line(text):
    m = re.search(r"Regenerate with `([^`]+)`", text) or re.search(r"Command: `([^`]+)`", text)
    return m.group(1) if m else None


def expand(source):
    errors = []

    def one(m):
        path, n = m.group(1), int(m.group(2))
        full = os.path.join(ROOT, path)
        if not os.path.exists(full):
            errors.append(f"{path}: missing (run its script in experiments/)")
            return m.group(0)
        text = open(full).read()
        tables = tables_of(text)
        if n < 1 or n > len(tables):
            errors.append(f"{path}: has {len(tables)} tables, the paper asks for table {n}")
            return m.group(0)
        how = regenerate_line(text)
        note = f"*From `{path}`" + (f", written by `{how}`" if how else "") + ".*"
        return "\n".join(tables[n - 1]) + "\n\n" + note
    figures = []

    def figure(m):
        path, caption = m.group(1), m.group(2)
        if not os.path.exists(os.path.join(ROOT, path)):
            errors.append(f"{path}: missing (run experiments/plot_results.py)")
            return m.group(0)
        figures.append(path)
        return f"![{caption}]({os.path.basename(path)})\n\n*{caption} From `{path}`, drawn by `experiments/plot_results.py`.*"
    out = FIGURE.sub(figure, MARKER.sub(one, source))
    return out, errors, figures


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "papers", "out")
    source = open(os.path.join(ROOT, "papers", "samsa.md")).read()
    text, errors, figures = expand(source)
    if errors:
        for e in errors:
            print(f"papers/build.py: {e}", file=sys.stderr)
        return 1
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "samsa.md"), "w") as f:
        f.write(text)
    for path in figures:
        shutil.copyfile(os.path.join(ROOT, path), os.path.join(out_dir, os.path.basename(path)))
    try:
        import markdown
    except ImportError:
        print(f"wrote {out_dir}/samsa.md (no HTML: python3-markdown is not installed)")
        return 0
    body = markdown.markdown(text, extensions=["tables"])
    with open(os.path.join(out_dir, "samsa.html"), "w") as f:
        f.write("<!doctype html><meta charset=utf-8><title>samsa</title>"
                "<style>body{max-width:52em;margin:2em auto;font-family:serif}"
                "table{border-collapse:collapse;font-size:80%}td,th{border:1px solid #999;padding:2px 6px}"
                "img{max-width:100%}</style>\n")
        f.write(body)
    print(f"wrote {out_dir}/samsa.md and {out_dir}/samsa.html ({html.escape('tables from experiments/results')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
