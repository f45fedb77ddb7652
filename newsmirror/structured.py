"""schema.org structured data (JSON-LD) for a page on one mirror, and its safe <script> text.

Which address each URL uses, the same rule as the page's head tags:
- URLs that *name a page* (mainEntityOfPage, url, author and breadcrumb items, the WebSite)
  follow the canonical rule of `<link rel="canonical">` and `og:url`: the canonical mirror's
  base (the primary, or the mirror itself with `canonical: self`), so search engines that read
  them on any mirror attribute everything to the one URL they index.
- URLs of *files a client fetches* (the lead image, the logo) use the mirror's own base, like
  `og:image`: they load for readers and crawlers where the primary is blocked.

Both bases arrive as text: real URLs, or the slots of a shared render (sharing.py), which only
ever meet `+` here and pass through json.dumps untouched (ensure_ascii=False keeps the markers;
mirrors.py keeps characters out of mirror URLs that JSON or HTML would escape differently)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Any

from markupsafe import Markup

from .views import Page, Story

CONTEXT = "https://schema.org"


@dataclass(frozen=True)
class StructuredData:
    """The `schema` template variable: each JSON-LD block a layout may show, or None."""

    article: dict | None
    breadcrumbs: dict | None
    website: dict | None


def structured_data(site: Any, page: Page, story: Story | None, own: str, canonical: str,
                    asset_path: Callable[[str], str] = lambda path: path) -> StructuredData:
    """Return the page's JSON-LD blocks; `own` and `canonical` are mirror base URLs (or slots),
    `asset_path` gives a static file's published (content-hashed) name."""

    def fetched(src: str) -> str:
        return src if src.startswith(("http://", "https://")) else own + asset_path(src.lstrip("/"))

    def named(path: str) -> str:
        return canonical + path.lstrip("/")

    publisher: dict[str, Any] = {"@type": "NewsMediaOrganization", "name": site.title, "url": named("")}
    if site.logo:
        publisher["logo"] = {"@type": "ImageObject", "url": fetched(site.logo)}
    article = _news_article(story, page, publisher, fetched, named) if story is not None else None
    crumbs = None
    if page.breadcrumbs and page.kind != "home":
        crumbs = {"@context": CONTEXT, "@type": "BreadcrumbList", "itemListElement": [
            {"@type": "ListItem", "position": n, "name": c.title, "item": named(c.path)}
            for n, c in enumerate(page.breadcrumbs, 1)]}
    website = None
    if page.kind == "home":
        # no SearchAction: the site has no search page yet
        website = {"@context": CONTEXT, "@type": "WebSite", "name": site.title, "url": named(""),
                   "inLanguage": site.language, "publisher": publisher}
        if site.description:
            website["description"] = site.description
    return StructuredData(article, crumbs, website)


def _news_article(story: Story, page: Page, publisher: dict, fetched, named) -> dict:
    """Return the NewsArticle block of an article page."""
    data: dict[str, Any] = {"@context": CONTEXT, "@type": "NewsArticle", "headline": story.title}
    if story.summary:
        data["description"] = story.summary
    if story.image:
        data["image"] = [fetched(story.image.src)]
    data["datePublished"] = story.date.isoformat()
    data["dateModified"] = (story.updated or story.date).isoformat()
    if story.authors:
        data["author"] = [{"@type": "Person", "name": a.name, "url": named(a.path)} for a in story.authors]
    data["publisher"] = publisher
    data["mainEntityOfPage"] = {"@type": "WebPage", "@id": named(page.path)}
    data["url"] = named(page.path)
    data["articleSection"] = story.section.title
    if story.tags:
        data["keywords"] = [t.name for t in story.tags]
    data["inLanguage"] = story.language
    data["isAccessibleForFree"] = True
    return data


def json_ld(data: dict) -> Markup:
    """Return JSON for a <script type="application/ld+json">: keys in the order built, and <, >
    and & as \\u escapes, so no text (`</script>`, `<!--`) can end or change the script."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
