"""Planning: from checked articles and the config to every page of the site, mirror-independent."""

from __future__ import annotations

import posixpath
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Iterable

from .articles import Article, SectionPage
from .config import Config, LanguageInfo, direction_of
from .errors import Problem
from .i18n import Strings, language_name, month_label
from .related import Neighbours, RelatedLists, plan_neighbours
from .search import FOLDER as SEARCH_PATH
from .views import (Author, Crumb, Edition, Feed, Group, Page, Pagination, Section, Story, Term, Translation,
                    slugify)

HOME_LATEST = 12
HOME_PER_SECTION = 4
HOME_CRUMB = "News"
SEARCH_LAYOUT = "search.html"   # the search page and its index are built when the layouts have it
NEWS_WINDOW = timedelta(days=2)   # Google News reads articles published in the last two days
NEWS_LIMIT = 1000                 # and at most 1,000 per news sitemap


@dataclass(frozen=True)
class BuildOptions:
    """What this run was asked to include, and the clock it judges schedules by."""

    now: datetime
    drafts: bool = False
    future: bool = False


@dataclass(frozen=True)
class FeedPlan:
    """A feed to write: its paths and the articles it lists."""

    title: str
    rss_path: str
    atom_path: str
    page_path: str
    stories: tuple[Story, ...]
    language: str = ""        # the feed's language (the site's if empty)
    description: str = ""


@dataclass(frozen=True)
class SitePlan:
    """Every page and feed of the site, and the published stories, newest first."""

    pages: tuple[Page, ...]
    feeds: tuple[FeedPlan, ...]
    stories: tuple[Story, ...]
    sections: tuple[Section, ...]
    refs: dict
    problems: tuple[Problem, ...]
    news: tuple[Story, ...] = ()   # the news sitemap's articles: published in the NEWS_WINDOW
    editions: tuple[Edition, ...] = ()
    strings: Strings | None = None
    related: RelatedLists | None = None   # what the related stories were ranked from, for the next build


def is_published(article: Article, options: BuildOptions, config: Config) -> bool:
    """Return whether an article goes into this build (drafts, schedule, expiry)."""
    if article.draft and not options.drafts:
        return False
    if article.date > options.now and not options.future:
        return False
    if article.expires is not None and article.expires <= options.now and config.expired == "remove":
        return False
    return True


def plan_site(config: Config, items: Iterable[Article | SectionPage], options: BuildOptions,
              strings: Strings | None = None, related: RelatedLists | None = None) -> SitePlan:
    """Return the site plan: every page, with duplicate output paths reported as problems.

    `related` is the last build's plan.related, used again where the ranking cannot have
    changed (see related.py)."""
    items = list(items)
    strings = strings or Strings(config.languages[0].code)
    section_pages = {i.section: i for i in items if isinstance(i, SectionPage)}
    articles = sorted((i for i in items if isinstance(i, Article) and is_published(i, options, config)),
                      key=lambda a: (-a.date.timestamp(), a.path, a.source))
    codes: dict[str | None, str] = {}   # article language -> edition code (config.language is a search)

    def edition_code(article: Article) -> str:
        if article.language not in codes:
            codes[article.language] = config.language(article.language).code
        return codes[article.language]

    by_edition: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        by_edition[edition_code(article)].append(article)
    editions = tuple(_edition(config, lang, by_edition[lang.code], section_pages) for lang in config.languages)
    edition_of = {e.code: e for e in editions}
    authors = {a.key: a for a in config.authors}
    sections_of = {e.code: {s.key: s for s in e.sections} for e in editions}
    terms: dict[str, Term] = {}   # one Term per tag for every story that names it
    story_of = {id(a): _story(a, config, sections_of[edition_code(a)][a.section], authors,
                              options, terms) for a in articles}
    stories = tuple(story_of[id(a)] for a in articles)
    translations, problems = _translations(articles, stories, editions)
    pages: list[Page] = []
    feeds: list[FeedPlan] = []
    default = editions[0]
    common = dict(language=default.code, direction=default.direction, edition=default.code)
    home = Crumb(_crumb(strings, default), default.path)

    neighbours, related = plan_neighbours(stories, related)
    shared: dict = {}
    for article, story, near in zip(articles, stories, neighbours):
        edition = edition_of[edition_code(article)]
        pages.append(article_page(story, edition, strings, translations.get(id(story), ()), near, shared))
    for edition in editions:
        listed = tuple(story_of[id(a)] for a in by_edition[edition.code])
        pages += _edition_pages(config, edition, editions, listed, feeds, strings)
    tr = strings.translator(default.code, default.locale)   # the shared pages speak the default language
    pages += _term_pages("tag", "tags/", tr("Tags"), [(t, s) for s in stories for t in s.tags],
                         home, config, common)
    pages += _term_pages("author", "authors/", tr("Authors"), [(a, s) for s in stories for a in s.authors],
                         home, config, common)
    pages += _archive_pages(stories, home, config, common, tr("Archive"))
    pages.append(Page("404", "404.html", "404.html", tr("Page not found"), noindex=True, **common))
    if (config.layouts_dir / SEARCH_LAYOUT).is_file():
        # results pages are for readers, not search engines: noindex keeps it out of the sitemap
        pages.append(Page("search", SEARCH_PATH, SEARCH_LAYOUT, tr("Search"),
                          f"Search every article of {config.site.title}.",
                          (home, Crumb(tr("Search"), SEARCH_PATH)), noindex=True, **common))
    for item in [*(section_pages.values()), *articles]:
        target = item.path if isinstance(item, Article) else (
            sections_of[default.code][item.section].path if item.section in sections_of[default.code] else "")
        for alias, line in zip(item.aliases, item.alias_lines):
            pages.append(Page("redirect", alias, "redirect.html", item.title or config.site.title,
                              target=target, noindex=True, source=item.source, line=line, **common))
    problems += _duplicate_paths(pages)
    refs, ref_problems = _resolve_refs(items, articles)
    return SitePlan(tuple(pages), tuple(feeds), stories, default.sections, refs,
                    tuple(problems + ref_problems), news=recent_news(stories, options.now),
                    editions=editions, strings=strings, related=related)


def article_page(story: Story, edition: Edition, strings: Strings, translations: tuple[Translation, ...],
                 near: Neighbours, shared: dict | None = None) -> Page:
    """Return the page of one story. `shared` keeps the parts every page of an edition or a
    section has alike, made once for all of them (a dict the caller keeps for one plan)."""
    shared = {} if shared is None else shared
    home = shared.get(edition.code)
    if home is None:
        home = shared[edition.code] = (Crumb(_crumb(strings, edition), edition.path), _site_feeds(edition))
    section = shared.get((edition.code, story.section.path))
    if section is None:
        section = shared[(edition.code, story.section.path)] = Crumb(story.section.title, story.section.path)
    crumbs = (home[0], section, Crumb(story.title, story.path))
    return Page("article", story.path, story.layout + ".html", story.title, story.summary,
                crumbs, feeds=home[1], language=story.language,
                direction=story.direction, article=story, section=story.section,
                source=story.source, line=story.line, edition=edition.code, translations=translations,
                related=near.related, previous=near.previous, next=near.next)


def story_for(article: Article, config: Config, plan: SitePlan, options: BuildOptions) -> Story | None:
    """Return the story plan_site would make of a published article whose section and
    edition the plan has, else None."""
    code = config.language(article.language).code
    edition = next((e for e in plan.editions if e.code == code), None)
    section = next((s for s in edition.sections if s.key == article.section), None) if edition else None
    if section is None:
        return None
    return _story(article, config, section, {a.key: a for a in config.authors}, options)


def recent_news(stories: tuple[Story, ...], now: datetime) -> tuple[Story, ...]:
    """Return the newest published stories dated in the two days up to `now` (drafts and
    scheduled stories a preview shows are not news yet)."""
    since = now - NEWS_WINDOW
    recent = (s for s in stories if since <= s.date <= now and not s.draft and not s.scheduled)
    return tuple(recent)[:NEWS_LIMIT]


def _crumb(strings: Strings, edition: Edition) -> str:
    """Return the home crumb's title in the edition's language."""
    return strings.translator(edition.code, edition.locale)(HOME_CRUMB)


def _site_feeds(edition: Edition) -> tuple[Feed, Feed]:
    """Return the feeds of an edition's home, as its pages advertise them."""
    return (Feed(f"{edition.title} (RSS)", edition.path + "feed.xml", "application/rss+xml"),
            Feed(f"{edition.title} (Atom)", edition.path + "atom.xml", "application/atom+xml"))


def _edition_pages(config: Config, edition: Edition, editions: tuple[Edition, ...], stories: tuple[Story, ...],
                   feeds: list[FeedPlan], strings: Strings) -> list[Page]:
    """Return an edition's home and section pages, and add its feeds to `feeds`."""
    common = dict(language=edition.code, direction=edition.direction, edition=edition.code)
    many = len(editions) > 1
    feeds.append(FeedPlan(edition.title, edition.path + "feed.xml", edition.path + "atom.xml", edition.path,
                          stories[:config.feed_size], edition.code, edition.description))
    homes = tuple(Translation(e.code, e.name, e.path, e.title) for e in editions) if many else ()
    pages = [_home(edition, stories, _site_feeds(edition), _crumb(strings, edition), homes, common)]
    home = Crumb(_crumb(strings, edition), edition.path)
    for section in edition.sections:
        listed = tuple(s for s in stories if s.section.key == section.key)
        sfeeds = (Feed(f"{section.title} (RSS)", section.path + "feed.xml", "application/rss+xml"),
                  Feed(f"{section.title} (Atom)", section.path + "atom.xml", "application/atom+xml"))
        feeds.append(FeedPlan(f"{edition.title}: {section.title}", section.path + "feed.xml",
                              section.path + "atom.xml", section.path, listed[:config.feed_size],
                              edition.code, edition.description))
        others = tuple(Translation(e.code, e.name, s.path, s.title) for e in editions
                       for s in e.sections if s.key == section.key)
        listing = _paginate("section", section.path, section.title, section.description, listed,
                            (home, Crumb(section.title, section.path)), config.page_size,
                            feeds=sfeeds, section=section, **common)
        pages += [replace(listing[0], translations=others if len(others) > 1 else ()), *listing[1:]]
    return pages


def _edition(config: Config, lang: LanguageInfo, articles: list[Article], section_pages: dict) -> Edition:
    """Return a language edition with its sections: for the default language every configured
    section, for another those it translates or has articles in; then any others its articles use."""
    translated = {s.key: s for s in lang.sections}
    used = {a.section for a in articles}
    out = []
    for info in config.sections:
        if not lang.is_default and info.key not in translated and info.key not in used:
            continue
        own = translated.get(info.key)
        page = section_pages.get(info.key) if lang.is_default else None
        description = (own.description if own and own.description else "") or info.description or (
            page.description if page and page.description else "")
        out.append(Section(info.key, own.title if own else info.title, lang.path + info.key + "/", description))
    known = {s.key for s in out}
    for key in sorted(used - known):
        page = section_pages.get(key)
        title = page.title if page and page.title else key.replace("-", " ").replace("_", " ").title()
        out.append(Section(key, title, lang.path + key + "/", page.description or "" if page else ""))
    return Edition(lang.code, lang.path, language_name(lang.code), lang.direction, lang.locale, lang.title,
                   lang.tagline, lang.description, tuple(out), lang.is_default)


def _translations(articles: list[Article], stories: tuple[Story, ...],
                  editions: tuple[Edition, ...]) -> tuple[dict, list[Problem]]:
    """Return {id(story): every version, itself included} for stories whose articles share a
    translation_key, and a warning for a key used twice in one language."""
    order = {e.code: i for i, e in enumerate(editions)}
    groups: dict[str, list[Story]] = defaultdict(list)
    problems = []
    for article, story in zip(articles, stories):
        key = article.translation_key
        if key is None:
            continue
        clash = next((s for s in groups[key] if s.language == story.language), None)
        if clash is not None:
            problems.append(Problem(story.source, story.line, f"translation_key '{key}' is already used by "
                                                              f"{clash.source} in the same language "
                                                              f"({story.language}); this one is not linked "
                                                              "as its translation", warning=True))
            continue
        groups[key].append(story)
    out = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort(key=lambda s: (order.get(s.language, len(order)), s.language))
        versions = tuple(Translation(s.language, language_name(s.language), s.path, s.title) for s in members)
        out.update((id(s), versions) for s in members)
    return out, problems


def _story(article: Article, config: Config, section: Section, authors: dict,
           options: BuildOptions, terms: dict | None = None) -> Story:
    """Return the template view of an article, with tags and bylines resolved (`terms` keeps
    the Term made for each tag, to be shared)."""
    terms = {} if terms is None else terms
    tags = []
    for name in article.tags:
        term = terms.get(name)
        if term is None:
            term = terms[name] = Term(name, f"tags/{slugify(name) or 'tag'}/")
        tags.append(term)
    tags = tuple(tags)
    bylines = []
    for name in article.authors:
        profile = authors.get(name) or authors.get(slugify(name))
        if profile:
            bylines.append(Author(profile.key, profile.name, f"authors/{slugify(profile.key)}/", profile.bio))
        else:
            looks_like_slug = name == name.lower() and " " not in name and "-" in name
            shown = name.replace("-", " ").title() if looks_like_slug else name
            bylines.append(Author(slugify(name), shown, f"authors/{slugify(name) or 'author'}/"))
    language = article.language or config.site.language
    direction = direction_of(language) if article.language else config.site.direction
    return Story.of(article, section, tags, tuple(bylines), language, direction,
                    scheduled=article.date > options.now)


def _home(edition: Edition, stories: tuple[Story, ...], feeds, crumb: str, homes, common) -> Page:
    """Return an edition's home page: a lead story, the latest, and a block per section."""
    lead = next((s for s in stories if s.featured), None) or next(
        (s for s in stories if s.image), None) or (stories[0] if stories else None)
    latest = tuple(s for s in stories if s is not lead)[:HOME_LATEST]
    groups = tuple(Group(sec.title, sec.path, section=sec,
                         articles=tuple(s for s in stories if s.section.key == sec.key)[:HOME_PER_SECTION])
                   for sec in edition.sections)
    return Page("home", edition.path, "home.html", edition.title, edition.description,
                (Crumb(crumb, edition.path),), latest, feeds=feeds, groups=groups, lead=lead,
                translations=homes, **common)


def _paginate(kind: str, path: str, title: str, description: str, stories: tuple[Story, ...],
              crumbs: tuple[Crumb, ...], size: int, **extra) -> list[Page]:
    """Return the pages of a paginated listing: `path`, then `path`page/2/ and so on."""
    chunks = [stories[i:i + size] for i in range(0, len(stories), size)] or [()]
    paths = [path] + [f"{path}page/{n}/" for n in range(2, len(chunks) + 1)]
    pages = []
    for index, chunk in enumerate(chunks):
        pagination = Pagination(index + 1, len(chunks), paths[index - 1] if index else None,
                                paths[index + 1] if index + 1 < len(chunks) else None)
        shown = title if index == 0 else f"{title} (page {index + 1})"
        trail = crumbs if index == 0 else crumbs[:-1] + (Crumb(crumbs[-1].title, path), Crumb(shown, paths[index]))
        pages.append(Page(kind, paths[index], "list.html", shown, description, trail, chunk, pagination,
                          **extra))
    return pages


def _term_pages(kind: str, root: str, title: str, pairs: list, home: Crumb, config: Config,
                common: dict) -> list[Page]:
    """Return one paginated listing per tag (or author), and their index page."""
    grouped: dict[str, list] = defaultdict(list)
    seen: set[tuple[str, int]] = set()
    names: dict[str, object] = {}
    for term, story in pairs:
        names.setdefault(term.path, term)
        if (term.path, id(story)) not in seen:   # a story lists a tag once, however often it is written
            seen.add((term.path, id(story)))
            grouped[term.path].append(story)
    pages = []
    index_terms = []
    for path in sorted(grouped, key=lambda p: (names[p].name.lower(), p)):
        term = names[path]
        listed = tuple(grouped[path])
        description = getattr(term, "bio", "") or ""
        profile = {"author": term} if isinstance(term, Author) else {}
        pages += _paginate(kind, path, term.name, description, listed,
                           (home, Crumb(title, root), Crumb(term.name, path)), config.page_size,
                           **profile, **common)
        index_terms.append(Term(term.name, path, len(listed)))
    pages.append(Page(kind + "s", root, "list.html", title, "", (home, Crumb(title, root)),
                      terms=tuple(index_terms), **common))
    return pages


def _archive_pages(stories: tuple[Story, ...], home: Crumb, config: Config, common: dict,
                   title: str) -> list[Page]:
    """Return the archive index, a page per year and a page per month (paginated)."""
    zone = config.zone
    years: dict[str, list] = defaultdict(list)
    months: dict[tuple, list] = defaultdict(list)
    for story in stories:
        local = story.date.astimezone(zone)
        years[f"{local.year:04d}"].append(story)
        months[(f"{local.year:04d}", f"{local.month:02d}")].append(story)
    root = Crumb(title, "archive/")
    pages, groups = [], []
    for year in sorted(years, reverse=True):
        ypath = f"archive/{year}/"
        groups.append(Group(year, ypath, len(years[year])))
        pages += _paginate("year", ypath, year, "", tuple(years[year]), (home, root, Crumb(year, ypath)),
                           config.page_size, **common)
        for (y, m) in sorted((k for k in months if k[0] == year), reverse=True):
            mpath = f"archive/{y}/{m}/"
            label = month_label(months[(y, m)][0].date.astimezone(zone), config.site.locale)
            groups.append(Group(label, mpath, len(months[(y, m)])))
            pages += _paginate("month", mpath, label, "", tuple(months[(y, m)]),
                               (home, root, Crumb(y, ypath), Crumb(label, mpath)), config.page_size, **common)
    pages.append(Page("archive", "archive/", "list.html", title, "", (home, root),
                      groups=tuple(groups), **common))
    return pages


def _duplicate_paths(pages: list[Page]) -> list[Problem]:
    """Return a problem for every output file that two pages would write."""
    owners: dict[str, Page] = {}
    problems = []
    for page in pages:
        key = posixpath.normpath(page.output)
        first = owners.setdefault(key, page)
        if first is not page:
            blamed = page.source or first.source
            other = first.source or f"the {first.kind} page"
            line = page.line if page.source else first.line
            problems.append(Problem(blamed, line, f"writes {page.output}, which {other} writes too; "
                                               "change the slug, date or alias of one of them"))
    return problems


def _resolve_refs(items: list, published: list[Article]) -> tuple[dict, list[Problem]]:
    """Return {target: site path} for every link to a content file in published bodies
    ({{< ref >}} and relative `.md` links), and a warning per target that names no article."""
    index: dict[str, str] = {}
    for item in items:
        if isinstance(item, Article):
            for key in _ref_keys(item.name):
                index.setdefault(key, item.path)
    refs: dict[str, str | None] = {}
    missing: dict[str, list] = {}
    for article in published:
        for use in article.refs:
            path = next((index[k] for k in _ref_keys(use.target.partition("#")[0]) if k in index), None)
            refs[use.target] = path
            if path is None:
                missing.setdefault(use.target, []).append((article.source, use))
    problems = []
    for target, found in missing.items():
        source, use = found[0]
        files = len({s for s, _ in found})
        if use.written:
            what = (f"link ({use.written}) names no article"
                    + (f" (no content/{target.lstrip('/').partition('#')[0]})" if target.startswith("/") else ""))
        else:
            what = f"{{{{< ref \"{target}\" >}}}} names no article"
        problems.append(Problem(source, use.line, f"{what} (in {files} file(s)); the link points nowhere "
                                                  "until the target exists", warning=True))
    return refs, problems


def _ref_keys(name: str) -> list[str]:
    """Return the spellings a ref target can match an article by: a path from content/ (with or
    without .md), or, unless it starts with / (a path from content/ only, as in Hugo), its file name."""
    absolute = name.strip().startswith("/")
    clean = name.strip().strip("/")
    parts = clean.split("/")
    if parts and parts[0] == "content":
        parts = parts[1:]
    joined = "/".join(parts)
    stem = joined[:-3] if joined.endswith(".md") else joined
    return [stem] if absolute else [stem, stem.rsplit("/", 1)[-1]]
