"""Editing a story in place: the plan of a site where one article changed only in what its own
page and the listings showing it display (headline, summary, body, image), made from the last
plan without planning the whole site again.

This is the live preview's usual change: an editor saving the article they are writing. An
edit that moves the article (its date, path, section, tags, bylines, schedule, aliases...)
changes which pages exist and what they list, and takes a full plan instead."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields, replace

from .articles import Article
from .plan import SitePlan, article_page
from .related import Neighbours
from .views import Page, Story

# what may change in an article without changing any page but those showing it
FREE = frozenset({"title", "summary", "body", "words", "extra", "search_words", "image", "line"})
_SHAPE = tuple(f.name for f in fields(Article) if f.name not in FREE)


def same_shape(old: Article, new: Article) -> bool:
    """Return whether `new` places its article exactly where `old` did, on every page.

    The headline may change unless redirects or translations carry it; the image may change
    but not appear or disappear (the home page's lead is the first story with one)."""
    if any(getattr(old, name) != getattr(new, name) for name in _SHAPE):
        return False
    if (old.image is None) != (new.image is None):
        return False
    return old.title == new.title or (not old.aliases and old.translation_key is None)


@dataclass(frozen=True)
class StoryIndex:
    """Where each published story appears: its number in the plan, the pages and the feeds."""

    number: dict[str, int]            # content file: position in plan.stories
    pages: dict[str, tuple[int, ...]]  # content file: indexes of the pages showing it
    feeds: dict[str, tuple[int, ...]]  # content file: indexes of the feeds listing it

    @classmethod
    def of(cls, plan: SitePlan) -> "StoryIndex":
        """Return the index of a plan."""
        pages: dict[str, list[int]] = defaultdict(list)
        for index, page in enumerate(plan.pages):
            for source in sources_shown(page):
                pages[source].append(index)
        feeds: dict[str, list[int]] = defaultdict(list)
        for index, feed in enumerate(plan.feeds):
            for story in feed.stories:
                feeds[story.source].append(index)
        return cls({s.source: i for i, s in enumerate(plan.stories)},
                   {k: tuple(v) for k, v in pages.items()}, {k: tuple(v) for k, v in feeds.items()})


def sources_shown(page: Page) -> set[str]:
    """Return the content files of every story a page shows."""
    shown = [page.article, page.lead, *page.articles, *(s for g in page.groups for s in g.articles),
             *page.related, page.previous, page.next]
    return {s.source for s in shown if s is not None}


def swap_story(plan: SitePlan, index: StoryIndex, new: Story) -> SitePlan:
    """Return the plan with the published story of `new.source` replaced by `new` on every page,
    feed and list showing it (the caller checked same_shape on their articles)."""
    number = index.number[new.source]
    old = plan.stories[number]

    def one(story: Story | None) -> Story | None:
        return new if story is old else story

    def many(stories: tuple[Story, ...]) -> tuple[Story, ...]:
        return tuple(new if s is old else s for s in stories) if any(s is old for s in stories) \
            else stories

    pages = list(plan.pages)
    editions = {e.code: e for e in plan.editions}
    for at in index.pages.get(new.source, ()):
        page = pages[at]
        near = Neighbours(many(page.related), one(page.previous), one(page.next))
        if page.article is old:
            page = article_page(new, editions[page.edition], plan.strings, page.translations, near)
        else:
            page = replace(page, article=one(page.article), lead=one(page.lead), articles=many(page.articles),
                           groups=tuple(replace(g, articles=many(g.articles)) for g in page.groups),
                           related=near.related, previous=near.previous, next=near.next)
        pages[at] = page
    feeds = list(plan.feeds)
    for at in index.feeds.get(new.source, ()):
        feeds[at] = replace(feeds[at], stories=many(feeds[at].stories))
    stories = plan.stories[:number] + (new,) + plan.stories[number + 1:]
    return replace(plan, pages=tuple(pages), feeds=tuple(feeds), stories=stories, news=many(plan.news))
