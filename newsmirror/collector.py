"""CPython's cycle collector during a build.

A build makes millions of objects that live until it ends (parsed articles, the plan, the
cache's records) and form no reference cycles: refcounting frees everything a build discards.
The cycle collector cannot know that. It runs a full collection, a scan of every tracked object,
each time the number of long-lived objects has grown by a quarter: in a 10,000-article rebuild
that took 5 s, six full collections took 0.6-0.8 s and found nothing.

So the build process pauses automatic collection while it runs. Each process it forks freezes
what it inherited (never scanned, so the parent's memory pages are not touched and not copied)
and collects its own garbage as usual: rendering with Jinja can make cycles, a page at a time
(a layout's `{% call %}` block does), so pages rendered in the build process itself are
rendered with collection on and everything older frozen."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    """Turn automatic collection off for the block, and back on after it if it was on (the
    preview server builds again and again in one process, and collects between builds)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def in_forked_process() -> None:
    """Run first in a process forked during a build: leave the parent's objects to the parent
    and collect this process's own garbage."""
    gc.freeze()
    gc.enable()


@contextmanager
def collecting() -> Iterator[None]:
    """Collect the block's own garbage, even while paused: whatever exists already is frozen
    meanwhile (not scanned), and thawed after."""
    if gc.isenabled():
        yield
        return
    gc.freeze()
    gc.enable()
    try:
        yield
    finally:
        gc.disable()
        gc.unfreeze()
