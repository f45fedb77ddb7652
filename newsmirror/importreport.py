"""The import report: what `import-hugo` did and could not do, grouped and counted, with a few
example files each, and the config.yaml lines the imported content needs."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from .config import Config
from .errors import display_path

REPORT_NAME = "hugo-import-report.txt"
CONFIG_NAME = "hugo-import-config.yaml"
EXAMPLES = 3
ROOT_SECTION = "pages"          # Hugo pages directly in content/ (about.md) need a section here


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


def config_block(items: list, findings: Findings, source: Path) -> str:
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


def format_report(source: Path, dest: Path, config: Config, items: list, findings: Findings,
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
