"""Rendering a page once for several mirrors.

Mirrors differ only in a few values (their address, canonical URL, banner, the list of other
addresses). A page is rendered once with *slots* in place of those values, then each mirror's
copy is the render with its own values substituted, which costs far less than rendering again.

It is exact, not hopeful: a slot reports every use a template makes of it. Testing a slot's
truth (`{% if mirror.banner %}`) is recorded, and only mirrors for which every recorded test
comes out the same share the render; any other use (comparing, measuring, slicing, changing
case, encoding) taints the render, and every mirror is then rendered on its own. So is a render
whose text outside its markers holds a marker in any form (a filter encoded one)."""

from __future__ import annotations

import re
from typing import Any, Callable
from urllib.parse import quote

from markupsafe import Markup, escape

OPEN, CLOSE = "\ue100", "\ue101"
_MARK = re.compile(f"{OPEN}(\\d+){CLOSE}")
# a marker that a filter encoded cannot be substituted: such a render is not used
_MANGLED = ("\ue100", "\ue101", "%EE%84%80", "%ee%84%80", "\\ue100", "&#57600;", "&#xe100;", "&#xE100;")
TAINT = ("taint", None)


class Slot(str):
    """Stands for one mirror-specific text; records how the template uses it."""

    def __new__(cls, number: int, truth: bool, log: list):
        obj = super().__new__(cls, f"{OPEN}{number}{CLOSE}")
        obj.number, obj.truth, obj.log = number, truth, log
        return obj

    def __bool__(self) -> bool:
        self.log.append((self.number, self.truth))
        return self.truth

    def __hash__(self) -> int:
        return str.__hash__(self)

    def __html__(self) -> str:
        return str(self)   # the marker needs no escaping; the substituted value is escaped


def _tainting(name: str):
    method = getattr(str, name)

    def tainted(self, *args, **kwargs):
        self.log.append(TAINT)
        return method(self, *args, **kwargs)

    return tainted


_ALLOWED = {"__new__", "__init__", "__getattribute__", "__setattr__", "__delattr__", "__class__", "__str__",
            "__repr__", "__hash__", "__bool__", "__add__", "__format__", "__reduce__", "__reduce_ex__",
            "__getnewargs__", "__sizeof__", "__init_subclass__", "__subclasshook__", "__dir__", "__doc__",
            "__html__", "__getstate__"}
for _name in dir(str):
    if _name not in _ALLOWED and callable(getattr(str, _name)):
        setattr(Slot, _name, _tainting(_name))


class Flag:
    """Stands for a mirror's true/false property: testing it is recorded, anything else taints."""

    def __init__(self, number: int, truth: bool, log: list):
        self.number, self.truth, self.log = number, truth, log

    def __bool__(self) -> bool:
        self.log.append((self.number, self.truth))
        return self.truth

    def __getattr__(self, name: str) -> Any:
        self.log.append(TAINT)
        raise AttributeError(name)

    def __str__(self) -> str:
        self.log.append(TAINT)
        return str(self.truth)

    def __eq__(self, other: object) -> bool:
        self.log.append(TAINT)
        return self.truth == other

    __hash__ = object.__hash__


class SlotAlternate:
    """Another mirror as the slotted `mirror.alternates` shows it."""

    def __init__(self, url: Slot, host: Slot, label: Slot, is_onion: Flag, has_label: Flag):
        self.url, self.host, self.label, self.is_onion, self.has_label = url, host, label, is_onion, has_label

    def absolute(self, site_path: str) -> str:
        """Return this alternate's URL for a site path."""
        return self.url + site_path.lstrip("/")


def split(html: str) -> tuple[list[str], list[int]] | None:
    """Return a slotted render as its texts and, between them, the numbers of its slots; None if
    any marker was changed by a filter (then the page is rendered for each mirror on its own).

    Split once, a render costs one join per mirror. Only the texts are searched for a changed
    marker: a mirror's values come from its config and hold none."""
    parts = _MARK.split(html)
    texts = parts[0::2]
    if len(texts) > 1:
        rest = "".join(texts)
        if any(mark in rest for mark in _MANGLED):
            return None
    elif any(mark in html for mark in _MANGLED):
        return None
    return texts, [int(n) for n in parts[1::2]]


def fill(pieces: tuple[list[str], list[int]], values: list[str]) -> str:
    """Return a split render (see split) with each slot replaced by this mirror's value."""
    texts, numbers = pieces
    out: list[str | None] = [None] * (2 * len(numbers) + 1)
    out[0::2] = texts
    out[1::2] = [values[n] for n in numbers]
    return "".join(out)   # type: ignore[arg-type]


def escaped(text: str | None) -> str:
    """Return a value as autoescaping shows it (None shows as 'None', as Jinja does)."""
    return str(escape(str(text)))


def quoted(url: str) -> str:
    """Return a URL percent-encoded as a share link carries it."""
    return quote(url, safe="")


def groups_for(log: list, truths: Callable[[int], list[bool]], members: list[int]) -> list[int] | None:
    """Return the members whose recorded tests come out as the render's did (None if tainted)."""
    if TAINT in log:
        return None
    tests = dict(log)
    return [m for m in members if all(truths(m)[number] == truth for number, truth in tests.items())]


__all__ = ["Slot", "Flag", "SlotAlternate", "split", "fill", "escaped", "quoted", "groups_for", "Markup"]
