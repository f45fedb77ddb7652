"""Fixtures chained like the pipeline: the sample site copied, then built, then served."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
FIXED_NOW = "2026-11-29 12:00:00 +00:00"   # the sample's scheduled article stays scheduled
SAMPLE_PARTS = ("config.yaml", "content", "layouts", "static")
VNU_JAR = REPO / "tools/node_modules/vnu-jar/build/dist/vnu.jar"
CHROMIUM = Path("/usr/bin/chromium")


def need(condition: bool, reason: str) -> None:
    """Skip when a part beside the project is missing; under CI (CI=true) that is a failure."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required under CI)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared() -> Path:
    """Return ../shared (corpora, XSDs, benchmark tools) beside the project."""
    need(SHARED.is_dir(), f"{SHARED} is absent: it holds the real corpus and the XSDs")
    return SHARED


def copy_sample(dest: Path) -> Path:
    """Copy the sample site (config, content, layouts, static) into `dest`; return it."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in SAMPLE_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, dest / part)
        else:
            shutil.copy2(source, dest / part)
    return dest


def run_build(site: Path, *args: str, now: str | None = FIXED_NOW) -> subprocess.CompletedProcess:
    """Run `python build.py` as a user does, on the site in `site`; return the finished process."""
    command = [sys.executable, str(REPO / "build.py"), *args, "--config", str(site / "config.yaml")]
    is_build = not args or args[0] not in ("new", "clean", "check")
    if is_build and now and "--now" not in args:
        command += ["--now", now]
    return subprocess.run(command, cwd=site, capture_output=True, text=True, timeout=600)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """Return a fresh copy of the sample site, not built."""
    return copy_sample(tmp_path / "site")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """Return a copy of the sample site built once for the session (read-only for tests)."""
    root = copy_sample(tmp_path_factory.mktemp("built") / "site")
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture(scope="session")
def output(built_site: Path) -> Path:
    """Return the built sample site's output folder."""
    return built_site / "output"


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Return every file under `folder` with its bytes and mtime."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def tree(folder: Path) -> dict[str, bytes]:
    """Return every file under `folder` with its bytes (mtimes ignored)."""
    return {k: v[0] for k, v in snapshot(folder).items()}


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder under an optional path prefix; tells linkchecker it may go fast."""

    prefix = "/"

    def translate_path(self, path: str) -> str:
        if not path.startswith(self.prefix):
            return str(Path(self.directory) / "__outside_prefix__")
        return super().translate_path("/" + path[len(self.prefix):])

    def end_headers(self) -> None:
        self.send_header("LinkChecker", "allow")
        super().end_headers()

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(folder: Path, prefix: str = "/"):
    """Serve `folder` on 127.0.0.1 (under `prefix`); yield the base URL."""
    handler = type("Handler", (_Handler,), {"prefix": prefix})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def vnu_jar() -> Path:
    """Return the Nu HTML checker's jar (installed by .ci/run into tools/)."""
    need(VNU_JAR.is_file() and shutil.which("java") is not None,
         "the Nu HTML checker is not installed: npm install --prefix tools -E vnu-jar@26.9.27")
    return VNU_JAR


@pytest.fixture(scope="session")
def browser():
    """Return headless Debian Chromium driven by Playwright (never a downloaded browser)."""
    need(CHROMIUM.exists(), "Debian chromium is not installed: apt-get install chromium")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """Return a fresh Chromium page (its own context: no cookies or cache from other tests)."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free now (for a server a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
