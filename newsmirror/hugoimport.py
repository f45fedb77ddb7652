"""Moving in from Hugo: a Hugo site's content files read, placed and written into this site.

Bodies are copied as written (Hugo shortcodes and `{{< ref >}}` work here too); only the front
matter is rewritten, as YAML (the mapping is hugomapping.py's; the report, importreport.py's).
Nothing is written when a file would overwrite another."""

from __future__ import annotations

import json
import posixpath
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

import yaml

from .articles import _permalink, _slug
from .config import Config
from .dates import parse_date
from .errors import BuildError, Problem, display_path
from .importreport import CONFIG_NAME, EXAMPLES, REPORT_NAME, Findings, config_block, format_report
from .hugomapping import DEFAULT_TAXONOMIES, hugo_url, map_front_matter, replace_params
from .markup import find_shortcodes
from .yamltext import YamlSyntaxError, parse_yaml

try:
    import tomllib
except ImportError:  # Python < 3.11: TOML front matter is reported as not imported
    tomllib = None

INTERNAL_SHORTCODES = frozenset({"ref", "relref"})   # markup.py resolves them itself


@dataclass
class Item:
    """One content file on its way in: where it goes, its new front matter and its body as written."""

    rel: str               # path under content/, in the Hugo site and here
    data: dict
    body: str
    body_line: int
    index: bool            # an _index.md (a section's title, description and aliases)
    path: str | None = None  # the article's site path here
    old_url: str | None = None   # where Hugo published it (known when the Hugo config is there)


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
    _keep_old_urls(items, findings)
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
            if hugo and not item.index:    # without the Hugo config its URLs are not known
                item.old_url = hugo_url(item.rel, item.data, hugo, config)
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
    body = replace_params(body, data, hugo, rel, findings)
    mapped = map_front_matter(data, rel, body, taxonomies, index, config, now, findings)
    if mapped is None:
        return None
    return Item(rel, mapped, body, body_line, index)


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


def _keep_old_urls(items: list[Item], findings: Findings) -> None:
    """Add each article's Hugo URL to its aliases when it differs from its new one, so old links work."""
    for item in items:
        if item.old_url is None or item.path is None:
            continue
        aliases = item.data.setdefault("aliases", [])
        if _alias_path(item.old_url) != item.path and item.old_url not in aliases:
            aliases.append(item.old_url)
            findings.add("mapped", "its URL on the Hugo site (from the Hugo config's permalinks) -> "
                                   "aliases", item.rel, f"{item.rel}: {item.old_url}")
        if not aliases:
            del item.data["aliases"]


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
