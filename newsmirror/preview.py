"""The live preview (`serve`): build one mirror into a temporary folder, serve it with livereload,
rebuild only what a change affects, and reload the browser once each rebuild is complete.

The preview never writes to output/: its mirror's base URL is the local address, so its pages
must never be deployed. One thread builds and serves, so a page is never served half-rebuilt;
watchdog's thread only hands the paths it is told of to that thread's loop."""

from __future__ import annotations

import html
import mimetypes
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from livereload.server import LiveScriptInjector
from livereload.watcher import Watcher
from tornado import escape, web
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from watchdog.events import (EVENT_TYPE_CLOSED, EVENT_TYPE_CREATED, EVENT_TYPE_DELETED, EVENT_TYPE_MODIFIED,
                             EVENT_TYPE_MOVED, FileSystemEventHandler)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from . import articles, collector
from .config import Config, load_config
from .errors import BuildError, Problem, display_path, template_frame
from .mirrors import Mirror
from .articles import Article
from .assets import Assets
from .i18n import date_formatter
from .pipeline import (Progress, RenderJob, _check_folders, _no_progress, check_and_plan, content_files,
                       SearchFiles, has_search, parse_content, parse_settings, render_and_commit,
                       stage_feeds, stage_pages, stat_key)
from .plan import BuildOptions, SitePlan, story_for
from .search import SearchIndex
from .sitemaps import NEWS_SITEMAP, news_sitemap
from .swap import StoryIndex, same_shape, sources_shown, swap_story
from .unchanged import next_instant
from .views import Page
from .writer import Staging, WriteReport

QUIET_SECONDS = 0.1      # a burst of saves (save all, git checkout) is over once nothing changed for this long
EDITOR_LITTER = ("~", ".swp", ".swx", ".swo", ".tmp", ".part")
NOT_FOUND = b"<!DOCTYPE html><html><head><title>Not found</title></head><h1>Not found</h1></html>"
RELOAD = {"command": "reload", "path": "*", "liveCSS": False, "liveImg": False}
# livereload's own snippet (livereload.server.Server.application): loads livereload.js from us
SCRIPT = (b'<script>(function(){var s=document.createElement("script");'
          b'var port=(window.location.port||(window.location.protocol=="https:"?443:80));'
          b's.src="//"+window.location.hostname+":"+port+"/livereload.js?port="+port;'
          b'document.head.appendChild(s);})();</script>')


@dataclass(frozen=True)
class ServeOptions:
    """What `serve` was asked for: which mirror, where to listen, what to include."""

    mirror: str | None          # host; None for the primary
    bind: str = "127.0.0.1"
    port: int = 8000
    drafts: bool = False
    future: bool = False
    now: datetime | None = None  # None: the clock at each rebuild


@dataclass(frozen=True)
class Rebuilt:
    """What one preview build did."""

    pages: int
    rendered: int
    report: WriteReport
    seconds: float
    warnings: tuple[Problem, ...]
    planned: bool = True         # False: an edit in place (swap.py), no full plan


def preview_config(config: Config, host: str | None, url: str, output_dir: Path) -> tuple[Config, Mirror]:
    """Return `config` with the previewed mirror (the primary if `host` is None) moved to `url`
    and the output in `output_dir`, and that mirror.

    The mirror keeps its host (its folder name, onion-ness); canonical URLs point at the preview.
    Static files keep their names: nothing caches the preview, and a CSS edit then renders no page."""
    mirror = config.primary if host is None else config.mirror(host)
    if mirror is None:
        known = ", ".join(m.host for m in config.mirrors)
        raise BuildError([Problem("--mirror", 0, f"no mirror '{host}' in {config.path.name} "
                                                 f"(mirrors: {known})")])
    local = replace(mirror, url=url, prefix="/", scheme="http", canonical="self")
    return replace(config, mirrors=tuple(local if m is mirror else m for m in config.mirrors),
                   output_dir=output_dir, hosting=replace(config.hosting, fingerprint=())), local


@dataclass(frozen=True)
class _Site:
    """What the last complete preview build planned, kept for edits in place."""

    plan: SitePlan
    static: Assets
    warnings: tuple[Problem, ...]
    options: BuildOptions
    until: datetime | None       # when the clock next changes the plan (next_instant)
    index: StoryIndex
    search: SearchIndex | None


class PreviewBuild:
    """The site built for one mirror into a private folder, keeping what later rebuilds reuse:
    parsed files by (mtime, size, inode), the pages as last written, and the plan.

    A save that changes an article only in what its pages show (the usual save) swaps the
    story into the kept plan and renders the pages and feeds showing it; any other change
    plans the site again and renders the pages whose plan changed."""

    def __init__(self, config: Config, options: ServeOptions, url: str, folder: Path):
        self.config_path, self.options, self.url, self.folder = config.path, options, url, folder
        self.base: Config | None = config            # as read from disk; None: read it again
        self.config, self.mirror = preview_config(config, options.mirror, url, folder)
        self.settings = None
        self.parsed: dict[Path, tuple[tuple, object]] = {}
        self.written: dict[str, Page] | None = None  # output path: page, as on disk; None: all stale
        self.context: tuple = ()                     # what every page depends on, as on disk
        self.extras: dict[str, dict] = {}            # front matter Page equality does not see
        self.site: _Site | None = None               # None: the next build plans everything
        self.job: RenderJob | None = None            # renders edits in place; made by the first one

    @property
    def root(self) -> Path:
        """Return the folder being served (the previewed mirror's)."""
        return self.folder / self.mirror.host

    def watched(self) -> tuple[Path, Path, Path, Path]:
        """Return the config file and the content, layouts and static folders."""
        c = self.config
        return self.config_path, c.content_dir, c.layouts_dir, c.static_dir

    def invalidate(self, changed: set[Path]) -> None:
        """Forget what the changed files make stale: config and layouts affect every page."""
        _, content, layouts, _ = self.watched()
        if not all(p.suffix == ".md" and p.is_relative_to(content) for p in changed):
            self.site = None
        if self.config_path in changed:
            self.base, self.written = None, None
        if any(p.is_relative_to(layouts) for p in changed):
            self.written = None
        if any(p.is_relative_to(layouts / "shortcodes") for p in changed):
            # shortcode output is part of a parsed body, and the parser caches shortcode layouts
            self.parsed.clear()
            articles._shortcodes.cache_clear()
            articles._converter.cache_clear()

    def run(self, progress: Progress = _no_progress, changed: set[Path] = frozenset()) -> Rebuilt:
        """Bring the preview folder up to date after `changed` files; raise BuildError naming
        every problem."""
        started = time.perf_counter()
        with collector.paused():
            done = self._edit_in_place(changed, started) if changed and self.site is not None else None
            return done or self._plan_and_render(progress, started)

    def _plan_and_render(self, progress: Progress, started: float) -> Rebuilt:
        """Plan the whole site and render the pages whose plan changed."""
        self.site, self.job = None, None
        if self.base is None:
            self.base = load_config(self.config_path)
            self.config, self.mirror = preview_config(self.base, self.options.mirror, self.url, self.folder)
        config, mirror = self.config, self.mirror
        _check_folders(config)
        parsed = self._parse(progress)
        now = self.options.now or datetime.now(timezone.utc)
        options = BuildOptions(now=now, drafts=self.options.drafts, future=self.options.future)
        plan, static, warnings = check_and_plan(config, parsed, options, self.base)
        keep = self._unchanged(plan, static.names)
        search = SearchIndex(plan.stories, date_formatter(config.zone, config.site.locale)) \
            if has_search(plan) else None
        staging = Staging(config.output_dir, [mirror.host])
        report = render_and_commit(config, plan, [mirror], static, staging, progress, warnings, keep=keep,
                                   search=SearchFiles(config, plan, index=search) if search else None)
        self.written = {p.output: p for p in plan.pages}
        self.context = (plan.sections, plan.refs, plan.editions, static.names)
        self.extras = {s.source: s.extra for s in plan.stories}
        shown = tuple(sorted(set(warnings)))
        self.site = _Site(plan, static, shown, options, next_instant(parsed, now), StoryIndex.of(plan), search)
        return Rebuilt(len(plan.pages), len(plan.pages) - len(keep), report,
                       time.perf_counter() - started, shown)

    def _edit_in_place(self, changed: set[Path], started: float) -> Rebuilt | None:
        """Swap edited articles into the kept plan and render what shows them; return None
        when the change needs a full plan (see swap.same_shape), and change nothing then."""
        site, config, mirror = self.site, self.config, self.mirror
        now = self.options.now or datetime.now(timezone.utc)
        if now < site.options.now or (site.until is not None and now >= site.until):
            return None   # a scheduled article came due, or one expired, since the plan was made
        fresh = {}
        for path in sorted(changed):
            if path not in self.parsed:
                return None   # a new file, or one the build skips
            try:
                st = path.stat()
            except OSError:
                return None   # removed
            key, old = (st.st_mtime_ns, st.st_size, st.st_ino), self.parsed[path][1]
            new = articles.parse_file(path, self.settings)
            if new.problems or not isinstance(new.item, Article) or not isinstance(old.item, Article) \
                    or new.shortcodes != old.shortcodes or not same_shape(old.item, new.item) \
                    or not self._refs_resolved(site.plan, old.item, new.item):
                return None
            fresh[path] = (key, new)
        # a draft or scheduled article is in no page (the same after the edit: same shape)
        stories = [story_for(new.item, config, site.plan, site.options) for _, new in fresh.values()
                   if new.item.source in site.index.number]
        if any(story is None for story in stories):
            return None
        search_files: dict[str, bytes | None] = {}
        for story in stories if site.search is not None else ():
            replaced = site.search.replace(site.search.number(site.index.number[story.source]), story)
            if replaced is None:   # every shard has a new name: plan and index anew
                self.site = None
                return None
            search_files.update(replaced)
        plan, pages, feeds = site.plan, set(), set()
        for story in stories:
            plan = swap_story(plan, site.index, story)
            pages |= set(site.index.pages.get(story.source, ()))
            feeds |= set(site.index.feeds.get(story.source, ()))
        staging = Staging(config.output_dir, [mirror.host])
        try:
            if self.job is None:   # templates compile once, for every edit until the next full plan
                self.job = RenderJob(config, plan, [mirror], staging.places, site.static)
            # this edit's staging decides where files go (flat or as a tree), not the first edit's
            self.job.plan, self.job.places, self.job.seen_dirs = plan, staging.places, {}
            problems = stage_pages(self.job, sorted(pages), staging)
            if problems:
                raise BuildError(problems + list(site.warnings))
            stage_feeds(staging, config, plan, mirror, site.static, [plan.feeds[at] for at in sorted(feeds)])
            if plan.news != site.plan.news:
                staging.add(mirror.host, NEWS_SITEMAP, news_sitemap(plan.news, mirror, config.site.title))
            for rel, data in sorted(search_files.items()):
                if data is None:
                    staging.remove(mirror.host, rel)
                else:
                    staging.add(mirror.host, rel, data)
        except BaseException:
            staging.abort()
            self.site = None   # the search index took the edit: plan everything next time
            raise
        report = staging.commit(complete=False)
        self.parsed.update(fresh)
        self.site = replace(site, plan=plan)
        for at in pages:
            self.written[plan.pages[at].output] = plan.pages[at]
        self.extras.update((new.item.source, new.item.extra) for _, new in fresh.values())
        return Rebuilt(len(plan.pages), len(pages), report, time.perf_counter() - started, site.warnings,
                       planned=False)

    @staticmethod
    def _refs_resolved(plan: SitePlan, old: Article, new: Article) -> bool:
        """Return whether every link to another article, in both versions, is one the plan
        resolved (a new or broken one needs the full plan and its warnings)."""
        targets = {use.target for use in old.refs} | {use.target for use in new.refs}
        return all(plan.refs.get(t) is not None for t in targets)

    def _parse(self, progress: Progress) -> list:
        """Return every content file parsed, re-reading only files added or changed since."""
        settings = parse_settings(self.base)
        if settings != self.settings:      # permalink, zone, domains or the layout names changed
            self.parsed.clear()
            self.settings = settings
        files = content_files(self.base)
        keys = {}
        for path in files:
            try:
                keys[path] = stat_key(path.stat())
            except OSError:
                keys[path] = None          # gone since listed: parsing reports it
        fresh = [p for p in files if p not in self.parsed or self.parsed[p][0] != keys[p]]
        for path, item in zip(fresh, parse_content(self.base, progress, fresh)):
            self.parsed[path] = (keys[path], item)
        for path in set(self.parsed) - set(files):
            del self.parsed[path]
        return [self.parsed[p][1] for p in files]

    def _unchanged(self, plan, asset_names: tuple) -> frozenset[str]:
        """Return the output paths of pages exactly as last written (none after a layout change,
        or once a static file has a new hashed name)."""
        if self.written is None or (plan.sections, plan.refs, plan.editions, asset_names) != self.context:
            return frozenset()
        edited = {s.source for s in plan.stories if self.extras.get(s.source) != s.extra}
        return frozenset(p.output for p in plan.pages
                         if self.written.get(p.output) == p and not (edited and sources_shown(p) & edited))


class FileWatch:
    """Reports added, changed, moved and removed files of the watched folders as the kernel
    tells of them (inotify, through watchdog), so a save is seen at once and a 10,000-article
    site is not scanned on every poll. Where inotify cannot watch (its limit reached), watchdog
    polls instead. Events arrive on watchdog's thread and go to `notify`, which must be safe to
    call from there."""

    def __init__(self, notify: Callable[[set[Path]], None]):
        self.notify = notify
        self.observer: BaseObserver | None = None
        self.paths: tuple[Path, ...] = ()   # the config file, content, layouts, static
        self.watching: tuple = ()           # the paths and which folders existed when watched

    def watch(self, config_path: Path, content: Path, layouts: Path, static: Path) -> None:
        """Watch the config file and the three folders (again, if they changed or appeared)."""
        paths = (config_path, content, layouts, static)
        watching = (paths, tuple(f.is_dir() for f in paths[1:]))
        if watching == self.watching:
            return
        self.stop()
        self.paths, self.watching = paths, watching
        handler = _Events(self)
        for kind in (Observer, PollingObserver):
            observer = kind()
            try:
                # the config's folder, not recursively: the config file, and folders appearing
                observer.schedule(handler, str(config_path.parent), recursive=False)
                for folder in (content, layouts, static):
                    if folder.is_dir() and folder != config_path.parent:
                        observer.schedule(handler, str(folder), recursive=True)
                observer.start()
            except OSError as exc:
                if kind is PollingObserver:
                    raise
                print(f"note: cannot watch with inotify ({exc.strerror or exc}); polling instead",
                      file=sys.stderr)
                observer.stop()
                continue
            self.observer = observer
            return

    def stop(self) -> None:
        """Stop watching."""
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
            self.observer = None
            self.watching = ()

    def wanted(self, path: Path, is_dir: bool) -> bool:
        """Return whether a changed path is one the build reads (not editor litter)."""
        config_path, content, *_ = self.paths
        if path == config_path:
            return True
        name = path.name
        if name.startswith((".", "#")) or name.endswith(EDITOR_LITTER) or name == "4913":
            return False
        for folder in self.paths[1:]:   # content, layouts, static
            if path == folder:           # the folder itself appeared or went
                return True
            if path.is_relative_to(folder):
                inside = path.relative_to(folder).parts[:-1]
                if any(part.startswith(".") and part != ".well-known" for part in inside):
                    return False
                return is_dir or folder != content or name.endswith(".md")
        return False


class _Events(FileSystemEventHandler):
    """Passes the paths of watchdog's events on (opening and reading files are not changes)."""

    def __init__(self, watch: FileWatch):
        self.watch = watch

    def on_any_event(self, event) -> None:
        if event.event_type not in (EVENT_TYPE_CREATED, EVENT_TYPE_MODIFIED, EVENT_TYPE_DELETED,
                                    EVENT_TYPE_MOVED, EVENT_TYPE_CLOSED):
            return
        if event.is_directory and event.event_type in (EVENT_TYPE_MODIFIED, EVENT_TYPE_CLOSED):
            return   # a file in it changed: that file has its own event
        paths = {Path(os.fsdecode(p)) for p in (event.src_path, getattr(event, "dest_path", "")) if p}
        found = {p for p in paths if self.watch.wanted(p, event.is_directory)}
        if found:
            self.watch.notify(found)


class PreviewState:
    """What the request handlers serve: the folder, or the problems of the last build."""

    def __init__(self):
        self.root: Path | None = None
        self.problems: tuple[Problem, ...] | None = None
        self.generation = 0                      # one more at each build that changed what is shown
        self.served: dict[str, int] = {}         # URL path: generation of the HTML last served

    def publish(self) -> None:
        """Count a new generation and tell every connected browser to reload."""
        self.generation += 1
        ReloadSocket.reload_waiters("*")


class ReloadSocket(LiveReloadHandler):
    """livereload's WebSocket, which also reloads a page that missed a reload while loading."""

    watcher = Watcher()   # livereload's registry, never polled: FileWatch finds the changes
    live_css = False

    def initialize(self, state: PreviewState):
        self.state = state

    def on_message(self, message):
        super().on_message(message)
        data = escape.json_decode(message)
        if isinstance(data, dict) and data.get("command") == "info":
            shown = self.state.served.get(unquote(urlsplit(str(data.get("url", ""))).path))
            if shown is not None and shown < self.state.generation:
                self.send_message(RELOAD)


class ScriptInjector(LiveScriptInjector):
    """livereload's transform putting its script before </head> of every HTML response."""

    script = SCRIPT


class FileHandler(web.RequestHandler):
    """Serves files of the preview folder only; the build's problems instead, while it fails."""

    def initialize(self, state: PreviewState):
        self.state = state

    def set_default_headers(self) -> None:
        self.set_header("Cache-Control", "no-store")

    def head(self) -> None:
        self.get()

    def get(self) -> None:
        state, path = self.state, self.request.path
        rel = site_path(path)
        if rel is None:                       # outside the served folder: never an answer
            raise web.HTTPError(404)
        if state.problems is not None or state.root is None:
            return self._html(500, error_page(state.problems or ()))
        file = resolve_request(state.root, rel)
        if file is None:
            raise web.HTTPError(404)
        if file.is_dir():
            if not path.endswith("/"):
                query = f"?{self.request.query}" if self.request.query else ""
                return self.redirect(path + "/" + query)
            file = file / "index.html"
        if not file.is_file():
            missing = state.root / "404.html"
            return self._html(404, missing.read_bytes() if missing.is_file() else NOT_FOUND)
        kind = mimetypes.guess_type(file.name)[0] or ("text/plain" if "." not in file.name else
                                                      "application/octet-stream")
        if kind.startswith("text/") or kind.endswith(("xml", "json", "javascript")):
            kind += "; charset=utf-8"
        if kind.startswith("text/html"):
            return self._html(200, file.read_bytes())
        self._send(200, kind, file.read_bytes())

    def _html(self, status: int, body: bytes) -> None:
        self.state.served[unquote(self.request.path)] = self.state.generation
        self._send(status, "text/html; charset=utf-8", body)

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.set_status(status)
        self.set_header("Content-Type", kind)
        if self.request.method == "HEAD":
            self.set_header("Content-Length", len(body))
            body = b""
        self.finish(body)


def site_path(url_path: str) -> str | None:
    """Return a request's path decoded and without its leading /, or None if it could leave
    the served folder (`..` or `.` segments, also percent-encoded; backslashes; NUL)."""
    rel = unquote(url_path)
    if "\0" in rel or "\\" in rel or any(p in (".", "..") for p in rel.split("/")):
        return None
    return rel.lstrip("/")


def resolve_request(root: Path, rel: str) -> Path | None:
    """Return the file or folder `rel` names under `root`, or None if a symlink leads outside."""
    target = Path(os.path.realpath(root / rel))
    return target if target.is_relative_to(os.path.realpath(root)) else None


def blame(exc: Exception, root: Path) -> Problem:
    """Return a Problem for an unexpected exception: at the layout line that raised it, if any."""
    name, line = template_frame(exc)   # Jinja2 reports template lines in tracebacks
    where = display_path(Path(name), root) if name else "newsmirror"
    return Problem(where, line, f"error: {type(exc).__name__}: {exc} (traceback in the terminal)")


def error_page(problems: tuple[Problem, ...]) -> bytes:
    """Return the HTML page listing a failed build's problems (errors first, then warnings)."""
    errors = [p for p in problems if not p.warning]
    warnings = [p for p in problems if p.warning]
    items = "".join(f"<li><code>{html.escape(str(p))}</code></li>\n" for p in errors + warnings)
    count = f"{len(errors)} problem{'s' if len(errors) != 1 else ''}"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>Build failed: {count} – newsmirror preview</title>"
            '<style>body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem}'
            "h1{color:#b00020}code{white-space:pre-wrap;word-break:break-word}li{margin:.4rem 0}</style>"
            f'</head>\n<body><h1>Build failed: {count}</h1>\n'
            "<p>Fix the files below and save: this page reloads when the site builds again.</p>\n"
            f'<ul class="problems">\n{items}</ul>\n</body></html>\n').encode("utf-8")


class Preview:
    """The preview's loop: hear of changes, rebuild once a burst of saves is over, reload."""

    def __init__(self, build: PreviewBuild, state: PreviewState, say: Callable[[str], None],
                 progress: Progress, verbose: bool = False):
        self.build, self.state, self.say, self.progress = build, state, say, progress
        self.shown_warnings = None if verbose else 20
        self.loop = IOLoop.current()
        self.watch = FileWatch(lambda paths: self.loop.add_callback(self.changed, paths))
        self.pending: set[Path] = set()
        self.last_change = 0.0
        self.settling = False
        self.warned: set[Problem] = set()
        self.building = False

    def start(self) -> None:
        """Watch, build the site for the first time, then wait for changes."""
        self.watch.watch(*self.build.watched())
        self.rebuild(set())
        self.say(f"Serving {self.build.root.name} at {self.build.url} from {self.build.folder} "
                 "(Ctrl-C stops)")

    def stop(self) -> None:
        """Stop watching."""
        self.watch.stop()

    def changed(self, paths: set[Path]) -> None:
        """Note changed files (on the loop's thread); rebuild once the burst is over."""
        self.pending |= paths
        self.last_change = time.monotonic()
        if not self.settling:
            self.settling = True
            self.loop.call_later(QUIET_SECONDS, self.settle)

    def settle(self) -> None:
        """Rebuild when nothing changed for QUIET_SECONDS, else wait for the rest of the burst."""
        quiet = time.monotonic() - self.last_change
        if quiet < QUIET_SECONDS:
            self.loop.call_later(QUIET_SECONDS - quiet, self.settle)
            return
        self.settling = False
        changed, self.pending = self.pending, set()
        self.rebuild(changed)
        self.watch.watch(*self.build.watched())   # a config naming other folders, a folder made

    def rebuild(self, changed: set[Path]) -> None:
        """Rebuild what `changed` affects; on success or new problems, reload the browsers."""
        state, root = self.state, self.build.config.root
        self.build.invalidate(changed)
        cause = ", ".join(display_path(p, root) for p in sorted(changed)[:3]) + \
            (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
        try:
            self.building = True
            done = self.build.run(self.progress if not changed else _no_progress, changed)
        except BuildError as exc:
            self._failed(tuple(exc.problems))
            return
        except Exception as exc:   # a layout raising, or a bug: show it, keep serving
            traceback.print_exc()
            self._failed((blame(exc, root),))
            return
        finally:
            self.building = False
        self._warn(done.warnings)
        r = done.report
        if changed:
            how = "" if done.planned else " (edited in place)"
            self.say(f"Rebuilt in {done.seconds:.2f} s after {cause}: {done.rendered} of {done.pages} "
                     f"pages rendered, {r.written} files written, {r.removed} removed{how}")
        else:
            self.say(f"Built {done.pages} pages in {done.seconds:.2f} s")
        failed_before = state.problems is not None or state.root is None
        state.root, state.problems = self.build.root, None
        if r.written or r.removed or failed_before:
            state.publish()

    def _failed(self, problems: tuple[Problem, ...]) -> None:
        for problem in problems:
            print(problem, file=sys.stderr)
        errors = sum(1 for p in problems if not p.warning)
        print(f"error: {errors} problem{'s' if errors != 1 else ''}; the preview shows them until "
              "the next good save", file=sys.stderr, flush=True)
        if problems != self.state.problems:
            self.state.problems = problems
            self.state.publish()

    def _warn(self, warnings: tuple[Problem, ...]) -> None:
        new = [w for w in warnings if w not in self.warned]
        for warning in new[:self.shown_warnings]:
            print(warning, file=sys.stderr)
        if self.shown_warnings is not None and len(new) > self.shown_warnings:
            print(f"... and {len(new) - self.shown_warnings} more warnings (-v shows all)",
                  file=sys.stderr)
        self.warned = set(warnings)


def serve_site(config: Config, options: ServeOptions, say: Callable[[str], None],
               progress: Progress = _no_progress, verbose: bool = False) -> int:
    """Build and serve the preview until Ctrl-C or SIGTERM; return the exit status (0)."""
    preview_config(config, options.mirror, "http://localhost/", config.output_dir)  # unknown --mirror
    try:
        sockets = bind_sockets(options.port, address=options.bind)
    except OSError as exc:
        raise BuildError([Problem("--port", 0, f"cannot listen on {options.bind}:{options.port}: "
                                               f"{exc.strerror or exc}")]) from None
    port = sockets[0].getsockname()[1]
    shown = options.bind if options.bind not in ("0.0.0.0", "::", "") else "localhost"
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}/"
    folder = Path(tempfile.mkdtemp(prefix="newsmirror-preview-"))
    state = PreviewState()
    app = web.Application([
        (r"/livereload", ReloadSocket, {"state": state}),
        (r"/livereload\.js", LiveReloadJSHandler),
        (r"/.*", FileHandler, {"state": state}),
    ], transforms=[ScriptInjector], log_function=lambda handler: None)
    server = HTTPServer(app)
    loop = IOLoop.current()
    preview = Preview(PreviewBuild(config, options, url, folder), state, say, progress, verbose)
    stop = _Stopper(loop, preview)
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.add_sockets(sockets)
        loop.add_callback(preview.start)
        stop.running = True
        loop.start()
    except KeyboardInterrupt:
        pass
    finally:
        stop.running = False
        preview.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
        for waiter in list(LiveReloadHandler.waiters):
            waiter.close()
        loop.close(all_fds=True)
        shutil.rmtree(folder, ignore_errors=True)
    say("Stopped")
    return 0


class _Stopper:
    """Signal handler for Ctrl-C and SIGTERM: stop the loop when it is idle, else interrupt the
    build (its output is a temporary folder about to be removed)."""

    def __init__(self, loop: IOLoop, preview: Preview):
        self.loop, self.preview, self.running = loop, preview, False

    def __call__(self, signum, frame) -> None:
        if not self.running or self.preview.building:
            raise KeyboardInterrupt
        self.loop.asyncio_loop.call_soon_threadsafe(self.loop.asyncio_loop.stop)
