"""Incremental builds: after any sequence of changes, output/ is byte-identical to a cold build."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXED_NOW, REPO, copy_sample, run_build, snapshot, tree


def cold_build_of(site: Path, scratch: Path) -> dict[str, bytes]:
    """Return the output of a cold build (no cache, no output) of a copy of `site`'s input."""
    if scratch.exists():
        shutil.rmtree(scratch)
    shutil.copytree(site, scratch, ignore=shutil.ignore_patterns("output", ".cache"))
    result = run_build(scratch)
    assert result.returncode == 0, result.stderr
    return tree(scratch / "output")


ARTICLE = """---
title: "{title}"
date: 2026-11-{day:02d} 10:{minute:02d}:00 +00:00
tags: [{tags}]
authors: [ana-ferreira]
---

{body}

See [the budget vote](https://www.meridiancourier.example/politics/2026/11/20/harbour-budget-vote/).
"""


def edit_article(site: Path, rng: random.Random) -> str:
    path = rng.choice(sorted((site / "content").rglob("*.md")))
    text = path.read_text(encoding="utf-8")
    if rng.random() < 0.5:
        text = text.replace("title:", "title: Updated", 1) if "title: \"" not in text else \
            text.replace('title: "', 'title: "Updated ', 1)
    else:
        text += f"\nA late paragraph {rng.randint(0, 10**6)}.\n"
    path.write_text(text, encoding="utf-8")
    return f"edit {path.name}"


def add_article(site: Path, rng: random.Random) -> str:
    section = rng.choice(["politics", "world", "business", "culture"])
    name = f"added-{rng.randint(0, 10**6)}.md"
    (site / "content" / section / name).write_text(ARTICLE.format(
        title=f"Added story {name}", day=rng.randint(10, 28), minute=rng.randint(0, 59),
        tags=rng.choice(["velmora", "shipping, budget", "new tag"]), body="Body " * rng.randint(5, 50)),
        encoding="utf-8")
    return f"add {section}/{name}"


def delete_article(site: Path, rng: random.Random) -> str:
    path = rng.choice(sorted((site / "content").rglob("*.md")))
    path.unlink()
    return f"delete {path.name}"


def rename_article(site: Path, rng: random.Random) -> str:
    path = rng.choice(sorted((site / "content").rglob("*.md")))
    target = path.with_name(f"renamed-{rng.randint(0, 10**6)}.md")
    path.rename(target)
    return f"rename {path.name} -> {target.name}"


def edit_layout(site: Path, rng: random.Random) -> str:
    path = site / "layouts" / rng.choice(["base.html", "article.html", "list.html", "macros.html"])
    text = path.read_text(encoding="utf-8")
    marker = f"<!-- layout edit {rng.randint(0, 10**6)} -->"
    path.write_text(text.replace("</footer>", marker + "</footer>", 1) if "</footer>" in text
                    else text + "\n" + marker + "\n", encoding="utf-8")
    return f"layout {path.name}"


def edit_static(site: Path, rng: random.Random) -> str:
    extra = site / "static" / "files" / f"note-{rng.randint(0, 3)}.txt"
    if extra.exists() and rng.random() < 0.5:
        extra.unlink()
        return f"delete static {extra.name}"
    extra.parent.mkdir(parents=True, exist_ok=True)
    extra.write_text(f"notes {rng.random()}\n", encoding="utf-8")
    return f"static {extra.name}"


def edit_config(site: Path, rng: random.Random) -> str:
    path = site / "config.yaml"
    text = path.read_text(encoding="utf-8")
    if rng.random() < 0.5:
        size = rng.choice([2, 3, 4, 5])
        lines = [f"page_size: {size}" if line.startswith("page_size:") else line for line in text.splitlines()]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return f"config page_size {size}"
    path.write_text(text.replace("tagline: ", "tagline: New ", 1), encoding="utf-8")
    return "config tagline"


CHANGES = [edit_article, edit_article, add_article, delete_article, rename_article, edit_layout,
           edit_static, edit_config]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_changes_match_a_cold_build(site: Path, tmp_path: Path, seed: int):
    rng = random.Random(seed)
    first = run_build(site)
    assert first.returncode == 0, first.stderr
    done = []
    for step in range(5):
        for _ in range(rng.randint(1, 3)):
            done.append(rng.choice(CHANGES)(site, rng))
        result = run_build(site)
        assert result.returncode == 0, (done, result.stderr)
        assert tree(site / "output") == cold_build_of(site, tmp_path / "cold"), done


def test_deleted_article_disappears_everywhere(site: Path):
    assert run_build(site).returncode == 0
    (site / "content/business/harbour-strike-ends.md").unlink()
    assert run_build(site).returncode == 0
    for path in (site / "output").rglob("*"):
        if path.is_file() and path.suffix in (".html", ".xml", ".json", ".txt"):
            text = path.read_text(encoding="utf-8")
            assert "harbour-strike-ends" not in text, path
            assert "Harbour strike ends" not in text, path


def test_no_change_rebuild_rewrites_nothing(site: Path):
    assert run_build(site).returncode == 0
    before = snapshot(site / "output")
    result = run_build(site)
    assert result.returncode == 0
    assert snapshot(site / "output") == before
    assert " 0 files written" in result.stdout


def _recorded_stats_are_true(site: Path) -> None:
    """Assert the cache's size and mtime of every output file are the file's: a rebuild takes
    a file whose stat matches its record as the build left it."""
    import sqlite3

    db = sqlite3.connect(site / ".cache" / "cache.sqlite")
    try:
        for table in ("outputs", "hashes"):
            rows = db.execute(f"SELECT host, path, size, mtime FROM {table}").fetchall()
            assert len(rows) > 100, table
            for host, rel, size, mtime in rows:
                stat = os.stat(site / "output" / host / rel)
                assert (size, mtime) == (stat.st_size, stat.st_mtime_ns), (table, host, rel)
    finally:
        db.close()


def test_the_cache_records_each_output_file_as_it_is(site: Path):
    """The size and mtime a build records come from what it wrote, not a stat afterwards:
    they must be the files' own, after a cold build, an edit and a layout edit."""
    assert run_build(site).returncode == 0
    _recorded_stats_are_true(site)
    path = site / "content/culture/saltwater-book-fair.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    assert run_build(site).returncode == 0
    _recorded_stats_are_true(site)
    base = site / "layouts/base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("</footer>", "<!-- x --></footer>", 1), encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0 and " 0 files written" not in result.stdout
    _recorded_stats_are_true(site)
    before = snapshot(site / "output")
    assert " 0 files written" in run_build(site).stdout
    assert snapshot(site / "output") == before


def test_edit_rewrites_only_files_whose_bytes_change(site: Path, tmp_path: Path):
    assert run_build(site).returncode == 0
    before = snapshot(site / "output")
    path = site / "content/culture/saltwater-book-fair.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    assert run_build(site).returncode == 0
    after = snapshot(site / "output")
    rewritten = [k for k in after if k in before and after[k][1] != before[k][1]]
    assert rewritten, "the edited article's page must be rewritten"
    assert all(after[k][0] != before[k][0] for k in rewritten), "a file was rewritten with the same bytes"
    assert any("saltwater-book-fair" in k for k in rewritten)



def test_an_edit_that_keeps_the_size_and_mtime_of_a_settled_file_is_still_built(site: Path):
    # a rebuild does not read a content file whose stat is as the last build saw it: an edit
    # by a tool that keeps or restores the mtime (rsync -t, cp -p, touch -r) must still show
    import pickle

    time.sleep(2.5)   # the copied sample settles (see pipeline.SETTLED_NS): the build remembers its files
    assert run_build(site).returncode == 0
    with open(site / ".cache" / "state-files.pickle", "rb") as f:
        assert "culture/saltwater-book-fair.md" in pickle.load(f), "the build did not remember the file"
    path = site / "content/culture/saltwater-book-fair.md"
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Warehouse Nine held", "Warehouse Nine HELD"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert run_build(site).returncode == 0
    pages = sorted((site / "output").glob("*/culture/*/*/*/saltwater-book-fair/index.html"))
    assert pages and all("Warehouse Nine HELD" in p.read_text(encoding="utf-8") for p in pages)


def make_many(site: Path, count: int) -> None:
    """Add `count` small articles so a build takes long enough to be killed half-way."""
    for i in range(count):
        (site / "content" / "world" / f"bulk-{i:04d}.md").write_text(ARTICLE.format(
            title=f"Bulk story {i}", day=10 + i % 18, minute=i % 60, tags="bulk",
            body=("Paragraph with *emphasis* and a [link](https://example.org/). " * 20 + "\n\n") * 4),
            encoding="utf-8")


_KILL_MID_COMMIT = """
import os, signal, sys, time
sys.path.insert(0, sys.argv[1])
from newsmirror import cli, writer
moved = []
real_replace = os.replace
def replace(source, target):
    moved.append(target)
    if len(moved) == int(sys.argv[2]):   # half way: the records, on their thread, are written by now
        time.sleep(1.5)
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(source, target)
writer.os.replace = replace
cli.main(sys.argv[3:])
"""


def test_a_build_killed_half_way_through_moving_files_into_place_is_mended_by_the_next(site: Path, tmp_path: Path):
    # the cache's records of the output files are written while the staged files are moved into
    # place: killed after the records and before the last move, the next build must still see
    # which files are old and make them again
    assert run_build(site).returncode == 0
    base = site / "layouts/base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("</footer>", "<!-- new --></footer>", 1),
                    encoding="utf-8")
    files = sum(1 for p in (site / "output").rglob("*.html"))
    killed = subprocess.run([sys.executable, "-c", _KILL_MID_COMMIT, str(REPO), str(files // 2),
                             "--config", str(site / "config.yaml"), "--now", FIXED_NOW],
                            cwd=site, capture_output=True, text=True, timeout=600)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    pages = list((site / "output").rglob("*.html"))
    new = sum(1 for p in pages if "<!-- new -->" in p.read_text(encoding="utf-8"))
    assert 0 < new < len(pages), "the kill must come half way through the moves"
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")


def test_a_killed_build_leaves_a_cache_that_builds_correctly(tmp_path: Path):
    site = copy_sample(tmp_path / "site")
    make_many(site, 400)
    assert run_build(site).returncode == 0
    # change every bulk article, then kill the rebuild part-way
    for path in sorted((site / "content/world").glob("bulk-*.md")):
        path.write_text(path.read_text(encoding="utf-8").replace("Bulk story", "Changed story"),
                        encoding="utf-8")
    command = [sys.executable, str(REPO / "build.py"), "--config", str(site / "config.yaml"), "--now", FIXED_NOW]
    for delay in (0.8, 1.6, 2.4):
        process = subprocess.Popen(command, cwd=site, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        time.sleep(delay)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")



def _hold_the_lock(site: Path):
    """Take the site's build lock as another build would (process id 4242); return its file."""
    import fcntl

    (site / ".cache").mkdir(exist_ok=True)
    held = open(site / ".cache" / "lock", "a+", encoding="utf-8")
    fcntl.lockf(held, fcntl.LOCK_EX)
    held.truncate(0)
    held.write("4242\n")
    held.flush()
    return held


def _start_waiting(site: Path, tmp_path: Path, *args: str) -> tuple[subprocess.Popen, Path]:
    """Start `build.py *args` on the site; return it, once it says it waits, and its stderr file."""
    err = tmp_path / f"stderr-{len(list(tmp_path.glob('stderr-*')))}"
    command = [sys.executable, str(REPO / "build.py"), *args, "--config", str(site / "config.yaml")]
    with open(err, "w", encoding="utf-8") as sink:
        process = subprocess.Popen(command, cwd=site, stdout=subprocess.DEVNULL, stderr=sink)
    deadline = time.monotonic() + 120
    said = "Waiting for another build, clean or deploy of this site to finish (process 4242)"
    while said not in err.read_text(encoding="utf-8"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"it did not wait: {err.read_text(encoding='utf-8')}")
        time.sleep(0.05)
    return process, err


def test_builds_and_clean_wait_for_a_running_build(site: Path, tmp_path: Path):
    # a scheduled build and a publish can overlap: the second waits, says so, and then builds
    assert run_build(site).returncode == 0
    held = _hold_the_lock(site)
    build, err = _start_waiting(site, tmp_path, "--now", FIXED_NOW)
    try:
        time.sleep(1)
        assert build.poll() is None, "the build did not wait for the lock"
    finally:
        held.close()
    assert build.wait(timeout=600) == 0, err.read_text(encoding="utf-8")
    assert "Traceback" not in err.read_text(encoding="utf-8")
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")
    held = _hold_the_lock(site)
    clean, err = _start_waiting(site, tmp_path, "clean")
    try:
        time.sleep(1)
        assert clean.poll() is None and (site / "output").is_dir(), "clean did not wait for the lock"
    finally:
        held.close()
    assert clean.wait(timeout=600) == 0, err.read_text(encoding="utf-8")
    assert not (site / "output").exists() and not (site / ".cache").exists()


def test_a_build_killed_alone_leaves_no_lock_behind(tmp_path: Path):
    # killed by cron's or CI's timeout, the build's process dies and its helper processes may
    # live on a moment: the next build must not wait for them
    site = copy_sample(tmp_path / "site")
    make_many(site, 400)
    assert run_build(site).returncode == 0
    for path in sorted((site / "content/world").glob("bulk-*.md")):
        path.write_text(path.read_text(encoding="utf-8").replace("Bulk story", "Changed story"), encoding="utf-8")
    command = [sys.executable, str(REPO / "build.py"), "--config", str(site / "config.yaml"), "--now", FIXED_NOW]
    process = subprocess.Popen(command, cwd=site, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lock = site / ".cache" / "lock"
    deadline = time.monotonic() + 60
    while lock.read_text(encoding="utf-8").strip() != str(process.pid):
        assert process.poll() is None and time.monotonic() < deadline, "the build never took the lock"
        time.sleep(0.01)
    time.sleep(0.7)   # the survey of output/ (on the other core) has its result ready by now
    os.kill(process.pid, signal.SIGKILL)   # the build's process alone, not its process group
    process.wait()
    # its helper processes (parse workers, the survey) end with it instead of waiting for ever
    deadline = time.monotonic() + 20
    while _processes_running(str(site / "config.yaml")):
        assert time.monotonic() < deadline, f"left running: {_processes_running(str(site / 'config.yaml'))}"
        time.sleep(0.1)
    again = subprocess.run(command, cwd=site, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "Waiting" not in again.stderr
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")


def _processes_running(text: str) -> list[int]:
    """Return the ids of live processes whose command line holds `text` (Linux's /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text in (entry / "cmdline").read_bytes().decode("utf-8", "replace") \
                    and (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                found.append(int(entry.name))
        except OSError:   # ended meanwhile
            pass
    return found


def test_helper_processes_make_the_same_site(site: Path, tmp_path: Path, monkeypatch):
    # a large site makes its feeds, sitemaps and half its manifests in forked processes: the
    # sample is made large enough for them here, and must come out as a cold build does
    from datetime import datetime, timezone

    import newsmirror.pipeline as pipeline
    from newsmirror.config import load_config
    from newsmirror.plan import BuildOptions

    forked = []

    class Watched(pipeline.Background):
        def __init__(self, fn, *args, **kwargs):
            forked.append(fn.__name__)
            super().__init__(fn, *args, **kwargs)

    monkeypatch.setattr(pipeline, "PARALLEL_HASH_FROM", 1)
    monkeypatch.setattr(pipeline, "Background", Watched)
    options = BuildOptions(datetime(2026, 11, 29, 12, tzinfo=timezone.utc))
    pipeline.build_site(load_config(site / "config.yaml"), options)
    path = site / "content/culture/saltwater-book-fair.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    pipeline.build_site(load_config(site / "config.yaml"), options)
    # the search index is made elsewhere only from kept postings, so from the second build on
    assert {"mirror_files", "_manifests", "survey_output", "_made"} <= set(forked)
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")
    # a story added to the archive renumbers the index (every file of it made again)
    (site / "content/world/added-to-the-archive.md").write_text(ARTICLE.format(
        title="An old story", day=2, minute=5, tags="velmora", body="Archive words " * 20), encoding="utf-8")
    forked.clear()
    pipeline.build_site(load_config(site / "config.yaml"), options)
    assert "_made" in forked
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")


def test_renders_shared_among_mirrors_are_checked_once_per_layouts_and_config(site: Path, tmp_path: Path,
                                                                              monkeypatch):
    """A build that shares renders among mirrors compares a few shared pages with each mirror's
    own render. The cache keeps what it found, so that a rebuild of a few pages shares them
    without comparing again; a difference turns sharing off for those layouts for good."""
    from datetime import datetime, timezone

    import newsmirror.pipeline as pipeline
    from newsmirror.config import load_config
    from newsmirror.plan import BuildOptions
    from newsmirror.render import SharedRenderer

    options = BuildOptions(datetime(2026, 11, 29, 12, tzinfo=timezone.utc))
    # the sample counts as large (its cold build renders in worker processes), an edit as small
    monkeypatch.setattr(pipeline, "PARALLEL_RENDER_FROM", 100)
    shared, compared = [], []
    render, verify = SharedRenderer.render, pipeline.RenderJob.verify_sharing
    monkeypatch.setattr(SharedRenderer, "render",
                        lambda self, page, targets: shared.append(page.output) or render(self, page, targets))
    monkeypatch.setattr(pipeline.RenderJob, "verify_sharing",
                        lambda self, tasks, verified=frozenset(): compared.append(verified) or verify(self, tasks, verified))

    def build() -> None:
        shared.clear()
        compared.clear()
        pipeline.build_site(load_config(site / "config.yaml"), options)

    build()   # cold: every kind of page compared
    assert compared == [frozenset()]
    path = site / "content/culture/saltwater-book-fair.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    build()   # a few pages, of kinds compared already: shared, not compared again
    assert shared and compared and {"article", "section"} <= compared[0]
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")

    # a shared render that differs from the mirror's own (a fault put in on purpose): the next
    # build with new layouts compares, finds it, renders every mirror alone, and remembers
    monkeypatch.setattr(SharedRenderer, "render", lambda self, page, targets: {
        t: data + b"<!-- shared -->" for t, data in render(self, page, targets).items()})
    base = site / "layouts/base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("</footer>", "<!-- v2 --></footer>", 1),
                    encoding="utf-8")
    build()
    assert compared == [frozenset()]
    assert not any(b"<!-- shared -->" in data for data in tree(site / "output").values())
    path.write_text(path.read_text(encoding="utf-8") + "\nAnd another.\n", encoding="utf-8")
    monkeypatch.setattr(pipeline, "PARALLEL_RENDER_FROM", 1)   # a change large enough to compare
    build()
    assert compared == [] and not any(b"<!-- shared -->" in data for data in tree(site / "output").values())
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")


def test_a_cache_from_other_code_is_ignored(site: Path, tmp_path: Path):
    import sqlite3

    assert run_build(site).returncode == 0
    database = site / ".cache" / "cache.sqlite"
    assert database.is_file(), "the build keeps its cache in .cache/ beside config.yaml"
    with sqlite3.connect(database) as db:
        # poison every cached article, and claim another version wrote them
        db.execute("UPDATE parsed SET data = x'00'")
        db.execute("UPDATE meta SET value = 'written by another version' WHERE key = 'fingerprint'")
    path = site / "content/culture/saltwater-book-fair.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")


def test_clean_removes_output_and_cache(site: Path):
    assert run_build(site).returncode == 0
    assert (site / ".cache").is_dir() and (site / "output").is_dir()
    result = run_build(site, "clean")
    assert result.returncode == 0, result.stderr
    assert not (site / ".cache").exists() and not (site / "output").exists()


def test_a_rebuild_with_nothing_changed_still_repairs_a_touched_output_file(site: Path, tmp_path: Path):
    assert run_build(site).returncode == 0
    page = site / "output/www.meridiancourier.example/index.html"
    good = page.read_bytes()
    page.write_bytes(good.replace(b"</body>", b"<script>planted()</script></body>"))
    assert run_build(site).returncode == 0
    assert page.read_bytes() == good
    (site / "output/meridiancourier.example.net/feed.xml").unlink()
    assert run_build(site).returncode == 0
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")


def test_a_rebuild_after_an_edit_mends_whatever_was_done_to_output_by_hand(site: Path, tmp_path: Path):
    # the rebuild lists and measures output/ on the other core while it plans: what it finds
    # there must still be mended, and what it did not make removed
    assert run_build(site).returncode == 0
    mirror = site / "output/meridiancourier.example.net"
    page = next(p for p in sorted(mirror.rglob("index.html")) if "/politics/2" in p.as_posix())
    page.write_bytes(page.read_bytes().replace(b"</body>", b"<p>planted</p></body>"))   # edited by hand
    (mirror / "sitemap.xml").unlink()
    (mirror / "stray.html").write_text("left by someone", encoding="utf-8")
    (mirror / "two\nlines.html").write_text("a name with a newline", encoding="utf-8")
    (mirror / "old-section/2019/gone").mkdir(parents=True)
    (mirror / "old-section/2019/gone/index.html").write_text("an old page", encoding="utf-8")
    (mirror / "tags/velmora/index.html").unlink()
    (mirror / "tags/velmora/index.html").mkdir()   # a folder where a page belongs
    (mirror / "tags/velmora/index.html/x").write_text("x", encoding="utf-8")
    # a new static file changes no page: each page file is judged by what the survey found
    (site / "static/files").mkdir(parents=True, exist_ok=True)
    (site / "static/files/note.txt").write_text("a note\n", encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")
    assert not (mirror / "old-section").exists()   # its emptied folders go too


def test_the_clock_alone_publishes_a_scheduled_article_on_a_rebuild(site: Path, tmp_path: Path):
    assert run_build(site, now="2027-02-28 12:00:00 +00:00").returncode == 0
    assert run_build(site, now="2027-02-28 13:00:00 +00:00").returncode == 0   # nothing due: no work
    due = run_build(site, now="2027-03-01 12:00:00 +00:00")
    assert due.returncode == 0
    assert " 0 files written" not in due.stdout
    built = tree(site / "output")
    assert any("spring-session-preview" in rel for rel in built)
    assert built == cold_build_of_at(site, tmp_path, "2027-03-01 12:00:00 +00:00")
    back = run_build(site, now="2027-02-28 12:00:00 +00:00")   # an earlier clock: unpublished again
    assert back.returncode == 0
    assert not any("spring-session-preview" in rel for rel in tree(site / "output"))


def cold_build_of_at(site: Path, scratch: Path, now: str) -> dict[str, bytes]:
    """Return the output of a cold build of `site`'s sources at clock `now`."""
    copy = scratch / "cold-at"
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    for part in ("config.yaml", "content", "layouts", "static"):
        source = site / part
        if source.is_dir():
            shutil.copytree(source, copy / part)
        elif source.exists():
            shutil.copy2(source, copy / part)
    assert run_build(copy, now=now).returncode == 0
    return tree(copy / "output")


def test_publishing_a_story_rewrites_only_part_of_the_search_index(site: Path, tmp_path: Path):
    """A story newer than every other takes the next document number: the shards of its words,
    the last document chunk and meta.js change, and the other index files are not rewritten."""
    assert run_build(site).returncode == 0
    data = site / "output/www.meridiancourier.example/search/data"
    before = snapshot(data)
    (site / "content/world/quayside-vote.md").write_text(
        '---\ntitle: "Quayside traders vote on Sunday opening"\ndate: 2026-11-29 11:00:00 +00:00\n'
        "authors: [ana-ferreira]\n---\nThe xylographer's stall stays shut.\n", encoding="utf-8")
    assert run_build(site).returncode == 0
    assert tree(site / "output") == cold_build_of(site, tmp_path / "cold")
    after = snapshot(data)
    rewritten = {rel for rel in after if after[rel][1] != before.get(rel, (None, None))[1]}
    assert {"meta.js", "d-0.js"} <= rewritten and "xylographer" in after["t-78.js"][0].decode("utf-8")
    assert len(rewritten) < len(after) / 2, sorted(rewritten)
