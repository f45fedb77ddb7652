"""The outlet's addresses: each mirror's base URL, and the one place absolute URLs are made."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_SAFE_HOST = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$")
# A mirror's address is substituted into shared renders as one text for every context (attribute
# values, and JSON-LD inside <script>); these characters would need a different escape in each
_UNSAFE_IN_URL = re.compile(r"[\"'<>&\\`\s\x00-\x1f\x7f]")
_ONION = re.compile(r"^(?:[a-z0-9-]+\.)*[a-z2-7]{56}\.onion$")


@dataclass(frozen=True)
class Mirror:
    """One address the site is published at; `url` always ends in `/`."""

    url: str
    host: str
    prefix: str
    scheme: str
    label: str = ""
    banner: str | None = None
    canonical: str = "primary"
    robots: bool = True
    head_html: str = ""
    index_links: bool = False
    nginx_root: str | None = None
    is_primary: bool = False

    @property
    def has_label(self) -> bool:
        """Return whether the config names this mirror with a label other than its host."""
        return self.label != self.host

    @property
    def is_onion(self) -> bool:
        """Return whether this mirror is a Tor onion service."""
        return self.host.endswith(".onion")

    def absolute(self, site_path: str) -> str:
        """Return this mirror's absolute URL for a site path (`politics/x/`, `` for home)."""
        return self.url + site_path.lstrip("/")

    def rooted(self, site_path: str) -> str:
        """Return the root-relative URL (with this mirror's path prefix) for a site path."""
        return self.prefix + site_path.lstrip("/")


def parse_mirror_url(raw: str) -> tuple[str, str, str, str] | str:
    """Return (url, host, prefix, scheme) for a mirror URL, or a message saying what is wrong."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https"):
        return f"'{raw}' is not an http(s) URL; write it like https://www.example.com/"
    if parts.query or parts.fragment or parts.username or parts.password:
        return f"'{raw}' has a query, fragment or user name; give only scheme, host and path"
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return f"'{raw}': host '{host}' is not a valid domain name"
    if not host or not _SAFE_HOST.match(host) or host in (".", ".."):
        return f"'{raw}': host '{host}' is not a safe folder name (letters, digits, '-' and '.')"
    if host.endswith(".onion") and not _ONION.match(host):
        return f"'{raw}': an onion address has 56 characters a-z and 2-7 before .onion"
    try:
        port = parts.port
    except ValueError:
        return f"'{raw}': the port is not a number"
    netloc = host if port is None else f"{host}:{port}"
    prefix = parts.path or "/"
    if not prefix.endswith("/"):
        prefix += "/"
    if "//" in prefix or "/../" in prefix or "/./" in prefix:
        return f"'{raw}': the path prefix '{prefix}' is not a clean folder path"
    unsafe = _UNSAFE_IN_URL.search(prefix)
    if unsafe:
        return (f"'{raw}': the path prefix has {unsafe.group()!r}, which must be percent-encoded "
                f"(for example & as %26, a space as %20)")
    return f"{parts.scheme}://{netloc}{prefix}", host, prefix, parts.scheme


def bare_domain(host: str) -> str:
    """Return a host without a leading `www.` (the outlet owns both forms)."""
    return host[4:] if host.startswith("www.") else host
