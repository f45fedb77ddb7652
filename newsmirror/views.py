"""What templates see: small frozen objects for sections, terms, authors, articles and pages."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from markupsafe import Markup

from .articles import Article, Image
from .packed import PackedText


@dataclass(frozen=True)
class Section:
    """A section of the site (politics, world, ...)."""

    key: str
    title: str
    path: str
    description: str = ""


@dataclass(frozen=True)
class Term:
    """A tag, or an entry of an index page: a name, its page and how many articles it has."""

    name: str
    path: str
    count: int = 0


@dataclass(frozen=True)
class Author:
    """A byline: display name, author page, bio."""

    key: str
    name: str
    path: str
    bio: str = ""


@dataclass(frozen=True)
class Story:
    """An article as templates see it (`article` in layouts): front matter resolved to objects."""

    title: str
    path: str
    date: datetime
    updated: datetime | None
    section: Section
    slug: str
    summary: str
    tags: tuple[Term, ...]
    authors: tuple[Author, ...]
    image: Image | None
    body: PackedText | Markup   # compressed as parsed; Markup with links resolved on the page showing it
    reading_minutes: int
    draft: bool
    scheduled: bool
    language: str
    direction: str
    layout: str
    source: str
    line: int
    aliases: tuple[str, ...]
    featured: bool
    extra: dict = field(compare=False, default_factory=dict)
    search_words: str = field(default="", compare=False, repr=False)   # the body's search terms

    @classmethod
    def of(cls, article: Article, section: Section, tags, authors, language: str, direction: str,
           scheduled: bool) -> "Story":
        """Return the template view of a parsed Article."""
        return cls(title=article.title, path=article.path, date=article.date, updated=article.updated,
                   section=section, slug=article.slug, summary=article.summary, tags=tags,
                   authors=authors, image=article.image,
                   body=article.body,
                   reading_minutes=article.reading_minutes, draft=article.draft, scheduled=scheduled,
                   language=language, direction=direction, layout=article.layout,
                   source=article.source, line=article.line, aliases=article.aliases, featured=article.featured,
                   extra=article.extra, search_words=article.search_words)


@dataclass(frozen=True)
class Crumb:
    """One step of a breadcrumb trail."""

    title: str
    path: str


@dataclass(frozen=True)
class Pagination:
    """Where a listing page stands among its pages."""

    number: int
    count: int
    prev_path: str | None
    next_path: str | None


@dataclass(frozen=True)
class Feed:
    """A feed a page advertises in its head."""

    title: str
    path: str
    type: str


@dataclass(frozen=True)
class Group:
    """A block of a page: a section's latest articles, or an archive year/month with its count."""

    title: str
    path: str
    count: int = 0
    section: Section | None = None
    articles: tuple[Story, ...] = ()


@dataclass(frozen=True)
class Translation:
    """A version of a page in one language: for hreflang links and the language switcher."""

    language: str
    name: str                 # the language's name in itself (فارسی)
    path: str
    title: str = ""


@dataclass(frozen=True)
class Edition:
    """One language edition of the site: its own home, sections and feeds under its folder."""

    code: str
    path: str                 # "" for the default language, else `fa/`
    name: str
    direction: str
    locale: str
    title: str
    tagline: str
    description: str
    sections: tuple[Section, ...]
    is_default: bool


@dataclass(frozen=True)
class Page:
    """One HTML page of the site, ready to render for any mirror."""

    kind: str
    path: str                 # site path: `politics/` or `404.html`
    template: str
    title: str
    description: str = ""
    breadcrumbs: tuple[Crumb, ...] = ()
    articles: tuple[Story, ...] = ()
    pagination: Pagination | None = None
    feeds: tuple[Feed, ...] = ()
    noindex: bool = False
    language: str = "en"
    direction: str = "ltr"
    groups: tuple[Group, ...] = ()
    lead: Story | None = None
    target: str | None = None
    terms: tuple[Term, ...] = ()
    article: Story | None = None
    section: Section | None = None
    related: tuple[Story, ...] = ()   # article pages: related stories, best first (related.py)
    previous: Story | None = None     # article pages: the section's story published before
    next: Story | None = None         # and after
    author: Author | None = None      # author listings: the profile
    source: str = ""          # the content file or layout a problem on this page is blamed on
    line: int = 0             # and the line there
    edition: str = ""         # the language edition whose interface and navigation it shows
    translations: tuple[Translation, ...] = ()   # every language version, this one included

    @property
    def output(self) -> str:
        """Return the file this page is written to, relative to the mirror's folder."""
        return self.path + "index.html" if self.path.endswith("/") or not self.path else self.path

    @property
    def in_sitemap(self) -> bool:
        """Return whether search engines should be told about this page."""
        return self.kind not in ("404", "redirect") and not self.noindex


@functools.lru_cache(maxsize=1 << 16)   # a site names the same tags and authors thousands of times
def slugify(text: str) -> str:
    """Return a URL-safe slug that keeps letters of every script (`Press freedom` → `press-freedom`)."""
    text = unicodedata.normalize("NFKC", str(text)).lower().strip()
    kept = "".join(c for c in text if c in "-_" or c.isspace()
                   or unicodedata.category(c)[0] in "LMN")
    return re.sub(r"[\s_-]+", "-", kept).strip("-")
