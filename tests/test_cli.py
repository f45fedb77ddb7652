"""The command line as a user runs it: `python build.py ...` in a subprocess, its output and files."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urljoin

import lxml.html
import pytest
import yaml

from conftest import REPO, copy_sample, run_build, snapshot

PRIMARY = "www.meridiancourier.example"
MIRROR_URLS = {
    "www.meridiancourier.example": "https://www.meridiancourier.example/",
    "meridiancourier.example.net": "https://meridiancourier.example.net/",
    "cdn.meridian-mirror.example": "https://cdn.meridian-mirror.example/courier/",
    "6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion":
        "http://6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion/",
}
SUMMARY = re.compile(r"Built (\d+) articles, (\d+) pages for (\d+) mirrors?: (\d+) files written, "
                     r"(\d+) removed, (\d+) unchanged in \d+\.\d\d s")
DRAFT = "politics/2026/11/26/confidence-motion/index.html"
SCHEDULED = "politics/2027/03/01/spring-session-preview/index.html"


def page(path: Path) -> lxml.html.HtmlElement:
    """Return a built HTML page parsed."""
    assert path.is_file(), f"{path} was not built"
    return lxml.html.fromstring(path.read_bytes())


def texts(doc: lxml.html.HtmlElement, xpath: str) -> list[str]:
    """Return the whitespace-normalised text of every element matching `xpath`."""
    return [" ".join(e.text_content().split()) for e in doc.xpath(xpath)]


def has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def labels(doc: lxml.html.HtmlElement) -> list[str]:
    """Return the labels ("Draft", "Scheduled") shown in an article's header."""
    return texts(doc, f"//header[{has_class('article-header')}]//span[{has_class('label')}]")


def files_mentioning(output: Path, *needles: str) -> list[str]:
    """Return every output file (all mirrors) whose text contains one of `needles`."""
    return sorted(p.relative_to(output).as_posix() for p in output.rglob("*")
                  if p.is_file() and any(n.encode() in p.read_bytes() for n in needles))


def mirror_folders(output: Path) -> list[str]:
    return sorted(p.name for p in output.iterdir() if p.is_dir() and p.name != "deploy")   # server blocks


def clock(minutes: int = 1) -> str:
    """Return the wall clock (plus a little) as a --now value."""
    return (datetime.now(timezone.utc) + timedelta(minutes=minutes)).strftime("%Y-%m-%d %H:%M:%S +00:00")


@pytest.fixture
def built_copy(built_site: Path, tmp_path: Path) -> Path:
    """Return a private copy of the built sample site, mtimes included."""
    return Path(shutil.copytree(built_site, tmp_path / "site", copy_function=shutil.copy2))


# ---- help, summary, quiet ------------------------------------------------------------------

def test_help_lists_every_command_and_option():
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for command in ("build", "new", "check", "clean"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.MULTILINE), command
    for option in ("--config", "--drafts", "--future", "-q, --quiet", "-v, --verbose", "--mirror HOST",
                   "--now DATETIME"):
        assert option in result.stdout, option


def test_a_mistyped_option_exits_2(site):
    result = run_build(site, "--colour")
    assert result.returncode == 2
    assert "unrecognized arguments: --colour" in result.stderr
    assert not (site / "output").exists()


def test_a_build_prints_a_one_line_summary_that_counts_the_files(site):
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    match = SUMMARY.fullmatch(result.stdout.rstrip("\n"))
    assert match, result.stdout
    articles, _pages, mirrors, written, removed, unchanged = map(int, match.groups())
    assert (articles, mirrors, removed, unchanged) == (12, 4, 0, 0)
    files = [p for host in [*MIRROR_URLS, "deploy"] for p in (site / "output" / host).rglob("*") if p.is_file()]
    assert written == len(files)   # the mirrors' files and their nginx server blocks


def test_quiet_prints_nothing_on_success(built_copy):
    (built_copy / "content/culture/saltwater-book-fair.md").unlink()
    result = run_build(built_copy, "-q")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert not list((built_copy / "output").glob("*/culture/*/*/*/saltwater-book-fair"))


# ---- new, clean, --mirror --------------------------------------------------------------------

def test_new_writes_a_draft_that_a_drafts_build_shows(site):
    result = run_build(site, "new", "politics", "Port talks resume")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Wrote content/politics/port-talks-resume.md ")
    article = site / "content/politics/port-talks-resume.md"
    text = article.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["title"] == "Port talks resume"
    assert front["draft"] is True
    written = re.search(r"^date: (.+)$", text, re.MULTILINE).group(1)
    moment = datetime.strptime(str(written), "%Y-%m-%d %H:%M:%S %z")
    assert abs(datetime.now(timezone.utc) - moment) < timedelta(minutes=5)

    result = run_build(site, "--drafts", "--now", clock())
    assert result.returncode == 0, result.stderr
    pages = list((site / "output" / PRIMARY).glob("politics/*/*/*/port-talks-resume/index.html"))
    assert len(pages) == 1
    doc = page(pages[0])
    assert texts(doc, "//h1") == ["Port talks resume"]
    assert labels(doc) == ["Draft"]


def test_new_refuses_to_overwrite_an_article(site):
    assert run_build(site, "new", "politics", "Port talks resume").returncode == 0
    article = site / "content/politics/port-talks-resume.md"
    article.write_text(article.read_text(encoding="utf-8") + "The reporter's first paragraph.\n",
                       encoding="utf-8")
    before = article.read_bytes()
    result = run_build(site, "new", "politics", "Port talks resume")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0] == ("content/politics/port-talks-resume.md: already exists; "
                                             "choose another title or edit that file")
    assert article.read_bytes() == before


def test_clean_removes_the_output_folder_and_nothing_else(built_copy):
    result = run_build(built_copy, "clean")
    assert result.returncode == 0, result.stderr
    assert not (built_copy / "output").exists()
    assert sorted(p.name for p in built_copy.iterdir()) == ["config.yaml", "content", "layouts", "static"]
    assert run_build(built_copy, "clean").stdout == "Nothing to clean\n"


def test_mirror_option_builds_only_that_mirror(site):
    result = run_build(site, "--mirror", "meridiancourier.example.net")
    assert result.returncode == 0, result.stderr
    assert " for 1 mirror: " in result.stdout
    assert mirror_folders(site / "output") == ["meridiancourier.example.net"]
    assert (site / "output/meridiancourier.example.net/index.html").is_file()


def test_mirror_option_leaves_the_other_mirror_folders_alone(built_copy):
    (built_copy / "content/culture/saltwater-book-fair.md").unlink()
    before = snapshot(built_copy / "output")
    result = run_build(built_copy, "--mirror", "meridiancourier.example.net")
    assert result.returncode == 0, result.stderr
    after = snapshot(built_copy / "output")
    others = [rel for rel in before if not rel.startswith("meridiancourier.example.net/")]
    assert all(after.get(rel) == before[rel] for rel in others)
    assert not list((built_copy / "output/meridiancourier.example.net").glob("culture/*/*/*/saltwater-book-fair"))


def test_unknown_mirror_is_refused_naming_the_mirrors(site):
    result = run_build(site, "--mirror", "nope.example")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "--mirror: no mirror 'nope.example' in config.yaml (mirrors: www.meridiancourier.example, "
        "meridiancourier.example.net, cdn.meridian-mirror.example, "
        "6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion)",
        "error: 1 problem; nothing was written, the output folder is as it was",
    ]
    assert not (site / "output").exists()


# ---- drafts, scheduled, expired ----------------------------------------------------------------

def test_a_normal_build_leaves_drafts_and_scheduled_articles_out_everywhere(output):
    assert not (output / PRIMARY / DRAFT).exists()
    assert not (output / PRIMARY / SCHEDULED).exists()
    assert files_mentioning(output, "confidence-motion", "Opposition tables confidence motion") == []
    assert files_mentioning(output, "spring-session-preview", "as the Coastal Assembly opens") == []


def test_drafts_option_includes_drafts_with_a_label(site):
    result = run_build(site, "--drafts")
    assert result.returncode == 0, result.stderr
    output = site / "output" / PRIMARY
    assert labels(page(output / DRAFT)) == ["Draft"]
    assert "confidence-motion" in (output / "politics/index.html").read_text(encoding="utf-8")
    assert not (output / SCHEDULED).exists(), "--drafts must not publish scheduled articles"


def test_future_option_includes_scheduled_articles_with_a_label(site):
    result = run_build(site, "--future")
    assert result.returncode == 0, result.stderr
    output = site / "output" / PRIMARY
    assert labels(page(output / SCHEDULED)) == ["Scheduled"]
    assert not (output / DRAFT).exists(), "--future must not publish drafts"


def test_a_scheduled_article_is_published_once_its_time_has_come(site):
    result = run_build(site, "--now", "2027-03-02")
    assert result.returncode == 0, result.stderr
    output = site / "output" / PRIMARY
    assert labels(page(output / SCHEDULED)) == []
    assert "spring-session-preview" in (output / "feed.xml").read_text(encoding="utf-8")
    assert "spring-session-preview" in (output / "sitemap.xml").read_text(encoding="utf-8")


# ---- front matter forms: one extra build with articles added to the sample ---------------------

EXTRA_ARTICLES = {
    "politics/dated-with-offset.md": 'title: "Dated with an offset"\ndate: 2017-10-11 14:00:00 -0500',
    "politics/dated-one-digit-hour.md": 'title: "Dated with a one-digit hour"\ndate: 2026-11-27 9:05:00 +0000',
    "politics/dated-without-offset.md": 'title: "Dated without an offset"\ndate: 2026-07-15 14:30:00',
    "politics/dated-date-only.md": 'title: "Dated with a date only"\ndate: 2026-07-15',
    "politics/dated-late-in-new-york.md": 'title: "Dated late in New York"\ndate: 2026-11-27 23:30:00 -0500',
    "politics/numeric-slug.md": 'title: "A slug that is a number"\ndate: 2026-07-16\nslug: 2024',
    "politics/author-as-text.md": 'title: "Author as text"\ndate: 2026-07-17\nauthors: "Jane Doe"',
    "politics/authors-as-list.md": 'title: "Authors as a list"\ndate: 2026-07-18\nauthors: [Jane Doe, ana-ferreira]',
    "politics/already-expired.md": 'title: "Already expired"\ndate: 2026-07-19\nexpires: 2026-11-01',
}


def add_articles(site: Path) -> None:
    for rel, front in EXTRA_ARTICLES.items():
        (site / "content" / rel).write_text(f"---\n{front}\n---\nThe body of {rel}.\n", encoding="utf-8")
    (site / "content/politics/bom-and-crlf.md").write_bytes(
        b"\xef\xbb\xbf" + "---\r\ntitle: \"Saved on Windows\"\r\ndate: 2026-11-25 10:00\r\n---\r\n"
        "First paragraph from Notepad.\r\n\r\n## A heading\r\n\r\nSecond paragraph.\r\n".encode("utf-8"))


@pytest.fixture(scope="module")
def extra(tmp_path_factory) -> Path:
    """Return the output folder of the primary mirror of the sample plus EXTRA_ARTICLES."""
    root = copy_sample(tmp_path_factory.mktemp("extra") / "site")
    add_articles(root)
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return root / "output" / PRIMARY


@pytest.mark.parametrize(("path", "datetime_attr"), [
    pytest.param("politics/2017/10/11/dated-with-offset/", "2017-10-11T14:00:00-05:00", id="offset-0500"),
    pytest.param("politics/2026/11/27/dated-one-digit-hour/", "2026-11-27T09:05:00+00:00", id="one-digit-hour"),
    pytest.param("politics/2026/07/15/dated-without-offset/", "2026-07-15T14:30:00+01:00",
                 id="no-offset-is-site-timezone"),
    pytest.param("politics/2026/07/15/dated-date-only/", "2026-07-15T00:00:00+01:00",
                 id="date-only-is-midnight-in-site-timezone"),
    pytest.param("politics/2026/11/28/dated-late-in-new-york/", "2026-11-27T23:30:00-05:00",
                 id="permalink-date-is-in-site-timezone"),
])
def test_date_forms(extra, path, datetime_attr):
    doc = page(extra / path / "index.html")
    assert doc.xpath(f"//p[{has_class('dateline')}]//span[{has_class('published')}]/time/@datetime") \
        == [datetime_attr]


def test_bom_and_crlf_file_builds(extra):
    data = (extra / "politics/2026/11/25/bom-and-crlf/index.html").read_bytes()
    assert b"\r" not in data and "\ufeff".encode() not in data
    doc = lxml.html.fromstring(data)
    assert texts(doc, "//h1") == ["Saved on Windows"]
    body = f"//div[{has_class('article-body')}]"
    assert texts(doc, body + "/h2") == ["A heading"]
    assert texts(doc, body + "/p") == ["First paragraph from Notepad.", "Second paragraph."]


def test_numeric_slug(extra):
    assert texts(page(extra / "politics/2026/07/16/2024/index.html"), "//h1") == ["A slug that is a number"]


@pytest.mark.parametrize(("path", "byline", "hrefs"), [
    ("politics/2026/07/17/author-as-text/", "By Jane Doe", ["authors/jane-doe/"]),
    ("politics/2026/07/18/authors-as-list/", "By Jane Doe and Ana Ferreira",
     ["authors/jane-doe/", "authors/ana-ferreira/"]),
], ids=["text", "list"])
def test_authors_as_text_or_list(extra, path, byline, hrefs):
    doc = page(extra / path / "index.html")
    assert texts(doc, f"//p[{has_class('byline-authors')}]") == [byline]
    links = doc.xpath(f"//p[{has_class('byline-authors')}]/a/@href")
    assert [urljoin("https://x.example/" + path, h) for h in links] == ["https://x.example/" + h for h in hrefs]
    assert path in (extra / "authors/jane-doe/index.html").read_text(encoding="utf-8")


def test_expired_article_is_removed_by_default(extra):
    assert not (extra / "politics/2026/07/19/already-expired").exists()
    assert files_mentioning(extra.parent, "already-expired", "Already expired") == []


def test_expired_keep_keeps_expired_articles(site):
    add_articles(site)
    config = site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("expired: remove", "expired: keep", 1),
                      encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    output = site / "output" / PRIMARY
    assert texts(page(output / "politics/2026/07/19/already-expired/index.html"), "//h1") == ["Already expired"]


# ---- unknown keys and aliases ---------------------------------------------------------------------

def test_unknown_front_matter_key_reaches_the_layout(output):
    source = (REPO / "content/business/wind-farm-contract.md").read_text(encoding="utf-8")
    standfirst = yaml.safe_load(source.split("---\n")[1])["standfirst"]
    doc = page(output / PRIMARY / "business/2026/11/21/wind-farm-contract/index.html")
    assert texts(doc, f"//p[{has_class('standfirst')}]") == [standfirst]


@pytest.mark.parametrize("host", sorted(MIRROR_URLS))
@pytest.mark.parametrize("alias", ["news/harbour-strike/index.html", "2026/old-harbour-story.html"])
def test_aliases_redirect_to_the_article_on_the_same_mirror(output, host, alias):
    base = MIRROR_URLS[host]
    target = base + "business/2026/11/27/harbour-strike-ends/"
    doc = page(output / host / alias)
    refresh = doc.xpath("//meta[@http-equiv='refresh']/@content")
    assert len(refresh) == 1
    delay, url = refresh[0].split(";", 1)
    assert delay.strip() == "0"
    assert urljoin(base + alias, html.unescape(url.strip()).removeprefix("url=")) == target
    assert target in [urljoin(base + alias, href) for href in doc.xpath("//a/@href")], "no link to follow"
    assert (output / host / "business/2026/11/27/harbour-strike-ends/index.html").is_file()


# unbuffered, argparse's own help (a command's) ignores the failed write and exits 0 itself
@pytest.mark.parametrize("args, unbuffered, status", [(["--help"], "", 1), (["--help"], "1", 1),
                                                      (["check", "--help"], "", 1),
                                                      (["check", "--help"], "1", 0)])
def test_output_read_by_a_reader_that_stops_early_ends_without_a_traceback(args, unbuffered, status):
    # `python build.py --help | head`: the reader closes the pipe before the help is written;
    # stdout buffered (as for most users) or not, the help ends quietly
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = unbuffered
    process = subprocess.Popen([sys.executable, str(REPO / "build.py"), *args], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    process.stdout.close()
    stderr = process.stderr.read().decode()
    process.wait(timeout=60)
    assert stderr == ""
    assert process.returncode == status
