"""The leak check: no mirror may point readers at a seized domain or, outside a few allowed
places, at another mirror's address (a reader who came through one address stays on it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from .config import Config
from .errors import Problem, display_path
from .mirrors import Mirror, bare_domain

# the host alone, so a URL nested in another (a share link's ?url=) is found too
_URL_HOST = re.compile(r"(?:https?:)?//([a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)", re.IGNORECASE)
_OUTER = re.compile(r"[^\s\"'<>]*$")
_URL_REST = re.compile(r"[^\s\"'<>)&?#]*")
# where another mirror's address belongs: canonical and og:url (pointing at the primary),
# onion-location, JSON-LD ids, and the "also reachable at" list the layouts mark
_ALLOWED_HTML = re.compile(
    r"<link\b[^>]*\brel=\"canonical\"[^>]*>|<meta\b[^>]*\bproperty=\"og:url\"[^>]*>"
    r"|<meta\b[^>]*\bhttp-equiv=\"onion-location\"[^>]*>"
    r"|<script\b[^>]*type=\"application/ld\+json\"[^>]*>.*?</script>"
    r"|<(?P<tag>[a-z]+)\b[^>]*\bdata-newsmirror=\"alternates\"[^>]*>.*?</(?P=tag)>",
    re.IGNORECASE | re.DOTALL)
_ONION_HEADER = re.compile(r"^[ \t]+Onion-Location:[ \t]*\S+\.onion/\S*[ \t]*$", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class LeakReport:
    """What the check read and what it found."""

    files: int
    mirrors: int
    problems: tuple[Problem, ...]


def check_leaks(config: Config, hosts: list[str] | None = None) -> LeakReport:
    """Return every reference to a former domain, or to another mirror outside the allowed places."""
    former = {bare_domain(d) for d in config.former}
    problems: list[Problem] = []
    files = 0
    mirrors = [m for m in config.mirrors if hosts is None or m.host in hosts]
    for mirror in mirrors:
        root = config.output_dir / mirror.host
        if not root.is_dir():
            problems.append(Problem(display_path(root, config.root), 0,
                                    "not built yet: run `python build.py` first"))
            continue
        others = {bare_domain(m.host): m for m in config.mirrors if m is not mirror}
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if b"\0" in data[:8192]:
                continue  # images and other binary files: no addresses a reader follows
            files += 1
            shown = display_path(path, config.root)
            text = data.decode("utf-8", errors="replace")
            problems += _former_mentions(text, former, shown)
            if path.name == "mirrors.json" and path.parent == root:
                continue  # its whole purpose is to list the other addresses
            if path.name == "_headers" and path.parent == root:
                text = _ONION_HEADER.sub("", text)   # Tor Browser's offer to switch, like the meta tag
            problems += _mirror_references(text, path.suffix.lower() in (".html", ".htm"), others,
                                           config, mirror, shown)
    return LeakReport(files, len(mirrors), tuple(problems))


def _former_mentions(text: str, former: set[str], shown: str) -> list[Problem]:
    """Return a problem for each mention of a former domain, linked or not."""
    if not former:
        return []
    names = "|".join(re.escape(d) for d in sorted(former, key=len, reverse=True))
    # any subdomain counts: whoever holds a seized domain holds all of them
    pattern = rf"(?<![\w.-])(?:[a-z0-9-]+\.)*(?:{names})(?![\w-]|\.[\w-])"
    return [Problem(shown, _line(text, m.start()), f"refers to the former domain {m.group(0)}")
            for m in re.finditer(pattern, text, re.IGNORECASE)]


def _mirror_references(text: str, is_html: bool, others: dict[str, Mirror], config: Config,
                       mirror: Mirror, shown: str) -> list[Problem]:
    """Return a problem for each URL on another mirror's host outside the allowed places."""
    allowed_canonical = config.primary.host if mirror.canonical == "primary" else mirror.host
    if is_html:
        def blank(m: re.Match) -> str:
            piece = m.group(0)
            hosts = {bare_domain(h.lower()) for h in _URL_HOST.findall(piece)}
            ok = {bare_domain(allowed_canonical)} | {bare_domain(mirror.host)}
            if "onion-location" in piece.lower() or "alternates" in piece:
                ok |= set(others)
            # keep line numbers: replace the allowed piece by as many newlines as it had
            # only the outlet's own hosts matter here (JSON-LD also names https://schema.org)
            return "\n" * piece.count("\n") if hosts & set(others) <= ok else piece
        text = _ALLOWED_HTML.sub(blank, text)
    problems = []
    # a URL can also hide percent-encoded inside another one (a share link's ?url=)
    scanned = unquote(text) if "%2F" in text or "%2f" in text else text
    for m in _URL_HOST.finditer(scanned):
        host = bare_domain(m.group(1).lower())
        other = others.get(host)
        if other is None:
            continue
        path = _URL_REST.match(scanned, m.end()).group(0) or "/"
        if other.prefix != "/" and not (path + "/").startswith(other.prefix):
            continue  # the same host serves other sites outside the mirror's prefix
        url = m.group(0) + path
        outer = _OUTER.search(scanned, 0, m.start()).group(0) + url   # the link it may sit inside
        if not any(url.startswith(p) or outer.startswith(p) for p in config.preserve):
            problems.append(Problem(shown, _line(scanned, m.start()),
                                    f"refers to another mirror, {others[host].host}; a reader here "
                                    "should stay on this address"))
    return problems


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1
