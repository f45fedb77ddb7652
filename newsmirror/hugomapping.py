"""Hugo front matter to newsmirror's: keys read case-insensitively (as Hugo does), mapped, checked
so the build accepts them, and everything else kept as written; each step is recorded for the report."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from pathlib import PurePosixPath
from typing import Any

from .config import Config
from .dates import parse_date
from .importreport import ROOT_SECTION, Findings

DEFAULT_TAXONOMIES = ("tags", "categories", "topics")
# Hugo's own front matter keys that mean nothing to newsmirror (kept as written, and reported)
HUGO_ONLY = frozenset({"weight", "linktitle", "keywords", "type", "menu", "menus", "outputs", "markup",
                       "headless", "build", "_build", "cascade", "resources", "sitemap", "translationkey",
                       "iscjklanguage", "params", "publishdate", "pubdate", "published", "description",
                       "expirydate", "lastmod", "modified", "unpublishdate"})
# newsmirror keys whose value must have a certain type; Hugo sites use some of these names freely
TYPED = {"draft": bool, "featured": bool, "caption": str, "alt": str, "credit": str, "language": str}
_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})-")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_TOKEN = re.compile(r":(year|monthname|month|day|slugorfilename|slug|title|filename|contentbasename|sections|"
                    r"section|[a-z]+)")
_PARAM = re.compile(r"""\{\{([<%])\s*param\s+(?:"([^"]+)"|'([^']+)'|([\w.-]+))\s*[>%]\}\}""")


def _lookup(data: dict, dotted: str) -> Any:
    """Return a value by a dotted, case-insensitive key path (`params.author`), or None."""
    value: Any = data
    for part in dotted.lower().split("."):
        if not isinstance(value, dict):
            return None
        value = {str(k).lower(): v for k, v in value.items()}.get(part)
    return value


def replace_params(body: str, data: dict, hugo: dict, rel: str, findings: Findings) -> str:
    """Return `body` with `{{< param "key" >}}` replaced by the page's (else the site's) value,
    as Hugo does; a key found nowhere stays, and is reported as a shortcode without a layout."""
    if "param" not in body:
        return body

    def one(m: re.Match) -> str:
        key = m[2] or m[3] or m[4]
        value = _lookup(data, key)
        value = _lookup(hugo.get("params") or {}, key) if value is None else value
        if value is None or isinstance(value, (dict, list)):
            return m.group(0)
        findings.add("mapped", "{{< param >}}: replaced by the value from the front matter or the "
                               "Hugo site's params", rel)
        return str(value)

    return _PARAM.sub(one, body)


class _Source:
    """A Hugo file's front matter, read by case-insensitive key (as Hugo does), remembering what
    was used, so whatever is left is kept as written and reported."""

    def __init__(self, data: dict, rel: str, findings: Findings):
        self.data, self.rel, self.findings, self.used = data, rel, findings, set()
        self.lower: dict[str, tuple[str, Any]] = {}
        for key, value in data.items():
            self.lower.setdefault(str(key).lower(), (str(key), value))

    def take(self, *keys: str) -> tuple[str | None, Any]:
        """Return (key as written, value) of the first of `keys` with a value, else (None, None)."""
        for key in keys:
            if key in self.lower:
                self.used.add(key)
                name, value = self.lower[key]
                if value is not None and value != "":
                    return name, value
        return None, None

    def mapped(self, hugo_key: str | None, to: str) -> None:
        """Record that a Hugo key became a newsmirror key of another name."""
        if hugo_key is not None and hugo_key.lower() != to:
            self.findings.add("mapped", f"{hugo_key} -> {to}", self.rel)

    def rest(self) -> list[tuple[str, Any]]:
        """Return the keys not used, in the order written."""
        return [(str(k), v) for k, v in self.data.items() if str(k).lower() not in self.used]


def map_front_matter(data: dict, rel: str, body: str, taxonomies, index: bool, config: Config,
                     now: datetime, findings: Findings) -> dict | None:
    """Return newsmirror front matter for a Hugo file's (None when no date can be found)."""
    src = _Source(data, rel, findings)
    out: dict[str, Any] = {}
    _, title = src.take("title")
    if title is not None and str(title).strip():
        out["title"] = title if isinstance(title, str) else str(title)
    elif not index:
        out["title"], how = _made_up_title(body, rel)
        findings.add("titles", "no title in front matter", rel, f'{rel}: "{out["title"]}" ({how})')
    if not index:
        out["date"] = _article_date(src.take, rel, findings)
        if out["date"] is None:
            findings.add("left out", "no date: no date, publishdate or lastmod, and no YYYY-MM-DD- in "
                                     "the file name", rel)
            return None
        out.update(_later_dates(src, config, now))
    _, slug = src.take("slug")
    if slug is not None:
        out["slug"] = slug if isinstance(slug, (str, int)) and not isinstance(slug, bool) else str(slug)
    if not index and len(PurePosixPath(rel).parts) == 1:
        out["section"] = ROOT_SECTION
        findings.add("sections", f"directly in content/: given `section: {ROOT_SECTION}`", rel)
    out.update(_texts_and_lists(src, taxonomies))
    out.update(_typed(src))
    for name, value in src.rest():
        out[name] = _plain(value)
        if not index:   # an _index.md's other keys are the Hugo list page's; only articles count
            findings.add("hugo keys" if name.lower() in HUGO_ONLY else "site keys", name, rel)
    return out


def _later_dates(src: _Source, config: Config, now: datetime) -> dict:
    """Return `updated` and `expires` from lastmod and expirydate (renamed when not dates)."""
    out = {}
    for to, keys in (("updated", ("updated", "lastmod", "modified")),
                     ("expires", ("expires", "expirydate", "unpublishdate"))):
        key, value = src.take(*keys)
        if value is None:
            continue
        moment = parse_date(_plain(value), config.zone)
        if isinstance(moment, str):
            out[f"hugo_{to}"] = _plain(value)
            src.findings.add("renamed", f"{key} -> hugo_{to} (not a date: {moment})", src.rel)
            continue
        out[to] = _plain(value)
        src.mapped(key, to)
        if to == "expires":
            src.findings.add("expired", "all", src.rel)
            if moment <= now:
                src.findings.add("expired", "past", src.rel)
    return out


def _texts_and_lists(src: _Source, taxonomies) -> dict:
    """Return summary, tags, authors, image and aliases."""
    out: dict[str, Any] = {}
    key, summary = src.take("summary")
    if summary is None:
        key, summary = src.take("description")
        if key is None:
            src.used.discard("description")   # an empty description stays as written
    if summary is not None:
        out["summary"] = summary if isinstance(summary, str) else str(summary)
        src.mapped(key, "summary")
    tags = _terms(taxonomies, src)
    if tags:
        out["tags"] = tags
    key, authors = src.take("authors", "author")
    authors = _scalars(authors, key, src)
    if authors:
        out["authors"] = authors
        src.mapped(key, "authors")
    key, image = src.take("image")
    if image is None:
        key, images = src.take("images")
        image = images[0] if isinstance(images, list) and images else images
        src.mapped(key, "image")
    if isinstance(image, (str, dict)):
        out["image"] = image
    aliases = _aliases(src)
    if aliases:
        out["aliases"] = aliases
    return out


def _typed(src: _Source) -> dict:
    """Return the newsmirror keys that must have a type (draft, featured, ...), and Hugo's layout
    and section, renamed `hugo_KEY` when their value or meaning does not carry over."""
    out: dict[str, Any] = {}
    for key, kind in TYPED.items():
        name, value = src.take(key)
        if value is None:
            continue
        if kind is bool and isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if isinstance(value, kind):
            out[key] = value
        else:   # a Hugo site's own param under a newsmirror name: kept, renamed, so the build accepts it
            out[f"hugo_{key}"] = _plain(value)
            src.findings.add("renamed", f"{name} -> hugo_{key} (newsmirror's {key} must be "
                                        f"{'true or false' if kind is bool else 'text'})", src.rel)
    for key in ("layout", "section"):
        name, value = src.take(key)
        if value is not None:
            out[f"hugo_{key}"] = _plain(value)
            src.findings.add("renamed", f"{name} -> hugo_{key} (Hugo's meaning does not carry over)", src.rel)
    return out


def _article_date(take, rel: str, findings: Findings) -> str | None:
    """Return an article's date: `date`, else publishdate, the file name's date, or lastmod."""
    key, value = take("date")
    pkey, published = take("publishdate", "pubdate", "published")
    if value is not None:
        if published is not None and _plain(published) != _plain(value):
            findings.add("dates", f"{pkey} differs from date: date kept (it also dates the URL)", rel)
        return _plain(value)
    if published is not None:
        findings.add("dates", f"no date: {pkey} used", rel)
        return _plain(published)
    prefix = _DATE_PREFIX.match(PurePosixPath(rel).name)
    if prefix:
        findings.add("dates", "no date: the file name's date used", rel)
        return prefix.group(1)
    key, lastmod = take("lastmod", "modified")
    if lastmod is not None:
        findings.add("dates", f"no date: {key} used", rel)
        return _plain(lastmod)
    return None


def _made_up_title(body: str, rel: str) -> tuple[str, str]:
    """Return a title for a file without one: its first heading, else its file name."""
    heading = _HEADING.search(body)
    if heading and heading.group(1).strip():
        return heading.group(1).strip(), "from its first heading"
    path = PurePosixPath(rel)
    stem = path.parent.name if path.stem == "index" else path.stem
    words = _DATE_PREFIX.sub("", stem + "-").rstrip("-").replace("-", " ").replace("_", " ").strip()
    words = words or stem
    return words[:1].upper() + words[1:], "from the file name"


def _scalars(value: Any, key: str | None, src: _Source) -> list[str]:
    """Return a list of names from one name or a list; other values are reported and dropped."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool) and str(item).strip():
            out.append(str(item).strip())
        elif item not in (None, ""):
            src.findings.add("dropped", f"{key}: a value that is not a name", src.rel, f"{src.rel}: {item!r}")
    return out


def _terms(taxonomies, src: _Source) -> list[str]:
    """Return the tags: every taxonomy's terms, in order, each once."""
    tags: list[str] = []
    for taxonomy in taxonomies:
        key, value = src.take(taxonomy)
        terms = _scalars(value, key, src)
        if terms:
            src.mapped(key, "tags")
        tags += [t for t in terms if t not in tags]
    return tags


def _aliases(src: _Source) -> list[str]:
    """Return the old URLs: `aliases`, plus `url` (where Hugo put the page, now redirecting here)."""
    key, value = src.take("aliases")
    aliases = _scalars(value, key, src)
    ukey, url = src.take("url")
    if isinstance(url, str) and url.strip():
        aliases.append(url.strip())
        src.findings.add("mapped", f"{ukey} -> aliases (Hugo's URL of the page now redirects to it)", src.rel)
    for alias in aliases:
        if not alias.startswith(("/", "http://", "https://")):
            src.findings.add("aliases", "relative: taken from the site root", src.rel, f"{src.rel}: {alias}")
    return aliases


def _plain(value: Any) -> Any:
    """Return a front matter value with TOML/YAML dates as text (newsmirror reads dates from text)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def hugo_url(rel: str, data: dict, hugo: dict, config: Config) -> str | None:
    """Return the path Hugo published an article at: by its section's `permalinks` pattern, else
    the file's folder and slug (or file name); None for a pattern token not understood here."""
    path = PurePosixPath(rel)
    section = path.parts[0] if len(path.parts) > 1 else ""
    filename = path.parent.name if path.stem == "index" else path.stem
    folder = path.parent.parent if path.stem == "index" else path.parent
    slug = _urlize(str(data.get("slug") or ""))
    permalinks = _lower_keys(hugo.get("permalinks"))
    permalinks = _lower_keys(permalinks.get("page")) or permalinks   # Hugo 0.120+: per kind
    pattern = permalinks.get(section)
    if not isinstance(pattern, str):
        url = f"/{folder.as_posix()}/{slug or _urlize(filename)}/".replace("/./", "/")
    else:
        moment = parse_date(data["date"], config.zone)
        if isinstance(moment, str):
            return None
        values = {"year": f"{moment.year:04d}", "month": f"{moment.month:02d}", "day": f"{moment.day:02d}",
                  "monthname": moment.strftime("%B"), "slug": slug or _urlize(str(data.get("title", ""))),
                  "slugorfilename": slug or filename, "title": _urlize(str(data.get("title", ""))),
                  "filename": filename, "contentbasename": filename, "section": section,
                  "sections": folder.as_posix()}
        url = _TOKEN.sub(lambda m: values.get(m[1], m[0]), pattern)
        if any(m[1] not in values for m in _TOKEN.finditer(pattern)):
            return None
    return url if hugo.get("disablepathtolower") else url.lower()


def _lower_keys(value: Any) -> dict:
    return {str(k).lower(): v for k, v in value.items()} if isinstance(value, dict) else {}


def _urlize(text: str) -> str:
    """Return text as Hugo's urlize makes it a path segment: spaces and punctuation become '-'."""
    return re.sub(r"[^\w.~-]+", "-", text.strip(), flags=re.UNICODE).strip("-")
