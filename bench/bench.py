#!/usr/bin/env python3
"""Benchmark newsmirror against the floor (../shared/bench/floor.py) on synthetic corpora.

    python bench/bench.py                      # 1k articles, 3 runs each
    python bench/bench.py --articles 10000 --runs 3 --out bench/results.md

Measures cold builds with one and four mirrors, then, with four mirrors: a rebuild with no change,
after editing one article, adding one, editing one layout and editing config.yaml.
Every number is the median of --runs runs, reported as a ratio against the floor measured in
the same run on the same corpus (so it holds when the machine's speed drifts), plus articles
per second and the peak memory (RSS) of the build process. Not a test: nothing is asserted."""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "bench"
MIRRORS = """  - url: https://www.example.com/
  - url: https://www.example.net/
  - url: https://cdn.example.org/mirror/
  - url: http://6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion/
"""


_WRAPPER = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
            "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    """Run a command; return (seconds, peak RSS in MB of its largest process)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _WRAPPER, *command], cwd=cwd, check=True,
                          capture_output=True, text=True)
    return time.perf_counter() - start, int(done.stdout.split()[-1]) // 1024


def write_config(site: Path, mirrors: int) -> Path:
    """Write a config for the corpus with the first `mirrors` of the four bench mirrors."""
    lines = MIRRORS.splitlines(keepends=True)[:mirrors]
    path = site / f"config-{mirrors}.yaml"
    path.write_text(
        "site: {title: Bench Courier, timezone: UTC}\n"
        "mirrors:\n" + "".join(lines) +
        f"paths: {{content: content, layouts: {REPO / 'layouts'}, static: {REPO / 'static'}, "
        f"output: out-{mirrors}, cache: cache-{mirrors}}}\n", encoding="utf-8")
    return path


def median_of(runs: int, setup, command: list[str], cwd: Path) -> tuple[float, int]:
    """Return the median seconds and the largest peak RSS over `runs` runs."""
    times, peaks = [], []
    for _ in range(runs):
        setup()
        seconds, peak = timed(command, cwd)
        times.append(seconds)
        peaks.append(peak)
    print(f"  {' '.join(command[-3:])}: {statistics.median(times):.2f} s, {max(peaks)} MB", flush=True)
    return statistics.median(times), max(peaks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the Markdown table here")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is absent: it holds make_corpus.py and floor.py")
    work = Path(tempfile.mkdtemp(prefix="newsmirror-bench-"))
    try:
        subprocess.run([sys.executable, str(SHARED / "make_corpus.py"), "--articles", str(args.articles),
                        "--seed", "1", "--out", str(work)], check=True, stdout=subprocess.DEVNULL)
        build = [sys.executable, str(REPO / "build.py"), "-q", "--config"]
        rows = []
        floor, floor_rss = median_of(args.runs, lambda: shutil.rmtree(work / "floor", ignore_errors=True),
                                     [sys.executable, str(SHARED / "floor.py"), "content", "floor"], work)
        rows.append(("floor (1 mirror, no listings)", floor, floor_rss))
        for mirrors in (1, 4):
            config = write_config(work, mirrors)
            out = work / f"out-{mirrors}"
            def cold(out=out, cache=work / f"cache-{mirrors}"):
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(cache, ignore_errors=True)

            seconds, rss = median_of(args.runs, cold, build + [str(config)], work)
            rows.append((f"cold build, {mirrors} mirror{'s' if mirrors > 1 else ''}", seconds, rss))
        config4 = write_config(work, 4)
        seconds, rss = median_of(args.runs, lambda: None, build + [str(config4)], work)
        rows.append(("no-change rebuild, 4 mirrors", seconds, rss))
        article = sorted((work / "content").rglob("*.md"))[len(rows)]
        original = article.read_text(encoding="utf-8")

        def edit():
            article.write_text(original + f"\nEdited at {time.perf_counter()}.\n", encoding="utf-8")

        seconds, rss = median_of(args.runs, edit, build + [str(config4)], work)
        rows.append(("one article edited, 4 mirrors", seconds, rss))
        added = []

        def add():
            target = article.with_name(f"bench-added-{len(added)}.md")
            text = re.sub(r"(?m)^slug: *(.*)$", rf"slug: \1-added-{len(added)}", original, count=1)
            target.write_text(text.replace("title:", "title: Added", 1), encoding="utf-8")
            added.append(target)

        seconds, rss = median_of(args.runs, add, build + [str(config4)], work)
        rows.append(("one article added, 4 mirrors", seconds, rss))
        layout = work / "layouts"
        shutil.copytree(REPO / "layouts", layout)
        config4.write_text(config4.read_text(encoding="utf-8").replace(str(REPO / "layouts"), str(layout)),
                           encoding="utf-8")
        timed(build + [str(config4)], work)   # the copied layouts are new to the cache: settle first

        def edit_layout():
            base = layout / "base.html"
            base.write_text(base.read_text(encoding="utf-8").replace(
                "</footer>", f"<!-- {time.perf_counter()} --></footer>", 1), encoding="utf-8")

        seconds, rss = median_of(args.runs, edit_layout, build + [str(config4)], work)
        rows.append(("one layout edited, 4 mirrors", seconds, rss))

        def edit_config():
            lines = config4.read_text(encoding="utf-8").splitlines(keepends=True)
            lines[0] = f"site: {{title: Bench Courier {time.perf_counter_ns()}, timezone: UTC}}\n"
            config4.write_text("".join(lines), encoding="utf-8")

        seconds, rss = median_of(args.runs, edit_config, build + [str(config4)], work)
        rows.append(("config.yaml edited, 4 mirrors", seconds, rss))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    one = rows[1][1]
    table = [f"Benchmark of {date.today().isoformat()}: {args.articles} synthetic articles, "
             f"{os.cpu_count()} cores, Python {platform.python_version()}, median of {args.runs} runs.",
             "", "| measure | seconds | x floor | % of cold (4 mirrors) | articles/s | peak RSS MB |",
             "|---|---:|---:|---:|---:|---:|"]
    cold4 = rows[2][1]
    for name, seconds, rss in rows:
        table.append(f"| {name} | {seconds:.2f} | {seconds / floor:.2f} | {100 * seconds / cold4:.1f} % | "
                     f"{args.articles / seconds:.0f} | {rss} |")
    extra = (rows[2][1] - one) / 3 / one
    table += ["", f"Each mirror after the first adds {extra:.0%} of the one-mirror build time."]
    text = "\n".join(table) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
