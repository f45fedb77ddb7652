"""Moving in from Hugo: a Hugo site's content mapped to newsmirror's front matter, and a report of
what could not be mapped.

Bodies are copied as written (Hugo shortcodes and `{{< ref >}}` work here too); only the front
matter is rewritten, as YAML. Nothing is written when a file would overwrite another."""

from __future__ import annotations

import json
import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from .articles import _permalink, _slug
from .config import Config
from .dates import parse_date
from .errors import BuildError, Problem, display_path
from .markup import find_shortcodes
from .yamltext import YamlSyntaxError, parse_yaml

try:
    import tomllib
except ImportError:  # Python < 3.11: TOML front matter is reported as not imported
    tomllib = None

REPORT_NAME = "hugo-import-report.txt"
CONFIG_NAME = "hugo-import-config.yaml"
EXAMPLES = 3
ROOT_SECTION = "pages"          # Hugo pages directly in content/ (about.md) need a section here
DEFAULT_TAXONOMIES = ("tags", "categories", "topics")
INTERNAL_SHORTCODES = frozenset({"ref", "relref"})   # markup.py resolves them itself
# Hugo's own front matter keys that mean nothing to newsmirror (kept as written, and reported)
HUGO_ONLY = frozenset({"weight", "linktitle", "keywords", "type", "menu", "menus", "outputs", "markup",
                       "headless", "build", "_build", "cascade", "resources", "sitemap", "translationkey",
                       "iscjklanguage", "params", "publishdate", "pubdate", "published", "description",
                       "expirydate", "lastmod", "modified", "unpublishdate"})
# newsmirror keys whose value must have a certain type; Hugo sites use some of these names freely
TYPED = {"draft": bool, "featured": bool, "caption": str, "alt": str, "credit": str, "language": str}
_DATE_PREFIX = re.compile(r"^(\d{4}-\d{2}-\d{2})-")
_HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_PARAM = re.compile(r"""\{\{([<%])\s*param\s+(?:"([^"]+)"|'([^']+)'|([\w.-]+))\s*[>%]\}\}""")


@dataclass
class Finding:
    """One kind of thing the import noticed: how often, in how many files, and a few examples."""

    count: int = 0
    files: set = field(default_factory=set)
    examples: list = field(default_factory=list)


class Findings:
    """What the report says, grouped: {group: {what: Finding}}, in the order first noticed."""

    def __init__(self) -> None:
        self.groups: dict[str, dict[str, Finding]] = defaultdict(dict)

    def add(self, group: str, what: str, rel: str, example: str | None = None, count: int = 1) -> None:
        """Record `count` occurrences of `what` in file `rel` (with an example line for the report)."""
        finding = self.groups[group].setdefault(what, Finding())
        finding.count += count
        if rel not in finding.files and len(finding.examples) < EXAMPLES:
            finding.examples.append(example or rel)
        finding.files.add(rel)

    def get(self, group: str) -> dict[str, Finding]:
        """Return the findings of a group (empty when none)."""
        return self.groups.get(group, {})


@dataclass
class Item:
    """One content file on its way in: where it goes, its new front matter and its body as written."""

    rel: str               # path under content/, in the Hugo site and here
    data: dict
    body: str
    body_line: int
    index: bool            # an _index.md (a section's title, description and aliases)
    path: str | None = None  # the article's site path here


@dataclass(frozen=True)
class ImportResult:
    """What the import did: files written, the report and the config block to paste."""

    written: int
    articles: int
    sections: int
    left_out: int
    report: str
    config_block: str
    report_path: Path
    config_path: Path


def import_hugo(source: Path, config: Config, into: Path | None, now: datetime) -> ImportResult:
    """Copy a Hugo site's content into `into` (default: the content folder) with newsmirror front
    matter; write the report and the config block beside the config; return what was done."""
    content = _content_folder(source)
    hugo = _hugo_config(source)
    dest = Path(into).absolute() if into else config.content_dir
    findings = Findings()
    items, other = _read_items(content, hugo, config, now, findings)
    _place_articles(items, config, findings)
    _check_aliases(items, findings)
    used = _shortcode_uses(items, config, source, findings)
    _refuse_overwrites(items, dest, config)
    for item in items:
        target = dest / item.rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(_front_matter(item.data) + item.body, encoding="utf-8")
    block = config_block(items, findings, source)
    articles = sum(1 for i in items if not i.index)
    left_out = sum(f.count for f in findings.get("left out").values())
    report = format_report(source, dest, config, items, findings, used, other, block)
    report_path, config_path = config.root / REPORT_NAME, config.root / CONFIG_NAME
    report_path.write_text(report, encoding="utf-8")
    config_path.write_text(block, encoding="utf-8")
    return ImportResult(len(items), articles, len(items) - articles, left_out, report, block,
                        report_path, config_path)


def _content_folder(source: Path) -> Path:
    """Return the Hugo site's content folder (PATH/content, or PATH itself when it holds the .md files)."""
    source = Path(source)
    if (source / "content").is_dir():
        return source / "content"
    if source.is_dir() and any(source.rglob("*.md")):
        return source
    raise BuildError([Problem(str(source), 0, "no Hugo site here: expected a folder with content/ "
                                              "(or a folder of .md files)")])


def _hugo_config(source: Path) -> dict:
    """Return the Hugo site's configuration (hugo.toml, config.yaml, ...) with lower-case keys, or {}."""
    for name in ("hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json", "config.toml", "config.yaml",
                 "config.yml", "config.json"):
        path = Path(source) / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8-sig")
        try:
            if name.endswith(".toml"):
                data = tomllib.loads(text) if tomllib else {}
            elif name.endswith(".json"):
                data = json.loads(text)
            else:
                data = yaml.safe_load(text)
        except (ValueError, yaml.YAMLError):
            return {}
        return {str(k).lower(): v for k, v in data.items()} if isinstance(data, dict) else {}
    return {}


def _taxonomies(hugo: dict) -> tuple[str, ...]:
    """Return the front matter keys that become tags: the Hugo site's taxonomies, but `authors`."""
    configured = hugo.get("taxonomies")
    names = [str(v).lower() for v in configured.values()] if isinstance(configured, dict) else []
    return tuple(dict.fromkeys([n for n in names if n not in ("authors", "author")] + list(DEFAULT_TAXONOMIES)))


def _read_items(content: Path, hugo: dict, config: Config, now: datetime,
                findings: Findings) -> tuple[list[Item], dict]:
    """Return every Markdown file mapped, and {extension: [files]} of the files left behind."""
    items, other = [], defaultdict(list)
    taxonomies = _taxonomies(hugo)
    for path in sorted(content.rglob("*")):
        rel = path.relative_to(content)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() not in (".md", ".markdown"):
            other[path.suffix.lower() or "(none)"].append(rel.as_posix())
            continue
        item = _read_item(path, rel.with_suffix(".md").as_posix(), taxonomies, hugo, config, now, findings)
        if item is not None:
            items.append(item)
    return items, other


def split_front_matter(text: str) -> tuple[str, str, str, int] | None:
    """Return (format, front matter, body, first line of body) for YAML `---`, TOML `+++` or a
    JSON object, ("", "", text, 1) for a file without front matter, or None when it is not closed."""
    stripped = text.lstrip("\n")
    skipped = len(text) - len(stripped)
    if stripped.startswith("{"):
        try:
            _, end = json.JSONDecoder().raw_decode(stripped)
        except ValueError:
            return None
        head, body = stripped[:end], stripped[end:].lstrip(" \t").removeprefix("\n")
        return "json", head, body, skipped + head.count("\n") + 2
    lines = stripped.split("\n")
    fence = lines[0].rstrip()
    if fence not in ("---", "+++"):
        return "", "", text, 1
    for index in range(1, len(lines)):
        if lines[index].rstrip() == fence:
            return ("yaml" if fence == "---" else "toml", "\n".join(lines[1:index]),
                    "\n".join(lines[index + 1:]), skipped + index + 2)
    return None


def _parse_front_matter(kind: str, head: str, first_line: int) -> dict | str:
    """Return the front matter as a mapping, or a message saying why it cannot be read."""
    try:
        if kind == "yaml":
            data = parse_yaml(head, first_line).data
        elif kind == "toml":
            if tomllib is None:
                return "TOML front matter needs Python 3.11 or later (tomllib)"
            data = tomllib.loads(head)
        elif kind == "json":
            data = json.loads(head)
        else:
            data = {}
    except YamlSyntaxError as exc:
        return f"front matter: YAML syntax error on line {exc.line}: {exc.message}"
    except ValueError as exc:     # tomllib.TOMLDecodeError and json.JSONDecodeError are ValueErrors
        return f"front matter: {kind.upper()} syntax error: {exc}"
    if data is None:
        return {}
    return data if isinstance(data, dict) else f"front matter is a {type(data).__name__}, not keys"


def _read_item(path: Path, rel: str, taxonomies, hugo: dict, config: Config, now: datetime,
               findings: Findings) -> Item | None:
    """Return one file mapped, or None (recorded as left out) when it cannot be read."""
    try:
        text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        findings.add("left out", "cannot be read as UTF-8 text", rel, f"{rel}: {exc}")
        return None
    split = split_front_matter(text)
    if split is None:
        findings.add("left out", "front matter is never closed", rel)
        return None
    kind, head, body, body_line = split
    data = _parse_front_matter(kind, head, text.count("\n", 0, len(text) - len(text.lstrip("\n"))) + 2)
    if isinstance(data, str):
        findings.add("left out", "front matter cannot be read", rel, f"{rel}: {data}")
        return None
    if kind in ("toml", "json"):
        findings.add("formats", f"{kind.upper()} front matter, rewritten as YAML", rel)
    index = PurePosixPath(rel).name == "_index.md"
    body = _replace_params(body, data, hugo, rel, findings)
    mapped = map_front_matter(data, rel, body, taxonomies, index, config, now, findings)
    if mapped is None:
        return None
    return Item(rel, mapped, body, body_line, index)


def _lookup(data: dict, dotted: str) -> Any:
    """Return a value by a dotted, case-insensitive key path (`params.author`), or None."""
    value: Any = data
    for part in dotted.lower().split("."):
        if not isinstance(value, dict):
            return None
        value = {str(k).lower(): v for k, v in value.items()}.get(part)
    return value


def _replace_params(body: str, data: dict, hugo: dict, rel: str, findings: Findings) -> str:
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


def map_front_matter(data: dict, rel: str, body: str, taxonomies, index: bool, config: Config,
                     now: datetime, findings: Findings) -> dict | None:
    """Return newsmirror front matter for a Hugo file's (None when no date can be found)."""
    lower: dict[str, tuple[str, Any]] = {}
    for key, value in data.items():
        lower.setdefault(str(key).lower(), (str(key), value))
    used: set[str] = set()

    def take(*keys: str) -> tuple[str | None, Any]:
        for key in keys:
            if key in lower:
                used.add(key)
                name, value = lower[key]
                if value is not None and value != "":
                    return name, value
        return None, None

    def mapped(hugo_key: str | None, to: str) -> None:
        if hugo_key is not None and hugo_key.lower() != to:
            findings.add("mapped", f"{hugo_key} -> {to}", rel)

    out: dict[str, Any] = {}
    key, title = take("title")
    if title is None or not str(title).strip():
        if not index:
            title, how = _made_up_title(body, rel)
            findings.add("titles", "no title in front matter", rel, f'{rel}: "{title}" ({how})')
            out["title"] = title
    else:
        out["title"] = str(title).strip() if not isinstance(title, str) else title
    if not index:
        date = _article_date(take, rel, findings)
        if date is None:
            findings.add("left out", "no date: no date, publishdate or lastmod, and no YYYY-MM-DD- in "
                                     "the file name", rel)
            return None
        out["date"] = date
    key, updated = take("updated", "lastmod", "modified")
    if updated is not None and not index:
        out["updated"] = _plain(updated)
        mapped(key, "updated")
    key, expires = take("expires", "expirydate", "unpublishdate")
    if expires is not None and not index:
        out["expires"] = _plain(expires)
        mapped(key, "expires")
        moment = parse_date(out["expires"], config.zone)
        if isinstance(moment, datetime) and moment <= now:
            findings.add("expired", "past", rel)
        findings.add("expired", "all", rel)
    key, slug = take("slug")
    if slug is not None:
        out["slug"] = str(slug) if not isinstance(slug, (str, int)) or isinstance(slug, bool) else slug
    if not index and len(PurePosixPath(rel).parts) == 1:
        out["section"] = ROOT_SECTION
        findings.add("sections", f"directly in content/: given `section: {ROOT_SECTION}`", rel)
    key, summary = take("summary")
    dkey, description = take("description") if summary is None else (None, None)
    if dkey is None:
        used.discard("description")
    summary = summary if summary is not None else description
    if summary is not None:
        out["summary"] = summary if isinstance(summary, str) else str(summary)
        mapped(key or dkey, "summary")
    tags = _terms(taxonomies, take, mapped, rel, findings)
    if tags:
        out["tags"] = tags
    key, authors = take("authors", "author")
    authors = _scalars(authors, key, rel, findings)
    if authors:
        out["authors"] = authors
        mapped(key, "authors")
    key, image = take("image")
    if image is None:
        key, images = take("images")
        image = images[0] if isinstance(images, list) and images else images
        mapped(key, "image")
    if isinstance(image, (str, dict)):
        out["image"] = image
    for key in TYPED:
        name, value = take(key)
        if value is None:
            continue
        if TYPED[key] is bool and isinstance(value, str) and value.lower() in ("true", "false"):
            value = value.lower() == "true"
        if isinstance(value, TYPED[key]):
            out[key] = value
        else:   # a Hugo site's own param under a newsmirror name: kept, renamed, so the build accepts it
            out[f"hugo_{key}"] = _plain(value)
            findings.add("renamed", f"{name} -> hugo_{key} (newsmirror's {key} must be "
                                    f"{'true or false' if TYPED[key] is bool else 'text'})", rel)
    aliases = _aliases(take, mapped, rel, findings)
    if aliases:
        out["aliases"] = aliases
    for key in ("layout", "section"):
        name, value = take(key)
        if value is not None:
            out[f"hugo_{key}"] = _plain(value)
            findings.add("renamed", f"{name} -> hugo_{key} (Hugo's meaning does not carry over)", rel)
    for name, value in data.items():
        if str(name).lower() in used:
            continue
        out[str(name)] = _plain(value)
        if not index:   # an _index.md's other keys are the Hugo list page's; only articles count
            findings.add("hugo keys" if str(name).lower() in HUGO_ONLY else "site keys", str(name), rel)
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


def _scalars(value: Any, key: str | None, rel: str, findings: Findings) -> list[str]:
    """Return a list of names from one name or a list; other values are reported and dropped."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool) and str(item).strip():
            out.append(str(item).strip())
        elif item not in (None, ""):
            findings.add("dropped", f"{key}: a value that is not a name", rel, f"{rel}: {item!r}")
    return out


def _terms(taxonomies, take, mapped, rel: str, findings: Findings) -> list[str]:
    """Return the tags: every taxonomy's terms, in order, each once."""
    tags: list[str] = []
    for taxonomy in taxonomies:
        key, value = take(taxonomy)
        terms = _scalars(value, key, rel, findings)
        if terms:
            mapped(key, "tags")
        tags += [t for t in terms if t not in tags]
    return tags


def _aliases(take, mapped, rel: str, findings: Findings) -> list[str]:
    """Return the old URLs: `aliases`, plus `url` (where Hugo put the page, now redirecting here)."""
    key, value = take("aliases")
    aliases = _scalars(value, key, rel, findings)
    ukey, url = take("url")
    if isinstance(url, str) and url.strip():
        aliases.append(url.strip())
        findings.add("mapped", f"{ukey} -> aliases (Hugo's URL of the page now redirects to it)", rel)
    for alias in aliases:
        if not alias.startswith(("/", "http://", "https://")):
            findings.add("aliases", "relative: taken from the site root", rel, f"{rel}: {alias}")
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


def _place_articles(items: list[Item], config: Config, findings: Findings) -> None:
    """Give each article its site path; a later file whose path is taken gets a suffixed slug."""
    owners: dict[str, str] = {}
    for item in items:
        if item.index:
            continue
        messages: list[str] = []
        rel = PurePosixPath(item.rel)
        slug = _slug(item.data.get("slug"), rel, lambda key, message: messages.append(message))
        moment = parse_date(item.data["date"], config.zone)
        section = item.data.get("section") or rel.parts[0]
        if isinstance(moment, str) or not slug:
            findings.add("will not build", messages[0] if messages else f"date: {moment}", item.rel)
            continue
        local = moment.astimezone(config.zone)
        path, base, n = _permalink(config.permalink, section, local, slug), slug, 1
        if path is None:
            findings.add("will not build", f"slug '{slug}' would write outside the site", item.rel)
            continue
        while path in owners:
            n += 1
            slug = f"{base}-{n}"
            path = _permalink(config.permalink, section, local, slug)
        if n > 1:
            first = owners[_permalink(config.permalink, section, local, base)]
            findings.add("duplicates", "same output path as an earlier file: slug suffixed", item.rel,
                         f"{item.rel}: slug {slug} ({first} keeps /{_permalink(config.permalink, section, local, base)})")
            item.data["slug"] = slug
        owners[path] = item.rel
        item.path = path


def _alias_path(alias: str) -> str:
    """Return the site path newsmirror writes an alias to (see articles._aliases)."""
    path = re.sub(r"^https?://[^/]+", "", alias.strip())
    site_path = posixpath.normpath("/" + path.lstrip("/")).lstrip("/")
    if site_path and (path.endswith("/") or not site_path.lower().endswith((".html", ".htm"))):
        site_path += "/"
    return site_path


def _check_aliases(items: list[Item], findings: Findings) -> None:
    """Drop aliases that would write an article's page, another alias, or the home page."""
    pages = {item.path: item.rel for item in items if item.path}
    taken: dict[str, str] = {}
    for item in items:
        kept = []
        for alias in item.data.get("aliases", []):
            path = _alias_path(alias)
            if ".." in alias.split("/") or not path:
                why = "the home page or outside the site"
            elif path in pages:
                why = "the page of " + ("the article itself" if pages[path] == item.rel else pages[path])
            elif path in taken:
                why = f"also an alias of {taken[path]}"
            else:
                taken[path] = item.rel
                kept.append(alias)
                continue
            findings.add("aliases", "dropped: it would write over another page", item.rel,
                         f"{item.rel}: {alias} ({why})")
        if kept:
            item.data["aliases"] = kept
        else:
            item.data.pop("aliases", None)


def _shortcode_uses(items: list[Item], config: Config, source: Path, findings: Findings) -> dict:
    """Return {shortcode: [uses, files]}; each one without a layout here is reported with examples."""
    folder = config.layouts_dir / "shortcodes"
    layouts = {p.stem for p in folder.glob("*.html")} | INTERNAL_SHORTCODES if folder.is_dir() \
        else set(INTERNAL_SHORTCODES)
    used: dict[str, list] = {}
    for item in items:
        names: dict[str, int] = {}
        body_line = _front_matter(item.data).count("\n") + 1   # lines of the file as written here
        for name, offset in find_shortcodes(item.body):
            line = body_line + item.body.count("\n", 0, offset)
            names.setdefault(name, line)
            used.setdefault(name, [0, 0])[0] += 1
            if name not in layouts:
                findings.add("shortcodes", name, item.rel, f"{item.rel}:{line}")
        for name in names:
            used[name][1] += 1
    hugo_layouts = {p.stem for p in Path(source).glob("layouts/shortcodes/*.html")} | {
        p.stem for p in Path(source).glob("themes/*/layouts/shortcodes/*.html")}
    for name in findings.get("shortcodes"):
        if name in hugo_layouts:
            findings.add("hugo shortcodes", name, "")
    return used


def _refuse_overwrites(items: list[Item], dest: Path, config: Config) -> None:
    """Raise, before anything is written, when an imported file would replace an existing one."""
    clashes = [dest / item.rel for item in items if (dest / item.rel).exists()]
    if not clashes:
        return
    problems = [Problem(display_path(path, config.root), 0, "already exists; import into an empty "
                                                            "folder (--into FOLDER) or move it away")
                for path in clashes[:EXAMPLES]]
    if len(clashes) > EXAMPLES:
        problems.append(Problem(display_path(dest, config.root), 0, f"... and {len(clashes) - EXAMPLES} "
                                                                     "more files already exist"))
    raise BuildError(problems)


def _front_matter(data: dict) -> str:
    """Return the front matter block as YAML between `---` lines."""
    text = yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), sort_keys=False,
                     allow_unicode=True, width=1_000_000, default_flow_style=False)
    return f"---\n{text}---\n"


def config_block(items: list[Item], findings: Findings, source: Path) -> str:
    """Return the YAML to paste into config.yaml: the sections, and `expired: keep` when needed."""
    sections: dict[str, dict] = {}
    for item in items:
        parts = PurePosixPath(item.rel).parts
        if not item.index and len(parts) > 1:
            sections.setdefault(parts[0], {})
    if any(not i.index and i.data.get("section") == ROOT_SECTION for i in items):
        sections.setdefault(ROOT_SECTION, {"title": "Pages"})
    for item in items:
        parts = PurePosixPath(item.rel).parts
        if item.index and len(parts) == 2 and parts[0] in sections:
            info = {"title": str(item.data.get("title") or parts[0].replace("-", " ").title())}
            if item.data.get("summary"):
                info["description"] = " ".join(str(item.data["summary"]).split())
            sections[parts[0]] = info
    for key, info in sections.items():
        info.setdefault("title", key.replace("-", " ").replace("_", " ").title())
    lines = [f"# For config.yaml: what the content imported from {source} needs (newsmirror import-hugo).",
             "# Sections are listed in this order on the site; reorder them as you like."]
    expiring = findings.get("expired")
    if expiring:
        total, past = expiring["all"].count, expiring.get("past", Finding()).count
        lines += [f"# {_count(total, 'imported article')} with an expiry date (Hugo's expirydate, now `expires:`),",
                  f"# {past} of them already past. `keep` shows them, as a Hugo build with buildExpired does;",
                  "# `remove` (newsmirror's default) leaves them out of the site from that date.",
                  "expired: keep"]
    body = yaml.safe_dump({"sections": sections}, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(lines) + "\n" + body


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _shown(finding: Finding, examples: int = EXAMPLES) -> str:
    shown = finding.examples[:examples]
    return ", ".join(shown) + (", ..." if len(finding.files) > len(shown) else "")


def _group_lines(findings: Findings, group: str, heading: str, examples: int = EXAMPLES) -> list[str]:
    """Return a report block: a heading, then one line per finding, most frequent first."""
    found = findings.get(group)
    if not found:
        return []
    lines = ["", heading]
    for what, f in sorted(found.items(), key=lambda kv: (-len(kv[1].files), kv[0])):
        files = len(f.files)
        lines.append(f"  {what}: {files} file{'s' if files != 1 else ''}, e.g. {_shown(f, examples)}")
    return lines


def format_report(source: Path, dest: Path, config: Config, items: list[Item], findings: Findings,
                  used: dict, other: dict, block: str) -> str:
    """Return the import report: short, grouped, with counts and a few example files."""
    articles = sum(1 for i in items if not i.index)
    drafts = sum(1 for i in items if i.data.get("draft") is True)
    lines = [f"Hugo import: {source} -> {display_path(dest, config.root)}/",
             f"Imported {_count(articles, 'article')} and {_count(len(items) - articles, 'section page')} "
             f"({drafts} drafts: build with --drafts to see them).",
             "Bodies are copied as written; front matter is rewritten as YAML, and keys newsmirror does not "
             "know are kept as written (layouts read them as article.extra)."]
    lines += _group_lines(findings, "left out", "NOT IMPORTED")
    lines += _group_lines(findings, "will not build", "WILL NOT BUILD (fix these files)")
    lines += _group_lines(findings, "titles", "Titles made up (the file has no title):")
    lines += _group_lines(findings, "duplicates", "Output paths shared by two files (the later file's slug "
                                                  "gets a suffix; add the old URL to its aliases if it had one):")
    lines += _group_lines(findings, "aliases", "Aliases:")
    lines += _group_lines(findings, "dates", "Dates:")
    expiring = findings.get("expired")
    if expiring:
        total, past = len(expiring["all"].files), len(expiring.get("past", Finding()).files)
        lines += ["", f"Expiry dates: {_count(total, 'file')} ha{'s' if total == 1 else 've'} one, now "
                      f"`expires:`; {past} already past. "
                      f"{CONFIG_NAME} sets `expired: keep` so they stay on the site; with `expired: remove` "
                      "they would be left out."]
    missing = findings.get("shortcodes")
    hugo_own = set(findings.get("hugo shortcodes"))
    if missing:
        lines += ["", f"Shortcodes without a layout in {display_path(config.layouts_dir, config.root)}"
                      "/shortcodes/ (left out of the pages until you add NAME.html):"]
        for name, f in sorted(missing.items(), key=lambda kv: (-kv[1].count, kv[0])):
            port = " (the Hugo site has its own: port it to Jinja2)" if name in hugo_own else ""
            files = len(f.files)
            lines.append(f"  {name}: {f.count} use{'s' if f.count != 1 else ''} in {files} "
                         f"file{'s' if files != 1 else ''}{port}, e.g. {_shown(f)}")
    rendered = sorted((n for n in used if n not in missing), key=lambda n: (-used[n][0], n))
    if rendered:
        lines += ["", "Shortcodes with a layout: " + ", ".join(f"{n} ({used[n][0]})" for n in rendered)]
    lines += _group_lines(findings, "mapped", "Front matter mapped:", examples=1)
    lines += _group_lines(findings, "renamed", "Front matter renamed (kept under a new name):")
    lines += _group_lines(findings, "dropped", "Values dropped:")
    lines += _group_lines(findings, "hugo keys", "Hugo keys with no newsmirror meaning (kept as written):", examples=1)
    lines += _group_lines(findings, "site keys", "The site's own keys (kept as written; layouts read them "
                                                 "as article.extra.KEY):", examples=1)
    lines += _group_lines(findings, "sections", "Sections:")
    lines += _group_lines(findings, "formats", "Front matter formats:")
    if other:
        shown = ", ".join(f"{ext} ({len(files)}, e.g. {files[0]})" for ext, files in sorted(other.items()))
        lines += ["", f"Files that are not Markdown, not imported (put images and downloads under static/): {shown}"]
    lines += ["", f"Paste into config.yaml (also in {CONFIG_NAME}):", "", block.rstrip("\n")]
    return "\n".join(lines) + "\n"
