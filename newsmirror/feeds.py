"""RSS 2.0 and Atom feeds, with every URL absolute on the mirror being built."""

from __future__ import annotations

from datetime import datetime, timezone
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from .assets import Assets
from .config import Config
from .links import resolve_tokens
from .mirrors import Mirror
from .plan import FeedPlan
from .views import Story


def _body(story: Story, mirror: Mirror, refs: dict, assets: Assets) -> str:
    """Return the article body with every internal link made absolute on `mirror`."""
    absolute = lambda path: mirror.absolute(assets.path(path))  # noqa: E731
    return resolve_tokens(str(story.body), absolute, absolute, lambda target: refs.get(target))


def _description(feed: FeedPlan, config: Config) -> str:
    """Return what the feed says about itself: its edition's description, else the site's."""
    return feed.description or config.site.description


def _newest(feed: FeedPlan) -> datetime:
    dates = [s.updated or s.date for s in feed.stories]
    return max(dates) if dates else datetime(1970, 1, 1, tzinfo=timezone.utc)


def rss_feed(feed: FeedPlan, mirror: Mirror, config: Config, refs: dict, assets: Assets = Assets(())) -> bytes:
    """Return the feed as RSS 2.0."""
    out = ['<?xml version="1.0" encoding="utf-8"?>\n'
           '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" '
           'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/">\n<channel>\n',
           f"<title>{escape(feed.title)}</title>\n",
           f"<link>{escape(mirror.absolute(feed.page_path))}</link>\n",
           f"<description>{escape(_description(feed, config) or config.site.title)}</description>\n",
           f"<language>{escape(feed.language or config.site.language)}</language>\n",
           f"<lastBuildDate>{format_datetime(_newest(feed))}</lastBuildDate>\n",
           f'<atom:link href={quoteattr(mirror.absolute(feed.rss_path))} rel="self" '
           f'type="application/rss+xml"/>\n']
    for story in feed.stories:
        url = escape(mirror.absolute(story.path))
        out.append(f"<item>\n<title>{escape(story.title)}</title>\n<link>{url}</link>\n"
                   f'<guid isPermaLink="true">{url}</guid>\n'
                   f"<pubDate>{format_datetime(story.date)}</pubDate>\n"
                   f"<description>{escape(story.summary)}</description>\n")
        out += [f"<dc:creator>{escape(a.name)}</dc:creator>\n" for a in story.authors]
        out.append(f"<category>{escape(story.section.title)}</category>\n")
        out += [f"<category>{escape(t.name)}</category>\n" for t in story.tags]
        out.append(f"<content:encoded>{escape(_body(story, mirror, refs, assets))}</content:encoded>\n</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out).encode("utf-8")


def atom_feed(feed: FeedPlan, mirror: Mirror, config: Config, refs: dict, assets: Assets = Assets(())) -> bytes:
    """Return the feed as Atom 1.0."""
    home = mirror.absolute(feed.page_path)
    out = ['<?xml version="1.0" encoding="utf-8"?>\n',
           f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang={quoteattr(feed.language or config.site.language)}>\n',
           f"<title>{escape(feed.title)}</title>\n"]
    if _description(feed, config):
        out.append(f"<subtitle>{escape(_description(feed, config))}</subtitle>\n")
    out += [f'<link rel="alternate" type="text/html" href={quoteattr(home)}/>\n',
            f'<link rel="self" type="application/atom+xml" href={quoteattr(mirror.absolute(feed.atom_path))}/>\n',
            f"<id>{escape(home)}</id>\n<updated>{_newest(feed).isoformat()}</updated>\n",
            f"<author><name>{escape(config.site.title)}</name></author>\n"]
    for story in feed.stories:
        url = mirror.absolute(story.path)
        out.append(f"<entry>\n<title>{escape(story.title)}</title>\n"
                   f'<link rel="alternate" type="text/html" href={quoteattr(url)}/>\n'
                   f"<id>{escape(url)}</id>\n<published>{story.date.isoformat()}</published>\n"
                   f"<updated>{(story.updated or story.date).isoformat()}</updated>\n")
        out += [f"<author><name>{escape(a.name)}</name></author>\n" for a in story.authors]
        out.append(f'<category term={quoteattr(story.section.title)}/>\n')
        out += [f"<category term={quoteattr(t.name)}/>\n" for t in story.tags]
        out.append(f"<summary>{escape(story.summary)}</summary>\n"
                   f'<content type="html">{escape(_body(story, mirror, refs, assets))}</content>\n</entry>\n')
    out.append("</feed>\n")
    return "".join(out).encode("utf-8")
