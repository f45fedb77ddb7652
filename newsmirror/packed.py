"""Text kept compressed in memory: article bodies and their search words.

A build holds every article's body from parsing to the last feed. As Python strings they were
most of a large site's memory: the link tokens (U+E000) make each body two bytes a character,
about 13 KB an article. Compressed UTF-8 is about 2 KB, and a page that shows a body
decompresses it in about 50 µs."""

from __future__ import annotations

import zlib


class PackedText:
    """A text stored zlib-compressed; str() gives it back. As a body it is HTML already, so
    Jinja shows it as it is (`__html__`), like the Markup it stands for."""

    __slots__ = ("data", "length")

    def __init__(self, data: bytes, length: int):
        self.data, self.length = data, length

    @classmethod
    def of(cls, text: "str | PackedText") -> "PackedText":
        """Return `text` packed (a PackedText is returned as it is)."""
        if isinstance(text, PackedText):
            return text
        return cls(zlib.compress(str(text).encode("utf-8")), len(text))

    def __str__(self) -> str:
        return zlib.decompress(self.data).decode("utf-8")

    def __html__(self) -> str:
        return str(self)

    def __len__(self) -> int:
        return self.length

    def __bool__(self) -> bool:
        return self.length > 0

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PackedText):
            return self.data == other.data
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.data)

    def __repr__(self) -> str:
        return f"PackedText({self.length} characters)"

    def __reduce__(self):
        return PackedText, (self.data, self.length)
