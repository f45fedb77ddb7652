"""Articles: one Markdown file with YAML front matter in, one checked Article out."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from .dates import parse_date
from .errors import Problem, template_frame
from .links import LinkPolicy, RefUse, ref_uses, token_path
from .markup import BodyConverter, ShortcodeUse, cut_summary
from .packed import PackedText
from .words import body_words
from .yamltext import YamlSyntaxError, parse_yaml

KNOWN_KEYS = frozenset({"title", "date", "updated", "lastmod", "section", "slug", "summary", "tags",
                        "authors", "author", "image", "caption", "alt", "credit", "draft", "expires",
                        "aliases", "language", "layout", "featured", "translation_key",
                        "translationKey"})
WORDS_PER_MINUTE = 230


@dataclass(frozen=True)
class Image:
    """An article's lead image: a site path or absolute URL, with alt text, caption and credit."""

    src: str
    alt: str = ""
    caption: str = ""
    credit: str = ""


@dataclass(frozen=True)
class Article:
    """One article as written: checked front matter and its body converted once, for all mirrors."""

    source: str            # path shown in messages, relative to the config's folder
    name: str              # path relative to content/ (what {{< ref >}} names)
    title: str
    date: datetime
    updated: datetime | None
    section: str
    slug: str
    path: str              # site path of the article page
    line: int              # line of the front matter key that decides the path (for problems)
    summary: str
    tags: tuple[str, ...]
    authors: tuple[str, ...]
    image: Image | None
    draft: bool
    expires: datetime | None
    aliases: tuple[str, ...]
    alias_lines: tuple[int, ...]
    language: str | None
    layout: str
    featured: bool
    body: PackedText       # HTML with link tokens (see links.py), compressed (see packed.py)
    words: int
    translation_key: str | None = None   # articles sharing it are translations of each other
    extra: dict = field(compare=False, default_factory=dict)
    search_words: PackedText | str = field(default="", compare=False, repr=False)   # words.body_words(body)
    refs: tuple[RefUse, ...] = field(default=(), compare=False, repr=False)   # links.ref_uses(body)

    @property
    def reading_minutes(self) -> int:
        """Return the reading time in whole minutes (at least one)."""
        return max(1, round(self.words / WORDS_PER_MINUTE))


@dataclass(frozen=True)
class SectionPage:
    """A Hugo-style `_index.md`: title, description and old URLs of a section (or home)."""

    source: str
    section: str           # "" for the content root
    title: str | None
    description: str | None
    aliases: tuple[str, ...]
    alias_lines: tuple[int, ...] = ()


@dataclass(frozen=True)
class ParseSettings:
    """What parsing needs from the config; small and picklable for worker processes."""

    root: Path
    content_dir: Path
    layouts_dir: Path
    timezone: str
    permalink: str
    policy: LinkPolicy
    layouts: frozenset[str]
    language_paths: tuple[tuple[str, str], ...] = ()   # (code, site path prefix) of each edition


@dataclass(frozen=True)
class Parsed:
    """The outcome of parsing one file: an Article or SectionPage, and its problems."""

    item: Article | SectionPage | None
    problems: tuple[Problem, ...] = ()
    shortcodes: tuple[tuple[str, int, int], ...] = ()   # unknown shortcode: (name, count, line)
    key: str = ""          # the build cache's key: settings, path and bytes of the file


def parse_file(path: Path, settings: ParseSettings) -> Parsed:
    """Return the Article (or section page) in the file at `path`, or the problems that stop it."""
    shown = _shown(path, settings.root)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Parsed(None, (Problem(shown, 0, f"cannot read the file: {exc.strerror}"),))
    return parse_text(raw, path, shown, settings)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def parse_text(raw: bytes, path: Path, shown: str, settings: ParseSettings) -> Parsed:
    """Return the parsed file from its bytes (see parse_file)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        return Parsed(None, (Problem(shown, line, f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                                                  "save the file as UTF-8"),))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    split = _split_front_matter(text, shown)
    if isinstance(split, Problem):
        return Parsed(None, (split,))
    head, body, body_line = split
    try:
        doc = parse_yaml(head, first_line=_fence_line(text) + 1)
    except YamlSyntaxError as exc:
        return Parsed(None, (Problem(shown, exc.line, f"front matter: YAML syntax error: {exc.message}"),))
    if not isinstance(doc.data, dict):
        what = "empty" if doc.data is None else f"a {type(doc.data).__name__}"
        return Parsed(None, (Problem(shown, 2, f"front matter is {what}, not a mapping of keys; write "
                                               "lines like `title: My headline`"),))
    rel = path.relative_to(settings.content_dir)
    if path.name == "_index.md":
        return _section_page(doc, rel, shown)
    return _article(doc, body, body_line, rel, shown, settings)


def _split_front_matter(text: str, shown: str) -> tuple[str, str, int] | Problem:
    """Return (front matter, body, first line of body), or the problem with the fences."""
    lines = text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1  # blank lines before the fence are common in real content, and harmless
    if start == len(lines) or lines[start].strip() != "---":
        return Problem(shown, start + 1 if start < len(lines) else 1,
                       "no front matter: start the file with a line `---`, then keys such as "
                       "`title:` and `date:`, then a line `---`")
    for index in range(start + 1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            return "\n".join(lines[start + 1:index]), "\n".join(lines[index + 1:]), index + 2
    return Problem(shown, start + 1, "front matter opened here is never closed: add a line `---` "
                                     "after its last key")


def _fence_line(text: str) -> int:
    """Return the 1-based line of the opening `---` (after any blank lines)."""
    return len(text) - len(text.lstrip("\n")) + 1 if text.startswith("\n") else 1


def _section_page(doc, rel: Path, shown: str) -> Parsed:
    """Return a section's `_index.md` as a SectionPage."""
    data = doc.data
    section = rel.parts[0] if len(rel.parts) > 1 else ""
    problems: list[Problem] = []
    aliases = _aliases(data.get("aliases"), doc, shown, problems)
    title = data.get("title")
    description = data.get("summary") or data.get("description")
    return Parsed(SectionPage(shown, section, str(title) if title is not None else None,
                              str(description) if description is not None else None, aliases,
                              _alias_lines(doc, aliases)),
                  tuple(problems))


def _article(doc, body: str, body_line: int, rel: Path, shown: str, settings: ParseSettings) -> Parsed:
    """Return the Article for checked front matter and its converted body."""
    data, problems = doc.data, []

    def problem(key: str, message: str) -> None:
        problems.append(Problem(shown, doc.line(key, default=2), message))

    zone = ZoneInfo(settings.timezone)
    title = data.get("title")
    if title is None or (isinstance(title, str) and not title.strip()):
        problem("title", "title is missing: add a line like `title: \"Harbour strike ends\"`")
    elif not isinstance(title, str):
        problem("title", f"title: YAML reads the unquoted value as {_yaml_kind(title)}, not text: "
                         f"quote it, like title: \"{_as_written(doc, 'title', title)}\"")
    date = _date(data, "date", zone, problem, required=True)
    updated = _date(data, "updated", zone, problem) or _date(data, "lastmod", zone, problem)
    expires = _date(data, "expires", zone, problem)
    section = _text(data.get("section"), "section", problem) or (rel.parts[0] if len(rel.parts) > 1 else "")
    if not section:
        problem("section", "no section: put the file in a section folder (content/politics/...) "
                           "or add `section: politics`")
    elif not _safe_segment(section):
        problem("section", f"section: '{section}' is not a safe folder name (letters, digits, '-', '_')")
    slug = _slug(data.get("slug"), rel, problem)
    tags = _string_list(data.get("tags"), "tags", problem)
    authors = _string_list(data.get("authors", data.get("author")), "authors", problem)
    image = _image(data, problem, settings.policy)
    draft = _flag(data, "draft", problem)
    featured = _flag(data, "featured", problem)
    language = _text(data.get("language"), "language", problem)
    if language and not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", language):
        problem("language", f"language: '{language}' is not a language code such as en or fa")
    key_name = "translation_key" if "translation_key" in data else "translationKey"   # Hugo's spelling
    translation_key = data.get(key_name)
    if translation_key is not None and (isinstance(translation_key, bool)
                                        or not isinstance(translation_key, (str, int))
                                        or not str(translation_key).strip()):
        problem(key_name, f"{key_name}: expected text shared by the translations of one article, "
                          f"like {key_name}: fisheries-talks, got {translation_key!r}")
        translation_key = None
    layout = _text(data.get("layout"), "layout", problem) or "article"
    if layout + ".html" not in settings.layouts:
        problem("layout", f"layout: no layout '{layout}': there is no layouts/{layout}.html "
                          f"(available: {', '.join(sorted(n[:-5] for n in settings.layouts))})")
    summary = _text(data.get("summary"), "summary", problem)
    aliases = _aliases(data.get("aliases"), doc, shown, problems)
    path = None
    if date is not None and slug and section:
        path = _permalink(settings.permalink, section, date.astimezone(zone), slug)
        prefix = {c.lower(): p for c, p in settings.language_paths}.get(language.lower()) if language else None
        if path is not None and prefix:
            path = prefix + path   # an article of another language edition lives under its folder
        if path is None:
            problem("slug", f"slug: '{slug}' would write outside the output folder; use letters, "
                            "digits and '-'")
    use = ShortcodeUse()
    converted = _converter(settings.layouts_dir, settings.policy).convert(body, body_line, use, rel.as_posix())
    problems += [Problem(shown, line, message) for line, message in use.errors]
    if problems:
        return Parsed(None, tuple(problems))
    extra = {key: value for key, value in data.items() if key not in KNOWN_KEYS}
    article = Article(
        source=shown, name=rel.as_posix(), title=title.strip(), date=date, updated=updated, section=section, slug=slug,
        path=path, line=doc.line("slug", default=doc.line("title", default=2)), summary=_plain(summary) if summary else cut_summary(converted.first_paragraph),
        tags=tags, authors=authors, image=image, draft=draft, expires=expires, aliases=aliases,
        language=language, layout=layout, featured=featured, alias_lines=_alias_lines(doc, aliases),
        body=PackedText.of(converted.html), words=converted.words, extra=extra,
        translation_key=str(translation_key).strip() if translation_key is not None else None,
        search_words=PackedText.of(body_words(converted.html)), refs=tuple(ref_uses(converted.html)))
    unknown = tuple((name, count, use.first_line[name]) for name, count in sorted(use.unknown.items()))
    return Parsed(article, (), unknown)


def _yaml_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, datetime) or hasattr(value, "isoformat"):
        return "a date"
    return {list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)


def _as_written(doc, key: str, value: Any) -> str:
    """Return a scalar as the user wrote it (`no`, not False), from the YAML source line."""
    for line in doc.source.split("\n"):
        if line.startswith(f"{key}:"):
            return line.split(":", 1)[1].strip()
    return str(value)


def _plain(text: str) -> str:
    """Return summary text with HTML entities decoded (content from CMSes often has them)."""
    import html
    return " ".join(html.unescape(text).split())


def _text(value: Any, key: str, problem) -> str | None:
    """Return a text field (numbers accepted as text), or None when absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        problem(key, f"{key}: expected text, got {_yaml_kind(value)} {value!r}; quote it")
        return None
    return str(value).strip()


def _flag(data: dict, key: str, problem) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        problem(key, f"{key}: expected true or false, got {value!r}")
        return False
    return value


def _date(data: dict, key: str, zone, problem, required: bool = False) -> datetime | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            problem(key, f"{key} is missing: add a line like `{key}: 2026-11-28 09:30`")
        return None
    parsed = parse_date(value, zone)
    if isinstance(parsed, str):
        problem(key, f"{key}: {parsed}")
        return None
    return parsed


_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-(?=.)")


def _slug(value: Any, rel: Path, problem) -> str | None:
    """Return the slug from front matter (text or number) or from the file name."""
    if value is None:
        stem = rel.stem if rel.name != "index.md" or len(rel.parts) < 2 else rel.parent.name
        return _DATE_PREFIX.sub("", stem).strip().lower().replace(" ", "-")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        problem("slug", f"slug: expected text, got {value!r}")
        return None
    slug = str(value).strip()
    if "%" in slug:
        slug = unquote(slug)  # CMS exports write some slugs percent-encoded
    if "/" not in slug and ".." not in slug:
        # what Hugo's urlize does: spaces and invisible characters become hyphens
        slug = re.sub(r"[^\w.~-]+", "-", slug, flags=re.UNICODE).strip("-")
    if not slug:
        problem("slug", "slug is empty: remove it to use the file name, or give one")
        return None
    if not _safe_segment(slug):
        problem("slug", f"slug: '{slug}' would write outside the output folder; use letters, "
                        "digits and '-'")
        return None
    return slug


def _safe_segment(text: str) -> bool:
    return bool(re.fullmatch(r"[\w][\w.~-]*", text)) and ".." not in text


def _permalink(pattern: str, section: str, local: datetime, slug: str) -> str | None:
    """Return the article's site path, or None when it would leave the site."""
    path = pattern.format(section=section, yyyy=f"{local.year:04d}", mm=f"{local.month:02d}",
                          dd=f"{local.day:02d}", slug=slug)
    clean = posixpath.normpath(path)
    if clean.startswith("..") or "/../" in path:
        return None
    return path.lstrip("/")


def _string_list(value: Any, key: str, problem) -> tuple[str, ...]:
    """Return a list field; a single string counts as a list of one."""
    if value is None:
        return ()
    items = [value] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else value
    if not isinstance(items, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                              for v in items):
        problem(key, f"{key}: expected text or a list of text, got {value!r}")
        return ()
    seen = dict.fromkeys(str(v).strip() for v in items if str(v).strip())
    return tuple(seen)


def _image(data: dict, problem, policy: LinkPolicy) -> Image | None:
    """Return the lead image from `image` (text or mapping) and `caption`/`alt`/`credit`."""
    value = data.get("image")
    if value is None or value == "":
        return None
    fields = {"caption": data.get("caption"), "alt": data.get("alt"), "credit": data.get("credit")}
    if isinstance(value, dict):
        unknown = set(value) - {"src", "caption", "alt", "credit"}
        if unknown or not isinstance(value.get("src"), str):
            problem("image", "image: give a path or URL, or a mapping with src, alt, caption, credit")
            return None
        fields.update({k: value.get(k) or fields[k] for k in ("caption", "alt", "credit")})
        value = value["src"]
    if not isinstance(value, str):
        problem("image", f"image: expected a path or URL, got {value!r}")
        return None
    texts = {}
    for key, text in fields.items():
        texts[key] = _text(text, key, problem) or ""
    src = value.strip()
    # an image on any of the outlet's domains is served by whichever mirror shows the page
    own = token_path(policy.tokenise(src)) if src.startswith(("http://", "https://", "//", "/")) else None
    src = own if own is not None else src
    if not src.startswith(("http://", "https://", "//")):
        src = src.lstrip("/")
    return Image(src=src, **texts)


def _alias_lines(doc, aliases: tuple[str, ...]) -> tuple[int, ...]:
    """Return the line of each alias (a single-line list gives them all the same line)."""
    return tuple(doc.line("aliases", index, default=2) for index in range(len(aliases)))


def _aliases(value: Any, doc, shown: str, problems: list) -> tuple[str, ...]:
    """Return old URLs as site paths; one that would leave the output folder is a problem."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list):
        problems.append(Problem(shown, doc.line("aliases", default=2), "aliases: expected a list of paths"))
        return ()
    out = []
    for index, item in enumerate(items):
        line = doc.line("aliases", index, default=2)
        if not isinstance(item, str) or not item.strip():
            problems.append(Problem(shown, line, f"aliases: expected a path like /old/url/, got {item!r}"))
            continue
        path = re.sub(r"^https?://[^/]+", "", item.strip())
        clean = posixpath.normpath("/" + path.lstrip("/"))
        if ".." in path.split("/") or "\\" in path or "\0" in path:
            problems.append(Problem(shown, line, f"aliases: '{item}' would write outside the output "
                                                 "folder; give a path inside the site like /old/url/"))
            continue
        site_path = clean.lstrip("/")
        last = site_path.rsplit("/", 1)[-1]
        if site_path and (path.endswith("/") or not last.lower().endswith((".html", ".htm"))):
            site_path += "/"  # like Hugo: /event/foo redirects from event/foo/index.html
        if not site_path:
            problems.append(Problem(shown, line, f"aliases: '{item}' is the home page; remove it"))
            continue
        out.append(site_path)
    return tuple(out)


@lru_cache(maxsize=4)
def _converter(layouts_dir: Path, policy: LinkPolicy) -> BodyConverter:
    """Return this process's body converter for a site (one per worker, reused for every file)."""
    return BodyConverter(_shortcodes(layouts_dir), policy)


@lru_cache(maxsize=4)
def _shortcodes(layouts_dir: Path):
    """Return a renderer for `layouts/shortcodes/NAME.html` (None for a name without a layout)."""
    folder = layouts_dir / "shortcodes"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(folder)), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=False)
    names = {p.stem for p in folder.glob("*.html")} if folder.is_dir() else set()

    def render(name: str, args: list, kwargs: dict, inner: str | None, raw: str | None) -> str | None:
        if name not in names:
            return None
        try:
            template = env.get_template(f"{name}.html")
            # `raw`: the text between the tags as written, for layouts that show code (highlight)
            return template.render(args=args, kwargs=kwargs, inner=Markup(inner) if inner is not None else None,
                                   raw=raw)
        except jinja2.TemplateError as exc:
            line = getattr(exc, "lineno", None) or template_frame(exc)[1]
            raise RuntimeError(f"layouts/shortcodes/{name}.html:{line}: {exc}") from None

    return render
