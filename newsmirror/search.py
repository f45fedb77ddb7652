"""The site search: a prebuilt index that search/search.js reads in the browser, with no server.

The index is written as JavaScript files that call `newsmirrorSearch(name, data)`, loaded
through <script> tags: a page opened from disk (file://) may not fetch() JSON in Chromium, but
it may load scripts. Every path in it is a site path, so the same bytes serve every mirror; the
script resolves them against its own address. One query loads the small `meta.js`, the term
shards of its words and the document chunks of the results it shows, never the whole index:

    search/data/meta.js         shard names, key length, the number of documents, the chunk size
    search/data/t-<hex>.js      every term starting with the same one or two characters (the hex of
                                their UTF-8): one on a small site, two on a large one
    search/data/d-<n>.js        documents n*CHUNK ... : path, title, section, date, summary, language

A term's postings are document numbers (oldest story first, so a new story takes the next
number; delta-encoded) and, per document, where the term occurs (a bit each for body, summary,
tags/authors/section and title)."""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left
from collections import defaultdict
from pathlib import Path
from typing import Callable

from .views import Story
from .words import body_text, terms_of

FOLDER = "search/"
DATA = FOLDER + "data/"
SCRIPT = FOLDER + "search.js"
CHUNK = 50             # documents per d-<n>.js: one screen of results loads a few small files
SMALL = 50_000         # postings below which one character of a term chooses its shard, else two
BODY, SUMMARY, TAGS, TITLE = 1, 2, 4, 8

def shard_of(term: str, key: int) -> str:
    """Return the name of the file holding a term: the hex of its first `key` characters' UTF-8
    (a safe file name in any script)."""
    return "t-" + term[:key].encode("utf-8").hex()


class SearchIndex:
    """The postings of every term, kept so that a later change rewrites only the files holding
    the terms whose postings changed: a story edited in place (replace), or a new story, newer
    than every other (append: a newsroom's usual publish).

    Documents are numbered oldest first, so publishing a story gives it the next number and
    leaves every other number, and so every other posting list and document chunk, as it was."""

    def __init__(self, stories: tuple[Story, ...], format_date: Callable):
        """Index `stories` (newest first, as the plan has them)."""
        self.docs, self.format_date = tuple(reversed(stories)), format_date
        # a 10,000-article site has millions of postings: arrays of machine integers, not lists
        # of Python ints
        self.postings: dict[str, tuple[array, bytearray]] = {}   # term: (document numbers, where found)
        for number, story in enumerate(self.docs):
            for term, mask in _masks(story).items():
                entry = self.postings.get(term)
                if entry is None:
                    entry = self.postings[term] = (array("I"), bytearray())
                entry[0].append(number)   # numbers grow with the loop: each array is sorted
                entry[1].append(mask)
        self.count = sum(len(e[0]) for e in self.postings.values())
        self.key = _key(self.count)
        self.by_shard: dict[str, list[str]] | None = None

    @classmethod
    def restore(cls, docs: tuple[Story, ...], format_date: Callable,
                postings: dict[str, tuple[array, bytearray]]) -> "SearchIndex":
        """Return an index from postings an earlier build kept and this build's stories for
        those document numbers (oldest first); replace(..., scan=True) then updates the
        stories that differ, and append adds the newer ones."""
        index = cls.__new__(cls)
        index.docs, index.format_date, index.postings = docs, format_date, postings
        index.count = sum(len(e[0]) for e in postings.values())
        index.key = _key(index.count)
        index.by_shard = None
        return index

    def number(self, position: int) -> int:
        """Return the document number of the story at `position` of the plan's stories (newest first)."""
        return len(self.docs) - 1 - position

    def names(self) -> list[str]:
        """Return the site path of every file of the index."""
        return [SCRIPT, DATA + "meta.js"] + [DATA + name + ".js" for name in sorted(self._shards())] \
            + [self._chunk_path(start) for start in range(0, len(self.docs), CHUNK)]

    def file(self, rel: str) -> bytes:
        """Return the bytes of one file of the index (a path names() returns)."""
        if rel == SCRIPT:
            return (Path(__file__).parent / "search.js").read_bytes()
        name = rel[len(DATA):-len(".js")]
        if name == "meta":
            return self._meta(self._shards())
        if name.startswith("d-"):
            return self._chunk(int(name[2:]) * CHUNK)
        return self._shard(name, self._shards()[name])

    def files(self, consume: bool = False) -> dict[str, bytes]:
        """Return {site path: bytes} of the script and the whole index; with `consume`, each
        shard's postings are let go once written (the index is used up)."""
        by_shard = self._shards()
        files = {SCRIPT: (Path(__file__).parent / "search.js").read_bytes(), DATA + "meta.js": self._meta(by_shard)}
        for name in sorted(by_shard):
            files[DATA + name + ".js"] = self._shard(name, by_shard[name], consume)
        for start in range(0, len(self.docs), CHUNK):
            files[self._chunk_path(start)] = self._chunk(start)
        return files

    @classmethod
    def renumbered(cls, docs: tuple[Story, ...], format_date: Callable, postings: dict[str, tuple[array, bytearray]],
                   moved_to: list[int], changed: list[int]) -> "SearchIndex":
        """Return the index of `docs` (oldest first) from postings an earlier build kept, whose
        document n is document moved_to[n] of `docs` (-1: gone; the kept ones in the same
        order), and `changed` the documents of `docs` that are new or whose story changed.

        A story added to the archive moves every later number up by one, so nearly every shard
        changes; but the others' postings are moved, not made again from their words (indexing
        10,000 stories took 1.3 s)."""
        fresh: dict[str, tuple[array, bytearray]] = {}
        gone = min(moved_to, default=0) < 0
        for term, (old, found) in postings.items():
            if not gone:
                fresh[term] = (array("I", [moved_to[n] for n in old]), found)
                continue
            kept = [i for i, n in enumerate(old) if moved_to[n] >= 0]
            if kept:
                fresh[term] = (array("I", [moved_to[old[i]] for i in kept]), bytearray(found[i] for i in kept))
        index = cls.restore(docs, format_date, fresh)
        kept = set(moved_to)   # a new story's number holds no postings: no scan of them for it
        for number in changed:
            index._apply(number, index._held(number) if number in kept else {}, _masks(docs[number]))
        index.key = _key(index.count)
        return index

    def _held(self, number: int) -> dict[str, int]:
        """Return {term: where it occurs} of document `number` as the postings have it."""
        held = {}
        for term, (numbers, found) in self.postings.items():
            at = bisect_left(numbers, number)
            if at < len(numbers) and numbers[at] == number:
                held[term] = found[at]
        return held

    def replace(self, number: int, story: Story, scan: bool = False) -> dict[str, bytes | None] | None:
        """Put `story` in place of document `number`; return the files that changed (None for
        a file no longer there), or None when the index must be made again (it is then
        unusable). With `scan`, what the document held is read from the postings (a restored
        index has no old story), else from the story it replaces."""
        if scan:
            before = self._held(number)
        else:
            before = _masks(self.docs[number])
        self.docs = self.docs[:number] + (story,) + self.docs[number + 1:]
        after = _masks(story)
        return self._update(number, before, after, meta=False)

    def append(self, story: Story) -> dict[str, bytes | None] | None:
        """Add `story` as the newest document; return the files that changed, or None as replace."""
        number = len(self.docs)
        self.docs += (story,)
        return self._update(number, {}, _masks(story), meta=True)

    def _update(self, number: int, before: dict[str, int], after: dict[str, int],
                meta: bool) -> dict[str, bytes | None] | None:
        """Change document `number`'s postings from `before` to `after`; return the files that changed."""
        shards_before = set(self._shards())
        touched = self._apply(number, before, after)
        if _key(self.count) != self.key:   # the site crossed SMALL: every shard has a new name
            self.key = _key(self.count)
            return None
        by_shard = self._shards()
        files: dict[str, bytes | None] = {
            DATA + name + ".js": self._shard(name, by_shard[name]) if name in by_shard else None
            for name in sorted({shard_of(t, self.key) for t in touched})}
        if meta or set(by_shard) != shards_before:   # the count of documents, or the list of shards
            files[DATA + "meta.js"] = self._meta(by_shard)
        start = number - number % CHUNK
        files[self._chunk_path(start)] = self._chunk(start)
        return files

    def _apply(self, number: int, before: dict[str, int], after: dict[str, int]) -> list[str]:
        """Change document `number`'s postings from `before` to `after`; return the terms touched."""
        touched = [t for t in before.keys() | after.keys() if before.get(t) != after.get(t)]
        self.by_shard = None
        for term in touched:
            numbers, found = self.postings.setdefault(term, (array("I"), bytearray()))
            at = bisect_left(numbers, number)
            present = at < len(numbers) and numbers[at] == number
            if term in after and present:
                found[at] = after[term]
            elif term in after:
                numbers.insert(at, number)
                found.insert(at, after[term])
                self.count += 1
            elif present:
                del numbers[at]
                del found[at]
                self.count -= 1
                if not numbers:
                    del self.postings[term]
        return touched

    def _shards(self) -> dict[str, list[str]]:
        """Return {shard name: its terms} (kept until the postings change)."""
        if self.by_shard is None:
            self.by_shard = defaultdict(list)
            for term in self.postings:
                self.by_shard[shard_of(term, self.key)].append(term)
        return self.by_shard

    def _meta(self, by_shard: dict[str, list[str]]) -> bytes:
        return _script("meta", {"documents": len(self.docs), "chunk": CHUNK, "key": self.key,
                                "shards": sorted(by_shard)})

    def _shard(self, name: str, terms: list[str], consume: bool = False) -> bytes:
        out = {}
        for term in terms:
            numbers, found = self.postings.pop(term) if consume else self.postings[term]
            out[term] = [[numbers[0]] + [b - a for a, b in zip(numbers, numbers[1:])], list(found)]
        return _script(name, out)

    @staticmethod
    def _chunk_path(start: int) -> str:
        return f"{DATA}d-{start // CHUNK}.js"

    def _chunk(self, start: int) -> bytes:
        return _script(f"d-{start // CHUNK}",
                       [_document(s, self.format_date) for s in self.docs[start:start + CHUNK]])


def renumbering(before: list[tuple[str, str]], after: list[tuple[str, str]]
                ) -> tuple[list[int], list[int]] | None:
    """Given the (content file, key) of each document of an index (oldest first) and of the
    stories it is to hold now, return what SearchIndex.renumbered takes: the new number of each
    old document (-1: gone), and the new documents that are new or whose key changed; None when
    a kept story moved among the others (its date changed), which renumbering cannot follow."""
    position = {source: number for number, (source, _) in enumerate(after)}
    moved_to = [position.get(source, -1) for source, _ in before]
    kept = [n for n in moved_to if n >= 0]
    if any(later <= earlier for earlier, later in zip(kept, kept[1:])):
        return None
    was = dict(before)
    return moved_to, [number for number, (source, key) in enumerate(after) if was.get(source) != key]


def _masks(story: Story) -> dict[str, int]:
    """Return {term: where it occurs} for one story."""
    # the body's words come from parsing (cached with it); a story made otherwise is read here
    words = str(story.search_words).split() if story.search_words else terms_of(body_text(str(story.body)))
    masks = dict.fromkeys(words, BODY)
    names = [t.name for t in story.tags] + [a.name for a in story.authors] + [story.section.title]
    for bit, text in ((SUMMARY, story.summary), (TAGS, " ".join(names)), (TITLE, story.title)):
        for term in terms_of(text):
            masks[term] = masks.get(term, 0) | bit
    return masks


def _key(postings: int) -> int:
    """Return how many characters of a term choose its shard: a small site gets fewer, fuller files."""
    return 1 if postings < SMALL else 2


def _document(story: Story, format_date: Callable) -> list:
    """Return what a result shows of a story."""
    return [story.path, story.title, story.section.title, story.date.isoformat(), format_date(story.date),
            story.summary, story.language, story.direction]


def _script(name: str, data) -> bytes:
    """Return a data file: a call of the registration function search.js defines."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return f"newsmirrorSearch({json.dumps(name)},{text});\n".encode("utf-8")
