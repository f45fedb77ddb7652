"""Interface strings per language (`layouts/i18n/<code>.yaml`) and dates in each language's format.

Layouts write interface text in English and pass it through `t()`: `{{ t("Share this article") }}`.
The English text is the key, so an English edition needs no file; another language's file maps
each English text to its translation. A text its file lacks falls back to the default language's
file, then to the English itself, and the build warns once per file and text."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_time as babel_time
from babel.dates import get_datetime_format

from .config import Config
from .errors import Problem, display_path
from .yamltext import YamlSyntaxError, parse_yaml

FOLDER = "i18n"
# texts the build itself puts in page titles and breadcrumbs, besides the layouts'
BUILD_TEXTS = {"News": "the home breadcrumb", "Tags": "the tags page's title",
               "Authors": "the authors page's title", "Archive": "the archive's title",
               "Page not found": "the 404 page's title"}
# t("text") or t('text') in a layout: the texts a language file should translate
_USE = re.compile(r"""\bt\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')""")
# the digits of CLDR numbering systems, by their first digit: Babel names the locale's system
# (fa: arabext) but formats dates with ASCII digits, so they are swapped afterwards
_ZERO = {"arab": "\u0660", "arabext": "\u06f0", "beng": "\u09e6", "deva": "\u0966", "mymr": "\u1040",
         "thai": "\u0e50", "tibt": "\u0f20", "khmr": "\u17e0", "laoo": "\u0ed0", "gujr": "\u0ae6",
         "guru": "\u0a66", "knda": "\u0ce6", "mlym": "\u0d66", "orya": "\u0b66", "taml": "\u0be6",
         "telu": "\u0c66"}


@dataclass(frozen=True)
class Strings:
    """Every language's interface strings: {code: {English text: translation}}."""

    default: str
    tables: dict[str, dict[str, str]] = field(default_factory=dict)

    def translator(self, code: str, locale: str) -> Callable[..., str]:
        """Return `t()` for a language: its text for an English text, with `{name}` values filled
        in (numbers in the language's digits)."""
        own, fallback = self.tables.get(code, {}), self.tables.get(self.default, {})
        digits = digits_of(locale)

        def t(text: str, **values: Any) -> str:
            out = own.get(text) or fallback.get(text) or text
            if values:
                out = out.format(**{k: digits(str(v)) if isinstance(v, int) else v for k, v in values.items()})
            return out

        return t


def load_strings(config: Config) -> tuple[Strings, list[Problem]]:
    """Return the interface strings of every language, with problems (a bad file) and warnings
    (a missing file or text) naming the file."""
    folder = config.layouts_dir / FOLDER
    default = config.languages[0].code
    tables: dict[str, dict[str, str]] = {}
    problems: list[Problem] = []
    used = _used_texts(config.layouts_dir)
    for language in config.languages:
        path = folder / f"{language.code}.yaml"
        shown = display_path(path, config.root)
        if not path.is_file():
            if not _is_english(language.code) and used:
                problems.append(Problem(shown, 0, f"no interface strings for '{language.code}': the "
                                                  "layouts' texts are shown in English until this file "
                                                  "translates them", warning=True))
            continue
        table, file_problems = _read_table(path, shown)
        tables[language.code] = table
        problems += file_problems
        if file_problems:
            continue
        fallback = "English" if language.code == default or default not in tables else f"'{default}'"
        for text, where in [*used.items(), *((k, v) for k, v in BUILD_TEXTS.items() if k not in used)]:
            if text not in table:
                shown_use = where if isinstance(where, str) else \
                    f"used in {display_path(where[0], config.root)}:{where[1]}"
                problems.append(Problem(shown, 0, f"no translation of \"{text}\" ({shown_use}); the "
                                                  f"{fallback} text is shown", warning=True))
    return Strings(default, tables), problems


def _is_english(code: str) -> bool:
    return code.split("-")[0].lower() == "en"


def _read_table(path: Path, shown: str) -> tuple[dict[str, str], list[Problem]]:
    """Return one language file's {English text: translation}, or the problems in it."""
    try:
        text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [Problem(shown, 0, f"cannot read the interface strings: {exc}")]
    try:
        doc = parse_yaml(text)
    except YamlSyntaxError as exc:
        return {}, [Problem(shown, exc.line, f"YAML syntax error: {exc.message}")]
    if doc.data is None:
        return {}, []
    if not isinstance(doc.data, dict):
        return {}, [Problem(shown, 1, "expected a mapping of English text to its translation, like "
                                      "\"Share this article\": \"...\"")]
    table, problems = {}, []
    for key, value in doc.data.items():
        if not isinstance(key, str) or not isinstance(value, str):
            problems.append(Problem(shown, doc.line(key, default=1),
                                    f"{key!r}: expected text for text (quote both sides), got {value!r}"))
            continue
        table[key] = value
    return table, problems


def _used_texts(layouts: Path) -> dict[str, tuple[Path, int]]:
    """Return every text the layouts pass to t(), with the first file and line using it."""
    found: dict[str, tuple[Path, int]] = {}
    if not layouts.is_dir():
        return found
    for path in sorted(layouts.rglob("*.html")):
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue   # the render reports an unreadable layout
        for number, line in enumerate(source.splitlines(), 1):
            for m in _USE.finditer(line):
                text = (m.group(1) if m.group(1) is not None else m.group(2)).replace('\\"', '"') \
                    .replace("\\'", "'")
                found.setdefault(text, (path, number))
    return found


@lru_cache(maxsize=None)
def digits_of(locale: str) -> Callable[[str], str]:
    """Return a function writing ASCII digits in the locale's own digits (unchanged for latn)."""
    system = Locale.parse(locale).default_numbering_system if _known(locale) else "latn"
    zero = _ZERO.get(system)
    if zero is None or unicodedata.digit(zero, None) != 0:
        return lambda text: text
    table = str.maketrans("0123456789", "".join(chr(ord(zero) + i) for i in range(10)))
    return lambda text: text.translate(table)


@lru_cache(maxsize=None)
def _known(locale: str) -> bool:
    try:
        Locale.parse(locale)
    except Exception:  # noqa: BLE001 - unknown to Babel: dates in en_GB
        return False
    return True


def date_formatter(zone, locale: str) -> Callable[..., str]:
    """Return the `format_date` template function: a moment in the site's zone, in the locale's
    long date (`long`), medium date (`short`) or long date with the time (`datetime`)."""
    locale = locale if _known(locale) else "en_GB"
    digits = digits_of(locale)
    joined = get_datetime_format("medium", locale=locale)
    locale = Locale.parse(locale)   # parsed once: Babel parses a locale name at every call

    # a listing shows twenty dates, and each story's date appears on a dozen pages: Babel
    # formats each (instant, style) once (equal instants format alike: the zone is the site's)
    @lru_cache(maxsize=1 << 16)
    def format_date(moment: datetime, style: str = "long") -> str:
        local = moment.astimezone(zone)
        if style == "short":
            out = babel_date(local, "medium", locale=locale)
        elif style == "datetime":
            out = str(joined).replace("{1}", babel_date(local, "long", locale=locale)).replace(
                "{0}", babel_time(local, "short", tzinfo=zone, locale=locale))
        else:
            out = babel_date(local, "long", locale=locale)
        return digits(out)

    return format_date


def month_label(moment: datetime, locale: str) -> str:
    """Return a month and year as the locale names them on their own (November 2026, نوامبر ۲۰۲۶)."""
    locale = locale if _known(locale) else "en_GB"
    return digits_of(locale)(babel_date(moment, "LLLL y", locale=locale))


def language_name(code: str) -> str:
    """Return a language's name in itself (`fa` → فارسی), as a language switcher shows it."""
    try:
        name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_"))
    except Exception:  # noqa: BLE001 - a code Babel does not know shows as itself
        return code
    return name[:1].upper() + name[1:] if name else code

