"""Knowing, cheaply, that nothing changed since the last build, so a rebuild can stop early.

A build's output depends on its inputs (code, config, layouts, static files, content, options)
and on the clock only at known instants: when a scheduled article's time comes, when one
expires, when one leaves the news sitemap's window. The last full build stores a stamp of its
inputs and the next such instant; a rebuild with the same stamp before that instant, whose
output files all still have the size and mtime the build left, has nothing to do."""

from __future__ import annotations

import os
from datetime import datetime

from .articles import Article, Parsed
from .cache import BuildCache, digest, files_fingerprint, signature
from .config import Config
from .errors import Problem
from .plan import NEWS_WINDOW, BuildOptions   # the news sitemap lists the articles of that window

_LAST = "last"


def input_stamp(config: Config, options: BuildOptions, hosts: list[str], keys: list[str]) -> str:
    """Return a hash of everything a build reads but the clock."""
    layouts = [p for p in config.layouts_dir.rglob("*") if p.is_file()] if config.layouts_dir.is_dir() else []
    static = []
    if config.static_dir.is_dir():
        for folder, _, names in os.walk(config.static_dir):
            for name in names:
                stat = os.stat(os.path.join(folder, name))
                static.append((os.path.join(folder, name), stat.st_size, stat.st_mtime_ns))
    return digest(signature(config, {}), files_fingerprint(layouts, config.layouts_dir), sorted(static),
                  options.drafts, options.future, sorted(hosts), keys)


def next_instant(parsed: list[Parsed], now: datetime) -> datetime | None:
    """Return the first moment after `now` at which the clock changes what a build makes."""
    moments = []
    for item in parsed:
        article = item.item
        if isinstance(article, Article):
            moments += [article.date, article.date + NEWS_WINDOW]
            if article.expires is not None:
                moments.append(article.expires)
    later = [m for m in moments if m > now]
    return min(later) if later else None


def remember(cache: BuildCache, stamp: str, now: datetime, parsed: list[Parsed], summary: tuple,
             warnings: tuple[Problem, ...]) -> None:
    """Store what a finished full build was made from, for the next build to compare."""
    cache.set_meta({_LAST: (stamp, now, next_instant(parsed, now), summary, warnings)})


def forget_last_build(cache: BuildCache) -> None:
    """Drop the last build's stamp before output changes (a killed build then leaves none)."""
    cache.set_meta({_LAST: None})


def still_current(cache: BuildCache, config: Config, hosts: list[str], stamp: str,
                  now: datetime) -> tuple[tuple, tuple[Problem, ...], int] | None:
    """Return (summary, warnings, files) of the last build when it is still exactly right, else None."""
    last = cache.meta(_LAST)
    if not last:
        return None
    old_stamp, then, until, summary, warnings = last
    if old_stamp != stamp or now < then or (until is not None and now >= until):
        return None
    files = 0
    for host in hosts:
        rows = cache.hashes(host)
        if not rows:
            return None
        base = f"{config.output_dir}/{host}/"
        for rel, (size, mtime, _) in rows.items():
            try:
                stat = os.stat(base + rel)
            except OSError:
                return None
            if stat.st_size != size or stat.st_mtime_ns != mtime:
                return None
        files += len(rows)
    return summary, warnings, files
