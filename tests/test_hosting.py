"""What hosts read: the generated nginx server blocks served by a real nginx, `_headers`,
`.nojekyll`, and content-hashed static files that every page follows when they change."""

from __future__ import annotations

import gzip
import http.client
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import etree, html

from conftest import copy_sample, free_port, need, run_build
from sitecheck import PREFIXED, SAMPLE_MIRRORS, Address, html_pages

ONION = SAMPLE_MIRRORS[3]
CLEARNET = SAMPLE_MIRRORS[:3]
ARTICLE = "business/2026/11/27/harbour-strike-ends/"
YEAR = "max-age=31536000"
HASHED = re.compile(r"\.[0-9a-f]{10}\.[a-z0-9]+$")
SECURITY = ("X-Content-Type-Options", "Referrer-Policy", "Content-Security-Policy", "Permissions-Policy",
            "X-Frame-Options")


def mirror_id(mirror: Address) -> str:
    return mirror.host.split(".")[0][:12] + ("-prefix" if mirror.prefix != "/" else "")


def add_hosting(site: Path, block: str) -> None:
    """Append a hosting: block to the copied sample's config."""
    config = site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\nhosting:\n" + block, encoding="utf-8")


# --- nginx serving the generated server blocks --------------------------------------------------

@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    """Build the sample with its nginx blocks listening on a free port, serve every mirror from
    one real nginx (by Host header), and yield (port, site folder); nginx stops at the end."""
    need(shutil.which("nginx") is not None, "nginx is not installed: apt-get install nginx")
    tmp = tmp_path_factory.mktemp("nginx")
    site = copy_sample(tmp / "site")
    port = free_port()
    add_hosting(site, f"  nginx_listen: ['127.0.0.1:{port}']\n"
                      f"  nginx_onion_listen: ['127.0.0.1:{port}']\n"
                      f"  nginx_root: {tmp}/www/{{host}}\n")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    for mirror in SAMPLE_MIRRORS:   # deployed as the conf's comment says: files in root + prefix
        target = tmp / "www" / mirror.host / mirror.prefix.strip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(site / "output" / mirror.host, target_is_directory=True)
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp / "temp" / name).mkdir(parents=True)
    conf = tmp / "nginx.conf"
    conf.write_text(f"""user root;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    server_names_hash_bucket_size 128;   # as the onion's server block asks
    access_log off;
    client_body_temp_path {tmp}/temp/body;
    proxy_temp_path {tmp}/temp/proxy;
    fastcgi_temp_path {tmp}/temp/fastcgi;
    uwsgi_temp_path {tmp}/temp/uwsgi;
    scgi_temp_path {tmp}/temp/scgi;
    include {site}/output/deploy/nginx/*.conf;
}}
""", encoding="utf-8")
    check = subprocess.run(["nginx", "-t", "-p", str(tmp), "-c", str(conf)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen(["nginx", "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
                               stderr=subprocess.PIPE)
    try:
        for _ in range(200):   # until it listens (or has died)
            assert process.poll() is None, process.stderr.read().decode()
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield port, site
    finally:
        process.terminate()
        process.wait(timeout=30)


def fetch(port: int, host: str, path: str, gzip_ok: bool = False):
    """GET `path` from nginx as `host`; return (status, headers with lower-case names, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Host": host}
    if gzip_ok:
        headers["Accept-Encoding"] = "gzip"
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    found = {k.lower(): v for k, v in response.getheaders()}
    connection.close()
    return response.status, found, body


def stylesheet_path(page_html: bytes, page_path: str) -> str:
    """Return the URL path of the page's stylesheet, resolved against the page's path."""
    href = html.fromstring(page_html).xpath('//link[@rel="stylesheet"]/@href')[0]
    return urlsplit(urljoin("http://x" + page_path, href)).path


@pytest.mark.parametrize("mirror", SAMPLE_MIRRORS, ids=mirror_id)
def test_nginx_serves_each_page_kind_with_its_type_and_headers(nginx, mirror):
    port, site = nginx
    folder = site / "output" / mirror.host
    cases = [(mirror.prefix, "text/html; charset=utf-8", "index.html"),
             (mirror.prefix + ARTICLE, "text/html; charset=utf-8", ARTICLE + "index.html"),
             (mirror.prefix + "feed.xml", "application/rss+xml; charset=utf-8", "feed.xml"),
             (mirror.prefix + "politics/atom.xml", "application/atom+xml; charset=utf-8", "politics/atom.xml"),
             (mirror.prefix + "sitemap.xml", "text/xml; charset=utf-8", "sitemap.xml")]
    for path, kind, rel in cases:
        status, headers, body = fetch(port, mirror.host, path)
        assert (path, status, headers["content-type"]) == (path, 200, kind)
        assert body == (folder / rel).read_bytes()
        assert headers["cache-control"] == "public, max-age=60", path
        assert [h for h in SECURITY if h.lower() not in headers] == [], path
        assert headers["x-content-type-options"] == "nosniff"
        if mirror is ONION:
            assert "onion-location" not in headers
        else:   # this very page on the onion
            assert headers["onion-location"] == ONION.url + path[len(mirror.prefix):], path
    etree.fromstring(fetch(port, mirror.host, mirror.prefix + "sitemap.xml")[2],
                     etree.XMLParser(no_network=True))


@pytest.mark.parametrize("mirror", SAMPLE_MIRRORS, ids=mirror_id)
def test_nginx_caches_the_hashed_stylesheet_for_a_year_and_compresses_it(nginx, mirror):
    port, site = nginx
    status, _, page = fetch(port, mirror.host, mirror.prefix + ARTICLE)
    css = stylesheet_path(page, mirror.prefix + ARTICLE)
    assert HASHED.search(css), css
    status, headers, body = fetch(port, mirror.host, css, gzip_ok=True)
    assert status == 200
    assert headers["content-type"] == "text/css; charset=utf-8"
    assert headers["cache-control"] == f"public, {YEAR}, immutable"
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == (site / "output" / mirror.host / css[len(mirror.prefix):]).read_bytes()
    assert "onion-location" not in headers   # only documents carry it


@pytest.mark.parametrize("mirror", SAMPLE_MIRRORS, ids=mirror_id)
def test_nginx_answers_a_missing_path_with_the_sites_404_page(nginx, mirror):
    port, site = nginx
    status, headers, body = fetch(port, mirror.host, mirror.prefix + "politics/no-such-story/")
    assert status == 404
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert body == (site / "output" / mirror.host / "404.html").read_bytes()
    assert headers["content-security-policy"]   # security headers on errors too
    assert headers["cache-control"] == "public, max-age=60"
    status, headers, _ = fetch(port, mirror.host, mirror.prefix + "css/site.0123456789.css")
    assert (status, headers["cache-control"]) == (404, "public, max-age=60")   # not a year: may be deployed later
    status, headers, _ = fetch(port, mirror.host, mirror.prefix + "politics")
    assert (status, headers["location"]) == (301, mirror.prefix + "politics/")


def test_nginx_serves_the_prefixed_mirror_only_under_its_prefix(nginx):
    port, site = nginx
    assert fetch(port, PREFIXED.host, "/")[0] == 404
    assert fetch(port, PREFIXED.host, "/index.html")[0] == 404
    status, headers, _ = fetch(port, PREFIXED.host, "/courier")
    assert (status, headers["location"]) == (301, "/courier/")


def test_nginx_gives_the_onion_mirror_its_own_server_on_the_loopback(nginx):
    _, site = nginx
    conf = (site / "output/deploy/nginx" / f"{ONION.host}.conf").read_text(encoding="utf-8")
    assert re.findall(r"^\s*listen (.*);$", conf, re.M) == [re.search(r"127\.0\.0\.1:\d+", conf).group(0)]
    assert "Referrer-Policy \"same-origin\"" in conf


# --- files for static hosts ---------------------------------------------------------------------

def parse_headers_file(text: str) -> dict[str, list[tuple[str, str]]]:
    """Return {URL pattern: [(header, value)]} from a Netlify / Cloudflare Pages `_headers` file."""
    rules: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            assert line not in rules, f"rule {line} given twice"
            current = rules.setdefault(line.strip(), [])
        else:
            name, _, value = line.strip().partition(":")
            assert current is not None and value, line
            current.append((name.strip(), value.strip()))
    return rules


@pytest.mark.parametrize("mirror", SAMPLE_MIRRORS, ids=mirror_id)
def test_headers_file_sets_security_headers_and_caches_only_hashed_files(output, mirror):
    folder = output / mirror.host
    rules = parse_headers_file((folder / "_headers").read_text(encoding="utf-8"))
    assert len(rules) <= 100                                   # Cloudflare Pages reads at most 100
    everything = dict(rules.pop(mirror.prefix + "*"))
    assert [h for h in SECURITY if h not in everything] == []
    assert "script-src 'self'" in everything["Content-Security-Policy"]
    assert "Cache-Control" not in everything                   # a second rule would be comma-joined
    if mirror is ONION:
        assert "Onion-Location" not in everything
    else:
        assert everything["Onion-Location"] == ONION.url
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    hashed = [rel for rel in files if HASHED.search(rel)]
    assert len(hashed) >= 10
    assert all(headers == [("Cache-Control", f"public, {YEAR}, immutable")] for headers in rules.values())

    def cached(rel: str) -> int:
        url = mirror.prefix + rel
        return sum(1 for p in rules if url == p or (p.endswith("*") and url.startswith(p[:-1])))

    assert [rel for rel in hashed if cached(rel) != 1] == []          # each hashed file, by one rule
    assert [rel for rel in files if rel not in hashed and cached(rel)] == []   # pages stay short
    assert sorted(rules) == [mirror.prefix + "css/*", mirror.prefix + "images/*"]   # folders, not files


@pytest.mark.parametrize("mirror", SAMPLE_MIRRORS, ids=mirror_id)
def test_every_mirror_has_nojekyll_and_a_cname_only_at_a_domain_root(output, mirror):
    folder = output / mirror.host
    assert (folder / ".nojekyll").read_bytes() == b""
    has_cname = mirror.prefix == "/" and mirror is not ONION
    assert (folder / "CNAME").is_file() == has_cname
    assert sorted(p.name for p in (output / "deploy/nginx").iterdir()) == sorted(
        f"{m.host}.conf" for m in SAMPLE_MIRRORS)


# --- content-hashed static files ----------------------------------------------------------------

def references(folder: Path) -> dict[str, set[str]]:
    """Return {page: the site paths of every stylesheet, image and link target it names}."""
    out = {}
    for page in html_pages(folder):
        tree = html.fromstring(page.read_bytes())
        base = "http://x/" + page.relative_to(folder).as_posix()
        urls = tree.xpath("//link/@href | //img/@src | //a/@href")
        paths = {urlsplit(urljoin(base, u)).path.lstrip("/") for u in urls if not re.match(r"^[a-z]+:|^//|^#", u)}
        out[page.relative_to(folder).as_posix()] = paths
    return out


def test_a_changed_asset_gets_a_new_name_that_every_page_and_feed_follow(site):
    body_image = "![Boats in the harbour](/images/fishing-boats.svg)\n\n"
    article = site / "content/business/harbour-strike-ends.md"
    text = article.read_text(encoding="utf-8")
    front, _, rest = text.partition("\n---\n")
    article.write_text(front + "\n---\n" + body_image + rest, encoding="utf-8")
    css = site / "static/css/site.css"
    css.write_text(css.read_text(encoding="utf-8") + "\n.masthead { background: url(\"../images/logo.svg\") no-repeat; }\n",
                   encoding="utf-8")
    assert run_build(site).returncode == 0
    folder = site / "output" / SAMPLE_MIRRORS[1].host

    def names(prefix: str) -> list[str]:
        return sorted(p.relative_to(folder).as_posix() for p in folder.glob(prefix + ".*"))

    old_css, old_logo, old_boats = names("css/site"), names("images/logo"), names("images/fishing-boats")
    assert len(old_css) == len(old_logo) == len(old_boats) == 1
    assert "../images/" + old_logo[0].split("/")[1] in (folder / old_css[0]).read_text(encoding="utf-8")
    page = (folder / ARTICLE / "index.html").read_text(encoding="utf-8")
    assert f'src="../../../../../{old_boats[0]}"' in page

    # the logo changes: its name, the stylesheet that draws it (url()), and every page follow
    logo = site / "static/images/logo.svg"
    logo.write_text(logo.read_text(encoding="utf-8").replace("</svg>", "<!-- v2 --></svg>"), encoding="utf-8")
    boats = site / "static/images/fishing-boats.svg"
    boats.write_text(boats.read_text(encoding="utf-8").replace("</svg>", "<!-- v2 --></svg>"), encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    new_css, new_logo, new_boats = names("css/site"), names("images/logo"), names("images/fishing-boats")
    assert len(new_css) == len(new_logo) == len(new_boats) == 1          # the old files are gone
    assert (new_css, new_logo, new_boats) != (old_css, old_logo, old_boats)
    assert new_css != old_css and new_logo != old_logo and new_boats != old_boats
    assert "../images/" + new_logo[0].split("/")[1] in (folder / new_css[0]).read_text(encoding="utf-8")
    pages = references(folder)
    assert len(pages) > 50
    for rel, paths in pages.items():
        assert new_css[0] in paths, rel
        assert not paths & {old_css[0], old_logo[0], old_boats[0]}, rel
        missing = [p for p in paths if not (folder / p).exists() and not (folder / p / "index.html").exists()]
        assert missing == [], rel
    assert new_boats[0] in pages[ARTICLE + "index.html"]
    feed = (folder / "feed.xml").read_text(encoding="utf-8")
    assert SAMPLE_MIRRORS[1].url + new_boats[0] in feed and old_boats[0] not in feed
    og = html.fromstring((folder / "business/2026/11/27/harbour-strike-ends/index.html").read_bytes())
    assert HASHED.search(og.xpath('//meta[@property="og:image"]/@content')[0])


def test_stylesheets_that_reference_each_other_in_a_cycle_are_a_problem(site):
    (site / "static/css/a.css").write_text('@import "b.css";\n', encoding="utf-8")
    (site / "static/css/b.css").write_text('@import url(a.css);\n', encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 1
    assert "static/css/a.css: stylesheets reference each other in a cycle (css/a.css -> css/b.css -> css/a.css)" \
        in result.stderr


def test_fingerprinting_can_be_turned_off(site):
    add_hosting(site, "  fingerprint: []\n")
    assert run_build(site).returncode == 0
    folder = site / "output" / SAMPLE_MIRRORS[0].host
    assert (folder / "css/site.css").is_file()
    assert 'href="css/site.css"' in (folder / "index.html").read_text(encoding="utf-8")
    assert "Cache-Control" not in (folder / "_headers").read_text(encoding="utf-8")


def test_a_folder_shared_with_pages_gets_a_rule_per_hashed_file(site):
    shutil.copy(site / "static/images/logo.svg", site / "static/politics-chart.svg")
    (site / "static/politics").mkdir()
    shutil.copy(site / "static/images/logo.svg", site / "static/politics/chart.svg")
    assert run_build(site).returncode == 0
    folder = site / "output" / SAMPLE_MIRRORS[0].host
    rules = parse_headers_file((folder / "_headers").read_text(encoding="utf-8"))
    [chart] = (folder / "politics").glob("chart.*.svg")
    [top] = folder.glob("politics-chart.*.svg")
    assert sorted(rules) == sorted(["/*", "/css/*", "/images/*", "/politics/" + chart.name, "/" + top.name])


def test_the_deploy_folder_survives_every_build_and_is_left_alone_when_unchanged(site):
    assert run_build(site).returncode == 0
    conf = site / "output/deploy/nginx" / f"{SAMPLE_MIRRORS[0].host}.conf"
    stamp = conf.stat().st_mtime_ns
    assert run_build(site, "--mirror", SAMPLE_MIRRORS[1].host).returncode == 0
    assert run_build(site).returncode == 0
    assert conf.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in (site / "output/deploy/nginx").iterdir()) == sorted(
        f"{m.host}.conf" for m in SAMPLE_MIRRORS)
    hosts = (site / "output/.newsmirror-hosts").read_text(encoding="utf-8").split()
    assert "deploy" not in hosts


@pytest.mark.parametrize("edit, message", [
    ("  nginx_root: /var/www/{host}; deny all\n",
     "hosting.nginx_root: may not contain quotes, backslashes, spaces or ; { }"),
    ("  fingerprint: css\n", "hosting.fingerprint: expected a list of file extensions, e.g. [css, js, svg], got text 'css'"),
], ids=["root-breaks-out-of-its-directive", "fingerprint-not-a-list"])
def test_bad_hosting_values_are_problems_naming_their_line(site, edit, message):
    add_hosting(site, edit)
    line = len((site / "config.yaml").read_text(encoding="utf-8").splitlines())
    result = run_build(site)
    assert result.returncode == 1
    assert f"config.yaml:{line}: {message}" in result.stderr


# --- the Content-Security-Policy against the pages, in Chromium -------------------------------

VIDEO_ARTICLE = "world/2026/11/12/ondine-storm-recovery/"   # the youtube shortcode's iframe


@pytest.mark.parametrize("mirror", CLEARNET, ids=mirror_id)
def test_pages_satisfy_the_content_security_policy_in_chromium(nginx, browser, mirror):
    port, _ = nginx
    # nginx takes the host from an absolute request line, so it can stand in as the browser's proxy
    context = browser.new_context(proxy={"server": f"http://127.0.0.1:{port}"})
    page = context.new_page()
    refused = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        for path in ("", VIDEO_ARTICLE, "politics/", "tags/", "no/such/page/"):
            response = page.goto(mirror.url.replace("https:", "http:") + path)
            assert "script-src 'self'" in response.headers["content-security-policy"]
            sheet = page.evaluate("document.styleSheets.length && document.styleSheets[0].cssRules.length")
            assert sheet > 10, path            # the hashed stylesheet loaded under the policy
        page.goto(mirror.url.replace("https:", "http:") + VIDEO_ARTICLE)
        facade = page.frame_locator("figure.video iframe").locator("a")
        # the click-to-play placeholder's own <style> applies (a srcdoc inherits the policy)
        assert facade.evaluate("a => getComputedStyle(a).backgroundColor") == "rgb(17, 17, 17)"
        assert refused == []
        # the check can fail: an inline script is refused and reported
        with page.expect_console_message(lambda m: "inline script" in m.text and "Content Security Policy" in m.text):
            page.evaluate("() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';"
                          " document.head.append(s); }")
        assert page.evaluate("window.x") is None
    finally:
        context.close()


def test_well_known_files_are_copied_under_their_own_names(site):
    well_known = site / "static/.well-known"
    well_known.mkdir()
    (well_known / "security.txt").write_text("Contact: mailto:security@meridiancourier.example\n", encoding="utf-8")
    shutil.copy(site / "static/images/logo.svg", well_known / "brand.svg")
    (site / "static/.drafts").mkdir()
    (site / "static/.drafts/notes.css").write_text("body {}\n", encoding="utf-8")
    assert run_build(site).returncode == 0
    folder = site / "output" / SAMPLE_MIRRORS[0].host
    assert (folder / ".well-known/security.txt").is_file()
    assert (folder / ".well-known/brand.svg").is_file()          # not hashed: asked for by name
    assert not (folder / ".drafts").exists()                     # other hidden folders stay out
