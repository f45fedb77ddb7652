"""Small pure functions, called directly: dates, page-relative URLs, mirror URLs, slugs."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import os
import sys

import pytest

from conftest import REPO, tree

if str(REPO) not in sys.path:   # plain `pytest` does not put the project on the path (`python -m pytest` does)
    sys.path.insert(0, str(REPO))

from newsmirror.background import Background  # noqa: E402
from newsmirror.dates import parse_date  # noqa: E402
from newsmirror.links import relative_from, relative_url  # noqa: E402
from newsmirror.mirrors import parse_mirror_url  # noqa: E402
from newsmirror.views import slugify  # noqa: E402
from newsmirror.writer import Staging  # noqa: E402

LISBON = ZoneInfo("Europe/Lisbon")   # +00:00 in winter, +01:00 in summer


def offset(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


# ---- parse_date ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    pytest.param("2026-11-28", datetime(2026, 11, 28, tzinfo=LISBON), id="date-only-winter"),
    pytest.param("2026-07-15", datetime(2026, 7, 15, tzinfo=LISBON), id="date-only-summer"),
    pytest.param("2026-11-28 14:05", datetime(2026, 11, 28, 14, 5, tzinfo=LISBON), id="minutes-no-offset"),
    pytest.param("2026-07-15 14:30:00", datetime(2026, 7, 15, 14, 30, tzinfo=LISBON), id="seconds-no-offset"),
    pytest.param("2026-11-28T14:05:00+05:30", datetime(2026, 11, 28, 14, 5, tzinfo=offset(5.5)), id="iso-T"),
    pytest.param("2017-10-11 14:00:00 -0500", datetime(2017, 10, 11, 14, tzinfo=offset(-5)), id="offset-no-colon"),
    pytest.param("2026-11-27 9:05:00 +0000", datetime(2026, 11, 27, 9, 5, tzinfo=timezone.utc), id="one-digit-hour"),
    pytest.param("2026-1-5", datetime(2026, 1, 5, tzinfo=LISBON), id="one-digit-month-and-day"),
    pytest.param("2026-11-28T14:05:00Z", datetime(2026, 11, 28, 14, 5, tzinfo=timezone.utc), id="Z"),
    pytest.param("2026-11-28 14:05 UTC", datetime(2026, 11, 28, 14, 5, tzinfo=timezone.utc), id="UTC"),
    pytest.param("2026-11-28 14:05 +1", datetime(2026, 11, 28, 14, 5, tzinfo=offset(1)), id="offset-hours-only"),
    pytest.param("2026-11-28 14:05:00.25 +01:00",
                 datetime(2026, 11, 28, 14, 5, 0, 250000, tzinfo=offset(1)), id="fraction-of-second"),
    pytest.param(" 2026-11-28 14:05 ", datetime(2026, 11, 28, 14, 5, tzinfo=LISBON), id="surrounding-spaces"),
    pytest.param(date(2026, 7, 15), datetime(2026, 7, 15, tzinfo=LISBON), id="yaml-date"),
    pytest.param(datetime(2026, 7, 15, 10), datetime(2026, 7, 15, 10, tzinfo=LISBON), id="naive-datetime"),
])
def test_parse_date_reads(value, expected):
    parsed = parse_date(value, LISBON)
    assert isinstance(parsed, datetime) and parsed.tzinfo is not None
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(("value", "message"), [
    ("yesterday", "'yesterday' is not a date; write it like 2026-11-28 or 2026-11-28 14:05:00 +01:00"),
    ("28/11/2026", "'28/11/2026' is not a date; write it like 2026-11-28 or 2026-11-28 14:05:00 +01:00"),
    ("", "'' is not a date; write it like 2026-11-28 or 2026-11-28 14:05:00 +01:00"),
    ("2026-13-01", "'2026-13-01' is not a real date (month must be in 1..12)"),
    ("2026-02-29", "'2026-02-29' is not a real date (day is out of range for month)"),
    ("2026-11-28 24:00", "'2026-11-28 24:00' is not a real date (hour must be in 0..23)"),
    ("2026-11-28 14:05 +15:00", "'2026-11-28 14:05 +15:00': the offset +15:00 is out of range"),
    ("2026-11-28 14:05 +01:60", "'2026-11-28 14:05 +01:60': the offset +01:60 is out of range"),
    (20261128, "expected a date like 2026-11-28 or 2026-11-28 14:05 +01:00, got 20261128"),
    (True, "expected a date like 2026-11-28 or 2026-11-28 14:05 +01:00, got True"),
], ids=["word", "day-first", "empty", "month-13", "feb-29-non-leap", "hour-24", "offset-15h",
        "offset-60-minutes", "number", "bool"])
def test_parse_date_explains_what_is_wrong(value, message):
    assert parse_date(value, LISBON) == message


def test_parse_date_accepts_feb_29_in_a_leap_year():
    assert parse_date("2028-02-29", LISBON) == datetime(2028, 2, 29, tzinfo=LISBON)


# ---- relative_url -------------------------------------------------------------------------------

@pytest.mark.parametrize(("here", "there", "expected"), [
    ("index.html", "", "./"),
    ("index.html", "politics/", "politics/"),
    ("index.html", "css/site.css", "css/site.css"),
    ("politics/index.html", "", "../"),
    ("politics/index.html", "politics/", "./"),
    ("politics/index.html", "politics/feed.xml", "feed.xml"),
    ("politics/index.html", "world/", "../world/"),
    ("politics/page/2/index.html", "politics/", "../../"),
    ("tags/velmora/index.html", "tags/velmora/page/2/", "page/2/"),
    ("politics/2026/11/20/harbour-budget-vote/index.html", "css/site.css", "../../../../../css/site.css"),
    ("politics/2026/11/20/harbour-budget-vote/index.html", "politics/2026/11/24/electoral-reform-bill/",
     "../../24/electoral-reform-bill/"),
    ("news/harbour-strike/index.html", "business/2026/11/27/harbour-strike-ends/",
     "../../business/2026/11/27/harbour-strike-ends/"),
    ("2026/old-harbour-story.html", "business/", "../business/"),
    ("a/b/index.html", "a/b", "../b"),
])
def test_relative_url(here, there, expected):
    assert relative_url(here, there) == expected
    assert relative_from(here)(there) == expected   # what a page's link() uses
    # what a browser does with it: the same place, under any mirror prefix
    for base in ("https://www.example.com/", "https://cdn.example.net/courier/"):
        assert urljoin(base + here, expected) == base + there


def test_relative_from_agrees_with_relative_url_on_every_pair():
    paths = ["", "index.html", "a", "a/", "a/index.html", "a/b", "a/b/", "a/b/index.html", "ab/", "ab/c/index.html",
             "a/b/c/index.html", "b/a/", "a/c/d/", "a/b/c/d.css", "a.css", "a/a/a/", "page/2/index.html"]
    for here in paths:
        relative = relative_from(here)
        for there in paths:
            assert relative(there) == relative_url(here, there), (here, there)


# ---- parse_mirror_url ---------------------------------------------------------------------------

ONION = "6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion"


@pytest.mark.parametrize(("raw", "expected"), [
    ("https://www.example.com/", ("https://www.example.com/", "www.example.com", "/", "https")),
    ("https://www.example.com", ("https://www.example.com/", "www.example.com", "/", "https")),
    ("HTTPS://WWW.Example.COM/", ("https://www.example.com/", "www.example.com", "/", "https")),
    ("https://cdn.example/courier", ("https://cdn.example/courier/", "cdn.example", "/courier/", "https")),
    ("http://example.com:8080/news/", ("http://example.com:8080/news/", "example.com", "/news/", "http")),
    ("https://bücher.example/", ("https://xn--bcher-kva.example/", "xn--bcher-kva.example", "/", "https")),
    (f"http://{ONION}/", (f"http://{ONION}/", ONION, "/", "http")),
    ("  https://example.com./  ", ("https://example.com/", "example.com", "/", "https")),
], ids=["plain", "no-slash", "upper-case", "path-prefix", "port", "idn", "onion", "spaces-and-root-dot"])
def test_parse_mirror_url_accepts(raw, expected):
    assert parse_mirror_url(raw) == expected


@pytest.mark.parametrize(("raw", "message"), [
    ("ftp://example.com/", "'ftp://example.com/' is not an http(s) URL; write it like https://www.example.com/"),
    ("www.example.com", "'www.example.com' is not an http(s) URL; write it like https://www.example.com/"),
    ("//example.com/", "'//example.com/' is not an http(s) URL; write it like https://www.example.com/"),
    ("https://example.com/?lang=en",
     "'https://example.com/?lang=en' has a query, fragment or user name; give only scheme, host and path"),
    ("https://example.com/#top",
     "'https://example.com/#top' has a query, fragment or user name; give only scheme, host and path"),
    ("https://editor:pw@example.com/",
     "'https://editor:pw@example.com/' has a query, fragment or user name; give only scheme, host and path"),
    ("https://mirror_one.example/",
     "'https://mirror_one.example/': host 'mirror_one.example' is not a safe folder name "
     "(letters, digits, '-' and '.')"),
    ("https:///courier/", "'https:///courier/': host '' is not a safe folder name (letters, digits, '-' and '.')"),
    ("https://[::1]/", "'https://[::1]/': host '::1' is not a safe folder name (letters, digits, '-' and '.')"),
    ("http://short.onion/", "'http://short.onion/': an onion address has 56 characters a-z and 2-7 before .onion"),
    ("https://example.com:http/", "'https://example.com:http/': the port is not a number"),
    ("https://example.com/a/../b/",
     "'https://example.com/a/../b/': the path prefix '/a/../b/' is not a clean folder path"),
    ("https://example.com//courier/",
     "'https://example.com//courier/': the path prefix '//courier/' is not a clean folder path"),
], ids=["ftp", "no-scheme", "scheme-relative", "query", "fragment", "user", "underscore-host", "no-host",
        "ipv6", "short-onion", "port-not-number", "dot-dot-prefix", "double-slash-prefix"])
def test_parse_mirror_url_refuses(raw, message):
    assert parse_mirror_url(raw) == message


# ---- slugify --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("title", "slug"), [
    ("Port talks resume", "port-talks-resume"),
    ("Budget deal: what's in it", "budget-deal-whats-in-it"),
    ("  Harbour   strike -- ends!  ", "harbour-strike-ends"),
    ("snake_case_title", "snake-case-title"),
    ("Café owners protest", "café-owners-protest"),
    ("ﬁsh market", "fish-market"),
    ("2024", "2024"),
    ("آزادی مطبوعات", "آزادی-مطبوعات"),
    ("Новости дня", "новости-дня"),
    ("Ελληνικά νέα", "ελληνικά-νέα"),
    ("中文 新闻", "中文-新闻"),
    ("?!", ""),
    pytest.param("हिन्दी समाचार", "हिन्दी-समाचार"),
    pytest.param("தமிழ் செய்தி", "தமிழ்-செய்தி"),
], ids=["plain", "apostrophe-colon", "spaces-and-dashes", "underscores", "accents-kept", "ligature-nfkc",
        "digits", "persian", "cyrillic", "greek", "chinese", "punctuation-only", "hindi", "tamil"])
def test_slugify(title, slug):
    assert slugify(title) == slug


def _fails(record: str) -> None:
    with open(record, "a", encoding="utf-8") as f:
        f.write("ran\n")
    raise ValueError("no luck")


def _writes_later(record: str) -> None:
    import time

    time.sleep(2)
    Path(record).write_text("the job was not stopped", encoding="utf-8")


def test_background_job_hands_back_its_value_or_its_failure(tmp_path):
    job = Background(bytes, 20_000_000)   # far more than a pipe holds
    assert job.result() == bytes(20_000_000) and job.result() is job.result()
    failing = Background(_fails, str(tmp_path / "runs"))
    for _ in range(2):   # a bug in the job shows its traceback, each time asked, without running it again
        with pytest.raises(RuntimeError, match="ValueError: no luck"):
            failing.result()
    assert (tmp_path / "runs").read_text(encoding="utf-8") == "ran\n"


def test_a_background_job_closed_before_its_result_is_stopped(tmp_path):
    import time

    record = tmp_path / "late"
    stopped = Background(_writes_later, str(record))
    stopped.close()   # a build that fails early: the job must not go on writing
    with pytest.raises(RuntimeError, match="stopped"):
        stopped.result()
    time.sleep(3)
    assert not record.exists()


@pytest.mark.parametrize("before, after", [
    (None, {"a/index.html": b"1", "x": b"2"}),                                  # first build: a tree, one rename
    ({"a/index.html": b"1", "b/index.html": b"old"}, {"a/index.html": b"1", "b/index.html": b"new", "c/d/e.html": b"n"}),
    ({"x/index.html": b"1", "x/y/z.html": b"2"}, {"x": b"page"}),            # a page where a folder was
    ({"x": b"page"}, {"x/index.html": b"1"}),                                  # a folder where a page was
    ({"a": b"page"}, {"a/b/c/index.html": b"1"}),
    ({}, {"a/b/index.html": b"2", "z": b"1"}),                                 # an empty mirror folder
])
def test_a_commit_leaves_exactly_the_staged_site(tmp_path, before, after):
    root = tmp_path / "out" / "h"
    if before is not None:
        root.mkdir(parents=True)
    for rel, data in (before or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    staging = Staging(tmp_path / "out", ["h"])
    assert ("h" in staging.places.flat) == (before is not None)   # an existing folder is staged flat
    for rel, data in after.items():
        staging.add("h", rel, data)
    staging.commit()
    assert tree(root) == after
    assert not (tmp_path / "out" / ".newsmirror-staging").exists()


def test_an_incomplete_commit_keeps_other_files_and_removes_the_named_ones(tmp_path):
    root = tmp_path / "out" / "h"
    (root / "a").mkdir(parents=True)
    (root / "s").mkdir()
    (root / "a/index.html").write_bytes(b"1")
    (root / "s/1.json").write_bytes(b"x")
    (root / "keep.html").write_bytes(b"k")
    staging = Staging(tmp_path / "out", ["h"])
    staging.add("h", "a/index.html", b"2")
    staging.add("h", "s/2.json", b"y")
    staging.remove("h", "s/1.json")
    staging.commit(complete=False)
    assert tree(root) == {"a/index.html": b"2", "keep.html": b"k", "s/2.json": b"y"}


def _collects_garbage() -> bool:
    """Make a reference cycle and report whether this process's collector frees it unasked."""
    import gc
    import weakref

    class Node:
        pass

    node = Node()
    node.self = node
    gone = weakref.ref(node)
    del node
    kept = [[] for _ in range(100_000)]   # enough new objects to start the collector, if it runs
    return gone() is None and gc.isenabled() and len(kept) > 0


@pytest.mark.parametrize("enabled", [True, False])
def test_a_build_leaves_the_cycle_collector_as_it_found_it(site, enabled):
    # the preview builds again and again in one long-lived process: its collector must run between builds
    import gc

    from newsmirror.config import load_config
    from newsmirror.pipeline import build_site
    from newsmirror.plan import BuildOptions

    config = load_config(site / "config.yaml")
    (gc.enable if enabled else gc.disable)()
    try:
        result = build_site(config, BuildOptions(datetime(2026, 11, 29, 12, tzinfo=timezone.utc)))
        assert result.articles > 10 and gc.isenabled() == enabled
    finally:
        gc.enable()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="one core: a Background job runs in process")
def test_a_process_forked_during_a_build_collects_its_own_garbage():
    # the build pauses the collector in its own process; a render worker making Jinja's cycles must not
    from newsmirror import collector

    with collector.paused():
        assert not _collects_garbage()
        assert Background(_collects_garbage).result()
        with collector.collecting():   # pages rendered in the build process
            assert _collects_garbage()
        assert not _collects_garbage()


def test_immutable_patterns_cover_hashed_files_by_folder_unless_another_file_is_there():
    from newsmirror.hosting import immutable_patterns

    hashed = ["css/site.1a2b3c4d.css", "images/logo.1a2b3c4d.svg", "images/photos/a.1a2b3c4d.jpg",
              "fonts/sans/x.1a2b3c4d.woff2", "top.1a2b3c4d.js"]
    others = {"index.html", "images/photos/raw.jpg", "fonts/sans-serif.css", "politics/2026/11/x/index.html"}
    # fonts/ holds another file, fonts/sans/ does not (sans-serif.css is not in it)
    assert immutable_patterns(hashed, others) == ["css/*", "fonts/sans/*", "images/logo.1a2b3c4d.svg",
                                                  "images/photos/a.1a2b3c4d.jpg", "top.1a2b3c4d.js"]
    assert immutable_patterns(hashed, others | {"fonts/sans/OFL.txt"}) == [
        "css/*", "fonts/sans/x.1a2b3c4d.woff2", "images/logo.1a2b3c4d.svg", "images/photos/a.1a2b3c4d.jpg",
        "top.1a2b3c4d.js"]
    assert immutable_patterns([], others) == []


def test_folders_are_resolved_as_realpath_resolves_them(tmp_path):
    """The writer resolves each output folder once, building on its parent's resolution; it must
    agree with os.path.realpath however symlinks, '.' and '..' are arranged."""
    from newsmirror.writer import _real

    root = tmp_path / "out" / "h"
    (root / "a/b/c").mkdir(parents=True)
    (tmp_path / "elsewhere/d").mkdir(parents=True)
    (root / "link-in").symlink_to(root / "a/b", target_is_directory=True)
    (root / "a/link-out").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (root / "a/b/up").symlink_to("../..", target_is_directory=True)
    (root / "loop").symlink_to(root / "loop")
    parents = ["", "a", "a/b/c", "link-in", "link-in/c", "a/link-out", "a/link-out/d", "a/link-out/d/new",
               "a/b/up", "a/b/up/a/b/c", "a/./b", "a/b/../b/c", "link-in/..", "link-in/../../..", "new/x",
               "loop", "loop/x"]
    seen: dict = {}
    for parent in parents + parents[::-1]:   # in any order, with and without what was seen before
        assert _real(str(root), parent, seen) == os.path.realpath(os.path.join(root, parent)), parent


def test_a_page_whose_folder_leads_out_of_the_mirror_folder_is_refused(tmp_path):
    from newsmirror.writer import stage_file

    staging = Staging(tmp_path / "out", ["h"])
    root = tmp_path / "out" / "h"
    (root / "politics").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "politics/2026").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (tmp_path / "out" / "h-next").mkdir()   # a sibling whose name starts with the folder's
    (root / "politics/next").symlink_to(tmp_path / "out" / "h-next", target_is_directory=True)
    (root / "politics/home").symlink_to(root, target_is_directory=True)   # leads back in: allowed
    seen: dict = {}
    assert stage_file(staging.places, root, "h", "politics/index.html", b"1", seen)[0]
    assert stage_file(staging.places, root, "h", "politics/home/sport/index.html", b"1", seen)[0]
    with pytest.raises(ValueError, match="leaves"):
        stage_file(staging.places, root, "h", "politics/2026/11/index.html", b"1", seen)
    with pytest.raises(ValueError, match="leaves"):
        stage_file(staging.places, root, "h", "politics/next/index.html", b"1", seen)
    with pytest.raises(ValueError, match="leaves"):
        stage_file(staging.places, root, "h", "politics/../../x.html", b"1", seen)
    for absolute in (f"{tmp_path}/elsewhere/x.html", "/index.html"):   # os.path.join would drop the root
        with pytest.raises(ValueError, match="leaves"):
            stage_file(staging.places, root, "h", absolute, b"1", seen)
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_fingerprinted_file_is_linked_by_its_hashed_name_with_any_query_or_fragment():
    from newsmirror.assets import Assets

    assets = Assets((), (("css/site.css", "css/site.0123456789.css"), ("img/a b.png", "img/a b.9876543210.png")))
    assert assets.path("css/site.css") == "css/site.0123456789.css"
    assert assets.path("css/site.css?v=2#top") == "css/site.0123456789.css?v=2#top"
    assert assets.path("css/site.css#x") == "css/site.0123456789.css#x"
    assert assets.path("img/a%20b.png") == "img/a%20b.9876543210.png"
    assert assets.path("img/a%20b.png?x") == "img/a%20b.9876543210.png?x"
    for other in ("css/other.css", "css/other.css?v=1", "100%25/", "politics/"):
        assert assets.path(other) == other
    assert Assets(()).path("css/site.css?v=1") == "css/site.css?v=1"


def test_a_lock_the_system_will_not_wait_for_is_a_clear_error(tmp_path, monkeypatch):
    # the kernel's answer stands in for a network mount that refuses to queue a lock (ENOLCK):
    # the build must say so, not show a traceback
    import errno
    import fcntl

    from newsmirror import sitelock
    from newsmirror.errors import BuildError

    def lockf(f, flags):
        if flags & fcntl.LOCK_NB:
            raise BlockingIOError(errno.EAGAIN, "held")
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(sitelock.fcntl, "lockf", lockf)
    told = []
    with pytest.raises(BuildError) as caught:
        with sitelock.one_build_at_a_time(tmp_path / ".cache", told.append):
            pytest.fail("the block ran without the lock")
    assert told and "Waiting for another build" in told[0]
    assert "lock" in str(caught.value) and os.strerror(errno.ENOLCK) in str(caught.value)


def test_links_into_the_site_become_tokens_in_every_url_attribute_and_nowhere_else():
    from newsmirror.links import LinkPolicy
    from newsmirror.markup import tokenise_links

    policy = LinkPolicy(frozenset({"example.com"}), ())
    html = ("""<p><a href="/politics/">a</a> <A HREF = 'https://www.example.com/world/?x=1#top'>b</A>"""
            """ <img alt='see src="/sport/"' src="/img/a.jpg" srcset="/img/a.jpg 1x, /img/b.jpg 2x">"""
            """ <a data-href="/culture/" href="https://elsewhere.org/x">c</a> <q cite="/opinion/">d</q>"""
            """ href="/business/" = "x" and a=b</p>""")
    out = tokenise_links(html, policy)
    for path in ("politics/", "world/", "img/a.jpg", "img/b.jpg", "opinion/", "business/"):
        assert f"\ue000p{path}" in out, path
    assert "?x=1#top'" in out and ' 2x"' in out
    # a value inside another value, a data- attribute and another site's link stay as written
    for kept in ("""alt='see src="/sport/"'""", 'data-href="/culture/"', 'href="https://elsewhere.org/x"'):
        assert kept in out, kept
    assert tokenise_links("<p>no links</p>", policy) == "<p>no links</p>"
