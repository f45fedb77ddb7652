"""A mirror with `index_links: true` works opened straight from disk (file://), in a real browser."""

import re

from conftest import run_build


def test_index_links_mirror_browses_from_disk(site, browser):
    config = site / "config.yaml"
    text = config.read_text(encoding="utf-8")
    text = re.sub(r"(  - url: https://cdn\.meridian-mirror\.example/courier/[^\n]*\n)",
                  r"\1    index_links: true\n", text, count=1)
    assert "index_links: true" in text
    config.write_text(text, encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    root = site / "output" / "cdn.meridian-mirror.example"
    start = root / "business/2026/11/27/harbour-strike-ends/index.html"
    page = browser.new_page()
    try:
        page.goto(start.as_uri())
        assert "Harbour strike ends" in page.locator("h1").inner_text()
        # section nav, then an article from the listing, then a tag: every hop opens a file
        page.locator("nav.site-nav a", has_text="Politics").click()
        assert page.url == (root / "politics/index.html").as_uri()
        page.locator("main h2 a, main h3 a").first.click()
        assert page.url.startswith((root / "politics").as_uri()) and page.url.endswith("/index.html")
        assert page.locator("h1").count() == 1
        page.locator("a[rel=tag]").first.click()
        assert page.url.startswith((root / "tags").as_uri()) and page.url.endswith("/index.html")
        assert page.locator("h1").count() == 1
    finally:
        page.close()


def test_default_mirror_links_stay_pretty(output):
    html = (output / "www.meridiancourier.example/business/2026/11/27/harbour-strike-ends/index.html"
            ).read_text(encoding="utf-8")
    assert 'href="../../../../../politics/"' in html
    assert "politics/index.html" not in html
