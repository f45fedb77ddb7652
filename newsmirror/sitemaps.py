"""sitemap.xml (an index plus parts past 50,000 URLs), the Google News sitemap, robots.txt, and
mirror discovery files."""

from __future__ import annotations

import json
from datetime import datetime
from xml.sax.saxutils import escape, quoteattr

from .config import Config
from .mirrors import Mirror
from .views import Page, Story

SITEMAP_LIMIT = 50_000
URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
NEWS_SITEMAP = "news-sitemap.xml"
NEWS_URLSET = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
               'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n')
URLSET_XHTML = ('<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                'xmlns:xhtml="http://www.w3.org/1999/xhtml">\n')


def _lastmod(page: Page) -> datetime | None:
    """Return when a page last changed: its article's update, or its newest listed article."""
    if page.article is not None:
        return page.article.updated or page.article.date
    dates = [s.updated or s.date for s in page.articles]
    if page.lead is not None:
        dates.append(page.lead.updated or page.lead.date)
    return max(dates) if dates else None


def sitemap_pages(pages: tuple[Page, ...]) -> list[tuple[Page, datetime | None, str]]:
    """Return the pages a sitemap lists, with their last change and what follows the mirror's
    address in their entry: the escaped path, `</loc>` and `<lastmod>` (the same on every
    mirror, so a build of several mirrors makes it once; escaping is character by character,
    so escape(url + path) is escape(url) + escape(path))."""
    out = []
    for page in pages:
        if page.in_sitemap:
            moment = _lastmod(page)
            out.append((page, moment, escape(page.path.lstrip("/")) + "</loc>"
                        + (f"<lastmod>{moment.isoformat()}</lastmod>" if moment else "")))
    return out


def sitemap_files(pages: tuple[Page, ...], mirror: Mirror, limit: int = SITEMAP_LIMIT,
                  also: tuple[str, ...] = (NEWS_SITEMAP,),
                  listed: list[tuple[Page, datetime | None, str]] | None = None) -> dict[str, bytes]:
    """Return {site path: bytes}: `sitemap.xml` alone, or an index of its numbered parts and of
    the sitemaps in `also` (written elsewhere: the news sitemap). `listed`, when given, is
    sitemap_pages(pages)."""
    listed = sitemap_pages(pages) if listed is None else listed
    start = "<url><loc>" + escape(mirror.url)
    entries = []
    for page, moment, rest in listed:
        links = _alternates(page, mirror) if page.translations else ""
        entries.append((f"{start}{rest}{links}</url>\n", moment, bool(links)))
    chunks = [entries[i:i + limit] for i in range(0, len(entries), limit)] or [[]]
    if len(chunks) == 1:
        return {"sitemap.xml": _urlset(chunks[0])}
    files = {f"sitemap-{n}.xml": _urlset(chunk) for n, chunk in enumerate(chunks, 1)}
    index = ['<?xml version="1.0" encoding="utf-8"?>\n'
             '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n']
    for name, chunk in zip(files, chunks):
        newest = max((m for _, m, _ in chunk if m), default=None)   # the latest moment, whatever its offset
        index.append(f"<sitemap><loc>{escape(mirror.absolute(name))}</loc>"
                     + (f"<lastmod>{newest.isoformat()}</lastmod>" if newest else "") + "</sitemap>\n")
    index += [f"<sitemap><loc>{escape(mirror.absolute(name))}</loc></sitemap>\n" for name in also]
    index.append("</sitemapindex>\n")
    files["sitemap.xml"] = "".join(index).encode("utf-8")
    return files


def _alternates(page: Page, mirror: Mirror) -> str:
    """Return the page's language versions on this mirror as xhtml:link elements (hreflang),
    with x-default pointing at the first (the default language's, when there is one)."""
    if len(page.translations) < 2:
        return ""
    links = [(t.language, mirror.absolute(t.path)) for t in page.translations]
    links.append(("x-default", links[0][1]))
    return "".join(f'<xhtml:link rel="alternate" hreflang={quoteattr(lang)} href={quoteattr(url)}/>'
                   for lang, url in links)


def _urlset(entries: list[tuple[str, datetime | None, bool]]) -> bytes:
    """Return a urlset of (entry XML, last change, has language links) entries."""
    out = ['<?xml version="1.0" encoding="utf-8"?>\n',
           URLSET_XHTML if any(links for _, _, links in entries) else URLSET]
    out += [xml for xml, _, _ in entries]
    out.append("</urlset>\n")
    return "".join(out).encode("utf-8")


def robots_txt(mirror: Mirror) -> bytes:
    """Return robots.txt: crawl everything (or nothing, for a noindex mirror) and the sitemaps."""
    rule = "Allow: /" if mirror.robots else "Disallow: /"
    return (f"User-agent: *\n{rule}\n\nSitemap: {mirror.absolute('sitemap.xml')}\n"
            f"Sitemap: {mirror.absolute(NEWS_SITEMAP)}\n").encode("utf-8")


def news_sitemap(stories: tuple[Story, ...], mirror: Mirror, publication: str) -> bytes:
    """Return the Google News sitemap of `stories` on this mirror (an empty urlset when none)."""
    out = ['<?xml version="1.0" encoding="utf-8"?>\n', NEWS_URLSET]
    for story in stories:
        out.append(f"<url><loc>{escape(mirror.absolute(story.path))}</loc><news:news><news:publication>"
                   f"<news:name>{escape(publication)}</news:name>"
                   f"<news:language>{news_language(story.language)}</news:language></news:publication>"
                   f"<news:publication_date>{story.date.isoformat()}</news:publication_date>"
                   f"<news:title>{escape(story.title)}</news:title></news:news></url>\n")
    out.append("</urlset>\n")
    return "".join(out).encode("utf-8")


def news_language(tag: str) -> str:
    """Return the code Google News takes for a BCP 47 tag: the ISO 639 language (`pt-BR` → `pt`),
    except zh-cn and zh-tw, which it names the two Chinese scripts by."""
    parts = tag.lower().replace("_", "-").split("-")
    if parts[0] != "zh":
        return parts[0]
    if "hans" in parts or "hant" in parts:
        return "zh-tw" if "hant" in parts else "zh-cn"
    return "zh-tw" if any(p in ("tw", "hk", "mo") for p in parts[1:]) else "zh-cn"


def mirrors_json(config: Config, updated: datetime | None) -> bytes:
    """Return mirrors.json in the Bypass Censorship bypass-mirrors v2 format."""
    stamp = (updated or datetime(1970, 1, 1)).strftime("%Y-%m-%dT%H:%M:%S%z") if updated else ""
    alternatives = []
    for mirror in config.mirrors[1:]:
        alternatives.append({
            "proto": mirror.scheme if not mirror.is_onion else "tor",
            "type": "mirror",
            "url": mirror.url,
            "created_at": stamp,
            "updated_at": stamp,
        })
    data = {"version": "2.0", "sites": [{"main_domain": config.primary.host,
                                         "available_alternatives": alternatives}]}
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def cname(mirror: Mirror) -> bytes | None:
    """Return a GitHub Pages CNAME file for a custom domain served at the root, else None."""
    if mirror.is_onion or mirror.prefix != "/" or mirror.host.replace(".", "").isdigit():
        return None
    return (mirror.host + "\n").encode("ascii")
