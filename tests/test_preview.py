"""The live preview (`python build.py serve`): a real server, a real browser, real edits on disk."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from conftest import FIXED_NOW, REPO, run_build, snapshot, tree

ARTICLE = "content/world/ondine-storm-recovery.md"
NET_HOST = "meridiancourier.example.net"
CDN_HOST = "cdn.meridian-mirror.example"
WAIT_MS = 15_000


class Preview:
    """A running `build.py serve` on a copy of the sample site; its output goes to files."""

    def __init__(self, site: Path, logs: Path, *args: str):
        self.site = site
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.out, self.err = logs / f"serve-{self.port}.out", logs / f"serve-{self.port}.err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, str(REPO / "build.py"), "serve", "--config", str(site / "config.yaml"),
                 "--port", str(self.port), "--now", FIXED_NOW, *args],
                cwd=site, stdout=out, stderr=err, text=True)
        self._wait_until_up()

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"serve exited: {self.stderr()}"
            try:
                urllib.request.urlopen(self.url, timeout=5).close()
                return
            except urllib.error.HTTPError:
                return                      # serving (an error page is an answer too)
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"serve did not answer within 60 s: {self.stderr()}")

    def stdout(self) -> str:
        return self.out.read_text(encoding="utf-8")

    def stderr(self) -> str:
        return self.err.read_text(encoding="utf-8")

    def wait_for_output(self, pattern: str, count: int = 1, timeout: float = 15) -> str:
        """Wait until stdout matches `pattern` `count` times; return stdout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.stdout()
            if len(re.findall(pattern, text)) >= count:
                return text
            time.sleep(0.05)
        pytest.fail(f"no {pattern!r} x{count} in stdout:\n{self.stdout()}\nstderr:\n{self.stderr()}")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Stop the server with `sig`; kill it if it does not stop; return its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def serve(site, tmp_path):
    """Return a function starting `build.py serve` on the copied site; every server is stopped after."""
    started: list[Preview] = []

    def start(*args: str) -> Preview:
        preview = Preview(site, tmp_path, *args)
        started.append(preview)
        return preview

    yield start
    for preview in started:
        preview.stop()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    yield page
    context.close()


def goto(page, url: str):
    """Open `url`, retrying a navigation that a live reload interrupted."""
    for attempt in range(5):
        try:
            return page.goto(url, wait_until="load")
        except Exception as exc:  # playwright's Error: net::ERR_ABORTED, "interrupted by another navigation"
            if attempt == 4 or not re.search(r"ERR_ABORTED|interrupted|destroyed", str(exc)):
                raise
            time.sleep(0.3)


def set_front_matter(site: Path, rel: str, key: str, value: str) -> None:
    """Rewrite one front matter line (`key: value`) of a content file."""
    path = site / rel
    text = path.read_text(encoding="utf-8")
    text, count = re.subn(rf"(?m)^{key}:.*$", f"{key}: {value}", text, count=1)
    assert count == 1, f"no {key}: in {rel}"
    path.write_text(text, encoding="utf-8")


def line_of(site: Path, rel: str, key: str) -> int:
    lines = (site / rel).read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(f"{key}:"))


def open_article(page, preview: Preview) -> str:
    """Open the sample article ARTICLE from the home page; return its URL."""
    goto(page, preview.url)
    href = page.locator("a[href*='ondine-storm-recovery']").first.get_attribute("href")
    goto(page, preview.url + href)
    assert "ondine-storm-recovery" in page.url
    return page.url


def test_article_edit_shows_without_reloading(serve, page, site):
    preview = serve()
    open_article(page, preview)
    set_front_matter(site, ARTICLE, "title", '"Storm recovery: edited live"')
    page.locator("h1", has_text="Storm recovery: edited live").wait_for(timeout=WAIT_MS)
    out = preview.wait_for_output(r"Rebuilt in")
    # one article changed: its page and the listings showing it, not all 54 pages
    rendered = int(re.search(r"(\d+) of \d+ pages rendered", out).group(1))
    assert 0 < rendered < 20, out


def test_a_save_by_rename_is_seen(serve, page, site):
    """Editors (vim, most IDEs) save by writing a temporary file and renaming it over the
    article: the kernel reports a move, not a write, and the page must still update."""
    preview = serve()
    open_article(page, preview)
    path = site / ARTICLE
    temporary = path.with_name(".ondine-storm-recovery.md.swp")
    temporary.write_text(path.read_text(encoding="utf-8").replace(
        'title: "Ondine Islands begin', 'title: "Renamed into place: Ondine Islands begin', 1), encoding="utf-8")
    os.replace(temporary, path)
    page.locator("h1", has_text="Renamed into place").wait_for(timeout=WAIT_MS)
    assert "(edited in place)" in preview.wait_for_output(r"Rebuilt in")


def test_layout_change_shows_on_open_page(serve, page, site):
    preview = serve()
    open_article(page, preview)
    base = site / "layouts/base.html"
    text = base.read_text(encoding="utf-8")
    assert "</footer>" in text
    base.write_text(text.replace("</footer>", "<p id='marker'>LIVE-LAYOUT-MARKER</p></footer>", 1),
                    encoding="utf-8")
    page.locator("#marker", has_text="LIVE-LAYOUT-MARKER").wait_for(timeout=WAIT_MS)


def test_new_article_appears_on_home_page(serve, page, site):
    preview = serve()
    goto(page, preview.url)
    (site / "content/world/lighthouse-relit.md").write_text(
        '---\ntitle: "Lighthouse at Cape Anselm relit after forty years"\ndate: 2026-11-28 18:00:00 +0000\n'
        "authors: [tomas-okafor]\ntags: [Ondine Islands]\n---\nThe lamp turned again on Saturday night.\n",
        encoding="utf-8")
    page.locator("a", has_text="Lighthouse at Cape Anselm relit").first.wait_for(timeout=WAIT_MS)


@pytest.mark.parametrize("gap", [0.1, 0.5, 0.9], ids=["gap-0.1s", "gap-0.5s", "gap-0.9s"])
def test_two_quick_edits_end_on_the_last(serve, page, site, gap):
    preview = serve()
    open_article(page, preview)
    set_front_matter(site, ARTICLE, "title", '"First quick edit"')
    time.sleep(gap)
    set_front_matter(site, ARTICLE, "title", '"Second quick edit"')
    page.locator("h1", has_text="Second quick edit").wait_for(timeout=WAIT_MS)
    time.sleep(1.5)   # and it stays there: no late reload brings back an older build
    assert page.locator("h1", has_text="Second quick edit").count() == 1


def test_edit_while_the_reloaded_page_connects_is_not_missed(serve, page, site):
    """A reload sent while the page is between loading and connecting reaches it anyway."""
    preview = serve()
    open_article(page, preview)
    requests: list[str] = []

    def slow_script(route) -> None:
        requests.append(route.request.url)
        if len(requests) == 1:   # the page reloaded after the first edit: edit again before it connects
            set_front_matter(site, ARTICLE, "title", '"Edited while connecting"')
            preview.wait_for_output(r"Rebuilt in", count=2)
        route.continue_()

    page.route("**/livereload.js*", slow_script)
    set_front_matter(site, ARTICLE, "title", '"Edited before connecting"')
    page.locator("h1", has_text="Edited while connecting").wait_for(timeout=WAIT_MS)


def test_burst_of_saves_gives_one_rebuild_and_one_reload(serve, page, site):
    preview = serve()
    goto(page, preview.url)
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    sources = sorted((site / "content").glob("*/*.md"))
    published = [p for p in sources if "draft: true" not in p.read_text(encoding="utf-8")
                 and "2027-" not in p.read_text(encoding="utf-8")][:5]
    for number, path in enumerate(published):
        set_front_matter(site, path.relative_to(site).as_posix(), "title", f'"Burst headline {number}"')
    for number in range(len(published)):
        page.locator("a", has_text=f"Burst headline {number}").first.wait_for(timeout=WAIT_MS)
    time.sleep(2)
    assert len(loads) == 1, loads
    out = preview.stdout()
    assert out.count("Rebuilt in") == 1, out


@pytest.mark.parametrize("key, value, message", [
    ("date", "2026-13-01", "is not a real date"),
    ("title", "yes", "quote it"),
], ids=["bad-date", "unquoted-boolean-title"])
def test_front_matter_error_page_then_recovery(serve, page, site, key, value, message):
    preview = serve()
    open_article(page, preview)
    good = (site / ARTICLE).read_text(encoding="utf-8")
    line = line_of(site, ARTICLE, key)
    set_front_matter(site, ARTICLE, key, value)
    problem = page.locator("li", has_text=f"{ARTICLE}:{line}:")
    problem.wait_for(timeout=WAIT_MS)
    assert message in problem.inner_text()
    assert "Build failed" in page.title()
    # every URL shows the problems while the build fails
    status, body = fetch(preview.url + "politics/")
    assert status == 500 and f"{ARTICLE}:{line}:" in body
    assert f"{ARTICLE}:{line}:" in preview.stderr()
    assert raw_get(preview.port, "/../.newsmirror-hosts")[0] == 404   # 404 even while failing
    assert preview.proc.poll() is None
    (site / ARTICLE).write_text(good, encoding="utf-8")
    page.locator("h1", has_text="Ondine").wait_for(timeout=WAIT_MS)
    assert "Build failed" not in page.title()


def fetch(url: str) -> tuple[int, str]:
    """Return the status and body of `url`, whatever the status."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def test_broken_at_start_serves_the_problems_then_the_site(serve, page, site):
    good = (site / ARTICLE).read_text(encoding="utf-8")
    line = line_of(site, ARTICLE, "date")
    set_front_matter(site, ARTICLE, "date", "2026-02-30")
    preview = serve()
    assert fetch(preview.url)[0] == 500
    goto(page, preview.url)
    page.locator("li", has_text=f"{ARTICLE}:{line}:").wait_for()
    (site / ARTICLE).write_text(good, encoding="utf-8")
    page.locator("a[href*='ondine-storm-recovery']").first.wait_for(timeout=WAIT_MS)


def test_template_error_names_layout_line_and_recovers(serve, page, site):
    preview = serve()
    goto(page, preview.url)
    base = site / "layouts/base.html"
    good = base.read_text(encoding="utf-8")
    lines = good.splitlines(keepends=True)
    footer = next(i for i, line in enumerate(lines, 1) if "<footer" in line)
    lines.insert(footer, "{{ page.no_such_field }}\n")
    base.write_text("".join(lines), encoding="utf-8")
    page.locator("li", has_text=f"layouts/base.html:{footer + 1}:").first.wait_for(timeout=WAIT_MS)
    base.write_text(good, encoding="utf-8")
    page.locator("h1", has_text="The Meridian Courier").wait_for(state="attached", timeout=WAIT_MS)
    assert "Build failed" not in page.title()


@pytest.mark.parametrize("target", [
    "/../config.yaml", "/%2e%2e/config.yaml", "/%2E%2E/%2E%2E/config.yaml", "/css/..%2f..%2fconfig.yaml",
    "/../.newsmirror-hosts", "/%2e%2e/.newsmirror-hosts", "/..%5c.newsmirror-hosts", "/%00index.html",
])
def test_requests_outside_the_served_folder_get_404(serve, target):
    preview = serve()
    status, body = raw_get(preview.port, target)
    assert status == 404, (target, status)
    assert b"mirrors:" not in body and b"www.meridiancourier.example\n" not in body


def raw_get(port: int, target: str) -> tuple[int, bytes]:
    """GET `target` exactly as written (no client-side normalisation); return status and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", target)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_serves_the_mirror_at_its_preview_address(serve):
    preview = serve()
    with urllib.request.urlopen(preview.url) as r:
        home = r.read().decode("utf-8")
    assert f'<link rel="canonical" href="{preview.url}">' in home
    assert "/livereload.js" in home and home.index("livereload") < home.index("</head>")
    with urllib.request.urlopen(preview.url + "feed.xml") as r:
        assert f"<link>{preview.url}</link>" in r.read().decode("utf-8")
    with urllib.request.urlopen(preview.url + "politics") as r:   # a folder without / redirects
        assert r.url == preview.url + "politics/"
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(preview.url + "no/such/page/")
    assert missing.value.code == 404 and b"livereload" in missing.value.read()
    assert f"at {preview.url}" in preview.stdout()


def test_other_mirror_served_at_the_root(serve):
    preview = serve("--mirror", NET_HOST)
    with urllib.request.urlopen(preview.url) as r:
        assert "You are reading a mirror of The Meridian Courier" in r.read().decode("utf-8")
    prefixed = serve("--mirror", CDN_HOST)
    with urllib.request.urlopen(prefixed.url + "css/site.css") as r:
        assert r.status == 200


def test_drafts_and_scheduled_articles_marked(serve, page):
    preview = serve("--drafts", "--future")
    goto(page, preview.url)
    page.locator(".label-draft", has_text="Draft").first.wait_for(timeout=WAIT_MS)
    page.locator(".label-scheduled", has_text="Scheduled").first.wait_for(timeout=WAIT_MS)
    plain = serve()
    goto(page, plain.url)
    assert page.locator(".label-draft").count() == 0
    assert page.locator(".label-scheduled").count() == 0


def test_config_change_is_read_again(serve, page, site):
    preview = serve()
    goto(page, preview.url)
    config = site / "config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace(
        "tagline: Independent news from the Meridian coast", "tagline: Retitled live from config"),
        encoding="utf-8")
    page.locator("text=Retitled live from config").first.wait_for(timeout=WAIT_MS)


def test_broken_config_shows_error_page_then_recovers(serve, page, site):
    preview = serve()
    goto(page, preview.url)
    config = site / "config.yaml"
    good = config.read_text(encoding="utf-8")
    line = next(i for i, text in enumerate(good.splitlines(), 1) if text.startswith("page_size:"))
    config.write_text(good.replace("page_size:", "page_sise:", 1), encoding="utf-8")
    page.locator("li", has_text=f"config.yaml:{line}: unknown key 'page_sise'").wait_for(timeout=WAIT_MS)
    config.write_text(good, encoding="utf-8")
    page.locator("h1", has_text="The Meridian Courier").wait_for(state="attached", timeout=WAIT_MS)
    assert "Build failed" not in page.title()


def test_static_change_reloads_without_rendering_pages(serve, page, site):
    preview = serve()
    goto(page, preview.url)
    css = site / "static/css/site.css"
    css.write_text(css.read_text(encoding="utf-8") + "\nbody { outline: 7px solid rgb(1, 2, 3); }\n",
                   encoding="utf-8")
    page.wait_for_function("() => getComputedStyle(document.body).outlineColor === 'rgb(1, 2, 3)'",
                           timeout=WAIT_MS)
    out = preview.wait_for_output(r"Rebuilt in")
    assert re.search(r"\b0 of \d+ pages rendered, 1 files written", out), out


def test_deleted_article_disappears(serve, page, site):
    preview = serve()
    goto(page, preview.url)
    link = page.locator("a[href*='ondine-storm-recovery']")
    assert link.count() >= 1
    (site / ARTICLE).unlink()
    link.first.wait_for(state="detached", timeout=WAIT_MS)
    out = preview.wait_for_output(r"Rebuilt in")
    assert int(re.search(r"(\d+) removed", out.splitlines()[-1]).group(1)) >= 1, out
    assert fetch(page.url + "world/2026/11/12/ondine-storm-recovery/")[0] == 404


def test_never_touches_output(serve, site):
    assert run_build(site).returncode == 0
    before = snapshot(site / "output")
    preview = serve("--drafts")
    set_front_matter(site, ARTICLE, "title", '"Edited while previewing"')
    preview.wait_for_output(r"Rebuilt in")
    assert preview.stop() == 0
    assert snapshot(site / "output") == before
    assert "127.0.0.1" not in "".join(p.read_text(errors="ignore") for p in (site / "output").rglob("*.html"))


def test_without_a_build_no_output_folder_appears(serve, site):
    preview = serve()
    set_front_matter(site, ARTICLE, "title", '"Edited again"')
    preview.wait_for_output(r"Rebuilt in")
    assert preview.stop() == 0
    assert not (site / "output").exists()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_cleanly(serve, page, sig):
    preview = serve()
    goto(page, preview.url)   # a connected browser must not hold the server up
    page.wait_for_function("() => [...document.scripts].some(s => s.src.includes('livereload.js'))")
    time.sleep(0.5)
    folder = re.search(r" from (\S+) \(Ctrl-C stops\)", preview.stdout()).group(1)
    assert Path(folder).is_dir()
    started = time.monotonic()
    preview.proc.send_signal(sig)
    assert preview.proc.wait(timeout=10) == 0
    assert time.monotonic() - started < 5
    assert preview.stderr() == ""   # no traceback, no warning about unfinished tasks
    assert "Stopped" in preview.stdout()
    assert not Path(folder).exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", preview.port), timeout=2).close()


def test_port_in_use_is_a_clear_error(site):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, str(REPO / "build.py"), "serve", "--config",
                                 str(site / "config.yaml"), "--port", str(port)],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"--port: cannot listen on 127.0.0.1:{port}" in result.stderr


def _preview_build(site: Path, folder: Path):
    """Return a PreviewBuild of the site's primary mirror into `folder`, at the tests' clock."""
    from newsmirror.config import load_config
    from newsmirror.preview import PreviewBuild, ServeOptions
    options = ServeOptions(mirror=None, now=datetime.fromisoformat(FIXED_NOW.replace(" +", "+")))
    return PreviewBuild(load_config(site / "config.yaml"), options, "http://127.0.0.1:8000/", folder)


IN_PLACE = [   # (file, old text, new text): edits that change only what the article's pages show
    (ARTICLE, 'title: "Ondine Islands begin', 'title: "Ondine Islands & friends begin'),
    (ARTICLE, "Electricity returned", "Power (and *hope*) returned"),
    (ARTICLE, "summary: \"Four days", "summary: \"Almost four days"),
    (ARTICLE, "image: images/storm-islands.svg", "image: images/harbour-cranes.svg"),
    (ARTICLE, "---\nElectricity", "---\n\n\n\nElectricity"),
    ("content/politics/confidence-motion.md", "\n---\n", "\nsubtitle: an extra key the layouts may show\n---\n"),
    (ARTICLE, 'title: "Ondine', 'title: "Ψηφοφορία Ondine'),   # a search shard file begins
]
ENDS = [(ARTICLE, 'title: "Ψηφοφορία Ondine', 'title: "Ondine')]   # and ends
MOVES = [      # edits that move an article (a new date, new tags): the whole site is planned
    (ARTICLE, "date: 2026-11-12T07:40:00+00:00", "date: 2026-11-27T07:40:00+00:00"),
    (ARTICLE, "tags: [Ondine Islands, climate, shipping]", "tags: [Ondine Islands, shipping]"),
]


def test_edits_in_place_give_the_bytes_of_a_full_preview_build(site, tmp_path):
    """Each in-place edit (no full plan) leaves the preview folder byte-identical to a preview
    built from scratch; edits that move an article take the full plan, then in-place edits go on."""
    live = _preview_build(site, tmp_path / "live")
    live.run()
    for step, (rel, old, new) in enumerate(IN_PLACE + MOVES + IN_PLACE[:2] + ENDS):
        path = site / rel
        text = path.read_text(encoding="utf-8")
        if old not in text:   # a step undone by an earlier one: undo it the other way
            old, new = new, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        changed = {path}
        live.invalidate(changed)
        done = live.run(changed=changed)
        moved = (rel, old, new) in MOVES or (rel, new, old) in MOVES
        assert done.planned == moved, (step, rel, new)
        if not moved:
            assert done.rendered < done.pages / 2
        fresh = _preview_build(site, tmp_path / f"fresh-{step}")
        fresh.run()
        assert tree(live.root) == tree(fresh.root), (step, rel, new)


def test_in_place_edit_of_a_scheduled_article_renders_nothing(site, tmp_path):
    live = _preview_build(site, tmp_path / "live")
    live.run()
    scheduled = next(p for p in (site / "content").rglob("*.md") if "date: 2027-" in p.read_text(encoding="utf-8"))
    scheduled.write_text(scheduled.read_text(encoding="utf-8").replace("title: ", "title: Later ", 1),
                         encoding="utf-8")
    before = snapshot(live.root)
    live.invalidate({scheduled})
    done = live.run(changed={scheduled})
    assert not done.planned and done.rendered == 0 and done.report.written == 0
    assert snapshot(live.root) == before


def test_without_inotify_the_watch_polls_and_still_hears_a_save(site, monkeypatch, capsys):
    """Where inotify cannot watch (its limit reached, some network file systems), the preview
    says so and polls through watchdog instead; a save is still reported."""
    import queue

    from newsmirror import preview as preview_module

    class NoInotify(preview_module.Observer):
        def schedule(self, *args, **kwargs):
            raise OSError(28, "inotify watch limit reached")

    monkeypatch.setattr(preview_module, "Observer", NoInotify)
    heard: queue.Queue = queue.Queue()
    watch = preview_module.FileWatch(heard.put)
    content = site / "content"
    watch.watch(site / "config.yaml", content, site / "layouts", site / "static")
    try:
        assert "polling instead" in capsys.readouterr().err
        time.sleep(1.5)   # the polling observer's first snapshot
        set_front_matter(site, ARTICLE, "title", '"Heard by polling"')
        paths = heard.get(timeout=10)
        assert site / ARTICLE in paths
    finally:
        watch.stop()
