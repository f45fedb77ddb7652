"""What an article page links to besides itself: related stories, and the previous and next
story of its section.

Related stories are ranked by a score: 2 for each tag the two stories share, plus 1 when they
are in the same section. The highest scores come first; equal scores go newest first, then by
site path. Only stories scoring above 0 are shown, at most RELATED_COUNT.

Comparing every story with every other is quadratic (10,000 stories: 50 million pairs), so
stories sharing a tag are found through an index from tag to stories, and only the TAG_WINDOW
stories before and after a story in each of its tags' listings are candidates: a tag on half
the site would otherwise bring half the site into every comparison. Stories of the same section
that share no tag (score 1) fill what is left, newest first."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import NamedTuple

from .views import Story

RELATED_COUNT = 4
TAG_WINDOW = 25
TAG_SCORE = 2
SECTION_SCORE = 1


@dataclass(frozen=True)
class Neighbours:
    """The stories an article page links to: related ones, and its section's previous and next."""

    related: tuple[Story, ...] = ()
    previous: Story | None = None   # the section's story published just before
    next: Story | None = None       # and just after


class StoryFacts(NamedTuple):
    """What a story's place in the rankings depends on."""

    source: str                # the content file: who the story is
    time: float                # with the path, its place in the tie order (newest first)
    path: str
    tags: tuple[str, ...]      # tag paths, each once
    section: str


@dataclass(frozen=True)
class RelatedLists:
    """Every story's related stories, as indexes into the stories, and what they were ranked
    from: each story's facts (content file, time, path, tags, section), newest first.

    A rebuild ranks again only the stories whose list can differ: those sharing a tag or the
    section with a story published, removed, moved or retagged since (its facts changed). Any
    other story has the same tag listings and section listing as before (only a changed story
    enters, leaves or moves in them) and the same order among its candidates, so its list is
    the one kept, renumbered. An edit leaves every list; a publish ranks its section and tags."""

    facts: tuple[StoryFacts, ...]
    lists: tuple[tuple[int, ...], ...]


def plan_neighbours(stories: tuple[Story, ...], known: RelatedLists | None = None
                    ) -> tuple[list[Neighbours], RelatedLists]:
    """Return the neighbours of each story, in the order of `stories` (newest first), and the
    related lists (from `known`, the last build's, where they cannot have changed)."""
    facts = tuple(StoryFacts(story.source, story.date.timestamp(), story.path,
                             tuple(dict.fromkeys(t.path for t in story.tags)),   # a tag written twice counts once
                             story.section.key) for story in stories)
    by_section: dict[str, list[int]] = defaultdict(list)
    for index, fact in enumerate(facts):
        by_section[fact.section].append(index)
    if known is not None and known.facts == facts:
        related = known
    else:
        related = RelatedLists(facts, _rank(facts, by_section, known))
    sequence = _section_sequence(stories, by_section)
    out = []
    for chosen, (before, after) in zip(related.lists, sequence):
        out.append(Neighbours(tuple(stories[i] for i in chosen),
                              stories[before] if before is not None else None,
                              stories[after] if after is not None else None))
    return out, related


def _rank(facts: tuple[StoryFacts, ...], by_section: dict[str, list[int]],
          known: RelatedLists | None) -> tuple[tuple[int, ...], ...]:
    """Return each story's related stories, best first: ranked, or kept from `known` (see RelatedLists)."""
    # plain lists for the loop below: indexing them is cheaper than a NamedTuple's attributes
    tags_of = [fact.tags for fact in facts]
    section_of = [fact.section for fact in facts]
    by_tag: dict[str, list[int]] = defaultdict(list)
    where: list[dict[str, int]] = []   # story -> {tag: its position in that tag's listing}
    for index, tags in enumerate(tags_of):
        where.append({tag: len(by_tag[tag]) for tag in tags})
        for tag in tags:
            by_tag[tag].append(index)
    kept: dict[int, tuple[int, ...]] = {}
    if known is not None:
        changed = set(known.facts) ^ set(facts)
        tags = {tag for fact in changed for tag in fact.tags}
        sections = {fact.section for fact in changed}
        before = {fact.source: number for number, fact in enumerate(known.facts)}
        now = {fact.source: index for index, fact in enumerate(facts)}
        for index, fact in enumerate(facts):
            if fact not in changed and fact.section not in sections and tags.isdisjoint(fact.tags):
                kept[index] = tuple(now[known.facts[n].source] for n in known.lists[before[fact.source]])
    return tuple(kept[index] if index in kept else
                 tuple(_related(index, section_of, tags_of, where, by_tag, by_section[section_of[index]]))
                 for index in range(len(tags_of)))


def _related(index: int, section_of: list[str], tags_of: list, where: list, by_tag: dict,
             section: list[int]) -> list[int]:
    """Return the indexes of a story's related stories, best first."""
    shared: Counter[int] = Counter()
    for tag in tags_of[index]:
        listing, at = by_tag[tag], where[index][tag]
        shared.update(listing[max(0, at - TAG_WINDOW):at + TAG_WINDOW + 1])   # counted in C
    shared.pop(index, None)
    key, count = section_of[index], len(section_of)
    # one integer per candidate orders by score, then by index (stories are in the tie order:
    # newest first, then by path): sorting integers beats sorting tuples
    ranked = sorted(-(TAG_SCORE * n + SECTION_SCORE * (section_of[o] == key)) * count + o
                    for o, n in shared.items())
    chosen = [r % count for r in ranked[:RELATED_COUNT]]
    for other in section:   # newest first, like the stories
        if len(chosen) >= RELATED_COUNT:
            break
        if other != index and other not in shared:
            chosen.append(other)
    return chosen


def _section_sequence(stories: tuple[Story, ...], by_section: dict[str, list[int]]
                      ) -> list[tuple[int | None, int | None]]:
    """Return, per story, the indexes of the previous and next story of its section (by date, then path)."""
    out: list[tuple[int | None, int | None]] = [(None, None)] * len(stories)
    for members in by_section.values():
        ordered = sorted(members, key=lambda i: (stories[i].date.timestamp(), stories[i].path))
        for position, index in enumerate(ordered):
            out[index] = (ordered[position - 1] if position else None,
                          ordered[position + 1] if position + 1 < len(ordered) else None)
    return out
