"""Language editions: the sample's Persian edition under /fa/, read right to left in Chromium,
linked to its English articles by hreflang on every mirror, with its own feeds and interface."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import copy_sample, run_build, serve

feedparser = pytest.importorskip("feedparser")
etree = pytest.importorskip("lxml.etree")
lxml_html = pytest.importorskip("lxml.html")

PRIMARY = ("www.meridiancourier.example", "https://www.meridiancourier.example/")
CDN = ("cdn.meridian-mirror.example", "https://cdn.meridian-mirror.example/courier/")
EN_ARTICLE = "world/2026/11/17/fisheries-talks-stall/"
FA_ARTICLE = "fa/world/2026/11/18/fisheries-talks-stall/"
XHTML = "{http://www.w3.org/1999/xhtml}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SHARE_FA = "این مطلب را به اشتراک بگذارید"


def page_of(output: Path, host: str, path: str):
    """Return the parsed HTML of a built page."""
    return lxml_html.fromstring((output / host / path / "index.html").read_bytes())


def hreflangs(doc) -> dict[str, str]:
    """Return {hreflang: href} of the page's <link rel=alternate hreflang> tags."""
    return {link.get("hreflang"): link.get("href")
            for link in doc.xpath('//head/link[@rel="alternate"][@hreflang]')}


# --- right to left in a real browser ----------------------------------------------------------------

@pytest.fixture
def tab(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


LAYOUT = """() => {
  const html = document.documentElement;
  const header = document.querySelector('.article-header').getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(document.querySelector('h1.headline'));
  const lines = Array.from(range.getClientRects());
  const kicker = document.querySelector('.article-header .kicker');
  const word = kicker.querySelector('a').getBoundingClientRect();
  const box = kicker.getBoundingClientRect();
  return {lang: html.lang, dir: html.dir,
          direction: getComputedStyle(document.querySelector('.article-body')).direction,
          header: [header.left, header.right],
          first_line: [lines[0].left, lines[0].right],
          kicker: [box.left, box.right], word: [word.left, word.right]};
}"""


def test_persian_article_renders_right_to_left_in_chromium(output: Path, tab):
    with serve(output / PRIMARY[0]) as base:
        tab.goto(base + FA_ARTICLE)
        fa = tab.evaluate(LAYOUT)
        tab.goto(base + EN_ARTICLE)
        en = tab.evaluate(LAYOUT)
    assert (fa["lang"], fa["dir"], fa["direction"]) == ("fa", "rtl", "rtl")
    # the headline's first line starts at the right edge of the article header
    assert abs(fa["first_line"][1] - fa["header"][1]) < 2, fa
    # the section name in the kicker is short: flush right, far from the left edge
    assert abs(fa["word"][1] - fa["kicker"][1]) < 2 and fa["word"][0] - fa["kicker"][0] > 100, fa
    # and its English translation, laid out by the same CSS, reads left to right
    assert (en["lang"], en["dir"], en["direction"]) == ("en", "ltr", "ltr")
    assert abs(en["first_line"][0] - en["header"][0]) < 2, en
    assert abs(en["word"][0] - en["kicker"][0]) < 2 and en["kicker"][1] - en["word"][1] > 100, en


# --- hreflang --------------------------------------------------------------------------------------

@pytest.mark.parametrize("mirror", [PRIMARY, CDN], ids=["primary", "cdn-prefix"])
def test_translations_link_to_each_other_with_this_mirrors_urls(output: Path, mirror):
    host, url = mirror
    expected = {"en": url + EN_ARTICLE, "fa": url + FA_ARTICLE, "x-default": url + EN_ARTICLE}
    for path in (EN_ARTICLE, FA_ARTICLE):
        doc = page_of(output, host, path)
        assert hreflangs(doc) == expected, f"{host}/{path}"
        # the switcher leads to the other version, in that version's own language
        other = doc.xpath('//nav[@class="language-switcher"]//a[not(@aria-current)]')
        assert len(other) == 1
        assert other[0].get("hreflang") == ("fa" if path == EN_ARTICLE else "en")
    homes = {"en": url, "fa": url + "fa/", "x-default": url}
    assert hreflangs(page_of(output, host, "")) == homes
    assert hreflangs(page_of(output, host, "fa/")) == homes
    # an article without a translation names none
    assert hreflangs(page_of(output, host, "politics/2026/11/24/electoral-reform-bill/")) == {}


@pytest.fixture(scope="module")
def urlset_schema(shared):
    return etree.XMLSchema(etree.parse(str(shared / "xsd/sitemap-all.xsd"),
                                       etree.XMLParser(no_network=True)))


@pytest.mark.parametrize("mirror", [PRIMARY, CDN], ids=["primary", "cdn-prefix"])
def test_sitemap_lists_translations_as_xhtml_alternates_and_validates(output: Path, mirror, urlset_schema):
    host, url = mirror
    doc = etree.fromstring((output / host / "sitemap.xml").read_bytes(), etree.XMLParser(no_network=True))
    assert urlset_schema.validate(doc), urlset_schema.error_log
    alternates = {}
    for entry in doc.iter(SITEMAP + "url"):
        loc = entry.findtext(SITEMAP + "loc")
        alternates[loc] = {(x.get("rel"), x.get("hreflang"), x.get("href")) for x in entry.iter(XHTML + "link")}
    pair = {("alternate", "en", url + EN_ARTICLE), ("alternate", "fa", url + FA_ARTICLE),
            ("alternate", "x-default", url + EN_ARTICLE)}
    assert alternates[url + EN_ARTICLE] == pair
    assert alternates[url + FA_ARTICLE] == pair
    assert alternates[url + "fa/"] == {("alternate", "en", url), ("alternate", "fa", url + "fa/"),
                                       ("alternate", "x-default", url)}
    assert alternates[url + "business/"] == set()   # the Persian edition has no business section


# --- interface strings and dates -------------------------------------------------------------------

def test_persian_page_shows_translated_interface_and_persian_date(output: Path):
    doc = page_of(output, PRIMARY[0], FA_ARTICLE)
    assert doc.xpath('string(//div[@class="share"]/h2)') == SHARE_FA
    assert doc.xpath('string(//a[@class="skip-link"])') == "رفتن به محتوای اصلی"
    time = doc.xpath('//p[@class="dateline"]//time')[0]
    assert time.get("datetime") == "2026-11-18T12:00:00+00:00"   # the machine value stays ISO
    shown = time.text_content()
    assert "نوامبر" in shown and "۱۸" in shown and "۲۰۲۶" in shown and "۱۲:۰۰" in shown, shown
    assert not re.search(r"[0-9]", shown), f"ASCII digits in a Persian date: {shown}"
    # the English translation keeps the English interface and dates
    en = page_of(output, PRIMARY[0], EN_ARTICLE)
    assert en.xpath('string(//div[@class="share"]/h2)') == "Share this article"
    assert en.xpath('string(//p[@class="dateline"]//time)').startswith("17 November 2026")
    # the Persian home lists Persian articles only, under the Persian masthead
    home = page_of(output, PRIMARY[0], "fa/")
    assert (home.get("lang"), home.get("dir")) == ("fa", "rtl")
    links = [a.get("href") for a in home.xpath('//main//h2[contains(@class,"card-title")]/a'
                                               ' | //main//h3[contains(@class,"card-title")]/a')]
    assert links and all(href.startswith(("world/", "politics/")) for href in links), links


def test_a_missing_translation_warns_once_naming_the_file_and_falls_back(tmp_path: Path):
    site = copy_sample(tmp_path / "site")
    strings = site / "layouts/i18n/fa.yaml"
    text = strings.read_text(encoding="utf-8")
    strings.write_text("\n".join(line for line in text.split("\n") if not line.startswith('"Share this article"')),
                       encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    use = next(n for n, line in enumerate((site / "layouts/article.html").read_text().split("\n"), 1)
               if 't("Share this article")' in line)
    warning = (f'layouts/i18n/fa.yaml: warning: no translation of "Share this article" (used in '
               f"layouts/article.html:{use}); the English text is shown")
    assert result.stderr.count(warning) == 1, result.stderr
    doc = page_of(site / "output", PRIMARY[0], FA_ARTICLE)
    assert doc.xpath('string(//div[@class="share"]/h2)') == "Share this article"


@pytest.mark.parametrize("content, line, message", [
    pytest.param('"Home": "خانه"\n"Latest": [a, b\n', 2,
                 "YAML syntax error", id="unclosed-list"),
    pytest.param('"Home": "خانه"\n"Latest": 12\n', 2,
                 "'Latest': expected text for text (quote both sides), got 12", id="number"),
    pytest.param('- Home\n', 1, "expected a mapping of English text to its translation", id="a-list"),
])
def test_a_bad_strings_file_is_a_problem_at_its_line(tmp_path: Path, content, line, message):
    site = copy_sample(tmp_path / "site")
    (site / "layouts/i18n/fa.yaml").write_text(content, encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 1
    assert f"layouts/i18n/fa.yaml:{line}: {message}" in result.stderr, result.stderr
    assert not (site / "output").exists()


# --- feeds -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["feed.xml", "atom.xml"])
def test_each_language_has_its_own_feeds(output: Path, name):
    url = PRIMARY[1]
    for prefix, language, count in (("", "en", 10), ("fa/", "fa", 2), ("fa/world/", "fa", 1)):
        data = (output / PRIMARY[0] / prefix / name).read_bytes()
        feed = feedparser.parse(data)
        assert not feed.bozo, (prefix, feed.bozo_exception)
        assert feed.feed.get("language") == language, prefix
        links = [e.link for e in feed.entries]
        assert len(links) == count, (prefix, links)
        in_fa = [link.startswith(url + "fa/") for link in links]
        assert all(in_fa) if language == "fa" else not any(in_fa), (prefix, links)
    assert feedparser.parse((output / PRIMARY[0] / "fa" / name).read_bytes()).feed.title == "پیک مریدین"


# --- incremental builds and configs -----------------------------------------------------------------

def test_renaming_a_translation_rerenders_the_page_that_links_to_it(tmp_path: Path):
    site = copy_sample(tmp_path / "site")
    assert run_build(site).returncode == 0
    source = site / "content/world/fisheries-talks-fa.md"
    source.write_text(source.read_text(encoding="utf-8").replace("slug: fisheries-talks-stall\n",
                                                                 "slug: orla-bank-talks\n"), encoding="utf-8")
    assert run_build(site).returncode == 0
    moved = PRIMARY[1] + "fa/world/2026/11/18/orla-bank-talks/"
    assert hreflangs(page_of(site / "output", PRIMARY[0], EN_ARTICLE))["fa"] == moved
    # byte for byte what a cold build makes
    cold = tmp_path / "cold"
    shutil.copytree(site, cold, ignore=shutil.ignore_patterns("output", ".cache"))
    assert run_build(cold).returncode == 0
    for path in (EN_ARTICLE, "fa/world/2026/11/18/orla-bank-talks/", ""):
        assert (site / "output" / PRIMARY[0] / path / "index.html").read_bytes() == \
            (cold / "output" / PRIMARY[0] / path / "index.html").read_bytes(), path


def test_without_languages_the_persian_article_stays_in_the_one_edition(tmp_path: Path):
    site = copy_sample(tmp_path / "site")
    config = site / "config.yaml"
    text = config.read_text(encoding="utf-8")
    start, end = text.index("languages:"), text.index("authors:")
    config.write_text(text[:start] + text[end:], encoding="utf-8")
    # at the root, the Persian budget story would take its English version's URL (a problem)
    (site / "content/politics/harbour-budget-vote-fa.md").unlink()
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    out = site / "output" / PRIMARY[0]
    assert not (out / "fa").exists()
    doc = page_of(site / "output", PRIMARY[0], "world/2026/11/18/fisheries-talks-stall/")
    assert (doc.get("lang"), doc.get("dir")) == ("fa", "rtl")
    # one edition: English interface, and the translations still name each other
    assert doc.xpath('string(//div[@class="share"]/h2)') == "Share this article"
    assert hreflangs(doc)["en"] == PRIMARY[1] + EN_ARTICLE
    assert "warning" not in result.stderr, result.stderr


def config_problem(tmp_path: Path, old: str, new: str) -> str:
    site = copy_sample(tmp_path / "site")
    config = site / "config.yaml"
    text = config.read_text(encoding="utf-8")
    assert old in text, old
    config.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 1
    return result.stderr


@pytest.mark.parametrize("old, new, expected", [
    pytest.param("  en: {}  ", "  es: {}  ",
                 "config.yaml:27: languages: the site's language 'en' (site.language) must be one of "
                 "the languages; add it", id="default-language-missing"),
    pytest.param("      world: {title: جهان,", "      sport: {title: ورزش,",
                 "config.yaml:36: languages.fa.sections: 'sport' is not a section listed under sections:",
                 id="unknown-section"),
    pytest.param("    title: پیک مریدین\n", "    title: پیک مریدین\n    path: /fa\n",
                 "config.yaml:31: languages.fa.path: expected a folder path ending in / such as fa/",
                 id="bad-path"),
    pytest.param("    title: پیک مریدین\n", "    title: پیک مریدین\n    locale: xx_YY\n",
                 "config.yaml:31: languages.fa: no date formats are known for locale 'xx_YY'",
                 id="unknown-locale"),
])
def test_language_config_problems_name_their_line(tmp_path: Path, old, new, expected):
    assert expected in config_problem(tmp_path, old, new)


def test_a_language_without_strings_warns_and_still_gets_its_edition(tmp_path: Path):
    site = copy_sample(tmp_path / "site")
    config = site / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("  en: {}  ", "  ar: {title: بريد ميريديان}\n  en: {}  ", 1), encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    assert ("layouts/i18n/ar.yaml: warning: no interface strings for 'ar': the layouts' texts are shown "
            "in English until this file translates them") in result.stderr
    home = page_of(site / "output", PRIMARY[0], "ar/")
    # Babel knows Arabic is written right to left; with no articles the home says so in English
    assert (home.get("lang"), home.get("dir")) == ("ar", "rtl")
    assert home.xpath('string(//p[@class="empty"])') == "Nothing has been published yet."
    assert hreflangs(home) == {"en": PRIMARY[1], "fa": PRIMARY[1] + "fa/", "ar": PRIMARY[1] + "ar/",
                               "x-default": PRIMARY[1]}


@pytest.mark.parametrize("written, expected", [
    pytest.param("translation_key: [a, b]", "translation_key: expected text shared by the translations of one "
                 "article, like translation_key: fisheries-talks, got ['a', 'b']", id="a-list"),
    pytest.param("translationKey: true", "translationKey: expected text shared by the translations of one "
                 "article, like translationKey: fisheries-talks, got True", id="hugo-spelling-true"),
])
def test_a_bad_translation_key_is_a_problem_at_its_line(tmp_path: Path, written, expected):
    site = copy_sample(tmp_path / "site")
    source = site / "content/world/fisheries-talks-stall.md"
    text = source.read_text(encoding="utf-8").replace("translation_key: fisheries-talks", written)
    source.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.split("\n"), 1) if row == written)
    result = run_build(site)
    assert result.returncode == 1
    assert f"content/world/fisheries-talks-stall.md:{line}: {expected}" in result.stderr, result.stderr
