"""Links: site paths, page-relative URLs, and the tokens bodies carry until a page is rendered.

A *site path* has no leading slash and names a file or folder in a mirror's output
(`politics/2026/11/28/truce/`, `css/site.css`, `` for home). Pages link to each other with
page-relative URLs, so a mirror works under any path prefix and from any static host."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from typing import Callable
from urllib.parse import urlsplit

from .mirrors import bare_domain

TOKEN_PATH = "\ue000p{}\ue001"   # a link to a site path, made page-relative per page
TOKEN_ABS = "\ue000a{}\ue001"    # a URL shown as text: the mirror's absolute URL
TOKEN_REF = "\ue000r{}\ue001"    # a content file named by {{< ref >}} or a `.md` link (hex, see ref_token)
_TOKEN = re.compile("\ue000([par])([^\ue001]*)\ue001")
_KEEP = ("#", "mailto:", "tel:", "data:", "javascript:", "sms:", "ftp:")


@dataclass(frozen=True)
class LinkPolicy:
    """Which URLs belong to the outlet (rewritten per mirror) and which are kept as written."""

    own_domains: frozenset[str]
    prefixes: tuple[tuple[str, str], ...] = ()
    preserve: tuple[str, ...] = ()

    @cached_property   # built once per process, not once per article
    def own_url(self) -> re.Pattern | None:
        """Return a pattern matching absolute URLs on the outlet's domains in text."""
        if not self.own_domains:
            return None
        names = "|".join(re.escape(d) for d in sorted(self.own_domains, key=len, reverse=True))
        return re.compile(rf"https?://(?:www\.)?(?:{names})(?::\d+)?(?![\w.-])(?:/[^\s<>\"'\ue000]*)?",
                          re.IGNORECASE)

    def tokenise(self, url: str, absolute: bool = False) -> str:
        """Return a token for a URL into the site, or `url` unchanged when it points elsewhere."""
        if not url or url.startswith(_KEEP) or any(url.startswith(p) for p in self.preserve):
            return url
        if url.startswith(("http://", "https://", "//")) or url[:6].lower() in ("http:/", "https:"):
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            if bare_domain(host) not in self.own_domains:
                return url
            path = parts.path or "/"
            for mirror_host, prefix in self.prefixes:
                if host == mirror_host:
                    if not (path + "/").startswith(prefix):
                        return url  # another tenant of a shared host (a CDN, a bucket)
                    path = "/" + path[len(prefix):]
        elif url.startswith("/"):
            parts = urlsplit(url)
            path = parts.path
        else:
            return url
        suffix = (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
        token = TOKEN_ABS if absolute else TOKEN_PATH
        return token.format(path.lstrip("/")) + suffix


def token_path(value: str) -> str | None:
    """Return the site path inside a path token (what tokenise made of an own URL), else None."""
    m = _TOKEN.fullmatch(value.split("?")[0].split("#")[0]) if value.startswith("\ue000") else None
    return m.group(2) if m and m.group(1) == "p" else None


def relative_from(from_path: str) -> Callable[[str], str]:
    """Return relative_url(from_path, ·) with the page's folder split once: a page links fifty
    paths, most of them in another top folder (the nav, the stylesheet, the stories listed)."""
    base = from_path.split("/")[:-1]
    if not base:
        return lambda to_path: to_path or "./"
    up, first = "../" * len(base), base[0]

    def relative(to_path: str) -> str:
        head, slash, _ = to_path.partition("/")
        if not slash or head != first:   # nothing in common: up to the top, then down
            return up + to_path
        return relative_url(from_path, to_path)

    return relative


def relative_url(from_path: str, to_path: str) -> str:
    """Return the URL that leads from the page at site path `from_path` to site path `to_path`."""
    base = from_path.split("/")[:-1]          # the folder the page is in
    target = to_path.split("/")
    common = 0
    while common < len(base) and common < len(target) - 1 and base[common] == target[common]:
        common += 1
    url = "../" * (len(base) - common) + "/".join(target[common:])
    return url or "./"


@dataclass(frozen=True)
class RefUse:
    """One link to a content file: the target as the index knows it, where, and as written."""

    target: str            # a ref target (`news/x.md#part`, `/news/x.md`), fragment included
    line: int = 0
    written: str = ""      # a Markdown link's URL as written (`../x.md`); "" for {{< ref >}}


def ref_token(use: RefUse) -> str:
    """Return the token a body carries for a link to a content file (hex: Markdown leaves it alone)."""
    fields = [use.target.encode("utf-8").hex(), str(use.line)]
    if use.written:
        fields.append(use.written.encode("utf-8").hex())
    return TOKEN_REF.format(":".join(fields))


def _ref_use(payload: str) -> RefUse:
    target, _, rest = payload.partition(":")
    line, _, written = rest.partition(":")
    return RefUse(bytes.fromhex(target).decode("utf-8"), int(line or 0),
                  bytes.fromhex(written).decode("utf-8") if written else "")


def resolve_tokens(html: str, link: Callable[[str], str], absolute: Callable[[str], str],
                   refs: Callable[[str], str | None]) -> str:
    """Return `html` with its tokens replaced: page-relative links, absolute URLs, resolved refs."""
    if "\ue000" not in html:
        return html

    def one(m: re.Match) -> str:
        kind, value = m.groups()
        if kind == "p":
            return link(value)
        if kind == "a":
            return absolute(value)
        use = _ref_use(value)
        target = refs(use.target)
        fragment = use.target.partition("#")[2]
        if target is None:
            return "#"
        return link(target) + (f"#{fragment}" if fragment else "")

    return _TOKEN.sub(one, html)


def ref_uses(html: str) -> list[RefUse]:
    """Return the links to content files ({{< ref >}}, `.md` links) in a tokenised body."""
    return [_ref_use(m.group(2)) for m in _TOKEN.finditer(html) if m.group(1) == "r"]


def ref_targets(html: str) -> list[str]:
    """Return the targets of the links to content files in a tokenised body."""
    return [use.target for use in ref_uses(html)]
