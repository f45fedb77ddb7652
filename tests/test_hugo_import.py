"""Moving in from Hugo: `build.py import-hugo`, on a tiny Hugo site and on the real digital.gov corpus."""

from __future__ import annotations

import html
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

from conftest import REPO, need, run_build, serve, snapshot
from sitecheck import front_matter
from test_corpus import DUPLICATE, DUPLICATE_OTHER, NO_TITLE, Post

PRIMARY_URL = "https://digital.gov/"
HOST = "digital.gov"


def run_import(site: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `python build.py import-hugo ...` as a user does, in the site's folder."""
    command = [sys.executable, str(REPO / "build.py"), "import-hugo", *args, "--config", str(site / "config.yaml")]
    return subprocess.run(command, cwd=site, capture_output=True, text=True, timeout=600)


def canonical_of(page: str) -> str | None:
    """Return a page's canonical URL."""
    match = re.search(r'<link rel="canonical" href="([^"]+)"', page)
    return html.unescape(match.group(1)) if match else None


# --- a tiny Hugo site: YAML, TOML and JSON front matter, links, shortcodes -------------------------

YAML_POST = """---
title: "Tide tables for the new harbour"
date: 2024-05-01 09:30:00 +0000
lastmod: 2024-05-02
expiryDate: 2030-01-01
description: "When the water comes in, and when it goes out again."
tags: [harbour]
categories: [Coast]
topics: [tides, harbour]
author: Jane Doe
aliases: [/old/tide-tables/]
url: /legacy/tide-tables.html
weight: 3
desk_note: night desk
draft: false
---
Read [the storm piece](../news/storm-warning.md#what-to-do) first, then [the archive](notes/gone.md).

{{< figure src="https://example.org/tide.jpg" alt="A tide gauge" caption="The gauge at the pier" >}}

{{< mystery-box colour="blue" >}}

Filed by the {{< param "desk_note" >}} of the {{< param "desk" >}}.

```
[not a link](../news/storm-warning.md)
```
"""

TOML_POST = """+++
title = "Storm warning for the coast"
date = 2024-05-02T10:00:00Z
tags = ["weather"]
slug = "storm-warning-coast"
+++
The storm arrives on Friday.

## What to do

Stay inside.
"""

JSON_POST = """{
  "title": "Ferry timetable changes",
  "date": "2024-05-03",
  "categories": ["Transport"],
  "authors": ["Ana Ferreira"]
}
The winter timetable starts on Monday.
"""

UNTITLED_POST = """---
date: 2024-05-04
---
# Council meets on Tuesday

The agenda is long.
"""

ABOUT_PAGE = """---
title: About the harbour news
date: 2024-01-01
---
We write about the harbour.
"""

HUGO_CONFIG = """title = "Harbour Weekly"
[permalinks]
  blog = "/:year/:month/:slug/"
[params]
  desk = "coast desk"
"""

NEWS_INDEX = """---
title: News desk
description: The latest from the coast.
---
"""


@pytest.fixture
def hugo_site(tmp_path: Path) -> Path:
    """Return a tiny Hugo site: two sections, front matter in YAML, TOML and JSON, a root page."""
    root = tmp_path / "hugo"
    files = {"content/blog/2024-05-01-tide-tables.md": YAML_POST, "content/news/storm-warning.md": TOML_POST,
             "content/news/ferry.md": JSON_POST, "content/news/untitled.md": UNTITLED_POST,
             "content/about.md": ABOUT_PAGE, "content/news/_index.md": NEWS_INDEX,
             "content/blog/tide.jpg": "not really a picture", "hugo.toml": HUGO_CONFIG}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def imported(site: Path, hugo_site: Path):
    """Return (sample site with the tiny Hugo site imported, the import's process)."""
    result = run_import(site, str(hugo_site))
    assert result.returncode == 0, result.stderr
    return site, result


def written(site: Path, rel: str) -> tuple[dict, str]:
    """Return the front matter and body of an imported file."""
    return front_matter(site / "content" / rel)


def test_front_matter_keys_are_mapped(imported):
    site, _ = imported
    data, body = written(site, "blog/2024-05-01-tide-tables.md")
    assert data["title"] == "Tide tables for the new harbour"
    assert data["tags"] == ["harbour", "Coast", "tides"]     # tags, categories, topics: each term once
    assert data["authors"] == ["Jane Doe"]
    assert str(data["expires"]) == "2030-01-01" and str(data["updated"]) == "2024-05-02"
    assert "expiryDate" not in data and "lastmod" not in data
    assert data["summary"] == "When the water comes in, and when it goes out again."
    # url: and the page's URL by the Hugo config's permalinks become aliases: old links keep working
    assert data["aliases"] == ["/old/tide-tables/", "/legacy/tide-tables.html",
                               "/2024/05/tide-tables-for-the-new-harbour/"]
    assert data["weight"] == 3 and data["desk_note"] == "night desk"              # kept as written
    assert "Filed by the night desk of the coast desk." in body    # {{< param >}}: the page's, else the site's


def test_without_a_permalink_pattern_the_old_url_is_the_files_path(imported):
    site, _ = imported
    assert written(site, "news/storm-warning.md")[0]["aliases"] == ["/news/storm-warning-coast/"]
    assert written(site, "news/ferry.md")[0]["aliases"] == ["/news/ferry/"]
    assert written(site, "about.md")[0]["aliases"] == ["/about/"]


def test_toml_and_json_front_matter_become_yaml(imported):
    site, _ = imported
    toml, _ = written(site, "news/storm-warning.md")
    assert toml["title"] == "Storm warning for the coast" and toml["slug"] == "storm-warning-coast"
    assert str(toml["date"]).startswith("2024-05-02 10:00:00")
    text = (site / "content/news/storm-warning.md").read_text(encoding="utf-8")
    assert text.startswith("---\n") and "+++" not in text
    json_post, body = written(site, "news/ferry.md")
    assert json_post["tags"] == ["Transport"] and json_post["authors"] == ["Ana Ferreira"]
    assert body.strip() == "The winter timetable starts on Monday."


def test_a_post_without_a_title_gets_its_first_heading(imported):
    site, _ = imported
    data, _ = written(site, "news/untitled.md")
    assert data["title"] == "Council meets on Tuesday"
    report = (site / "hugo-import-report.txt").read_text(encoding="utf-8")
    assert 'news/untitled.md: "Council meets on Tuesday" (from its first heading)' in report


def test_a_page_at_the_content_root_gets_a_section(imported):
    site, _ = imported
    data, _ = written(site, "about.md")
    assert data["section"] == "pages"


def test_an_unknown_shortcode_is_reported_with_file_and_line(imported):
    site, result = imported
    report = (site / "hugo-import-report.txt").read_text(encoding="utf-8")
    assert result.stdout.startswith(report.rstrip("\n")), "the report is printed as written"
    line = next(x for x in report.splitlines() if x.strip().startswith("mystery-box:"))
    match = re.fullmatch(r"  mystery-box: 1 use in 1 file, e\.g\. (blog/[\w.-]+\.md):(\d+)", line)
    assert match, line
    source = (site / "content" / match.group(1)).read_text(encoding="utf-8").split("\n")
    assert source[int(match.group(2)) - 1].startswith("{{< mystery-box"), "the line is the imported file's"
    assert "Shortcodes with a layout: figure (1)" in report
    assert "  desk_note: 1 file, e.g. blog/2024-05-01-tide-tables.md" in report
    assert "  weight: 1 file" in report           # a Hugo key with no meaning here
    assert "  expiryDate -> expires: 1 file" in report
    assert ".jpg (1, e.g. blog/tide.jpg)" in report


def test_the_config_block_names_the_sections_with_their_titles(imported):
    site, _ = imported
    block = yaml.safe_load((site / "hugo-import-config.yaml").read_text(encoding="utf-8"))
    assert block["expired"] == "keep"
    assert block["sections"] == {"blog": {"title": "Blog"},
                                 "news": {"title": "News desk", "description": "The latest from the coast."},
                                 "pages": {"title": "Pages"}}


def test_import_refuses_to_overwrite_and_writes_nothing(imported, hugo_site):
    site, _ = imported
    before = snapshot(site / "content")
    again = run_import(site, str(hugo_site))
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert "content/blog/2024-05-01-tide-tables.md: already exists" in again.stderr
    assert snapshot(site / "content") == before


def test_the_imported_site_builds_and_md_links_resolve(imported):
    site, _ = imported
    result = run_build(site, "--mirror", "www.meridiancourier.example")
    assert result.returncode == 0, result.stderr
    output = site / "output/www.meridiancourier.example"
    page = (output / "blog/2024/05/01/tide-tables/index.html").read_text(encoding="utf-8")
    assert '<a href="../../../../../news/2024/05/02/storm-warning-coast/#what-to-do">the storm piece</a>' in page
    assert '<a href="#">the archive</a>' in page
    assert "[not a link](../news/storm-warning.md)" in page          # code stays code
    assert '<figcaption>' in page and 'alt="A tide gauge"' in page
    storm = (output / "news/2024/05/02/storm-warning-coast/index.html").read_text(encoding="utf-8")
    assert 'id="what-to-do"' in storm
    line = 1 + (site / "content/blog/2024-05-01-tide-tables.md").read_text(encoding="utf-8").split(
        "\n").index(next(x for x in (site / "content/blog/2024-05-01-tide-tables.md").read_text(
            encoding="utf-8").split("\n") if x.startswith("Read [the storm piece]")))
    assert (f"content/blog/2024-05-01-tide-tables.md:{line}: warning: link (notes/gone.md) names no article "
            "(no content/blog/notes/gone.md)") in result.stderr
    assert "mystery-box" in result.stderr
    for alias, target in (("old/tide-tables/index.html", "blog/2024/05/01/tide-tables/"),
                          ("legacy/tide-tables.html", "blog/2024/05/01/tide-tables/"),
                          ("2024/05/tide-tables-for-the-new-harbour/index.html", "blog/2024/05/01/tide-tables/"),
                          ("news/ferry/index.html", "news/2024/05/03/ferry/")):
        refresh = re.search(r'content="0; url=([^"]+)"', (output / alias).read_text(encoding="utf-8"))
        assert refresh and urljoin("http://h/" + alias, html.unescape(refresh.group(1))) == "http://h/" + target
    assert (output / "pages/2024/01/01/about/index.html").is_file()
    assert (output / "tags/tides/index.html").is_file() and (output / "tags/coast/index.html").is_file()


def test_into_writes_elsewhere_and_a_broken_file_is_reported_not_imported(site, hugo_site, tmp_path):
    (hugo_site / "content/news/broken.md").write_text("---\ntitle: [unclosed\n---\nText.\n", encoding="utf-8")
    before = snapshot(site / "content")
    result = run_import(site, str(hugo_site), "--into", str(tmp_path / "incoming"))
    assert result.returncode == 0, result.stderr
    assert snapshot(site / "content") == before
    assert (tmp_path / "incoming/news/ferry.md").is_file() and not (tmp_path / "incoming/news/broken.md").exists()
    assert re.search(r"^NOT IMPORTED\n  front matter cannot be read: 1 file, e\.g\. news/broken\.md: front matter: "
                     r"YAML syntax error on line 2: ", result.stdout, re.M), result.stdout
    assert "; 1 left out. Report: hugo-import-report.txt" in result.stdout


def test_a_missing_hugo_site_is_a_problem(site, tmp_path):
    result = run_import(site, str(tmp_path / "nowhere"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "no Hugo site here" in result.stderr


# --- the digital.gov corpus, imported and built -----------------------------------------------------

@pytest.fixture(scope="module")
def corpus_site(shared, tmp_path_factory):
    """Return (site folder, import process, build process): the corpus imported into an empty site with
    the sample layouts, the printed config block pasted in, built with --drafts for the primary only."""
    source = shared / "corpus/digitalgov"
    need((source / "content").is_dir(), f"{source} is absent: the real corpus")
    folder = tmp_path_factory.mktemp("hugo-corpus")
    lines = ["site:", "  title: Digital.gov", "  timezone: America/New_York",
             "mirrors:", f"  - url: {PRIMARY_URL}", "  - url: https://digitalgov-mirror.example/",
             "paths:", f"  layouts: {REPO / 'layouts'}", f"  static: {REPO / 'static'}"]
    (folder / "config.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    imported = run_import(folder, str(source))
    assert imported.returncode == 0, imported.stderr
    with open(folder / "config.yaml", "a", encoding="utf-8") as config:
        config.write((folder / "hugo-import-config.yaml").read_text(encoding="utf-8"))
    built = run_build(folder, "--drafts", "--mirror", HOST)
    assert built.returncode == 0, built.stderr[-5000:]
    return folder, imported, built


@pytest.fixture(scope="module")
def corpus_posts(shared) -> list[Post]:
    """Return every post of the corpus (drafts too), read independently of newsmirror."""
    content = shared / "corpus/digitalgov/content"
    return [Post(p.relative_to(content).as_posix(), *front_matter(p))
            for p in sorted(content.rglob("*.md")) if p.name != "_index.md"]


def expected_page(post: Post) -> str:
    """Return the page the import gives a post: its own, or the suffixed slug for the duplicate."""
    if post.rel == DUPLICATE_OTHER:
        return post.page.rstrip("/") + "-2/"
    return post.page


def test_every_post_builds_and_has_its_page(corpus_site, corpus_posts):
    folder, _, built = corpus_site
    assert len(corpus_posts) == 2421
    assert built.stdout.startswith("Built 2421 articles"), built.stdout
    output = folder / "output" / HOST
    missing = [p.rel for p in corpus_posts if not (output / expected_page(p) / "index.html").is_file()]
    assert not missing, f"{len(missing)} posts have no page, e.g. {missing[:5]}"
    untitled = (output / expected_page(next(p for p in corpus_posts if p.rel == NO_TITLE)) / "index.html")
    assert '<meta property="og:title" content="Example">' in untitled.read_text(encoding="utf-8")
    first, second = (next(p for p in corpus_posts if p.rel == rel) for rel in (DUPLICATE, DUPLICATE_OTHER))
    assert expected_page(first) != expected_page(second)
    for post in (first, second):
        page = (output / expected_page(post) / "index.html").read_text(encoding="utf-8")
        assert canonical_of(page) == PRIMARY_URL + expected_page(post)


def test_the_report_names_the_specific_problems(corpus_site, corpus_posts):
    folder, imported, _ = corpus_site
    report = (folder / "hugo-import-report.txt").read_text(encoding="utf-8")
    assert len(report.splitlines()) < 120, "the report is a summary, not a listing"
    assert imported.stdout.startswith(report.rstrip("\n"))
    assert f'  no title in front matter: 1 file, e.g. {NO_TITLE}: "Example" (from the file name)' in report
    assert (f"  same output path as an earlier file: slug suffixed: 1 file, e.g. {DUPLICATE_OTHER}: slug "
            f"infrastructure-as-a-public-service-2 ({DUPLICATE} keeps /news/2023/09/06/"
            "infrastructure-as-a-public-service/)") in report
    expiring = [p for p in corpus_posts if "expirydate" in p.data]
    assert len(expiring) == 1648
    assert (f"Expiry dates: {len(expiring)} files have one, now `expires:`; {len(expiring)} already past. "
            "hugo-import-config.yaml sets `expired: keep`") in report
    assert re.search(r"^  legacy-img: 2448 uses in 1375 files, e\.g\. news/\S+\.md:\d+, ", report, re.M)
    assert "  topics -> tags: 2373 files" in report
    assert re.search(r"^  deck: \d+ files, e\.g\. ", report, re.M)
    assert "Shortcodes with a layout: ref (2792), note (83), youtube (57), tweet (47), highlight (4)" in report
    block = yaml.safe_load((folder / "hugo-import-config.yaml").read_text(encoding="utf-8"))
    assert block["expired"] == "keep"
    assert block["sections"]["news"]["title"] == "Blogs" and block["sections"]["events"]["title"] == "Events"


def alias_cases(shared, posts: list[Post]) -> list[tuple[str, str, str]]:
    """Return (source, alias, target site path) for every alias in the corpus, drafts included."""
    content = shared / "corpus/digitalgov/content"
    cases = [(p.rel, alias, expected_page(p)) for p in posts for alias in p.data.get("aliases") or []]
    for index in sorted(content.rglob("_index.md")):
        data, _ = front_matter(index)
        section = index.relative_to(content).parent.as_posix()
        cases += [(index.relative_to(content).as_posix(), alias, f"{section}/") for alias in data.get("aliases") or []]
    return cases


def fetch(url: str) -> tuple[int, str, str]:
    """Return (status, final URL, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.geturl(), response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, url, ""


def test_every_alias_redirects_over_http_to_its_article(corpus_site, corpus_posts, shared):
    folder, _, _ = corpus_site
    cases = alias_cases(shared, corpus_posts)
    assert len(cases) > 50
    problems = []
    with serve(folder / "output" / HOST) as base:
        for source, alias, target in cases:
            status, final, body = fetch(urljoin(base, alias.lstrip("/")))
            refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)"', body)
            if status != 200 or not refresh:
                problems.append(f"{source}: {alias}: HTTP {status}, {'a' if refresh else 'no'} meta refresh")
                continue
            landed = urljoin(final, html.unescape(refresh.group(1)))
            status, _, page = fetch(landed)
            if status != 200 or urlsplit(landed).path != "/" + target:
                problems.append(f"{source}: {alias}: leads to {landed} (HTTP {status}), not /{target}")
            elif canonical_of(page) != PRIMARY_URL + target:
                problems.append(f"{source}: {alias}: lands on a page whose canonical is {canonical_of(page)}")
    assert not problems, "\n".join(problems)
