"""A reader in a real browser (headless Debian Chromium) stays on the mirror they came through."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import serve

CDN_HOST = "cdn.meridian-mirror.example"
NET_HOST = "meridiancourier.example.net"
PRIMARY_HOST = "www.meridiancourier.example"
ONION_URL = "http://6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion/"
BANNER = ("You are reading a mirror of The Meridian Courier. If our main address is blocked where you are, "
          "bookmark this one.")
ARTICLE = "politics/2026/11/24/electoral-reform-bill/"




def watch(page) -> list[tuple[str, int]]:
    """Record (url, status) of every response the page receives."""
    seen: list[tuple[str, int]] = []
    page.on("response", lambda response: seen.append((response.url, response.status)))
    return seen


def arrived(page, response, base: str) -> None:
    """Assert a navigation ended on the mirror, with 200 and a page that has an <h1>."""
    assert response is not None
    assert page.url.startswith(base), f"left the mirror: {page.url}"
    assert response.status == 200, (page.url, response.status)
    assert page.locator("h1").count() >= 1, f"no <h1> on {page.url}"


def click(page, locator, base: str) -> str:
    """Click a link, wait for the page it leads to, check it; return the new URL."""
    assert locator.count() >= 1
    with page.expect_navigation() as navigation:
        locator.first.click()
    arrived(page, navigation.value, base)
    return page.url


def test_reader_stays_on_the_path_prefix_mirror(output: Path, page):
    responses = watch(page)
    with serve(output / CDN_HOST, "/courier/") as base:
        start = base + ARTICLE
        arrived(page, page.goto(start), base)
        assert page.locator("h1.headline").inner_text().startswith("Electoral reform")

        assert click(page, page.locator("header.masthead a.brand"), base) == base            # home

        world = click(page, page.locator("nav.site-nav a", has_text="World"), base)        # a section
        assert world == base + "world/"

        cards = page.locator("main .card-title a")                                         # an article
        assert cards.count() >= 2
        story = click(page, cards, base)
        assert story.startswith(base + "world/2026/") and story != start
        assert page.locator("h1.headline").count() == 1

        tag = click(page, page.locator(".tag-list a[rel=tag]"), base)                      # a tag
        assert tag.startswith(base + "tags/")

        crumbs = click(page, page.locator("nav.site-nav a", has_text="Politics"), base)   # and back
        assert crumbs == base + "politics/"
        back = click(page, page.locator("main .card-title a[href*='electoral-reform-bill']"), base)
        assert back == start

    assert responses, "no response was recorded"
    outside = [url for url, _ in responses if not url.startswith(base)]
    assert not outside, f"the page loaded something from outside the mirror: {outside[:5]}"
    failed = [(url, status) for url, status in responses if status >= 400]
    assert not failed, failed


def test_banner_shows_on_the_mirror_that_has_one_and_not_on_the_primary(output: Path, page):
    with serve(output / NET_HOST) as base:
        arrived(page, page.goto(base + ARTICLE), base)
        banner = page.locator(".mirror-banner")
        assert banner.count() == 1 and banner.is_visible()
        assert banner.inner_text().strip() == BANNER
        arrived(page, page.goto(base), base)
        assert page.locator(".mirror-banner").inner_text().strip() == BANNER
    with serve(output / PRIMARY_HOST) as base:
        arrived(page, page.goto(base + ARTICLE), base)
        assert page.locator(".mirror-banner").count() == 0
        assert BANNER not in page.content()


@pytest.mark.parametrize("host,prefix", [(PRIMARY_HOST, "/"), (NET_HOST, "/"), (CDN_HOST, "/courier/")])
def test_onion_location_names_this_article_on_the_onion(output: Path, page, host: str, prefix: str):
    with serve(output / host, prefix) as base:
        arrived(page, page.goto(base + ARTICLE), base)
        meta = page.locator("meta[http-equiv='onion-location']")
        assert meta.count() == 1
        here = page.url[len(base):]
        assert meta.get_attribute("content") == ONION_URL + here
    assert (output / ONION_URL.split("/")[2] / here / "index.html").is_file()
