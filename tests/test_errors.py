"""Broken input: every problem is printed as `path:line: message`, exit 1, and output/ is untouched.

Each case starts from a copy of the sample site that has already been built, breaks it (writes
one broken file), builds again and checks what a user sees: the exit status, the exact problem
line on stderr (no traceback), and an output folder whose every file has the same bytes and mtime.
The cases' builds are subprocesses, so the `builds` fixture starts them all at once.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from conftest import run_build, snapshot

SUMMARY = re.compile(r"error: (\d+) problems?; nothing was written, the output folder is as it was")
Breakage = Callable[[Path], None]   # breaks a copy of the built sample site


@dataclass(frozen=True)
class Outcome:
    """A broken site, its output before the build, and the finished build."""

    site: Path
    before: dict
    result: subprocess.CompletedProcess


@pytest.fixture(scope="module")
def builds(request, built_site: Path, tmp_path_factory):
    """Start the build of every selected case of this module at once: {test node id: future Outcome}.

    Each case's `breakage` parameter is applied here, to its own copy of the built site."""

    def build(breakage: Breakage, folder: Path) -> Outcome:
        site = Path(shutil.copytree(built_site, folder / "site", copy_function=shutil.copy2))
        breakage(site)
        before = snapshot(site / "output")
        return Outcome(site, before, run_build(site))

    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
    futures: dict[str, Future] = {}
    for item in request.session.items:
        breakage = getattr(item, "callspec", None) and item.callspec.params.get("breakage")
        if item.module is request.module and breakage:
            futures[item.nodeid] = pool.submit(build, breakage, tmp_path_factory.mktemp("case"))
    yield futures
    pool.shutdown(cancel_futures=True)


@pytest.fixture
def outcome(request, builds) -> Outcome:
    """Return this case's finished build."""
    return builds[request.node.nodeid].result()


def insert_line(number: int, text: str) -> Callable[[str], str]:
    """Return an edit that inserts `text` so that it becomes line `number` of a file."""

    def edit(old: str) -> str:
        lines = old.split("\n")
        lines.insert(number - 1, text)
        return "\n".join(lines)

    return edit


def write(site: Path, rel: str, content: str | bytes | Callable[[str], str]) -> None:
    """Write one file of the site: new text or bytes, or an edit of the file already there."""
    path = site / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if callable(content):
        content = content(path.read_text(encoding="utf-8"))
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))


def broken_file(rel: str, content: str | bytes | Callable[[str], str]) -> Breakage:
    """Return a breakage that writes one file (or edits it, for a function)."""
    return lambda site: write(site, rel, content)


def failed(outcome: Outcome) -> list[str]:
    """Check the build failed as a user expects (exit 1, no traceback, output untouched); return
    the problem lines."""
    result = outcome.result
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    *problems, last = result.stderr.splitlines()
    summary = SUMMARY.fullmatch(last)
    assert summary, result.stderr
    assert int(summary.group(1)) == len(problems)
    before, after = outcome.before, snapshot(outcome.site / "output")
    assert after.keys() == before.keys(), "files appeared in or vanished from output/"
    changed = [rel for rel in before if after[rel] != before[rel]]
    assert changed == [], f"a failed build touched {changed[:5]}"
    return problems


BROKEN = "content/politics/broken.md"

CONTENT_CASES = [
    pytest.param(
        broken_file(BROKEN, "# Port talks resume\n\nThe talks resumed on Monday.\n"),
        "content/politics/broken.md:1: no front matter: start the file with a line `---`, then keys "
        "such as `title:` and `date:`, then a line `---`",
        id="front-matter-missing"),
    pytest.param(
        broken_file(BROKEN, '---\ntitle: "Port talks resume"\ndate: 2026-11-20\n\nThe talks resumed.\n'),
        "content/politics/broken.md:1: front matter opened here is never closed: add a line `---` "
        "after its last key",
        id="front-matter-unclosed"),
    pytest.param(
        broken_file(BROKEN, "---\ntitle: Port talks\n  resume: soon\ndate: 2026-11-20\n---\nBody.\n"),
        "content/politics/broken.md:3: front matter: YAML syntax error: mapping values are not "
        "allowed in this context",
        id="front-matter-yaml-syntax-error"),
    pytest.param(
        broken_file(BROKEN, "---\n- title\n- date\n---\nBody.\n"),
        "content/politics/broken.md:2: front matter is a list, not a mapping of keys; write lines "
        "like `title: My headline`",
        id="front-matter-is-a-list"),
    pytest.param(
        broken_file(BROKEN, "---\n---\nBody.\n"),
        "content/politics/broken.md:2: front matter is empty, not a mapping of keys; write lines "
        "like `title: My headline`",
        id="front-matter-empty"),
    pytest.param(
        broken_file(BROKEN, '---\ndate: 2026-11-20\nsummary: "Talks resume."\n---\nBody.\n'),
        'content/politics/broken.md:2: title is missing: add a line like `title: "Harbour strike ends"`',
        id="title-missing"),
    pytest.param(
        broken_file(BROKEN, "---\ndate: 2026-11-20\ntitle: no\n---\nBody.\n"),
        'content/politics/broken.md:3: title: YAML reads the unquoted value as true/false, not text: '
        'quote it, like title: "no"',
        id="title-unquoted-no-is-a-bool"),
    pytest.param(
        broken_file(BROKEN, "---\ndate: 2026-11-20\ntitle: 1984\n---\nBody.\n"),
        'content/politics/broken.md:3: title: YAML reads the unquoted value as a number, not text: '
        'quote it, like title: "1984"',
        id="title-unquoted-number"),
    pytest.param(
        broken_file(BROKEN, '---\ntitle: "Port talks resume"\nsummary: "Talks."\n---\nBody.\n'),
        "content/politics/broken.md:2: date is missing: add a line like `date: 2026-11-28 09:30`",
        id="date-missing"),
    pytest.param(
        broken_file(BROKEN, '---\ntitle: "Port talks resume"\ndate: yesterday\n---\nBody.\n'),
        "content/politics/broken.md:3: date: 'yesterday' is not a date; write it like 2026-11-28 or "
        "2026-11-28 14:05:00 +01:00",
        id="date-is-a-word"),
    pytest.param(
        broken_file(BROKEN, '---\ntitle: "Port talks resume"\ndate: 2026-13-01\n---\nBody.\n'),
        "content/politics/broken.md:3: date: '2026-13-01' is not a real date (month must be in 1..12)",
        id="date-month-13"),
    pytest.param(
        broken_file(BROKEN, '---\ntitle: "Port talks resume"\ndate: 2026-11-20\nslug: ../../etc\n---\nBody.\n'),
        "content/politics/broken.md:4: slug: '../../etc' would write outside the output folder; use "
        "letters, digits and '-'",
        id="slug-escapes-output"),
    pytest.param(
        broken_file(BROKEN, '---\ntitle: "Port talks resume"\ndate: 2026-11-20\naliases:\n  - /news/port-talks/\n'
                "  - ../../etc/cron.d/job\n---\nBody.\n"),
        "content/politics/broken.md:6: aliases: '../../etc/cron.d/job' would write outside the output "
        "folder; give a path inside the site like /old/url/",
        id="alias-escapes-output"),
    pytest.param(
        broken_file(BROKEN, '---\ntitle: "Caf\xe9 owners protest"\ndate: 2026-11-20\n---\nBody.\n'
                            .encode("latin-1")),
        "content/politics/broken.md:2: not UTF-8 text (byte 0xe9); save the file as UTF-8",
        id="not-utf8-latin1"),
    pytest.param(
        broken_file(BROKEN, b'\xef\xbb\xbf---\r\ntitle: "Port talks"\r\ndate: 2026-11-20\r\n---\r\n\xe9t\xe9\r\n'),
        "content/politics/broken.md:5: not UTF-8 text (byte 0xe9); save the file as UTF-8",
        id="not-utf8-after-a-bom"),
    pytest.param(
        broken_file(BROKEN, '---\ntitle: "Port talks resume"\ndate: 2026-11-20\nlayout: fancy\n---\nBody.\n'),
        "content/politics/broken.md:4: layout: no layout 'fancy': there is no layouts/fancy.html "
        "(available: 404, article, banner, base, home, list, macros, redirect, search)",
        id="layout-unknown"),
    pytest.param(
        broken_file(BROKEN, '---\ntitle: "Budget passes"\ndate: 2026-11-20 10:00\n'
                            'slug: harbour-budget-vote\n---\nBody.\n'),
        "content/politics/broken.md:4: writes politics/2026/11/20/harbour-budget-vote/index.html, which "
        "content/politics/harbour-budget-vote.md writes too; change the slug, date or alias of one of them",
        id="output-path-taken-by-another-article"),
    pytest.param(
        broken_file(BROKEN, '---\ntitle: "Port talks resume"\ndate: 2026-11-20\n---\nBody.\n\n'
                '{{< note title="Correction >}}An earlier version misnamed the port.{{< /note >}}\n'),
        "content/politics/broken.md:7: shortcode note: its tag is not closed; check its quotes and the "
        "closing >}} (or %}})",
        id="shortcode-unbalanced-quotes"),
    pytest.param(
        broken_file("layouts/article.html", insert_line(22, "<p>{{ no_such_variable }}</p>")),
        "layouts/article.html:22: template error: 'no_such_variable' is undefined "
        "(rendering content/politics/harbour-budget-vote.md)",
        id="layout-undefined-variable"),
    pytest.param(
        broken_file("layouts/list.html", insert_line(6, "<h2>{{ page.title </h2>")),
        "layouts/list.html:6: template error: unexpected '/' (rendering politics/index.html)",
        id="layout-jinja-syntax-error"),
    pytest.param(
        broken_file("layouts/shortcodes/pullquote.html", insert_line(2, "<p>{{ no_such_variable }}</p>")),
        "content/culture/concert-hall-reopens.md:26: shortcode pullquote: "
        "layouts/shortcodes/pullquote.html:2: 'no_such_variable' is undefined",
        id="shortcode-layout-undefined-variable"),
    pytest.param(
        broken_file("layouts/shortcodes/pullquote.html", insert_line(2, "<p>{{ inner </p>")),
        "content/culture/concert-hall-reopens.md:26: shortcode pullquote: "
        "layouts/shortcodes/pullquote.html:2: unexpected '/'",
        id="shortcode-layout-jinja-syntax-error"),
]


@pytest.mark.parametrize(("breakage", "expected"), CONTENT_CASES)
def test_broken_input_is_reported_and_nothing_is_written(outcome, breakage, expected):
    problems = failed(outcome)
    assert expected in problems
    where = expected.split(": ", 1)[0] + ": "
    assert all(line.startswith(where) for line in problems), problems


def three_broken_files(site: Path) -> None:
    write(site, "content/politics/broken.md", "---\ndate: 2026-11-20\n---\nBody.\n")
    write(site, "content/world/broken.md", '---\ntitle: "Storm"\ndate: 2026-02-30\n---\nBody.\n')
    write(site, "content/culture/broken.md", '---\ntitle: "Caf\xe9"\ndate: 2026-11-20\n---\n'.encode("latin-1"))


@pytest.mark.parametrize("breakage", [three_broken_files], ids=["three-broken-files"])
def test_every_problem_of_a_run_is_printed_together(outcome, breakage):
    assert failed(outcome) == [
        "content/culture/broken.md:2: not UTF-8 text (byte 0xe9); save the file as UTF-8",
        'content/politics/broken.md:2: title is missing: add a line like `title: "Harbour strike ends"`',
        "content/world/broken.md:3: date: '2026-02-30' is not a real date (day is out of range for month)",
    ]


MIRRORS_BLOCK = re.compile(r"^mirrors:.*?\n\n", re.MULTILINE | re.DOTALL)


def config_edit(old: str | re.Pattern, new: str) -> Breakage:
    """Return a breakage that replaces the first `old` (text or pattern) in config.yaml with `new`."""

    def edit(text: str) -> str:
        if isinstance(old, re.Pattern):
            assert old.search(text), old.pattern
            return old.sub(new, text, count=1)
        assert old in text, old
        return text.replace(old, new, 1)

    return broken_file("config.yaml", edit)


def line_starting(text: str, prefix: str) -> int:
    """Return the 1-based number of the first line of `text` that starts with `prefix`."""
    return next(n for n, line in enumerate(text.split("\n"), 1) if line.startswith(prefix))


# (the edit of the sample config.yaml, where the problem is: the first line starting with this
#  text or a line number, the message)
CONFIG_CASES = [
    pytest.param(config_edit("page_size: 5", "page_size: 5\npagesize: 5"), "pagesize:",
                 "unknown key 'pagesize' in config (known keys: site, permalink, page_size, feed_size, "
                 "expired, sections, authors, mirrors, languages, former, preserve, canonical, paths, ignore, deploy, signing, hosting)",
                 id="unknown-top-level-key"),
    pytest.param(config_edit("  language: en ", "  langauge: en "), "  langauge:",
                 "unknown key 'langauge' in site (known keys: title, tagline, description, language, "
                 "direction, locale, timezone, logo, copyright, twitter)",
                 id="unknown-key-in-site"),
    pytest.param(config_edit("page_size: 5", "page_size: ten"), "page_size:",
                 "page_size: expected a whole number above 0, got text 'ten'",
                 id="page-size-is-a-word"),
    pytest.param(config_edit("  title: The Meridian Courier ", "  # no title "), "site:",
                 "site.title is missing: add it (text)",
                 id="site-title-missing"),
    pytest.param(config_edit(MIRRORS_BLOCK, ""), 1,
                 "mirrors is missing: add it (a list of at least one mirror)",
                 id="mirrors-missing"),
    pytest.param(config_edit("https://meridiancourier.example.net/", "ftp://meridiancourier.example.net/"),
                 "  - url: ftp:",
                 "mirrors[1].url: 'ftp://meridiancourier.example.net/' is not an http(s) URL; write it "
                 "like https://www.example.com/",
                 id="mirror-url-not-http"),
    pytest.param(config_edit("https://meridiancourier.example.net/", "http://www.meridiancourier.example/news/"),
                 "  - url: http://www.",
                 "mirrors[1].url: host 'www.meridiancourier.example' is already used by mirrors[0]; "
                 "each mirror needs its own host",
                 id="mirror-host-duplicate"),
    pytest.param(config_edit("https://meridiancourier.example.net/", "https://mirror_one.example/"),
                 "  - url: https://mirror_",
                 "mirrors[1].url: 'https://mirror_one.example/': host 'mirror_one.example' is not a safe "
                 "folder name (letters, digits, '-' and '.')",
                 id="mirror-host-not-a-folder-name"),
    pytest.param(config_edit("timezone: Europe/Lisbon", "timezone: Europe/Atlantis"), "  timezone:",
                 "site.timezone: unknown time zone 'Europe/Atlantis' (use an IANA name such as Europe/London)",
                 id="timezone-unknown"),
    pytest.param(config_edit('permalink: "/{section}/{yyyy}/{mm}/{dd}/{slug}/"',
                             'permalink: "/{section}/{year}/{slug}/"'),
                 "permalink:",
                 "permalink: unknown placeholder {year} (use {section}, {yyyy}, {mm}, {dd}, {slug})",
                 id="permalink-unknown-placeholder"),
    pytest.param(config_edit("  title: The Meridian Courier ", "  title: 1984 "), "  title: 1984",
                 "site.title: expected text, got a number 1984 (quote it)",
                 id="site-title-is-a-number"),
    pytest.param(config_edit(MIRRORS_BLOCK, "mirrors: []\n\n"), "mirrors:",
                 "mirrors: expected a list of at least one mirror, got a list []",
                 id="mirrors-empty-list"),
    pytest.param(config_edit('permalink: "/{section}/{yyyy}/{mm}/{dd}/{slug}/"', "permalink: 5"), "permalink:",
                 "permalink: expected text such as /{section}/{yyyy}/{mm}/{dd}/{slug}/, got a number 5",
                 id="permalink-is-a-number"),
]


@pytest.mark.parametrize(("breakage", "at", "message"), CONFIG_CASES)
def test_broken_config_is_reported_and_nothing_is_written(outcome, breakage, at, message):
    text = (outcome.site / "config.yaml").read_text(encoding="utf-8")
    line = at if isinstance(at, int) else line_starting(text, at)
    assert failed(outcome) == [f"config.yaml:{line}: {message}"]
