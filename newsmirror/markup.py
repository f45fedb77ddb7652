"""Markdown bodies to HTML: Python-Markdown, Hugo-style shortcodes, and link tokens.

Bodies are converted once per article, for every mirror at once. Links that point into the
site (root-relative, or absolute on any of the outlet's domains) become *tokens* naming a site
path; `links.resolve_tokens` turns them into page-relative links when a page is rendered."""

from __future__ import annotations

import functools
import html as html_lib
import posixpath
import re
import shlex
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import unquote

import markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from .inline import fast_inline
from .links import LinkPolicy, RefUse, ref_token

EXTENSIONS = ["tables", "footnotes", "attr_list", "fenced_code", "smarty", "toc", "sane_lists",
              "md_in_html", "def_list", "abbr"]

_SHORTCODE = re.compile(
    r"\{\{(?P<open>[<%])\s*(?P<comment>/\*)?\s*(?P<close>/)?(?P<name>[\w.-]+)(?P<args>(?:[^>%\"'}]|\"[^\"]*\"|'[^']*'|`[^`]*`)*?)"
    r"\s*(?P<ccomment>\*/)?\s*(?P<self>/)?\s*[>%]\}\}")
# a URL attribute is found by its quoted value, then its name before the `=`: the engine looks
# for `=`, where a pattern starting with the name's space looked at every character (an
# article's scan: 240 us before, 60 us after); a value inside another value is left alone
_VALUE = re.compile(r"""=\s*(?P<q>["'])(?P<url>.*?)(?P=q)""")
_URL_NAME = re.compile(r"""\s(?P<name>href|src|srcset|poster|data|action|cite)\s*\Z""", re.IGNORECASE)
_TAG = re.compile(r"<[a-zA-Z][^<>]*>")
# a URL not right after a word character, slash, = or quote (an attribute's value); the check
# comes after the literal `http` so that the engine looks for that, not at every position
# (an article's scan: 240 us before, 12 us after)
_BARE_URL = re.compile(r"(http(?<![\w/=\"']http)s?://[^\s<>\"'\]\[`\x02\x03]+[^\s<>\"'\]\[`.,;:!?)\x02\x03])")
# text that is already a link, code, or a tag: a bare URL there stays as it is
_NOT_TEXT = re.compile(r"<a\b.*?</a>|<pre\b.*?</pre>|<code\b.*?</code>|<script\b.*?</script>|"
                       r"<style\b.*?</style>|<[^>]*>", re.IGNORECASE | re.DOTALL)


@dataclass
class ShortcodeUse:
    """What a body's shortcodes did: unknown names with their line, and template problems."""

    unknown: Counter = field(default_factory=Counter)
    first_line: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)


# (name, args, kwargs, inner as HTML, inner as written) -> HTML, or None for a name without a layout
ShortcodeRenderer = Callable[[str, list, dict, "str | None", "str | None"], "str | None"]


def find_shortcodes(text: str) -> list[tuple[str, int]]:
    """Return (name, offset) of every shortcode opened in `text`; closing tags and `{{</* */>}}`
    comments are not uses."""
    return [(m["name"], m.start()) for m in _SHORTCODE.finditer(text) if not m["comment"] and not m["close"]]


def _split_args(text: str) -> tuple[list[str], dict[str, str]] | None:
    """Return positional and named shortcode arguments, or None when the quoting is broken."""
    try:
        words = shlex.split(text.replace("`", '"'), posix=True)
    except ValueError:
        return None
    args, kwargs = [], {}
    for word in words:
        key, eq, value = word.partition("=")
        if eq and re.fullmatch(r"[\w-]+", key):
            kwargs[key] = value
        else:
            args.append(word)
    return args, kwargs


class _ShortcodePreprocessor(Preprocessor):
    """Replaces shortcodes with the HTML of their layouts, stashed so Markdown leaves it alone."""

    def __init__(self, md, render: ShortcodeRenderer, use: ShortcodeUse, first_line: int):
        super().__init__(md)
        self.render, self.use, self.first_line = render, use, first_line

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if "{{" not in text:
            return lines
        starts = {m.start() for m in _SHORTCODE.finditer(text)}
        for m in re.finditer(r"\{\{[<%]", text):
            if m.start() not in starts:
                line = self.first_line + text.count("\n", 0, m.start())
                name = re.match(r"\{\{[<%]\s*/?\s*([\w.-]*)", text[m.start():]).group(1) or "?"
                self.use.errors.append((line, f"shortcode {name}: its tag is not closed; check its quotes "
                                              "and the closing >}} (or %}})"))
        return self.expand(text, 0).split("\n")

    def expand(self, text: str, base_offset: int) -> str:
        """Return `text` with every shortcode (paired or single) replaced."""
        out, pos = [], 0
        matches = list(_SHORTCODE.finditer(text))
        skip_until = -1
        for i, match in enumerate(matches):
            if match.start() < skip_until:
                continue
            out.append(text[pos:match.start()])
            pos = match.end()
            if match["comment"]:
                out.append(match.group(0).replace("/*", "", 1).replace("*/", "", 1).replace("{{< ", "{{<")
                           .replace("{{<", "&#123;&#123;&lt;").replace("{{%", "&#123;&#123;%"))
                continue
            if match["close"]:
                continue  # a stray closing tag: drop it
            name = match["name"]
            inner = None
            if not match["self"]:
                closing = next((m for m in matches[i + 1:] if m["close"] and m["name"] == name), None)
                if closing is not None:
                    inner = text[match.end():closing.start()]
                    pos = skip_until = closing.end()
            line = self.first_line + text.count("\n", 0, match.start()) + base_offset
            out.append(self.replace(name, match["args"], inner, line, match.start()))
        out.append(text[pos:])
        return "".join(out)

    def replace(self, name: str, raw_args: str, inner: str | None, line: int, offset: int) -> str:
        """Return the stash placeholder (or link token) for one shortcode."""
        parsed = _split_args(raw_args)
        if parsed is None:
            self.use.errors.append((line, f"shortcode {name}: unbalanced quotes in its arguments"))
            return ""
        args, kwargs = parsed
        if name in ("ref", "relref"):
            target = args[0] if args else kwargs.get("path", "")
            return ref_token(RefUse(target, line))
        inner_html = None
        if inner is not None:
            inner_html = _inner().reset().convert(self.expand(inner, 0)) if inner.strip() else ""
        try:
            html = self.render(name, args, kwargs, inner_html, inner)
        except Exception as exc:  # template errors are user mistakes: reported by the caller
            self.use.errors.append((line, f"shortcode {name}: {exc}"))
            return ""
        if html is None:
            self.use.unknown[name] += 1
            self.use.first_line.setdefault(name, line)
            return ""
        return self.md.htmlStash.store(html)


class _NewsExtension(Extension):
    def __init__(self, render: ShortcodeRenderer, use: ShortcodeUse, first_line: int):
        super().__init__()
        self.render, self.use, self.first_line = render, use, first_line

    def extendMarkdown(self, md):
        md.preprocessors.register(_ShortcodePreprocessor(md, self.render, self.use, self.first_line),
                                  "newsmirror_shortcodes", 25)  # after whitespace normalising strips the stash markers


@functools.cache
def _inner() -> markdown.Markdown:
    """Return the converter of shortcode inner text, made when first needed: a rebuild that
    converts nothing does not pay for it (with Markdown's extensions, 60 ms of start-up)."""
    return fast_inline(markdown.Markdown(extensions=EXTENSIONS, output_format="html"))


@dataclass(frozen=True)
class Body:
    """A converted body: HTML with link tokens, the first paragraph's text, and the word count."""

    html: str
    first_paragraph: str
    words: int


class BodyConverter:
    """Converts bodies with one reused Markdown instance (building one costs as much as a short body)."""

    def __init__(self, render: ShortcodeRenderer, policy: LinkPolicy):
        self.policy = policy
        self.extension = _NewsExtension(render, ShortcodeUse(), 1)
        self.md = fast_inline(markdown.Markdown(extensions=EXTENSIONS + [self.extension], output_format="html",
                                                extension_configs={"toc": {"slugify": _slugify_heading}}))
        self.preprocessor = self.md.preprocessors["newsmirror_shortcodes"]

    def convert(self, text: str, first_line: int, use: ShortcodeUse, name: str = "") -> Body:
        """Return the body as tokenised HTML; shortcode outcomes are recorded in `use`.

        `name` is the file's path under content/, which relative `.md` links start from."""
        self.preprocessor.use, self.preprocessor.first_line = use, first_line
        html = self.md.reset().convert(text)
        html = tokenise_links(link_bare_urls(html), self.policy)
        if ".md" in html:
            html = link_content_files(html, text, first_line, name)
        return Body(html=html, first_paragraph=first_paragraph_text(html), words=len(_text_of(html).split()))


_MD_HREF = re.compile(r"""(?P<pre>\shref\s*=\s*)(?P<q>["'])(?P<url>(?![a-zA-Z][\w+.-]*:|/|#)[^"'?#]*?\.md)"""
                      r"""(?P<frag>#[^"']*)?(?P=q)""", re.IGNORECASE)


def link_content_files(html: str, text: str, first_line: int, name: str) -> str:
    """Return `html` with relative links to Markdown files (`../2019/x.md#part`, as in a Hugo or
    GitHub tree) made into tokens naming the content file, resolved from the file at `name`."""

    def one(m: re.Match) -> str:
        written = html_lib.unescape(m["url"])
        fragment = html_lib.unescape(m["frag"] or "")
        joined = posixpath.normpath(posixpath.join(posixpath.dirname(name), unquote(written)))
        # a target outside content/ stays as written, so the warning shows what was meant
        target = written if joined.startswith("../") else "/" + joined
        where = text.find(written + fragment)
        line = first_line + text.count("\n", 0, where) if where >= 0 else first_line
        token = ref_token(RefUse(target + fragment, line, written + fragment))
        return f"{m['pre']}{m['q']}{token}{m['q']}"

    return _MD_HREF.sub(one, html)


def link_bare_urls(html: str) -> str:
    """Return `html` with plain https:// URLs in running text turned into links."""
    if _BARE_URL.search(html) is None:   # as a rule: links are in attributes, as href="https://
        return html
    out, pos = [], 0
    for m in _NOT_TEXT.finditer(html):
        out.append(_BARE_URL.sub(r'<a href="\1">\1</a>', html[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_BARE_URL.sub(r'<a href="\1">\1</a>', html[pos:]))
    return "".join(out)


def _slugify_heading(value: str, separator: str) -> str:
    """Return a heading id that keeps non-Latin letters (Persian headings get real anchors)."""
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[\s_-]+", separator, value) or "section"


def tokenise_links(html: str, policy: LinkPolicy) -> str:
    """Return `html` with every link into the site replaced by a site-path token."""

    def attr(name: str, url: str) -> str:
        if name != "srcset":
            return policy.tokenise(url)
        parts = []
        for candidate in url.split(","):
            bits = candidate.strip().split(None, 1)
            if bits:
                bits[0] = policy.tokenise(bits[0])
            parts.append(" ".join(bits))
        return ", ".join(parts)

    out, pos = [], 0
    for value in _VALUE.finditer(html):
        name = _URL_NAME.search(html, max(0, value.start() - 64), value.start())
        if name is not None:
            out.append(html[pos:value.start("url")])
            out.append(attr(name["name"].lower(), value["url"]))
            pos = value.end("url")
    if out:
        html = "".join(out) + html[pos:]
    if policy.own_url is not None:
        # URLs left in text (a link's visible text, a plain mention) show this mirror's address
        html = policy.own_url.sub(lambda m: policy.tokenise(m.group(0), absolute=True), html)
    return html


_BLOCK_TAG = re.compile(r"<(?:br|/?(?:p|div|li|ul|ol|h[1-6]|tr|td|th|blockquote|figure|figcaption|dt|dd))\b[^>]*>",
                        re.IGNORECASE)


def _text_of(html: str) -> str:
    """Return the visible text of an HTML fragment, tags and tokens removed."""
    import html as html_lib
    text = _BLOCK_TAG.sub(" ", html)        # blocks separate words; inline tags do not
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub("\ue000[^\ue001]*\ue001", "", text)
    return html_lib.unescape(text)


def first_paragraph_text(html: str) -> str:
    """Return the whitespace-folded text of the first paragraph that has any."""
    for m in re.finditer(r"<p\b[^>]*>(.*?)</p>", html, re.S):
        text = " ".join(_text_of(m.group(1)).split())
        if text:
            return text
    return ""


def cut_summary(text: str, limit: int = 220) -> str:
    """Return `text` cut at a word boundary under `limit` characters, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:-–—")
    return cut + "…"

