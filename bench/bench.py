#!/usr/bin/env python3
"""Benchmark newsmirror against the floor (../shared/bench/floor.py) on synthetic corpora.

    python bench/bench.py                      # 1k articles, 3 runs each
    python bench/bench.py --articles 10000 --runs 3 --out bench/results.md

Measures cold builds with one and four mirrors, then, with four mirrors: a rebuild with no change,
after editing one article, adding one to the archive (dated like an old one), publishing one
(dated now: a newsroom's usual change), editing one layout and editing config.yaml; then the
live preview: the time from saving an article to the preview having rebuilt.
Every number is the median of --runs runs, reported as a ratio against the floor measured in
the same run on the same corpus (so it holds when the machine's speed drifts), plus articles
per second and the peak memory (RSS) of the build process. Not a test: nothing is asserted."""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import socket
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def preview_saves(work: Path, config: Path, runs: int) -> list[tuple[str, float, float]]:
    """Start `build.py serve` on the corpus; return (what, median seconds from the save on disk
    to the preview's "Rebuilt" line, median rebuild time the preview reports) for editing one
    article (runs times) and for adding one."""
    log = work / "serve.out"
    with open(log, "w") as out:
        server = subprocess.Popen([sys.executable, str(REPO / "build.py"), "serve", "--config", str(config),
                                   "--port", str(free_port())], cwd=work, stdout=out,
                                  stderr=subprocess.DEVNULL, text=True)
    try:
        def lines() -> list[str]:
            return [line for line in log.read_text(encoding="utf-8").splitlines() if line.startswith("Rebuilt in")]

        deadline = time.monotonic() + 1800
        while "Serving " not in log.read_text(encoding="utf-8"):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("serve did not start")
            time.sleep(0.2)
        article = sorted((work / "content").rglob("*.md"))[7]
        original = article.read_text(encoding="utf-8")

        def save(write) -> tuple[float, float]:
            time.sleep(1.0)   # let the last rebuild's reload settle
            seen = len(lines())
            start = time.perf_counter()
            write()
            while len(lines()) == seen:
                if time.perf_counter() - start > 600:
                    raise SystemExit("the preview did not rebuild within 600 s")
                time.sleep(0.005)
            total = time.perf_counter() - start
            return total, float(re.match(r"Rebuilt in ([\d.]+) s", lines()[-1]).group(1))

        edits = [save(lambda n=n: article.write_text(original.replace("title: ", f"title: Preview {n} ", 1),
                                                     encoding="utf-8")) for n in range(max(runs, 5))]
        added = article.with_name("bench-preview-added.md")
        text = re.sub(r"(?m)^slug: *(.*)$", r"slug: \1-preview-added", original, count=1)
        add = save(lambda: added.write_text(text.replace("title:", "title: Added", 1), encoding="utf-8"))
        article.write_text(original, encoding="utf-8")
        added.unlink()
        return [("preview: save one article → rebuilt", statistics.median(t for t, _ in edits),
                 statistics.median(r for _, r in edits)),
                ("preview: add one article → rebuilt", *add)]
    finally:
        server.terminate()
        server.wait(timeout=60)


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
        rows.append(("one article added to the archive, 4 mirrors", seconds, rss))

        def publish():
            target = article.with_name(f"bench-published-{len(added)}.md")
            text = re.sub(r"(?m)^slug: *(.*)$", rf"slug: \1-published-{len(added)}", original, count=1)
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))
            text = re.sub(r"(?m)^date: .*$", f"date: {stamp}", text, count=1)
            target.write_text(text.replace("title:", "title: Published", 1), encoding="utf-8")
            added.append(target)

        seconds, rss = median_of(args.runs, publish, build + [str(config4)], work)
        rows.append(("one article published (dated now), 4 mirrors", seconds, rss))
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
        previews = preview_saves(work, config4, args.runs)
        for name, seconds, rebuild in previews:
            print(f"  {name}: {seconds:.3f} s (rebuild {rebuild:.3f} s)", flush=True)
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
    table += ["", f"Each mirror after the first adds {extra:.0%} of the one-mirror build time.", "",
              "Live preview (`serve`, primary mirror), from the file saved on disk to the preview's "
              "\"Rebuilt\" line (the change heard, a burst's 0.1 s of quiet, the rebuild):", "",
              "| measure | seconds, save to rebuilt | of which the rebuild |", "|---|---:|---:|"]
    table += [f"| {name} | {seconds:.3f} | {rebuild:.3f} |" for name, seconds, rebuild in previews]
    text = "\n".join(table) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
