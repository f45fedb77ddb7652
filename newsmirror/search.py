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

import html
import json
import re
import unicodedata
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from .links import resolve_tokens
from .views import Story

FOLDER = "search/"
DATA = FOLDER + "data/"
SCRIPT = FOLDER + "search.js"
CHUNK = 50             # documents per d-<n>.js: one screen of results loads a few small files
SMALL = 50_000         # postings below which one character of a term chooses its shard, else two
MAX_TERM = 40          # longer "words" (hashes, URLs run together) are not worth indexing
BODY, SUMMARY, TAGS, TITLE = 1, 2, 4, 8

_TAG = re.compile(r"<[^>]*>")
_SKIPPED = re.compile(r"<(script|style|template)\b.*?</\1\s*>", re.S | re.I)
# a word is as search.js finds it: letters, digits, marks and the joiners Persian writes inside
# words; marks and joiners are then dropped (fold) on both sides
_JOINERS = "\u200c\u200d"
_LETTERS = {"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"}   # Arabic yeh/kaf as Persian


@lru_cache(maxsize=1)
def _word_pattern() -> re.Pattern:
    """Return the pattern of a word (built once: Python's re has no \\p{M})."""
    # marks of the first plane only: a class reaching past it is checked range by range, five
    # times slower on a 10,000-article site; search.js leaves the other planes' marks out too
    marks = "".join(_ranges(c for c in range(0x10000) if unicodedata.category(chr(c)).startswith("M")))
    return re.compile(f"[\\w{marks}{_JOINERS}]+")   # \w has "_", which terms_of splits at


def _ranges(codes: Iterable[int]) -> Iterable[str]:
    """Yield a character class's parts for sorted code points, runs as ranges."""
    start = previous = None
    for code in codes:
        if previous is not None and code == previous + 1:
            previous = code
            continue
        if start is not None:
            yield _range(start, previous)
        start = previous = code
    if start is not None:
        yield _range(start, previous)


def _range(first: int, last: int) -> str:
    return f"\\U{first:08x}" if first == last else f"\\U{first:08x}-\\U{last:08x}"


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Return a word as the index stores it: lower case, without marks or joiners, Arabic
    yeh and kaf written as Persian (search.js folds queries the same way)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    kept = "".join(c for c in decomposed if c not in _JOINERS and not unicodedata.category(c).startswith("M"))
    return "".join(_LETTERS.get(c, c) for c in kept)


def terms_of(text: str) -> set[str]:
    """Return the distinct folded words of a text."""
    out = set()
    for run in set(_word_pattern().findall(text.lower())):
        for word in run.split("_") if "_" in run else (run,):
            term = fold(word)
            if term and len(term) <= MAX_TERM:
                out.add(term)
    return out


def body_text(body: str) -> str:
    """Return the readable text of an article body: tags, link tokens and entities removed."""
    plain = resolve_tokens(body, lambda path: "", lambda path: "", lambda target: None)
    return html.unescape(_TAG.sub(" ", _SKIPPED.sub(" ", plain)))


def shard_of(term: str, key: int) -> str:
    """Return the name of the file holding a term: the hex of its first `key` characters' UTF-8
    (a safe file name in any script)."""
    return "t-" + term[:key].encode("utf-8").hex()


def search_files(stories: tuple[Story, ...], format_date: Callable) -> dict[str, bytes]:
    """Return {site path: bytes} of the search script and index for these stories (newest first)."""
    postings: dict[str, tuple[list[int], list[int]]] = {}   # term: (document numbers, where found)
    for number, story in enumerate(stories):
        masks = dict.fromkeys(terms_of(body_text(str(story.body))), BODY)
        names = [t.name for t in story.tags] + [a.name for a in story.authors] + [story.section.title]
        for bit, text in ((SUMMARY, story.summary), (TAGS, " ".join(names)), (TITLE, story.title)):
            for term in terms_of(text):
                masks[term] = masks.get(term, 0) | bit
        for term, mask in masks.items():
            entry = postings.get(term)
            if entry is None:
                entry = postings[term] = ([], [])
            entry[0].append(number)   # numbers grow with the loop: each list is sorted
            entry[1].append(mask)
    shards: dict[str, dict[str, list]] = defaultdict(dict)
    key = 1 if sum(len(e[0]) for e in postings.values()) < SMALL else 2   # a small site: fewer, fuller files
    for term in sorted(postings):
        numbers, found = postings[term]
        deltas = [numbers[0]] + [b - a for a, b in zip(numbers, numbers[1:])]
        shards[shard_of(term, key)][term] = [deltas, found]
    files = {SCRIPT: (Path(__file__).parent / "search.js").read_bytes(),
             DATA + "meta.js": _script("meta", {"documents": len(stories), "chunk": CHUNK, "key": key,
                                                "shards": sorted(shards)})}
    for name, terms in shards.items():
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
