"""The real corpus: 2,423 Hugo posts from digital.gov (../shared/corpus), built as a user would."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo

import pytest

from conftest import FIXED_NOW, REPO, need, run_build, serve
from sitecheck import front_matter

pytestmark = pytest.mark.slow

ZONE = ZoneInfo("America/New_York")
PRIMARY_URL = "https://digital.gov/"
MIRROR_URL = "https://digitalgov-mirror.example/"     # made up
HOSTS = ("digital.gov", "digitalgov-mirror.example")
# The posts that really are broken, relative to content/: one has no title; the other writes the
# same page as news/2023/11/2023-11-20-infrastructure-as-a-public-service.md (same date and slug).
NO_TITLE = "news/2018/09/2018-09-24-example.md"
DUPLICATE = "news/2023/09/2023-09-15-infrastructure-as-a-public-service.md"
DUPLICATE_OTHER = "news/2023/11/2023-11-20-infrastructure-as-a-public-service.md"
DUPLICATE_PAGE = "news/2023/09/06/infrastructure-as-a-public-service/index.html"
IGNORED = (NO_TITLE, DUPLICATE)


# --- the corpus, read independently of newsmirror -------------------------------------------------

_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
                   r"\s*(Z|[+-]\d{2}:?\d{2})?")


def moment(value) -> datetime:
    """Return a front matter date as an aware datetime (no offset: America/New_York)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ZONE)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=ZONE)
    match = _DATE.fullmatch(str(value).strip())
    assert match, f"unexpected date {value!r}"
    y, mo, d, hh, mm, ss, offset = match.groups()
    naive = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    if not offset:
        return naive.replace(tzinfo=ZONE)
    if offset == "Z":
        return naive.replace(tzinfo=timezone.utc)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    return naive.replace(tzinfo=timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))))


def slug_of(data: dict, rel: Path) -> str:
    """Return a post's slug as the docs say: `slug:` (Hugo-urlized), else the file name without
    its leading YYYY-MM-DD-."""
    if data.get("slug") is None:
        return re.sub(r"^\d{4}-\d{2}-\d{2}-", "", rel.stem).lower().replace(" ", "-")
    slug = unquote(str(data["slug"]).strip())   # one post has a percent-encoded slug
    return re.sub(r"[^\w.~-]+", "-", slug).strip("-")


@dataclass(frozen=True)
class Post:
    rel: str            # path under content/
    data: dict
    body: str

    @property
    def draft(self) -> bool:
        return self.data.get("draft") is True

    @property
    def date(self) -> datetime:
        return moment(self.data["date"])

    @property
    def page(self) -> str:
        """Return the site path of the post's page (permalink /{section}/{yyyy}/{mm}/{dd}/{slug}/)."""
        local = self.date.astimezone(ZONE)
        section = self.data.get("section") or self.rel.split("/")[0]
        return f"{section}/{local:%Y}/{local:%m}/{local:%d}/{slug_of(self.data, Path(self.rel))}/"


@pytest.fixture(scope="module")
def corpus(shared) -> Path:
    content = shared / "corpus/digitalgov/content"
    need(content.is_dir(), f"{content} is absent: the real corpus")
    return content


@pytest.fixture(scope="module")
def posts(corpus) -> list[Post]:
    """Return every post the ignoring build reads (no _index.md, not the ignored two)."""
    out = []
    for path in sorted(corpus.rglob("*.md")):
        rel = path.relative_to(corpus).as_posix()
        if path.name != "_index.md" and rel not in IGNORED:
            data, body = front_matter(path)
            out.append(Post(rel, data, body))
    return out


def write_config(folder: Path, content: Path, ignore: tuple[str, ...] = ()) -> Path:
    """Write a config.yaml for the corpus into `folder` (the corpus is read in place); return it."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["site:", "  title: Digital.gov", "  description: News and events from digital.gov.",
             "  timezone: America/New_York",
             "mirrors:", f"  - url: {PRIMARY_URL}", f"  - url: {MIRROR_URL}",
             "paths:", f"  content: {content}", f"  layouts: {REPO / 'layouts'}",
             f"  static: {REPO / 'static'}", f"  output: {folder / 'output'}"]
    if ignore:
        lines += ["ignore:"] + [f"  - {pattern}" for pattern in ignore]
    config = folder / "config.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def as_is(corpus, tmp_path_factory):
    """Return (site folder, finished build) of the corpus as it is."""
    folder = tmp_path_factory.mktemp("corpus-as-is")
    write_config(folder, corpus)
    return folder, run_build(folder)


@pytest.fixture(scope="module")
def built(corpus, tmp_path_factory):
    """Return (output folder, finished build) of the corpus with the two broken posts ignored.

    Built once for the module (about 30 s); -v so every warning is printed, not the first 20."""
    folder = tmp_path_factory.mktemp("corpus")
    write_config(folder, corpus, IGNORED)
    result = run_build(folder, "-v")
    assert result.returncode == 0, result.stderr[-5000:]
    return folder / "output", result


def shown(rel: str, corpus: Path) -> str:
    """Return a regex for how the build names a content file: relative to content/ or absolute."""
    return rf"(?:{re.escape(corpus.as_posix())}/)?{re.escape(rel)}"


# --- as is: the build refuses and names the broken posts ------------------------------------------

def test_as_is_the_build_fails_naming_only_the_broken_posts(as_is, corpus):
    folder, result = as_is
    assert result.returncode == 1, result.stdout + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[-1] == "error: 2 problems; nothing was written, the output folder is as it was"
    errors = [line for line in lines[:-1] if ": warning: " not in line]
    assert len(errors) == 2, "\n".join(errors)
    no_title = [line for line in errors if re.match(shown(NO_TITLE, corpus) + r":2: title is missing", line)]
    assert len(no_title) == 1, "\n".join(errors)

    duplicate = next(line for line in errors if line not in no_title)
    blamed = re.match(rf"({shown(DUPLICATE, corpus)}|{shown(DUPLICATE_OTHER, corpus)}):(\d+): ", duplicate)
    assert blamed, duplicate
    blamed_rel = DUPLICATE if blamed.group(1).endswith(DUPLICATE) else DUPLICATE_OTHER
    other_rel = DUPLICATE_OTHER if blamed_rel == DUPLICATE else DUPLICATE
    slug_line = 1 + (corpus / blamed_rel).read_text(encoding="utf-8").split("\n").index(
        "slug: infrastructure-as-a-public-service")
    assert int(blamed.group(2)) == slug_line, duplicate
    assert re.search(rf"writes {re.escape(DUPLICATE_PAGE)}, which {shown(other_rel, corpus)} writes too",
                     duplicate), duplicate


def test_as_is_nothing_is_written(as_is):
    folder, _ = as_is
    output = folder / "output"
    assert not output.exists() or not any(output.iterdir())


# --- with the broken posts ignored ----------------------------------------------------------------

def test_every_published_post_has_its_page_on_every_mirror(built, posts):
    output, result = built
    # Of 2,423 files, 2 are _index.md and 2 are ignored: 2,419 posts. 7 have `draft: true`, so 2,412
    # are published. None is dated after the fixed clock (the newest is from 2025). 1,694 posts carry
    # Hugo's `expirydate:` (all in the past: 1,613 say 2025-01-01), but newsmirror's key is `expires:`
    # (docs/CONFIG-DRAFT.md) and no post uses it, so `expirydate` is ignored and drops nothing.
    published = [p for p in posts if not p.draft]
    assert len(posts) == 2419 and len(published) == 2412
    assert all(p.date <= datetime.fromisoformat(FIXED_NOW.replace(" +", "+")) for p in published)
    assert not any("expires" in p.data for p in posts)
    assert result.stdout.startswith(f"Built {len(published)} articles"), result.stdout

    missing = [(p.rel, p.page) for p in published for host in HOSTS
               if not (output / host / p.page / "index.html").is_file()]
    assert not missing, f"{len(missing)} posts have no page, e.g. {missing[:10]}"
    drafts = [p.page for p in posts if p.draft and (output / HOSTS[0] / p.page).exists()]
    assert not drafts, f"drafts were published: {drafts}"


def test_each_post_page_shows_its_own_title(built, posts):
    output, _ = built
    og_title = re.compile(r'<meta property="og:title" content="([^"]*)"')
    wrong = []
    for post in posts:
        if post.draft:
            continue
        text = (output / HOSTS[0] / post.page / "index.html").read_text(encoding="utf-8")
        match = og_title.search(text)
        title = " ".join(str(post.data["title"]).split())
        if not match or " ".join(html.unescape(match.group(1)).split()) != title:
            wrong.append((post.page, title, match and match.group(1)))
    assert not wrong, f"{len(wrong)} pages with another title, e.g. {wrong[:5]}"


PAGE_FLAWS = {
    # a shortcode opening, raw or HTML-escaped: shortcode source shown to readers
    "shortcode": re.compile(r"\{\{\s*(?:<|&lt;|&#60;|%)"),
    # Python-Markdown's stash placeholders (\x02klzzwxh:N\x03), never meant to reach a page
    "placeholder": re.compile("[\x02\x03]"),
    # a link around a link: what the bare-URL autolinker makes of [https://x](https://x)
    "nested link": re.compile(r'<a href="[^"]*"><a href="[^"]*">[^<]*</a></a>'),
}


@pytest.fixture(scope="module")
def page_flaws(built) -> dict[str, list[str]]:
    """Return {flaw: pages that show it} over every HTML page of both mirrors, read once."""
    output, _ = built
    pages = [p for host in HOSTS for p in (output / host).rglob("*.html")]
    assert len(pages) > 2 * 2412
    found = {name: [] for name in PAGE_FLAWS}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for name, pattern in PAGE_FLAWS.items():
            if pattern.search(text):
                found[name].append(page.relative_to(output).as_posix())
    return found


def test_no_page_contains_a_raw_shortcode(page_flaws):
    leftovers = page_flaws["shortcode"]
    assert not leftovers, f"{len(leftovers)} pages show shortcode source, e.g. {leftovers[:10]}"


def test_no_page_contains_markdown_placeholders(page_flaws):
    pages = page_flaws["placeholder"]
    assert not pages, f"{len(pages)} pages, e.g. {pages[:5]}"


def test_no_link_is_nested_in_another(page_flaws):
    pages = page_flaws["nested link"]
    assert not pages, f"{len(pages)} pages, e.g. {pages[:5]}"


_SHORTCODE = re.compile(r"\{\{([<%])\s*(/\*)?\s*(/)?([\w.-]+)")


def expected_shortcodes(posts: list[Post]) -> dict[str, tuple[int, int]]:
    """Return {name: (uses, files)} for every shortcode without a layout in the posts' bodies."""
    with_layout = {p.stem for p in (REPO / "layouts/shortcodes").glob("*.html")} | {"ref", "relref"}
    uses, files = Counter(), Counter()
    for post in posts:
        names = [m.group(4) for m in _SHORTCODE.finditer(post.body)
                 if not m.group(2) and not m.group(3) and m.group(4) not in with_layout]
        uses.update(names)
        files.update(set(names))
    return {name: (uses[name], files[name]) for name in uses}


_WARNING = re.compile(r"^(?P<file>.+?):(?P<line>\d+): warning: shortcode '(?P<name>[^']+)' has no layout "
                      r"\([^)]*shortcodes/(?P=name)\.html\): (?P<uses>\d+) use\(s\) in (?P<files>\d+) file\(s\)")


def test_one_warning_per_shortcode_without_a_layout(built, posts):
    _, result = built
    lines = result.stderr.splitlines()
    assert "Traceback" not in result.stderr
    assert all(": warning: " in line for line in lines), \
        "\n".join(line for line in lines if ": warning: " not in line)
    mentions = [line for line in lines if "warning: shortcode '" in line]
    warnings = [_WARNING.match(line) for line in mentions]
    assert all(warnings), "\n".join(line for line, w in zip(mentions, warnings) if not w)
    names = [w["name"] for w in warnings]
    assert len(names) == len(set(names)), f"a shortcode is warned about twice: {names}"

    found = {w["name"]: (int(w["uses"]), int(w["files"])) for w in warnings}
    assert found == expected_shortcodes(posts)
    assert found["legacy-img"] == (2448, 1375)
    for w in warnings:   # each names a file and line where the shortcode is used
        source = Path(w["file"]).read_text(encoding="utf-8-sig").replace("\r\n", "\n").split("\n")
        assert re.search(r"\{\{[<%]\s*" + re.escape(w["name"]) + r"(?![\w.-])",
                         source[int(w["line"]) - 1]), w.group(0)


# --- aliases: old URLs redirect to the new pages --------------------------------------------------

def alias_cases(corpus: Path, posts: list[Post]) -> list[tuple[str, str, str]]:
    """Return (source, alias, target site path) for every alias of a published post or section."""
    cases = []
    for post in posts:
        if not post.draft:
            cases += [(post.rel, alias, post.page) for alias in post.data.get("aliases") or []]
    for index in sorted(corpus.rglob("_index.md")):
        data, _ = front_matter(index)
        section = index.relative_to(corpus).parent.as_posix()
        cases += [(index.relative_to(corpus).as_posix(), alias, f"{section}/")
                  for alias in data.get("aliases") or []]
    return cases


def redirect_problems(output: Path, cases) -> list[str]:
    """Request each alias from a static server; return what is wrong with each answer."""
    problems = []
    with serve(output / HOSTS[0]) as base:
        for source, alias, target in cases:
            url = urljoin(base, alias.lstrip("/"))
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    kind = response.headers.get_content_type()
                    final, body = response.geturl(), response.read().decode("utf-8", "replace")
            except urllib.error.HTTPError as exc:
                problems.append(f"{source}: {alias}: HTTP {exc.code}")
                continue
            refresh = re.search(r'<meta http-equiv="refresh" content="0; url=([^"]+)"', body)
            canonical = re.search(r'<link rel="canonical" href="([^"]+)"', body)
            if kind != "text/html":
                problems.append(f"{source}: {alias}: served as {kind}, so a browser does not redirect")
            elif not refresh:
                problems.append(f"{source}: {alias}: no meta refresh")
            elif urlsplit(urljoin(final, html.unescape(refresh.group(1)))).path != "/" + target:
                problems.append(f"{source}: {alias}: redirects to {refresh.group(1)}, not /{target}")
            elif not canonical or canonical.group(1) != PRIMARY_URL + target:
                problems.append(f"{source}: {alias}: canonical {canonical and canonical.group(1)}")
    return problems


def test_every_alias_redirects_to_its_page(built, corpus, posts):
    output, _ = built
    cases = alias_cases(corpus, posts)
    assert len(cases) > 50
    # 7 of them name no folder and no .html file (/2019/06/19/gsa-hackathon, /2014/12/08/x.md): like
    # Hugo, they must become x/index.html, or a static host serves them as a download, not a page
    bare = [alias for _, alias, _ in cases if not alias.endswith(("/", ".html"))]
    assert len(bare) == 7, bare
    problems = redirect_problems(output, cases)
    assert not problems, "\n".join(problems)
