"""Words as the site search sees them: the same split and folding as search/search.js.

Parsing records each article body's words once (they are cached with the parse result), so a
rebuild of the search index does not read every body again."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import Iterable

from .links import resolve_tokens

MAX_TERM = 40          # longer "words" (hashes, URLs run together) are not worth indexing

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


def body_words(body: str) -> str:
    """Return the distinct search terms of an article body, sorted, separated by spaces (one
    string pickles and loads far faster than a set of thousands)."""
    return " ".join(sorted(terms_of(body_text(body))))
