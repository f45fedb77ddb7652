"""Python-Markdown's inline passes, without trying patterns that cannot match.

Python-Markdown tries every inline pattern on every piece of text, one Python call each:
about 1,600 calls an article with the extensions we use (`smarty` adds a second pass of 18
patterns), most of them finding nothing, and most of the time Markdown takes. Each pattern's
regular expression can only match text holding one of a few characters (a link needs `[`,
emphasis `*` or `_`, smarty's quotes `'` or `"`; an ellipsis the run `...`). `fast_inline`
gives a Markdown instance's inline passes a table of those characters and runs, worked out from
the expressions themselves, and skips a pattern when the text has none of the characters or
lacks the run: exactly what the pattern's own call would have found (no match, so nothing
changed, and the scan starts over with the next pattern). Patterns whose characters cannot be
worked out are tried as before.

The loop below mirrors `InlineProcessor.__handleInline` of Python-Markdown 3.6 to 3.11 (the
same in both); a test fails if a release changes that method, and the test suite converts real
corpora both ways and compares the bytes. Without the method, `fast_inline` leaves Markdown as it is."""

from __future__ import annotations

import re
from typing import Any

import markdown
from markdown import util
from markdown.treeprocessors import InlineProcessor

try:
    from re import _constants as _sre, _parser as _sre_parse   # Python 3.11+
except ImportError:   # pragma: no cover - Python 3.10
    import sre_constants as _sre  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

_MAX_CLASS = 64   # a character class larger than this is no use as a filter


def required_characters(regex: re.Pattern) -> frozenset[str] | None:
    """Return characters of which every match of `regex` holds at least one, or None when no
    such small set can be worked out (the pattern must then always be tried)."""
    parsed = _parse(regex)
    return _sequence(parsed) if parsed is not None else None


def _parse(regex: re.Pattern) -> list | None:
    """Return the expression's top-level sequence, or None when it is not worth reading."""
    if regex.flags & re.IGNORECASE:
        return None   # case folding maps characters in ways not worth following
    try:
        return list(_sre_parse.parse(regex.pattern, regex.flags))
    except Exception:  # noqa: BLE001 - an expression this module cannot read is simply tried
        return None


def required_text(regex: re.Pattern) -> str | None:
    """Return the longest run of two or more characters that every match of `regex` holds
    as written (`---` for an em dash, `...` for an ellipsis), or None."""
    parsed = _parse(regex)
    if parsed is None:
        return None
    best, run = "", ""
    for op, av in parsed:
        if op is _sre.LITERAL:
            run += chr(av)
            continue
        repeated = _repeated_literal(op, av)
        if repeated is not None:   # \.{3}: a fixed count joins the run; a{2,} ends it after two
            low, high, char = repeated
            run += char * low
            if low == high:
                continue
        best, run = max(best, run, key=len), ""   # anything else may stand between
    best = max(best, run, key=len)
    return best if len(best) >= 2 else None


def _repeated_literal(op: Any, av: Any) -> tuple[int, int, str] | None:
    """Return (least, most, character) of a repetition of one literal character, else None."""
    if op not in (_sre.MAX_REPEAT, _sre.MIN_REPEAT):
        return None
    low, high, pattern = av
    items = list(pattern)
    if len(items) == 1 and items[0][0] is _sre.LITERAL:
        return low, high, chr(items[0][1])
    return None


def _sequence(items: list) -> frozenset[str] | None:
    """The smallest required set of any element of a sequence (each element must match)."""
    best = None
    for op, av in items:
        found = _element(op, av)
        if found is not None and (best is None or len(found) < len(best)):
            best = found
    return best


def _element(op: Any, av: Any) -> frozenset[str] | None:
    """The required set of one element of an expression, or None."""
    if op is _sre.LITERAL:
        return frozenset(chr(av))
    if op is _sre.IN:
        chars: set[str] = set()
        for kind, value in av:
            if kind is _sre.LITERAL:
                chars.add(chr(value))
            elif kind is _sre.RANGE and value[1] - value[0] < _MAX_CLASS:
                chars.update(chr(c) for c in range(value[0], value[1] + 1))
            else:   # NEGATE, a category such as \s, a large range: anything may match
                return None
        return frozenset(chars) if 0 < len(chars) <= _MAX_CLASS else None
    if op is _sre.SUBPATTERN:
        _group, add_flags, del_flags, pattern = av
        return _sequence(list(pattern)) if not add_flags and not del_flags else None
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) or op is getattr(_sre, "POSSESSIVE_REPEAT", None):
        low, _high, pattern = av
        return _sequence(list(pattern)) if low >= 1 else None
    if op is getattr(_sre, "ATOMIC_GROUP", None):
        return _sequence(list(av))
    if op is _sre.BRANCH:
        union: set[str] = set()
        for branch in av[1]:
            found = _sequence(list(branch))
            if found is None:
                return None
            union |= found
        return frozenset(union) if len(union) <= _MAX_CLASS else None
    return None   # lookarounds consume nothing; anything else (., \w, backreferences) may be anything


_REQUIRED: dict[re.Pattern, tuple[frozenset[str] | None, str | None]] = {}


def _required_of(pattern: Any) -> tuple[frozenset[str] | None, str | None]:
    """Return the pattern's required characters and text (worked out once per expression)."""
    regex = pattern.getCompiledRegExp()
    if not isinstance(regex, re.Pattern):
        return None, None
    if regex not in _REQUIRED:
        _REQUIRED[regex] = (required_characters(regex), required_text(regex))
    return _REQUIRED[regex]


class FastInlineProcessor(InlineProcessor):
    """An InlineProcessor that skips, for each piece of text, the patterns that cannot match it."""

    def run(self, tree: Any, ancestors: list[str] | None = None) -> Any:
        # patterns and their filters, looked up once per document instead of once per text
        self._patterns = list(self.inlinePatterns)
        self._required = [_required_of(p) for p in self._patterns]
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        if not isinstance(data, util.AtomicString):
            patterns, required = self._patterns, self._required
            apply = self._InlineProcessor__applyPattern
            # every character of the text, not only of the part left to scan: a pattern tried in
            # vain costs a call, never a difference
            present = set(data)
            startIndex = 0
            count = len(patterns)
            while patternIndex < count:
                chars, text = required[patternIndex]
                if (chars is not None and chars.isdisjoint(present)) or (text is not None and text not in data):
                    # what the pattern's own call returns when it finds nothing
                    startIndex = 0
                    patternIndex += 1
                    continue
                data, matched, startIndex = apply(patterns[patternIndex], data, patternIndex, startIndex)
                if matched:
                    present = set(data)
                else:
                    patternIndex += 1
        return data


def fast_inline(md: markdown.Markdown) -> markdown.Markdown:
    """Make every inline pass of `md` (its own, and smarty's) skip patterns that cannot match."""
    if not hasattr(InlineProcessor, "_InlineProcessor__handleInline"):
        return md   # a Markdown whose inline loop is not the one mirrored here: keep its own
    for processor in md.treeprocessors:
        if type(processor) is InlineProcessor:
            processor.__class__ = FastInlineProcessor
    return md
