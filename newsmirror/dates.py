"""Front matter dates: YAML dates and datetimes, and the strings real content is written with."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone, tzinfo

_DATE_RE = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,6})\d*)?)?)?"
    r"\s*(?P<tz>Z|UTC|GMT|[+-]\d{1,2}(?::?\d{2})?)?$",
    re.IGNORECASE)


def parse_date(value: object, zone: tzinfo) -> datetime | str:
    """Return an aware datetime for a front matter value, or a message saying what is wrong.

    A time without an offset is in `zone`; a date alone is midnight in `zone`."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(), tzinfo=zone)
    if not isinstance(value, str):
        return f"expected a date like 2026-11-28 or 2026-11-28 14:05 +01:00, got {value!r}"
    match = _DATE_RE.match(value.strip())
    if not match:
        return f"'{value}' is not a date; write it like 2026-11-28 or 2026-11-28 14:05:00 +01:00"
    g = match.groupdict()
    try:
        moment = datetime(int(g["y"]), int(g["m"]), int(g["d"]), int(g["H"] or 0), int(g["M"] or 0),
                          int(g["S"] or 0), int((g["f"] or "0").ljust(6, "0")))
    except ValueError as exc:
        return f"'{value}' is not a real date ({exc})"
    offset = _offset(g["tz"])
    if offset is None:
        return moment.replace(tzinfo=zone)
    if isinstance(offset, str):
        return f"'{value}': {offset}"
    return moment.replace(tzinfo=offset)


def _offset(text: str | None) -> timezone | str | None:
    """Return the fixed offset written in a date string, None if none, or a message."""
    if not text:
        return None
    if text.upper() in ("Z", "UTC", "GMT"):
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
    if hours > 14 or minutes > 59:
        return f"the offset {text} is out of range"
    return timezone(sign * timedelta(hours=hours, minutes=minutes))
