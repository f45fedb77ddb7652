"""Markdown's inline passes skip patterns that cannot match (newsmirror/inline.py): the HTML
must be exactly what stock Python-Markdown gives, on real articles and on markup soup."""

from __future__ import annotations

import inspect
import random
import re
import sys
from pathlib import Path

import markdown
import pytest

from conftest import REPO, need
from sitecheck import front_matter

sys.path.insert(0, str(REPO))
from newsmirror.inline import FastInlineProcessor, fast_inline, required_characters, required_text  # noqa: E402
from newsmirror.links import LinkPolicy  # noqa: E402
from newsmirror.markup import EXTENSIONS, BodyConverter  # noqa: E402

InlineProcessor = markdown.treeprocessors.InlineProcessor


def _pair() -> tuple[markdown.Markdown, markdown.Markdown]:
    settings = {"extensions": EXTENSIONS, "output_format": "html"}
    return markdown.Markdown(**settings), fast_inline(markdown.Markdown(**settings))


def _bodies(folder: Path) -> list[str]:
    """Return the Markdown body of every .md file under `folder`."""
    return [front_matter(path)[1] for path in sorted(folder.rglob("*.md"))]


def _differences(bodies: list[str]) -> list[str]:
    stock, fast = _pair()
    return [body for body in bodies if stock.reset().convert(body) != fast.reset().convert(body)]


def test_the_sample_articles_convert_exactly_as_stock_markdown():
    bodies = _bodies(REPO / "content")
    assert len(bodies) >= 10
    assert _differences(bodies) == []


def test_the_real_corpus_converts_exactly_as_stock_markdown(shared):
    corpus = shared / "corpus/digitalgov/content"
    need(corpus.is_dir(), f"{corpus} is absent: the real corpus")
    bodies = _bodies(corpus)
    assert len(bodies) > 2000
    assert _differences(bodies) == []


# every piece of inline (and block) syntax the extensions know, and the characters near it
_PIECES = ["*", "**", "_", "__", "[", "]", "(", ")", "![", "<", ">", "&", "&amp;", "&#8212;", "'", '"', "-", "--",
           "---", ".", "...", "`", "``", "\\", "  \n", "\n", "\n\n", " ", "a", "word", "s", "80s", "1", "#", "|",
           "{", "}", ":", "^", "[^1]", "[^1]: note\n", "http://x.example/a", "<b>", "</b>", "<a href='x'>", "</a>",
           "mail@x.example", "<http://y.example>", "*[HTML]: Hyper\n", "HTML", "{: .cls}", "\n> ", "\n- ", "\n1. ",
           "\n    ", "\n```\n", "~~~", "|a|b|\n|-|-|\n", "\nTerm\n: def\n", '<div markdown="1">', "</div>", "\t", "é",
           "«", "<<", ">>", "[x][y]", "[y]: http://q.example\n", "!", "\\*", "\\'", "<!-- c -->"]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_markup_soup_converts_exactly_as_stock_markdown(seed):
    rng = random.Random(seed)
    docs = ["".join(rng.choice(_PIECES) for _ in range(rng.randint(1, 80))) for _ in range(1500)]
    assert _differences(docs) == []


def test_articles_are_converted_with_the_fast_passes():
    converter = BodyConverter(lambda *args: None, LinkPolicy(frozenset(), ()))
    passes = [p for p in converter.md.treeprocessors if isinstance(p, InlineProcessor)]
    assert len(passes) == 2   # Markdown's own and smarty's
    assert all(type(p) is FastInlineProcessor for p in passes)


# the loop inline.py mirrors, as Python-Markdown 3.6 to 3.11 write it (docstring left out)
_MIRRORED = """
if not isinstance(data, util.AtomicString):
    startIndex = 0
    count = len(self.inlinePatterns)
    while patternIndex < count:
        data, matched, startIndex = self.__applyPattern(
            self.inlinePatterns[patternIndex], data, patternIndex, startIndex
        )
        if not matched:
            patternIndex += 1
return data
"""


def test_the_mirrored_markdown_loop_is_the_installed_one():
    """A Markdown release that changes the loop must be looked at before inline.py runs with it."""
    source = inspect.getsource(InlineProcessor._InlineProcessor__handleInline)
    body = source[source.index('"""', source.index('"""') + 3) + 3:]
    assert [line.strip() for line in body.strip().splitlines()] == \
        [line.strip() for line in _MIRRORED.strip().splitlines()]


def test_the_fast_passes_skip_most_pattern_calls(monkeypatch):
    calls = []
    apply = InlineProcessor._InlineProcessor__applyPattern
    monkeypatch.setattr(InlineProcessor, "_InlineProcessor__applyPattern",
                        lambda self, *args: calls.append(type(self)) or apply(self, *args))
    stock, fast = _pair()
    for body in _bodies(REPO / "content"):
        stock.reset().convert(body)
        fast.reset().convert(body)
    made = calls.count(InlineProcessor), calls.count(FastInlineProcessor)
    assert 0 < made[1] * 3 < made[0], made


@pytest.mark.parametrize("pattern, chars", [
    (r"\[", "["),
    (r"(?<!\!)\[", "["),                     # a lookbehind consumes nothing
    (r"a|b", "ab"),
    (r"x?yz", "y"),                          # the first required element, or the smallest
    (r"(?:ab)+", "a"),
    (r"[ab][cde]", "ab"),
    (r"[0-9]x", "x"),
    (r"(\s|&nbsp;)'(?=\w)", "'"),
    (r"a*", None),                           # may match nothing
    (r"(?i)a", None),                        # case folding is not followed
    (r"[^a]", None),
    (r"\w+", None),
    (r"(a|.)b?", None),                      # one branch may be anything
])
def test_required_characters(pattern, chars):
    found = required_characters(re.compile(pattern))
    assert found == (frozenset(chars) if chars is not None else None)


@pytest.mark.parametrize("pattern, text", [
    (r"(?<!-)---(?!-)", "---"),
    (r"(?<!\.)\.{3}(?!\.)", "..."),          # a fixed count joins the run
    (r"\[\^([^\]]*)\]", "[^"),
    (r"ab+c", "ab"),                          # at least one b: the run ends there
    (r"a{2,}b", "aa"),
    (r"x\by", None),                          # an anchor ends a run (nothing is assumed)
    (r"\[", None),                            # one character is the set's business
    (r"(?i)abc", None),
])
def test_required_text(pattern, text):
    assert required_text(re.compile(pattern)) == text
