"""Search engines and sharing on every mirror: Open Graph and Twitter cards, schema.org JSON-LD
(read back with extruct), share links, and the Google News sitemap (against the XSDs).

Expected values are written out by hand from the sample's front matter and config.yaml. The rule
they check: URLs that name a page (og:url, JSON-LD page, author and breadcrumb URLs) follow the
canonical rule, the primary's URL unless a mirror says `canonical: self`; URLs of files a client
fetches (og:image, JSON-LD image and logo) are the mirror's own, so they load where the primary is
blocked."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from conftest import copy_sample, run_build, snapshot
from sitecheck import PREFIXED, PRIMARY, SAMPLE_MIRRORS, Address, file_of, html_pages, page_site_path

extruct = pytest.importorskip("extruct")
etree = pytest.importorskip("lxml.etree")
lxml_html = pytest.importorskip("lxml.html")

NET = SAMPLE_MIRRORS[1]
THREE = pytest.mark.parametrize("mirror", [PRIMARY, NET, PREFIXED], ids=["primary", "net", "cdn"])
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"

STRIKE = "business/2026/11/27/harbour-strike-ends/"
STRIKE_TITLE = "Harbour strike ends after 11 days as dockworkers accept pay deal"
STRIKE_SUMMARY = ("Dockworkers at the Port of Velmora voted by a large majority to accept a 6.5 per cent pay "
                  "rise and a say over automation, ending the longest stoppage at the port since 1998.")
STRIKE_TAGS = ["labour", "Port of Velmora", "shipping", "Velmora"]
REFORM = "politics/2026/11/24/electoral-reform-bill/"
MAPS = "culture/2026/11/28/lost-maps-exhibition/"
MAPS_TITLE = "Review: the lost maps of the Meridian coast"


def extract(html: str, url: str) -> tuple[list[dict], dict[str, list[str]]]:
    """Return a page's JSON-LD blocks and its Open Graph properties ({name: [values]}) via extruct."""
    data = extruct.extract(html, base_url=url, syntaxes=["json-ld", "opengraph"], uniform=False)
    og: dict[str, list[str]] = {}
    for block in data["opengraph"]:
        for name, value in block["properties"]:
            og.setdefault(name, []).append(value)
    return data["json-ld"], og


def of_type(blocks: list[dict], kind: str) -> list[dict]:
    return [b for b in blocks if b.get("@type") == kind]


def meta(doc, name: str) -> list[str]:
    return [m.get("content") for m in doc.iter("meta") if m.get("name") == name]


def hashed(output: Path, mirror: Address, site_path: str) -> str:
    """Return the content-hashed site path the build gave a static file (images/logo.<hash>.svg)."""
    folder, _, name = site_path.rpartition("/")
    stem, _, ext = name.rpartition(".")
    [found] = (output / mirror.host / folder).glob(f"{stem}.*.{ext}")
    return f"{folder}/{found.name}"


def read(output: Path, mirror: Address, site_path: str) -> str:
    return file_of(site_path, output / mirror.host).read_text(encoding="utf-8")


# --- articles -------------------------------------------------------------------------------------

@THREE
def test_article_json_ld_and_open_graph_match_front_matter_and_mirror(output, mirror):
    html = read(output, mirror, STRIKE)
    blocks, og = extract(html, mirror.absolute(STRIKE))
    page = PRIMARY.absolute(STRIKE)   # canonical: the primary's URL on every mirror of the sample
    [article] = of_type(blocks, "NewsArticle")
    assert article == {
        "@context": "https://schema.org", "@type": "NewsArticle",
        "headline": STRIKE_TITLE, "description": STRIKE_SUMMARY,
        "image": [mirror.absolute(hashed(output, mirror, "images/harbour-cranes.svg"))],
        "datePublished": "2026-11-27T09:05:00+00:00",
        "dateModified": "2026-11-27T15:10:00+00:00",   # `updated: 2026-11-27 15:10`, Lisbon = UTC in November
        "author": [{"@type": "Person", "name": "Lena Varga", "url": PRIMARY.absolute("authors/lena-varga/")}],
        "publisher": {"@type": "NewsMediaOrganization", "name": "The Meridian Courier",
                      "url": PRIMARY.url, "logo": {"@type": "ImageObject",
                                                   "url": mirror.absolute(hashed(output, mirror, "images/logo.svg"))}},
        "mainEntityOfPage": {"@type": "WebPage", "@id": page}, "url": page,
        "articleSection": "Business", "keywords": STRIKE_TAGS, "inLanguage": "en",
        "isAccessibleForFree": True,
    }
    [crumbs] = of_type(blocks, "BreadcrumbList")
    assert [(i["position"], i["name"], i["item"]) for i in crumbs["itemListElement"]] == [
        (1, "News", PRIMARY.url), (2, "Business", PRIMARY.absolute("business/")), (3, STRIKE_TITLE, page)]
    assert og["og:title"] == [STRIKE_TITLE] and og["og:description"] == [STRIKE_SUMMARY]
    assert og["og:url"] == [page] and og["og:type"] == ["article"]
    assert og["og:image"] == [mirror.absolute(hashed(output, mirror, "images/harbour-cranes.svg"))]
    assert og["article:published_time"] == ["2026-11-27T09:05:00+00:00"]
    assert og["article:modified_time"] == ["2026-11-27T15:10:00+00:00"]
    assert og["article:section"] == ["Business"] and og["article:tag"] == STRIKE_TAGS
    doc = lxml_html.fromstring(html)
    assert meta(doc, "twitter:card") == ["summary_large_image"]
    assert meta(doc, "twitter:site") == ["@meridiancourier"]
    # the files a client fetches are on this mirror, and there
    for url in (article["image"][0], article["publisher"]["logo"]["url"]):
        assert url.startswith(mirror.url) and file_of(url[len(mirror.url):], output / mirror.host).is_file()


def test_article_without_image_has_two_authors_and_a_summary_card(output):
    html = read(output, PREFIXED, REFORM)
    blocks, og = extract(html, PREFIXED.absolute(REFORM))
    [article] = of_type(blocks, "NewsArticle")
    assert [(a["name"], a["url"]) for a in article["author"]] == [
        ("Ana Ferreira", PRIMARY.absolute("authors/ana-ferreira/")),
        ("Dario Castellan", PRIMARY.absolute("authors/dario-castellan/"))]
    assert article["datePublished"] == article["dateModified"] == "2026-11-24T18:45:00+00:00"
    assert "image" not in article and "og:image" not in og
    assert og["article:modified_time"] == ["2026-11-24T18:45:00+00:00"]
    assert meta(lxml_html.fromstring(html), "twitter:card") == ["summary"]


def test_every_page_url_in_json_ld_is_a_page_of_the_primary(output):
    """Canonical URLs in JSON-LD on a mirror name pages the primary really has."""
    folder = output / NET.host
    for page in html_pages(folder):
        blocks, _ = extract(page.read_text(encoding="utf-8"), NET.absolute(page_site_path(page, folder)))
        text = json.dumps(blocks)
        for url in re.findall(r'"(https?://[^"]+)"', text):
            if url.startswith("https://schema.org"):
                continue
            base = NET if "/images/" in url else PRIMARY
            assert url.startswith(base.url), (page, url)
            assert file_of(url[len(base.url):], output / base.host).is_file(), (page, url)


# --- every page: breadcrumbs, listings, home ------------------------------------------------------

@THREE
def test_breadcrumb_json_ld_matches_the_visible_trail_on_every_page(output, mirror):
    folder = output / mirror.host
    checked = 0
    for page in html_pages(folder):
        here = mirror.absolute(page_site_path(page, folder))
        html = page.read_text(encoding="utf-8")
        blocks, _ = extract(html, here)
        lists = of_type(blocks, "BreadcrumbList")
        nav = lxml_html.fromstring(html).xpath('//nav[@class="breadcrumbs"]//a')
        if not nav:
            assert not lists, page
            continue
        [crumbs] = lists
        visible = [(a.text_content(), urljoin(here, a.get("href"))) for a in nav]
        # the trail's links stay on this mirror; JSON-LD names the same pages by their canonical URL
        shown = [(name, PRIMARY.absolute(url[len(mirror.url):].removesuffix("index.html")))
                 for name, url in visible]
        assert [(i["name"], i["item"]) for i in crumbs["itemListElement"]] == shown, page
        assert [i["position"] for i in crumbs["itemListElement"]] == list(range(1, len(nav) + 1))
        checked += 1
    assert checked > 40   # articles and listings of every kind


LISTINGS = ["", "politics/", "tags/velmora/", "tags/velmora/page/2/", "authors/ana-ferreira/", "archive/",
            "archive/2026/11/", "tags/", "authors/"]


@THREE
@pytest.mark.parametrize("path", LISTINGS)
def test_listing_pages_are_websites_with_their_canonical_url_and_a_summary_card(output, mirror, path):
    html = read(output, mirror, path)
    blocks, og = extract(html, mirror.absolute(path))
    assert og["og:type"] == ["website"]
    assert og["og:url"] == [PRIMARY.absolute(path)]
    assert "og:image" not in og
    doc = lxml_html.fromstring(html)
    assert meta(doc, "twitter:card") == ["summary"] and meta(doc, "twitter:site") == ["@meridiancourier"]
    assert not of_type(blocks, "NewsArticle")
    assert bool(of_type(blocks, "WebSite")) == (path == "")


@THREE
def test_home_page_describes_the_website(output, mirror):
    blocks, _ = extract(read(output, mirror, ""), mirror.url)
    [website] = of_type(blocks, "WebSite")
    assert website == {
        "@context": "https://schema.org", "@type": "WebSite", "name": "The Meridian Courier",
        "url": PRIMARY.url, "inLanguage": "en",
        "publisher": {"@type": "NewsMediaOrganization", "name": "The Meridian Courier", "url": PRIMARY.url,
                      "logo": {"@type": "ImageObject", "url": mirror.absolute(hashed(output, mirror, "images/logo.svg"))}},
        "description": ("Independent reporting on politics, business and culture from the towns and harbours "
                        "of the Meridian coast and the islands beyond."),
    }
    assert "potentialAction" not in website   # no SearchAction: the search page is noindex, for readers
    assert not of_type(blocks, "BreadcrumbList")   # the home page shows no trail


# --- share links ----------------------------------------------------------------------------------

SHARE_PARAMS = {   # network: (host, query parameter with the URL, parameter with the title or None)
    "E-mail": ("", "body", "subject"), "WhatsApp": ("wa.me", "text", "text"),
    "Telegram": ("t.me", "url", "text"), "Facebook": ("www.facebook.com", "u", None),
    "X": ("x.com", "url", "text"), "LinkedIn": ("www.linkedin.com", "url", None),
    "Bluesky": ("bsky.app", "text", "text"), "Reddit": ("www.reddit.com", "url", "title"),
}


@pytest.mark.parametrize("mirror", SAMPLE_MIRRORS, ids=["primary", "net", "cdn", "onion"])
def test_share_links_share_this_mirrors_article_url_as_plain_links(output, mirror):
    html = read(output, mirror, STRIKE)
    doc = lxml_html.fromstring(html)
    links = doc.xpath('//div[@class="share"]//a')
    assert [a.text for a in links] == list(SHARE_PARAMS)
    own = mirror.absolute(STRIKE)
    for a in links:
        host, url_param, title_param = SHARE_PARAMS[a.text]
        href = a.get("href")
        parts = urlsplit(href)
        assert parts.scheme == ("mailto" if a.text == "E-mail" else "https") and parts.netloc == host, href
        assert "+" not in parts.query and " " not in href   # %20, which mail clients and apps all read
        query = parse_qs(parts.query, keep_blank_values=True)
        assert query[url_param][0].endswith(own) and query[url_param][0].count("://") == 1, href
        if title_param:
            assert query[title_param][0].startswith(STRIKE_TITLE), href
        assert set(a.get("rel").split()) == {"noopener", "noreferrer"}
    # no share widget scripts: the only scripts are JSON-LD data
    assert {s.get("type") for s in doc.iter("script")} == {"application/ld+json"}


# --- the Google News sitemap ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def urlset_schema(shared):
    return etree.XMLSchema(etree.parse(str(shared / "xsd/sitemap-all.xsd"), etree.XMLParser(no_network=True)))


def news_entries(folder: Path, schema) -> list[tuple]:
    """Return (loc, name, language, publication date, title) of a valid news sitemap."""
    tree = etree.parse(str(folder / "news-sitemap.xml"), etree.XMLParser(no_network=True))
    if len(tree.getroot()) == 0:
        # sitemaps.org's XSD wants at least one <url>; Google's News sitemap guide says a news
        # sitemap with no recent articles may be empty (Search Console warns, nothing breaks), and
        # keeping the address is what it asks for. That must be the schema's only complaint.
        assert not schema.validate(tree)
        assert [e.message.split(". Expected")[0] for e in schema.error_log] == [
            f"Element '{SM}urlset': Missing child element(s)"], schema.error_log
        assert tree.getroot().nsmap == {None: SM[1:-1], "news": NEWS[1:-1]}
        return []
    assert schema.validate(tree), schema.error_log
    return [(u.findtext(SM + "loc"), u.findtext(f"{NEWS}news/{NEWS}publication/{NEWS}name"),
             u.findtext(f"{NEWS}news/{NEWS}publication/{NEWS}language"),
             u.findtext(f"{NEWS}news/{NEWS}publication_date"), u.findtext(f"{NEWS}news/{NEWS}title"))
            for u in tree.getroot().iter(SM + "url")]


MAPS_ENTRY = (MAPS, "The Meridian Courier", "en", "2026-11-28T08:30:00+00:00", MAPS_TITLE)
STRIKE_ENTRY = (STRIKE, "The Meridian Courier", "en", "2026-11-27T09:05:00+00:00", STRIKE_TITLE)


@pytest.mark.parametrize("mirror", SAMPLE_MIRRORS, ids=["primary", "net", "cdn", "onion"])
def test_news_sitemap_lists_the_last_two_days_on_each_mirror(output, urlset_schema, mirror):
    # FIXED_NOW is 2026-11-29 12:00 UTC: only the review of 28 November 08:30 is younger than two
    # days; the harbour strike (27 November 09:05) is three hours too old
    assert news_entries(output / mirror.host, urlset_schema) == [(mirror.absolute(MAPS), *MAPS_ENTRY[1:])]
    robots = (output / mirror.host / "robots.txt").read_text(encoding="utf-8")
    assert f"Sitemap: {mirror.absolute('news-sitemap.xml')}\n" in robots


def test_news_sitemap_follows_the_build_clock_and_incremental_equals_cold(tmp_path, urlset_schema):
    site = copy_sample(tmp_path / "site")
    cdn = site / "output" / PREFIXED.host
    result = run_build(site, now="2026-11-29 09:00:00 +00:00")   # three hours earlier: the strike too
    assert result.returncode == 0, result.stderr
    assert news_entries(cdn, urlset_schema) == [(PREFIXED.absolute(p), *e[1:])
                                                for p, e in ((MAPS, MAPS_ENTRY), (STRIKE, STRIKE_ENTRY))]
    later = "2026-11-30 08:00:00 +00:00"   # a day later: the strike is out, the review still in
    assert run_build(site, now=later).returncode == 0
    assert news_entries(cdn, urlset_schema) == [(PREFIXED.absolute(MAPS), *MAPS_ENTRY[1:])]
    last = "2026-12-01 12:00:00 +00:00"    # nothing recent: an empty urlset, still valid
    assert run_build(site, now=last).returncode == 0
    assert news_entries(cdn, urlset_schema) == []
    cold = copy_sample(tmp_path / "cold")
    assert run_build(cold, now=last).returncode == 0
    assert {k: v[0] for k, v in snapshot(site / "output").items() if ".newsmirror" not in k} == \
        {k: v[0] for k, v in snapshot(cold / "output").items() if ".newsmirror" not in k}


@pytest.mark.parametrize("tag, code", [("en", "en"), ("fa", "fa"), ("pt-BR", "pt"), ("zh-Hant", "zh-tw"),
                                       ("zh-CN", "zh-cn"), ("zh-Hans-HK", "zh-cn"), ("zh-HK", "zh-tw")])
def test_news_language_is_the_code_google_news_takes(tag, code):
    from newsmirror.sitemaps import news_language

    assert news_language(tag) == code


# --- other configurations -------------------------------------------------------------------------

HOSTILE_TITLE = 'Strike over </script><!-- "quotes" & <b>tags</b>'


@pytest.fixture(scope="module")
def self_canonical(tmp_path_factory) -> Path:
    """The sample with `canonical: self` on the .net mirror, no twitter handle, and a headline
    that tries to end the JSON-LD script."""
    site = copy_sample(tmp_path_factory.mktemp("selfcanon") / "site")
    config = site / "config.yaml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("  - url: https://meridiancourier.example.net/",
                        "  - url: https://meridiancourier.example.net/\n    canonical: self", 1)
    config.write_text(re.sub(r"\n  twitter: .*", "", text), encoding="utf-8")
    story = site / "content/business/harbour-strike-ends.md"
    story.write_text(story.read_text(encoding="utf-8").replace(
        f'title: "{STRIKE_TITLE}"', "title: " + json.dumps(HOSTILE_TITLE), 1), encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    return site / "output"


def test_a_self_canonical_mirror_names_its_own_pages(self_canonical):
    slug = STRIKE   # the slug comes from the file name, not the title
    blocks, og = extract(read(self_canonical, NET, slug), NET.absolute(slug))
    [article] = of_type(blocks, "NewsArticle")
    assert og["og:url"] == [NET.absolute(slug)] and article["url"] == NET.absolute(slug)
    assert article["author"][0]["url"] == NET.absolute("authors/lena-varga/")
    [crumbs] = of_type(blocks, "BreadcrumbList")
    assert [i["item"] for i in crumbs["itemListElement"]] == [NET.url, NET.absolute("business/"),
                                                               NET.absolute(slug)]
    # the other mirrors still name the primary
    blocks, og = extract(read(self_canonical, PREFIXED, slug), PREFIXED.absolute(slug))
    assert og["og:url"] == [PRIMARY.absolute(slug)]
    assert of_type(blocks, "NewsArticle")[0]["url"] == PRIMARY.absolute(slug)


def test_a_headline_cannot_end_the_json_ld_script(self_canonical):
    html = read(self_canonical, PRIMARY, STRIKE)
    blocks, og = extract(html, PRIMARY.absolute(STRIKE))
    assert of_type(blocks, "NewsArticle")[0]["headline"] == HOSTILE_TITLE
    assert og["og:title"] == [HOSTILE_TITLE]
    scripts = lxml_html.fromstring(html).xpath('//script[@type="application/ld+json"]')
    assert len(scripts) == 2 and all(json.loads(s.text) for s in scripts)
    assert "</script><!--" not in html and "\\u003c/script\\u003e" in html


def test_without_a_twitter_handle_there_is_no_twitter_site(self_canonical):
    doc = lxml_html.fromstring(read(self_canonical, PRIMARY, STRIKE))
    assert meta(doc, "twitter:site") == [] and meta(doc, "twitter:card") == ["summary_large_image"]


@pytest.mark.parametrize("line, message", [
    ("  twitter: \"@no spaces\"", "config.yaml:{n}: site.twitter: '@no spaces' is not an X/Twitter handle "
                                  "(1 to 15 letters, digits or _, like @meridiancourier)"),
    ("  twitter: meridiancourier_is_too_long", "config.yaml:{n}: site.twitter: 'meridiancourier_is_too_long' "
                                               "is not an X/Twitter handle (1 to 15 letters, digits or _, "
                                               "like @meridiancourier)"),
], ids=["space", "too-long"])
def test_a_bad_twitter_handle_is_a_problem_naming_its_line(site, line, message):
    config = site / "config.yaml"
    lines = config.read_text(encoding="utf-8").split("\n")
    n = next(i for i, text in enumerate(lines, 1) if text.startswith("  twitter:"))
    lines[n - 1] = line
    config.write_text("\n".join(lines), encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 1
    assert message.format(n=n) in result.stderr
    assert not (site / "output").exists()


def test_a_mirror_prefix_with_an_ampersand_is_a_problem(site):
    config = site / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("https://cdn.meridian-mirror.example/courier/",
                                   "https://cdn.meridian-mirror.example/news&views/"), encoding="utf-8")
    n = next(i for i, t in enumerate(config.read_text(encoding="utf-8").split("\n"), 1) if "news&views" in t)
    result = run_build(site)
    assert result.returncode == 1
    assert (f"config.yaml:{n}: mirrors[2].url: 'https://cdn.meridian-mirror.example/news&views/': the path "
            "prefix has '&', which must be percent-encoded (for example & as %26, a space as %20)") in result.stderr


# --- shared renders -------------------------------------------------------------------------------

@pytest.mark.parametrize("config_of", ["sample", "self-canonical"])
def test_json_ld_keeps_pages_shared_and_each_mirrors_copy_exact(built_site, self_canonical, config_of):
    """JSON-LD holds mirror URLs: a page must still render once for all mirrors (no slot use that
    forces a render per mirror) and every substituted copy must equal that mirror's own render."""
    from datetime import datetime, timezone

    from newsmirror.config import load_config
    from newsmirror.pipeline import check_and_plan, parse_content
    from newsmirror.plan import BuildOptions
    from newsmirror.render import Renderer, SharedRenderer, make_environment
    from newsmirror.sharing import OPEN, TAINT, fill, split

    root = built_site if config_of == "sample" else self_canonical.parent
    config = load_config(root / "config.yaml")
    parsed = parse_content(config, lambda *_: None)
    plan, assets, _ = check_and_plan(config, parsed, BuildOptions(now=datetime(2026, 11, 29, 12, tzinfo=timezone.utc)))
    env = make_environment(config)
    renderers = [Renderer(config, env, plan, m, assets) for m in config.mirrors]
    shared = SharedRenderer(renderers)
    every = list(range(len(renderers)))
    kinds = set()
    for page in plan.pages:
        if page.kind in ("404", "redirect"):
            continue
        log: list = []
        html = shared._render_slotted(page, 0, log)
        assert TAINT not in log, page.path
        # no filter changed a slot marker (json.dumps with ensure_ascii would): substitution works
        pieces = split(html)
        assert pieces is not None, page.path
        assert all(OPEN not in fill(pieces, shared._values(page, t)) for t in every), page.path
        if page.kind in ("article", "home"):
            assert '<script type="application/ld+json">' in html
        assert shared.render(page, every) == {t: renderers[t].render(page) for t in every}, page.path
        kinds.add(page.kind)
    assert {"article", "home", "section", "tag", "author", "archive", "month"} <= kinds
