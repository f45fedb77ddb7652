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

A term's postings are document numbers (newest story first, delta-encoded) and, per document,
where the term occurs (a bit each for body, summary, tags/authors/section and title)."""

from __future__ import annotations

import json
from array import array
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


def search_files(stories: tuple[Story, ...], format_date: Callable) -> dict[str, bytes]:
    """Return {site path: bytes} of the search script and index for these stories (newest first)."""
    # a 10,000-article site has millions of postings: arrays of machine integers, not lists of
    # Python ints, and each shard is turned into text and let go before the next
    postings: dict[str, tuple[array, bytearray]] = {}   # term: (document numbers, where found)
    for number, story in enumerate(stories):
        # the body's words come from parsing (cached with it); a story made otherwise is read here
        words = story.search_words.split() if story.search_words else terms_of(body_text(str(story.body)))
        masks = dict.fromkeys(words, BODY)
        names = [t.name for t in story.tags] + [a.name for a in story.authors] + [story.section.title]
        for bit, text in ((SUMMARY, story.summary), (TAGS, " ".join(names)), (TITLE, story.title)):
            for term in terms_of(text):
                masks[term] = masks.get(term, 0) | bit
        for term, mask in masks.items():
            entry = postings.get(term)
            if entry is None:
                entry = postings[term] = (array("I"), bytearray())
            entry[0].append(number)   # numbers grow with the loop: each array is sorted
            entry[1].append(mask)
    key = 1 if sum(len(e[0]) for e in postings.values()) < SMALL else 2   # a small site: fewer, fuller files
    by_shard: dict[str, list[str]] = defaultdict(list)
    for term in postings:
        by_shard[shard_of(term, key)].append(term)
    files = {SCRIPT: (Path(__file__).parent / "search.js").read_bytes(),
             DATA + "meta.js": _script("meta", {"documents": len(stories), "chunk": CHUNK, "key": key,
                                                "shards": sorted(by_shard)})}
    for name in sorted(by_shard):
        terms = {}
        for term in by_shard[name]:
            numbers, found = postings.pop(term)
            terms[term] = [[numbers[0]] + [b - a for a, b in zip(numbers, numbers[1:])], list(found)]
        files[DATA + name + ".js"] = _script(name, terms)
    for start in range(0, len(stories), CHUNK):
        name = f"d-{start // CHUNK}"
        files[DATA + name + ".js"] = _script(name, [_document(s, format_date) for s in stories[start:start + CHUNK]])
    return files


def _document(story: Story, format_date: Callable) -> list:
    """Return what a result shows of a story."""
    return [story.path, story.title, story.section.title, story.date.isoformat(), format_date(story.date),
            story.summary, story.language, story.direction]


def _script(name: str, data) -> bytes:
    """Return a data file: a call of the registration function search.js defines."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return f"newsmirrorSearch({json.dumps(name)},{text});\n".encode("utf-8")
