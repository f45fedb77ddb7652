"""Helpers for the real-validator tests: mirrors, URL-to-file mapping, vnu and linkchecker runs."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml

from conftest import serve


@dataclass(frozen=True)
class Address:
    """One mirror as the tests see it: its base URL (ending in /), host and path prefix."""

    url: str

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname

    @property
    def prefix(self) -> str:
        return urlsplit(self.url).path or "/"

    def absolute(self, site_path: str) -> str:
        """Return this mirror's absolute URL for a site path (`politics/`, `` for home)."""
        return self.url + site_path.lstrip("/")


# The sample's mirrors as config.yaml lists them (first = primary), written out so the tests do not
# read them through the code under test.
SAMPLE_MIRRORS = (
    Address("https://www.meridiancourier.example/"),
    Address("https://meridiancourier.example.net/"),
    Address("https://cdn.meridian-mirror.example/courier/"),
    Address("http://6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion/"),
)
PRIMARY = SAMPLE_MIRRORS[0]
PREFIXED = SAMPLE_MIRRORS[2]


def site_path_of(url: str, mirror: Address) -> str | None:
    """Return the site path of an absolute URL on `mirror`, or None when it is not on that mirror."""
    parts = urlsplit(url)
    if parts.scheme != urlsplit(mirror.url).scheme or parts.netloc != urlsplit(mirror.url).netloc:
        return None
    path = unquote(parts.path or "/")
    if not path.startswith(mirror.prefix):
        return None
    return path[len(mirror.prefix):]


def file_of(site_path: str, folder: Path) -> Path:
    """Return the file a static server sends for a site path under a mirror's folder."""
    target = folder / site_path
    if site_path == "" or site_path.endswith("/"):
        return target / "index.html"
    return target


def url_to_file(url: str, mirror: Address, output: Path) -> Path | None:
    """Map https://HOST/PREFIX/path/ to output/HOST/path/index.html (None if not on `mirror`)."""
    site_path = site_path_of(url, mirror)
    return None if site_path is None else file_of(site_path, output / mirror.host)


def is_absolute(url: str) -> bool:
    """Return whether `url` has a scheme and a host."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def html_pages(folder: Path) -> list[Path]:
    """Return every HTML file under a mirror folder, sorted."""
    return sorted(p for p in folder.rglob("*.html") if p.is_file())


def page_site_path(page: Path, folder: Path) -> str:
    """Return the site path a page file is served at (`politics/` for politics/index.html)."""
    rel = page.relative_to(folder).as_posix()
    if rel == "index.html":
        return ""
    return rel[:-len("index.html")] if rel.endswith("/index.html") else rel


# --- front matter, read independently of newsmirror -----------------------------------------------

_FRONT = re.compile(r"\A\s*---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)(.*)\Z", re.S)


def front_matter(path: Path) -> tuple[dict, str]:
    """Return (front matter mapping, body) of a Markdown file, parsed with PyYAML."""
    text = path.read_bytes().decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
    match = _FRONT.match(text)
    if match is None:
        return {}, text
    data = yaml.safe_load(match.group(1))
    return (data if isinstance(data, dict) else {}), match.group(2)


# --- the Nu HTML checker --------------------------------------------------------------------------

# The one accepted vnu message: Tor Browser's <meta http-equiv="onion-location">. vnu matches the
# pattern against the whole message (Java `matches()`), so this hides that message and nothing else.
# The quotes around the three values are typographic in vnu's text; `.` stands for each of them so
# the pattern survives a JVM that decodes its arguments in a non-UTF-8 locale.
ONION_LOCATION_FILTER = r"Bad value .onion-location. for attribute .http-equiv. on element .meta.\."


def run_vnu(jar: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the Nu HTML checker with `args`; return the finished process (messages are on stderr)."""
    return subprocess.run(["java", "-jar", str(jar), *args], capture_output=True, text=True,
                          timeout=600)


def vnu_report(result: subprocess.CompletedProcess) -> str:
    """Return vnu's output for an assertion message."""
    return f"exit {result.returncode}\n--- stderr ---\n{result.stderr}\n--- stdout ---\n{result.stdout}"


# --- linkchecker ----------------------------------------------------------------------------------

def linkchecker_command() -> list[str]:
    """Return the command that runs the PyPI `linkchecker`.

    Run as root, linkchecker drops its effective uid to `nobody` before it loads its plugins. When
    Python lives under /root (pyenv, mode 0700), `nobody` cannot list linkcheck/plugins/, so the
    AnchorCheck plugin the config enables is silently never loaded and missing #anchors pass. As root
    we therefore run the same entry point (linkcheck.command.linkchecker:linkchecker) in this
    interpreter without the privilege drop. It only ever talks to our server on 127.0.0.1."""
    if os.geteuid() != 0 or importlib.util.find_spec("linkcheck") is None:
        command = shutil.which("linkchecker")
        assert command, "linkchecker is not installed: pip install linkchecker"
        return [command]
    return [sys.executable, "-c",
            "import sys, linkcheck.command.linkchecker as cli\n"
            "cli.drop_privileges = lambda: None\n"
            "sys.exit(cli.linkchecker())"]


LINKCHECKER_CONFIG = """\
[checking]
maxrequestspersecond=1000
threads=10

[filtering]
# the whole test server is "our site": a link that leaves a mirror's path prefix (/courier/) is
# checked and fails, instead of being skipped as outside the start URL's folder
internlinks=^https?://127\\.0\\.0\\.1:{port}/

[AnchorCheck]
"""

_STATS = re.compile(r"That's it\. (\d+) links? in (\d+) URLs? checked\. (\d+) warnings? found\. "
                    r"(\d+) errors? found\.")


@dataclass(frozen=True)
class LinkReport:
    """What one linkchecker run found."""

    returncode: int
    urls: int                 # "N URLs checked"
    warnings: int
    errors: int
    checked: frozenset[str]   # every "Real URL" it reported
    failed: frozenset[str]    # the Real URLs with an error or a warning
    base: str                 # the start URL
    output: str

    def __str__(self) -> str:
        return f"linkchecker exit {self.returncode}\n{self.output}"


def run_linkchecker(folder: Path, prefix: str, tmp: Path) -> LinkReport:
    """Serve `folder` under `prefix` on 127.0.0.1 and check every link on it with linkchecker."""
    tmp.mkdir(parents=True, exist_ok=True)
    with serve(folder, prefix) as base:
        port = urlsplit(base).port
        config = tmp / "linkcheckerrc"
        config.write_text(LINKCHECKER_CONFIG.format(port=port), encoding="utf-8")
        result = subprocess.run(linkchecker_command() + ["--config", str(config), "--no-status",
                                                         "--verbose", base],
                                capture_output=True, text=True, timeout=600,
                                env={**os.environ, "HOME": str(tmp)})
    out = result.stdout + "\n" + result.stderr
    stats = _STATS.search(result.stdout)
    assert stats, f"no statistics line in linkchecker's output:\n{out}"
    checked, failed = set(), set()
    for block in re.split(r"\n\s*\n", result.stdout):
        real = re.search(r"^Real URL\s+(\S+)", block, re.M)
        if real:
            checked.add(real.group(1))
            if re.search(r"^(?:Result\s+Error|Warning\s)", block, re.M):
                failed.add(real.group(1))
    return LinkReport(result.returncode, int(stats.group(2)), int(stats.group(3)), int(stats.group(4)),
                      frozenset(checked), frozenset(failed), base, out)
