"""Static files with content-hashed names (`css/site.3f2a1b9c04.css`), so hosts can cache them
for a year: a changed file gets a new name, and every page that links it is rendered again.

Pages, bodies and feeds keep naming the stable site path (`link('css/site.css')`); the map made
here turns it into the hashed name when a link is resolved, so parsed bodies in the cache stay
valid. CSS files are rewritten first (their `url()` and `@import` references to other static
files), then hashed, so a changed image also renames the stylesheet that uses it."""

from __future__ import annotations

import hashlib
import posixpath
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import quote, unquote

from .errors import Problem, display_path

# What gets a hashed name by default. Not .ico (browsers ask for /favicon.ico by its name),
# not .html/.txt/.xml/.json/.webmanifest (their names are addresses others rely on).
FINGERPRINT = ("css", "js", "mjs", "svg", "png", "jpg", "jpeg", "gif", "webp", "avif", "woff", "woff2",
               "ttf", "otf")
HASH_LENGTH = 10
_CSS_REF = re.compile(r"""url\(\s*(['"]?)([^'")\s]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""", re.IGNORECASE)


@dataclass(frozen=True)
class Assets:
    """The static files as written to each mirror, and the hashed name of each fingerprinted one."""

    files: tuple[tuple[str, bytes], ...]          # (output site path, bytes), sorted
    names: tuple[tuple[str, str], ...] = ()       # (stable site path, hashed site path), sorted

    @cached_property
    def _lookup(self) -> dict[str, str]:
        return dict(self.names)

    def path(self, site_path: str) -> str:
        """Return the site path to link for `site_path`: the hashed name of a fingerprinted
        file (keeping any ?query or #fragment), else `site_path` unchanged."""
        if not self.names:
            return site_path
        if "?" not in site_path and "#" not in site_path:   # as a rule: no cutting, one lookup
            hashed = self._lookup.get(site_path)
            if hashed is not None or "%" not in site_path:
                return hashed or site_path
        cut = min((i for i in (site_path.find("?"), site_path.find("#")) if i >= 0), default=len(site_path))
        bare, rest = site_path[:cut], site_path[cut:]
        hashed = self._lookup.get(bare)
        if hashed is None and "%" in bare:
            hashed = self._lookup.get(unquote(bare))
            return quote(hashed) + rest if hashed is not None else site_path
        return hashed + rest if hashed is not None else site_path


def hashed_name(site_path: str, data: bytes) -> str:
    """Return `dir/name.<hash>.ext` for a file's site path and bytes."""
    folder, _, name = site_path.rpartition("/")
    stem, _, ext = name.rpartition(".")
    tag = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
    return f"{folder}/{stem}.{tag}.{ext}" if folder else f"{stem}.{tag}.{ext}"


def fingerprint_assets(static: list[tuple[str, Path]], extensions: tuple[str, ...],
                       root: Path) -> tuple[Assets, list[Problem]]:
    """Return the static files with hashed names for the given extensions, and any problem
    (a cycle of CSS references); `root` is the folder problem paths are shown relative to."""
    wanted = {e.lower().lstrip(".") for e in extensions}
    sources = {rel: path for rel, path in static}
    data = {rel: path.read_bytes() for rel, path in static}
    # files under .well-known/ are asked for by their names (RFC 8615)
    chosen = {rel for rel in data if rel.rpartition(".")[2].lower() in wanted and "." in rel.rpartition("/")[2]
              and not rel.startswith(".well-known/")}
    names: dict[str, str] = {}
    final: dict[str, bytes] = {}
    problems: list[Problem] = []

    def settle(rel: str, visiting: tuple[str, ...]) -> None:
        """Work out the final bytes (and hashed name) of one file, after the files it references."""
        if rel in final:
            return
        body = data[rel]
        if rel.lower().endswith(".css"):
            body = _rewrite_css(rel, body, chosen, names, lambda dep: settle_dep(dep, visiting + (rel,)))
        final[rel] = body
        if rel in chosen:
            names[rel] = hashed_name(rel, body)

    def settle_dep(dep: str, visiting: tuple[str, ...]) -> bool:
        if dep in visiting:
            chain = " -> ".join(visiting[visiting.index(dep):] + (dep,))
            problems.append(Problem(display_path(sources[dep], root), 0,
                                    f"stylesheets reference each other in a cycle ({chain}); "
                                    "a file's hashed name cannot depend on itself: break the cycle"))
            return False
        settle(dep, visiting)
        return True

    for rel in sorted(data):
        settle(rel, ())
    files = tuple(sorted((names.get(rel, rel), final[rel]) for rel in data))
    return Assets(files, tuple(sorted(names.items()))), sorted(set(problems))


def _rewrite_css(rel: str, css: bytes, chosen: set[str], names: dict[str, str], settle) -> bytes:
    """Return a stylesheet whose references to fingerprinted files name their hashed files."""
    try:
        text = css.decode("utf-8")
    except UnicodeDecodeError:
        return css   # not text we can rewrite safely: hashed as it is
    folder = rel.rpartition("/")[0]

    def one(m: re.Match) -> str:
        ref = m.group(2) or m.group(4)
        target, suffix = _static_target(folder, ref)
        if target is None or target not in chosen or not settle(target):
            return m.group(0)
        hashed = names[target]
        new = ("/" + hashed if ref.startswith("/") else _relative(folder, hashed)) + suffix
        return m.group(0).replace(ref, new, 1)

    return _CSS_REF.sub(one, text).encode("utf-8")


def _static_target(folder: str, ref: str) -> tuple[str | None, str]:
    """Return (site path, ?query#fragment) a CSS reference points at, or None for other URLs."""
    if ref.startswith(("data:", "#", "//")) or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", ref):
        return None, ""
    cut = min((i for i in (ref.find("?"), ref.find("#")) if i >= 0), default=len(ref))
    path, suffix = unquote(ref[:cut]), ref[cut:]
    joined = posixpath.normpath(path.lstrip("/") if path.startswith("/") else posixpath.join(folder, path))
    if joined.startswith("..") or joined in (".", ""):
        return None, ""
    return joined, suffix


def _relative(folder: str, target: str) -> str:
    """Return the URL from a file in `folder` to site path `target`."""
    return quote(posixpath.relpath(target, folder or "."))
