"""What static hosts read besides the site: `_headers` (Netlify, Cloudflare Pages), `.nojekyll`
(GitHub Pages), and an nginx server block per mirror in output/deploy/nginx/.

Every mirror is served with the same security headers; fingerprinted assets (assets.py) are
cached for a year, everything else for a minute, so a correction reaches readers quickly."""

from __future__ import annotations

import re

from .assets import HASH_LENGTH
from .config import Config
from .mirrors import Mirror

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=60"   # pages, feeds, sitemaps: a correction is live within a minute
PERMISSIONS = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"
NGINX_FOLDER = "nginx"
# text types nginx should label utf-8 and compress (text/html is always both)
TEXT_TYPES = ("text/css", "text/plain", "text/xml", "application/xml", "application/javascript",
              "application/json", "application/rss+xml", "application/atom+xml", "image/svg+xml")


def onion_mirror(config: Config) -> Mirror | None:
    """Return the onion mirror, if the site has one."""
    return next((m for m in config.mirrors if m.is_onion), None)


def security_headers(config: Config, mirror: Mirror) -> list[tuple[str, str]]:
    """Return the headers every response of the mirror carries."""
    # on the onion, a referrer would tell other sites a reader came through Tor, and from where
    referrer = "same-origin" if mirror.is_onion else "strict-origin-when-cross-origin"
    return [("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", referrer),
            ("Content-Security-Policy", config.hosting.content_security_policy),
            ("Permissions-Policy", PERMISSIONS),
            ("X-Frame-Options", "SAMEORIGIN")]


def headers_file(config: Config, mirror: Mirror, immutable: list[str]) -> bytes:
    """Return `_headers`: security headers for every path, a year's cache for the hashed assets
    (`immutable`: the patterns immutable_patterns() found, the same for every mirror).

    Neither host puts a path into a header value portably (Netlify has no placeholders there,
    Cloudflare allows 100 rules), so Onion-Location names the onion's home page; each page's
    own onion address is in its `onion-location` meta tag, and nginx sends it per path."""
    lines = ["# newsmirror: response headers for Netlify and Cloudflare Pages (they do not serve this file).",
             "# Written by every build: edit the hosting: block of the config, not this file."]
    if mirror.prefix != "/":
        lines.append(f"# Read only at the host's root: this mirror lives under {mirror.prefix}")
    lines.append(f"{mirror.prefix}*")
    lines += [f"  {name}: {value}" for name, value in security_headers(config, mirror)]
    onion = onion_mirror(config)
    if onion is not None and not mirror.is_onion:
        lines.append(f"  Onion-Location: {onion.url}")
    # no Cache-Control for pages: both hosts revalidate them by default, and a second matching
    # rule would join its value to this one with a comma
    for pattern in immutable:
        lines += [mirror.rooted(pattern), f"  Cache-Control: {IMMUTABLE}"]
    return ("\n".join(lines) + "\n").encode("utf-8")


def immutable_patterns(hashed: list[str], others: set[str]) -> list[str]:
    """Return the fewest `folder/*` patterns (else file paths) that cover the hashed files and
    none of the other files: Cloudflare Pages reads at most 100 rules."""
    chains = {}   # hashed file: its folders, outermost first
    for path in hashed:
        parts = path.split("/")[:-1]
        chains[path] = ["/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    # which of those folders hold another file: one C-level prefix test per file, as a site's
    # 66,000 pages rarely sit under an asset folder (every folder of every page cost 0.2 s)
    folders = {f for chain in chains.values() for f in chain}
    starts = tuple(sorted(folders))
    taken = set()
    for other in others:
        if starts and other.startswith(starts):
            taken.update(f for f in folders if other.startswith(f))
    out = {next((f + "*" for f in chain if f not in taken), path) for path, chain in chains.items()}
    return sorted(out)


def nginx_root(config: Config, mirror: Mirror) -> str:
    """Return the host's document root on the server (a prefixed mirror's files go in root/prefix/)."""
    root = mirror.nginx_root or config.hosting.nginx_root
    return root.replace("{host}", mirror.host).rstrip("/") or "/"


def nginx_conf(config: Config, mirror: Mirror) -> bytes:
    """Return the nginx server block that serves the mirror from its deploy root."""
    hosting, prefix = config.hosting, mirror.prefix
    pattern = re.escape(prefix)
    root = nginx_root(config, mirror)
    onion = onion_mirror(config)
    listen = hosting.nginx_onion_listen if mirror.is_onion else hosting.nginx_listen
    out = [f"# newsmirror: nginx server block for {mirror.url}",
           "# Written by every build: edit the hosting: block of the config, not this file.",
           "# Include it in nginx's http block, after `include mime.types;` (Debian: /etc/nginx/conf.d/).",
           f"# Put the files of output/{mirror.host}/ in {root.rstrip('/')}{prefix}"]
    if mirror.is_onion:
        out += ["# Tor forwards the onion service here: HiddenServicePort 80 " + (listen[0] if listen else ""),
                "# A 62-character host name needs `server_names_hash_bucket_size 128;` in the http block."]
    out += ["server {"]
    out += [f"    listen {value};" for value in listen]
    out += [f"    server_name {mirror.host};",
            f"    root {root};",
            "    index index.html;",
            "    charset utf-8;",
            f"    charset_types {' '.join(TEXT_TYPES)};",
            "    gzip on;",
            "    gzip_vary on;",
            f"    gzip_types {' '.join(TEXT_TYPES)};",
            "    server_tokens off;",
            "    absolute_redirect off;   # /politics -> /politics/ whatever scheme or port is in front",
            f"    error_page 404 {prefix}404.html;"]
    if not mirror.is_onion:
        out += [f"    include {path.replace('{host}', mirror.host)};" for path in hosting.nginx_include]
    headers = [f'add_header {name} "{value}" always;' for name, value in security_headers(config, mirror)]
    onion_header = []
    if onion is not None and not mirror.is_onion:
        if prefix == "/":
            onion_header.append(f'add_header Onion-Location "{onion.url.rstrip("/")}$request_uri";')
        else:
            out += ["    set $newsmirror_path $request_uri;",
                    f'    if ($request_uri ~ "^{pattern[:-1]}(/.*)$") {{ set $newsmirror_path $1; }}']
            onion_header.append(f'add_header Onion-Location "{onion.url.rstrip("/")}$newsmirror_path";')

    def location(match: str, *lines: str, documents: bool = True) -> list[str]:
        # add_header is inherited only by locations that set none: every block lists them all;
        # Tor Browser reads Onion-Location on documents only
        every = (*lines, *headers, *(onion_header if documents else ()))
        return [f"    location {match} {{"] + [f"        {line}" for line in every] + ["    }"]

    out += location(prefix, f'add_header Cache-Control "{SHORT}" always;')
    for name, kind in (("feed", "application/rss+xml"), ("atom", "application/atom+xml")):
        # nginx's mime.types calls every .xml text/xml; feed readers and browsers want the feed type
        out += location(f'~ "^{pattern}(?:.*/)?{name}\\.xml$"', "types { }", f"default_type {kind};",
                        f'add_header Cache-Control "{SHORT}" always;')
    if hosting.fingerprint:
        extensions = "|".join(sorted(set(hosting.fingerprint)))
        # not `always`: a 404 for a name not deployed yet must not be cached for a year
        out += location(f'~ "^{pattern}.*\\.[0-9a-f]{{{HASH_LENGTH}}}\\.(?:{extensions})$"',
                        f'add_header Cache-Control "{IMMUTABLE}";', documents=False)
    if prefix != "/":
        out += [f"    location = {prefix[:-1]} {{ return 301 {prefix}; }}",
                "    location / { return 404; }   # the rest of the host is not this mirror's"]
    out.append("}")
    return ("\n".join(out) + "\n").encode("utf-8")


def deploy_files(config: Config) -> dict[str, bytes]:
    """Return {path under output/deploy/: bytes}: one nginx server block per mirror."""
    return {f"{NGINX_FOLDER}/{m.host}.conf": nginx_conf(config, m) for m in config.mirrors}
