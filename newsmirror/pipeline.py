"""The build: find, parse, plan, render for every mirror, write. Reads like its table of contents."""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from collections import defaultdict
from contextlib import contextmanager, nullcontext
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase as fnmatch
from multiprocessing import get_context
from pathlib import Path
from typing import Callable, Iterable, Iterator

import babel

from .articles import Article, ParseSettings, Parsed, parse_file
from .assets import Assets, fingerprint_assets
from .background import Background, as_helper
from . import collector
from .cache import (BuildCache, content_key, digest, files_fingerprint, package_fingerprint,
                    signature, story_digests)
from .config import DEPLOY_FOLDER, Config
from .deploy import DeploySettings
from .errors import BuildError, Problem, display_path
from .feeds import atom_feed, rss_feed
from .hosting import deploy_files, headers_file, immutable_patterns
from .i18n import date_formatter, load_strings
from .links import LinkPolicy
from .manifest import MANIFEST, SIGNATURE, SigningError, file_sha256, manifest_bytes, sign
from .plan import BuildOptions, SitePlan, plan_site
from .related import RelatedLists
from .render import Renderer, SharedRenderer, TemplateProblem, make_environment
from .search import DATA as SEARCH_DATA, SCRIPT as SEARCH_SCRIPT, SearchIndex, renumbering
from .sitelock import one_build_at_a_time
from .sitemaps import (NEWS_SITEMAP, cname, mirrors_json, news_sitemap, robots_txt, sitemap_files,
                       sitemap_pages)
from .unchanged import forget_last_build, input_stamp, remember, still_current
from .views import Story
from .writer import Staging, StagingPlaces, Survey, WriteReport, stage_file, survey_output

Progress = Callable[[str, int, int], None]
PARALLEL_FROM = 200   # below this many files, starting worker processes costs more than it saves
PARALLEL_HASH_FROM = 2000   # below this many files (pages x mirrors), forking a helper process saves nothing


@dataclass(frozen=True)
class BuildResult:
    """What a build did, for the one-line summary."""

    articles: int
    pages: int
    mirrors: int
    report: WriteReport
    seconds: float
    warnings: tuple[Problem, ...]


def _no_progress(stage: str, done: int, total: int) -> None:
    pass


def build_site(config: Config, options: BuildOptions, hosts: Iterable[str] | None = None,
               progress: Progress = _no_progress) -> BuildResult:
    """Build the site for the chosen mirrors (all by default); raise BuildError on any problem."""
    started = time.perf_counter()
    mirrors = [m for m in config.mirrors if hosts is None or m.host in set(hosts)]
    _check_folders(config)
    with collector.paused(), one_build_at_a_time(config.cache_dir), \
            BuildCache(config.cache_dir, cache_fingerprint(config)) as cache:
        return _build(config, options, mirrors, hosts, progress, cache, started)


def _build(config: Config, options: BuildOptions, mirrors, hosts, progress: Progress, cache: BuildCache,
           started: float) -> BuildResult:
    """Run the stages with an open cache (see build_site)."""
    files = content_files(config)
    keys = content_keys(config, files, cache)
    stamp = input_stamp(config, options, [m.host for m in mirrors], keys)
    current = still_current(cache, config, [m.host for m in mirrors] + [DEPLOY_FOLDER], stamp, options.now)
    if current is not None:   # same inputs, same clock decisions, output as the last build left it
        (articles, pages), warnings, count = current
        return BuildResult(articles, pages, len(mirrors), WriteReport(0, 0, count),
                           time.perf_counter() - started, warnings)
    forget_last_build(cache)
    # output/ is listed and measured on the other core while this one plans: a walk of 66,000
    # files and a stat of each cost a 10,000-article rebuild a second on its own time
    folders = [*(m.host for m in mirrors), DEPLOY_FOLDER]
    with Background(survey_output, config.output_dir, folders, cache.outputs) as survey:
        parsed = parse_content(config, progress, files=files, cache=cache, keys=keys)
        known = cache.state(RELATED)
        known = known if isinstance(known, RelatedLists) else None
        plan, static, warnings = check_and_plan(config, parsed, options, related=known)
        staging = Staging(config.output_dir, [m.host for m in mirrors],
                          [m.host for m in config.mirrors] if hosts is None else None, (DEPLOY_FOLDER,))
        staging.survey = survey.result
        # every mirror's server config, whichever mirrors this build renders: they come from the config
        for rel, data in deploy_files(config).items():
            staging.add(DEPLOY_FOLDER, rel, data)
        hashed: dict[str, list[tuple[str, bytes | None]]] = {}
        search = SearchFiles(config, plan, *search_inputs(config, plan, parsed), cache=cache)
        # feeds, sitemaps and headers, and the search index, are made on the other core while
        # this one fingerprints and renders the pages (0.5 s and up to 1.1 s of a 10,000-article
        # rebuild)
        large = len(plan.pages) * len(mirrors) >= PARALLEL_HASH_FROM
        with Background(mirror_files, config, plan, mirrors, static) if large else nullcontext() as extras, \
                search.made_elsewhere() if large else nullcontext():
            fingerprints = page_fingerprints(config, plan, parsed, static)

            def record() -> None:
                record_outputs(cache, config, plan, mirrors, staging, fingerprints)
                hashed[DEPLOY_FOLDER] = [(rel, None) for folder, rel in staging.digests if folder == DEPLOY_FOLDER]
                record_hashes(cache, config, staging, hashed)

            report = render_and_commit(config, plan, mirrors, static, staging, progress, warnings, cache=cache,
                                       fingerprints=fingerprints, search=search, extras=extras,
                                       seal=lambda: hashed.update(stage_manifests(config, mirrors, staging,
                                                                                  cache)),
                                       recording=record)
        search.keep_state()
        if plan.related is not known:   # ranked again, at least in part
            cache.set_state(RELATED, plan.related)
        pages = sum(1 for _ in plan.pages)
        shown = tuple(sorted(set(warnings)))
        remember(cache, stamp, options.now, parsed, (len(plan.stories), pages), shown)
        return BuildResult(len(plan.stories), pages, len(mirrors), report,
                           time.perf_counter() - started, shown)


def render_and_commit(config: Config, plan: SitePlan, mirrors, static: Assets, staging: Staging,
                      progress: Progress, warnings: list[Problem], seal: Callable[[], None] | None = None,
                      recording: Callable[[], None] | None = None, **options) -> WriteReport:
    """Render into `staging` and put it in place; on any problem or error nothing is written.

    `seal` runs once everything is staged (the build adds each mirror's manifest there).
    `recording` runs on a thread while the staged files are moved into place: the cache's
    records of what each file was made from, with the size and mtime it has once there."""
    try:
        problems = render_mirrors(config, plan, mirrors, static, staging, progress, **options)
        if problems:
            raise BuildError(problems + warnings)
        if seal is not None:
            seal()
    except BaseException:
        staging.abort()
        raise
    if recording is None:
        return staging.commit()
    # a commit waits on the disk: each of a layout edit's 66,000 renames spends a tenth of a
    # millisecond in the kernel, without the GIL, and the records (two SQLite tables of 66,000
    # rows, 1.7 s) are written meanwhile. Recorded before every file is in place is safe: a
    # build killed meanwhile leaves old files whose size and mtime are not the recorded ones,
    # and the next build makes them again (as after any change by hand)
    with ThreadPoolExecutor(1) as thread:
        recorded = thread.submit(recording)
        report = staging.commit()
        recorded.result()
    return report


def check_and_plan(config: Config, parsed: list[Parsed], options: BuildOptions,
                   shown: Config | None = None, related: RelatedLists | None = None
                   ) -> tuple[SitePlan, Assets, list[Problem]]:
    """Return the plan, the static files (fingerprinted) and the warnings; raise BuildError naming
    every problem of the content and the plan (`shown` is the config whose paths messages show;
    `related` the last build's related lists, see plan_site)."""
    problems = [p for item in parsed for p in item.problems]
    warnings = list(_shortcode_warnings(parsed, shown or config))
    strings, string_problems = load_strings(config)
    warnings += [p for p in string_problems if p.warning]
    problems += [p for p in string_problems if not p.warning]
    plan = plan_site(config, [p.item for p in parsed if p.item is not None], options, strings, related)
    warnings += [p for p in plan.problems if p.warning]
    problems += [p for p in plan.problems if not p.warning]
    static = list_static(config)
    problems += _static_clashes(plan, static, config)
    assets, asset_problems = fingerprint_assets(static, config.hosting.fingerprint, (shown or config).root)
    problems += asset_problems
    if problems:
        raise BuildError(problems + warnings)
    return plan, assets, warnings


def page_fingerprints(config: Config, plan: SitePlan, parsed: list[Parsed], assets: Assets) -> list[str]:
    """Return, per planned page, a hash of everything its HTML is made from but the mirror
    (the hashed names of static files included: any page may link any of them).

    Every story a page shows, its own or another's (listings, related stories, previous and
    next), enters as the hash of its content file: editing one story changes the fingerprint
    of every page that shows it, its title, path or date included."""
    key_of = {p.item.source: p.key for p in parsed if p.item is not None}
    story_ids = {id(s): f"{key_of.get(s.source, s.source)}:{s.scheduled}" for s in plan.stories}
    # where mirrors are deployed and how manifests are signed never changes a page; the editions
    # carry every language's sections and names (navigation, switcher); Babel's version stands
    # for the date formats it knows
    pages_config = replace(config, deploy=DeploySettings(), signing=None)
    base = digest(signature(pages_config, {}), layouts_fingerprint(config),
                  signature(plan.sections, story_ids), signature(plan.editions, story_ids),
                  babel.__version__, assets.names)
    targets = {p.item.source: [use.target for use in p.item.refs] for p in parsed
               if isinstance(p.item, Article) and p.item.refs}
    refs = {}
    for page in plan.pages:
        if page.article is not None and page.article.source in targets:
            refs[id(page)] = tuple((t, plan.refs.get(t)) for t in targets[page.article.source])
    # all in this process: the other core makes mirror_files() meanwhile, and the fingerprints
    # of half the pages made there as well ran three processes on two cores, slower in all
    return story_digests([(page, refs.get(id(page), ())) for page in plan.pages], story_ids, base, kind=Story)


def layouts_fingerprint(config: Config) -> str:
    """Return a hash of every file under layouts/ (names and bytes)."""
    return files_fingerprint([p for p in config.layouts_dir.rglob("*") if p.is_file()], config.layouts_dir)


def search_inputs(config: Config, plan: SitePlan, parsed: list[Parsed]) -> tuple[str, list[tuple[str, str]]]:
    """Return what the search index is made from: a hash of what every document shares (the
    config: section titles, bylines, date formats; the script), and each story's content file
    and content key, in the index's order (oldest first)."""
    key_of = {p.item.source: p.key for p in parsed if p.item is not None}
    return (digest("search", signature(config, {}), (Path(__file__).parent / "search.js").read_bytes()),
            [(s.source, key_of.get(s.source, s.source)) for s in reversed(plan.stories)])


def record_outputs(cache: BuildCache, config: Config, plan: SitePlan, mirrors, staging: Staging,
                   fingerprints: list[str]) -> None:
    """Remember what each page file (and the search index) was made from, once it is in place.

    `fingerprints` are page_fingerprints(): every page of the plan was rendered, or found
    untouched (with its size and mtime in staging.stats), and then its row stands."""
    outputs = [page.output for page in plan.pages]   # a property: worked out once, not once per mirror
    pages = set(outputs) | {rel for _, rel in staging.fingerprints}
    for mirror, key in zip(mirrors, mirror_keys(mirrors)):
        def rows(host=mirror.host):
            for output, fingerprint in zip(outputs, fingerprints):
                if (host, output) in staging.stats:
                    continue
                yield (output, fingerprint, *_size_mtime_of(config, staging, host, output))
            for (other, rel), fingerprint in staging.fingerprints.items():
                if other == host:
                    yield (rel, fingerprint, *_size_mtime_of(config, staging, host, rel))
        cache.record_outputs(mirror.host, rows(), pages, key)


def _size_mtime_of(config: Config, staging: Staging, host: str, rel: str) -> tuple[int, int]:
    """Return the size and mtime of a file the build staged or found identical, once in place:
    as the build saw them when it held the bytes, else from the file (66,000 stats after a
    layout edit cost the build process a second, twice over)."""
    held = staging.held(host, rel)
    if held is not None:
        return held[1], held[2]
    return _size_mtime(f"{config.output_dir}/{host}/{rel}")


def mirror_keys(mirrors) -> list[str]:
    """Return what each mirror adds to its pages' fingerprints: a file of a mirror's folder
    was made from its page fingerprint and the mirror key its folder was recorded with."""
    return [digest(signature(m, {})) for m in mirrors]


def stage_manifests(config: Config, mirrors, staging: Staging,
                    cache: BuildCache) -> dict[str, list[tuple[str, bytes | None]]]:
    """Stage each mirror's manifest (and its signature when a key is set); return the
    (path, SHA-256 digest) pairs hashed afresh per host, for the hash cache (None for a file
    whose bytes the build held: its digest is in staging).

    A large site's mirrors are listed half on the other core: each lists 16,000 files at
    10,000 articles, 0.15 s apiece."""
    if len(mirrors) < 2 or sum(len(staging.files[m.host]) for m in mirrors) < PARALLEL_HASH_FROM * 2:
        made = _manifests(config, mirrors, staging, cache)
    else:
        half = len(mirrors) // 2
        with Background(_manifests, config, mirrors[half:], staging, cache) as rest:
            made = _manifests(config, mirrors[:half], staging, cache) + rest.result()
    fresh: dict[str, list[tuple[str, bytes]]] = {}
    for mirror, (data, hashed) in zip(mirrors, made):
        host = mirror.host
        staging.add(host, MANIFEST, data)
        if config.signing is not None:
            try:
                staging.add(host, SIGNATURE, sign(data, config.signing))
            except SigningError as exc:
                raise BuildError([Problem(config.path.name, 0, f"signing: {exc}")]) from None
        # the manifest's own size and mtime are kept too: a rebuild notices it was touched
        fresh[host] = hashed + [(rel, None) for rel in (MANIFEST, SIGNATURE) if (host, rel) in staging.digests]
    return fresh


def _manifests(config: Config, mirrors, staging: Staging,
               cache: BuildCache) -> list[tuple[bytes, list[tuple[str, bytes | None]]]]:
    """Return, per mirror, its manifest's bytes and the (path, SHA-256 digest) pairs of the
    files hashed afresh for it.

    A file the build left alone is not read again when its size and mtime are those the
    cache recorded with its hash."""
    out = []
    for mirror in mirrors:
        host = mirror.host
        known = cache.hashes(host)
        changed = {rel for h, rel in staging.changed if h == host}
        files, fresh = {}, []
        built = f"{config.output_dir}/{host}/"
        for rel in staging.files[host]:
            if rel in (MANIFEST, SIGNATURE):
                continue
            held = staging.held(host, rel)
            if held is not None:   # the build held these bytes: no need to read them back
                files[rel] = (held[0].hex(), held[1])
                fresh.append((rel, None))   # its digest stays in staging: one copy, not two
                continue
            path = staging.places.path(host, rel) if rel in changed else built + rel
            # the size and mtime of a page found untouched were read a moment ago
            size, mtime = staging.stats.get((host, rel)) or _size_mtime(path)
            seen = None if rel in changed else known.get(rel)
            if seen is not None and (seen[0], seen[1]) == (size, mtime):
                files[rel] = (seen[2], size)
                continue
            files[rel] = (file_sha256(path), size)
            fresh.append((rel, bytes.fromhex(files[rel][0])))
        out.append((manifest_bytes(mirror.url, files), fresh))
    return out


def _size_mtime(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def record_hashes(cache: BuildCache, config: Config, staging: Staging,
                  fresh: dict[str, list[tuple[str, bytes | None]]]) -> None:
    """Remember the hash of each file hashed this build, with the size and mtime it now has."""
    for host, pairs in fresh.items():
        def rows(host=host, pairs=pairs):
            for rel, sha in pairs:
                held = staging.held(host, rel)
                if held is None:
                    yield rel, *_size_mtime(f"{config.output_dir}/{host}/{rel}"), sha.hex()
                else:
                    yield rel, held[1], held[2], held[0].hex()
        cache.record_hashes(host, rows(), staging.files[host])


def _check_folders(config: Config) -> None:
    """Refuse an output folder that would swallow the sources."""
    out = config.output_dir
    for name, folder in (("content", config.content_dir), ("layouts", config.layouts_dir),
                         ("static", config.static_dir), ("cache", config.cache_dir)):
        if folder == out or folder.is_relative_to(out) or out == config.root:
            raise BuildError([Problem(config.path.name, 0, f"paths.output '{out}' contains the {name} "
                                                           "folder; give the output its own folder")])
    if not config.content_dir.is_dir():
        raise BuildError([Problem(config.path.name, 0, f"content folder "
                                                       f"'{display_path(config.content_dir, config.root)}' "
                                                       "does not exist; create it or set paths.content")])


def content_files(config: Config) -> list[Path]:
    """Return every Markdown file under content/, sorted, skipping hidden files and folders."""
    found = []
    root = str(config.content_dir)
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        rel = os.path.relpath(folder, root).replace(os.sep, "/")
        found += [n if rel == "." else f"{rel}/{n}" for n in names if n.endswith(".md") and not n.startswith(".")]
    if config.ignore:
        found = [p for p in found if not any(fnmatch(p, pattern) for pattern in config.ignore)]
    # in Path order (folder by folder), sorting strings: comparing 10,000 Paths took a third of a second
    return [config.content_dir / p for p in sorted(found, key=lambda p: p.split("/"))]


def parse_settings(config: Config) -> ParseSettings:
    """Return what parsing needs from the config."""
    layouts = frozenset(p.name for p in config.layouts_dir.glob("*.html")) if config.layouts_dir.is_dir() \
        else frozenset()
    policy = LinkPolicy(config.own_domains(),
                        tuple((m.host, m.prefix) for m in config.mirrors if m.prefix != "/"),
                        config.preserve)
    return ParseSettings(config.root, config.content_dir, config.layouts_dir, config.site.timezone,
                         config.permalink, policy, layouts,
                         tuple((lang.code, lang.path) for lang in config.languages if lang.path))


def cache_fingerprint(config: Config) -> str:
    """Return what the whole cache depends on: newsmirror's code (and the cache's folder)."""
    return digest(package_fingerprint(), str(config.cache_dir))


def _settings_key(config: Config, settings: ParseSettings) -> str:
    """Return what every parse result depends on besides its file: settings and shortcode layouts."""
    folder = config.layouts_dir / "shortcodes"
    shortcodes = files_fingerprint(folder.glob("*.html"), folder) if folder.is_dir() else ""
    return digest(signature(settings, {}), shortcodes)


FILE_STATS = "files"   # the cache state: {content file: (its stat_key, the SHA-256 of its bytes)}
SETTLED_NS = 2_000_000_000   # a file changed this close to the build that saw it is read again


def stat_key(stat: os.stat_result) -> tuple[int, int, int, int, int]:
    """Return what tells a file's versions apart without reading it: size, mtime, ctime (which
    no tool can set back), inode and device."""
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, stat.st_dev


def content_keys(config: Config, files: list[Path], cache: BuildCache | None = None) -> list[str]:
    """Return each file's cache key: a hash of its path, its bytes and the parse settings.

    With a cache, a file is not read when its size, mtime, ctime, inode and device are those
    the last build saw, and that build began at least SETTLED_NS after the file last changed (as
    git's index does: a file written twice in one tick of the clock keeps its stat). Reading and
    hashing 10,000 articles cost a rebuild 0.2 s. On Windows, where the ctime is the time a file
    was made, every file is read."""
    began = time.time_ns()
    salt = _settings_key(config, parse_settings(config))
    base = len(str(config.content_dir)) + 1
    known = (cache.state(FILE_STATS) if cache is not None and os.name != "nt" else None) or {}
    seen: dict[str, tuple[tuple[int, int, int, int, int], bytes]] = {}
    out = []
    for path in files:
        name = str(path)[base:].replace(os.sep, "/")
        now = stat_key(os.stat(path))
        last = known.get(name)
        if last is not None and last[0] == now:
            seen[name] = last
        else:
            with open(path, "rb") as f:
                seen[name] = (now, hashlib.sha256(f.read()).digest())
        out.append(content_key(salt, name, seen[name][1]))
    if cache is not None:
        # only files settled before this build began are remembered by their stat: a write
        # after its stat was read here is then in a later tick of the clock
        settled = began - SETTLED_NS
        kept = {name: entry for name, entry in seen.items() if max(entry[0][1], entry[0][2]) < settled}
        if kept != known:
            cache.set_state(FILE_STATS, kept)
    return out


def parse_content(config: Config, progress: Progress, files: list[Path] | None = None,
                  cache: BuildCache | None = None, keys: list[str] | None = None) -> list[Parsed]:
    """Return every content file (or only `files`) parsed, in order.

    With a cache, only files whose bytes (or the settings) changed are converted again; the
    rest come from the cache. New work runs in two processes on two cores. `keys`, when
    given, are content_keys(files) of every content file."""
    every = files is None or keys is not None
    files = content_files(config) if files is None else files
    settings = parse_settings(config)
    if cache is None:
        return _parse_files(files, settings, progress)
    keys = content_keys(config, files) if keys is None else keys
    known = cache.parsed(keys)
    missing = [(path, key) for path, key in zip(files, keys) if key not in known]
    fresh = _parse_files([path for path, _ in missing], settings, progress)
    made = {key: replace(item, key=key) for (_, key), item in zip(missing, fresh)}
    cache.store_parsed(made)
    if every:
        cache.forget_parsed_except(set(keys))
    # a cached result holds the key it was stored under (made above): no copy to set it
    return [made[key] if key in made else known[key] if known[key].key == key else replace(known[key], key=key)
            for key in keys]


def _parse_files(files: list[Path], settings: ParseSettings, progress: Progress) -> list[Parsed]:
    """Return the files parsed, in order; many files are parsed in two processes."""
    workers = min(os.cpu_count() or 1, 8)
    if len(files) < PARALLEL_FROM or workers < 2:
        out = []
        for index, path in enumerate(files, 1):
            out.append(parse_file(path, settings))
            progress("parse", index, len(files))
        return out
    chunk = max(16, len(files) // (workers * 8))
    with ProcessPoolExecutor(workers, mp_context=get_context("fork"),
                             initializer=as_helper) as pool:
        out = []
        for index, item in enumerate(pool.map(parse_file, files, [settings] * len(files),
                                              chunksize=chunk), 1):
            out.append(item)
            if index % 100 == 0 or index == len(files):
                progress("parse", index, len(files))
        return out


def _shortcode_warnings(parsed: list[Parsed], config: Config) -> Iterable[Problem]:
    """Yield one warning per shortcode name that has no layout, with its count and first use."""
    counts: dict[str, int] = defaultdict(int)
    files: dict[str, int] = defaultdict(int)
    first: dict[str, tuple[str, int]] = {}
    for item in parsed:
        if item.item is None:
            continue
        for name, count, line in item.shortcodes:
            counts[name] += count
            files[name] += 1
            first.setdefault(name, (item.item.source, line))
    layouts = display_path(config.layouts_dir, config.root)
    for name in sorted(counts):
        source, line = first[name]
        yield Problem(source, line, f"shortcode '{name}' has no layout ({layouts}/shortcodes/{name}.html): "
                                    f"{counts[name]} use(s) in {files[name]} file(s) left out of the "
                                    "pages; add the layout to render them", warning=True)


def list_static(config: Config) -> list[tuple[str, Path]]:
    """Return (site path, file) for everything under static/ (hidden files and folders skipped,
    but for .well-known/), sorted."""
    if not config.static_dir.is_dir():
        return []
    out = []
    for folder, dirs, names in os.walk(config.static_dir):
        # hidden folders are skipped, but for .well-known/ (security.txt, domain verification)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         or (d == ".well-known" and Path(folder) == config.static_dir))
        for name in names:
            if not name.startswith("."):
                path = Path(folder) / name
                out.append((path.relative_to(config.static_dir).as_posix(), path))
    return sorted(out)


GENERATED = ("feed.xml", "atom.xml", "sitemap.xml", NEWS_SITEMAP, "robots.txt", "mirrors.json", "CNAME",
             "_headers", MANIFEST, SIGNATURE)


def _static_clashes(plan: SitePlan, static: list[tuple[str, Path]], config: Config) -> list[Problem]:
    """Return a problem for each static file that has the path of a generated file."""
    generated = {page.output for page in plan.pages} | set(GENERATED)
    generated |= {f.rss_path for f in plan.feeds} | {f.atom_path for f in plan.feeds}
    searching = has_search(plan)
    return [Problem(display_path(path, config.root), 0, f"static file clashes with the generated {rel}; "
                                                        "rename or remove it")
            for rel, path in static
            if rel in generated or (searching and (rel == SEARCH_SCRIPT or rel.startswith(SEARCH_DATA)))]


RELATED = "related"   # the cache state holding the last build's related lists
SHARING = "sharing"   # the cache state: (layouts and config, the page kinds found alike shared, or None)
PARALLEL_RENDER_FROM = 400   # pages x mirrors below which one process is faster


@dataclass(frozen=True)
class _Rendered:
    """What rendering a slice of pages did, and the problems.

    A file is named by (page index, mirror index) rather than by host and path: at 100,000
    articles the strings a worker sent back for 660,000 files were a gigabyte of copies."""

    # page index, mirror index, changed, SHA-256 digest, size, mtime once in place
    files: tuple[tuple[int, int, bool, bytes, int, int], ...]
    problems: tuple[Problem, ...]


class RenderJob:
    """Everything needed to render any page for any mirror; one per process."""

    def __init__(self, config: Config, plan: SitePlan, mirrors, places: StagingPlaces, assets: Assets,
                 compiled: Path | None = None):
        env = make_environment(config, compiled)   # one per job: templates compile once per job
        self.plan, self.places = plan, places
        renderers = [Renderer(config, env, plan, m, assets) for m in mirrors]
        self.targets = [(m.host, config.output_dir / m.host, r) for m, r in zip(mirrors, renderers)]
        self.shared = SharedRenderer(renderers)
        self.sharing = len(mirrors) > 1
        self.seen_dirs: dict = {}   # folder checks, see stage_file

    def render(self, index: int, targets: list[int]) -> dict[int, bytes]:
        """Return the page's bytes for each target mirror."""
        page = self.plan.pages[index]
        if self.sharing:
            return self.shared.render(page, targets)
        return {t: self.targets[t][2].render(page) for t in targets}

    def verify_sharing(self, tasks: list[tuple[int, list[int]]], verified: frozenset[str] = frozenset()
                       ) -> frozenset[str] | None:
        """Compare shared renders with mirror-by-mirror renders on two pages of every kind but
        those `verified` names (compared by an earlier build with the same layouts and config);
        on any difference, render every page for every mirror on its own. Return the kinds
        compared, or None when sharing is off."""
        seen: dict[str, int] = {}
        for index, targets in tasks:
            page = self.plan.pages[index]
            if len(targets) < 2 or page.kind in verified or seen.get(page.kind, 0) >= 2:
                continue
            seen[page.kind] = seen.get(page.kind, 0) + 1
            wanted = list(targets)
            try:
                shared = self.shared.render(page, wanted)
                alone = {t: self.targets[t][2].render(page) for t in wanted}
            except TemplateProblem:
                continue   # reported when the page is rendered for real
            if shared != alone:
                self.sharing = False
                return None
        return verified | seen.keys()

    def run(self, tasks: list[tuple[int, list[int]]]) -> _Rendered:
        """Render each (page index, [mirror index]) task into the staging folder."""
        with collector.collecting():
            return self._run(tasks)

    def _run(self, tasks: list[tuple[int, list[int]]]) -> _Rendered:
        files, problems = [], []
        for index, targets in tasks:
            page = self.plan.pages[index]
            try:
                rendered = self.render(index, targets)
            except TemplateProblem as exc:
                problems.append(exc.problem)
                if len(problems) > 50:   # one broken layout fails every page: enough said
                    break
                continue
            for target in targets:
                host, root, _ = self.targets[target]
                data = rendered[target]
                changed, mtime = stage_file(self.places, root, host, page.output, data, self.seen_dirs)
                files.append((index, target, changed, hashlib.sha256(data).digest(), len(data), mtime))
        return _Rendered(tuple(files), tuple(problems))


def stage_pages(job: RenderJob, indexes: list[int], staging: Staging) -> list[Problem]:
    """Render the pages of `job.plan` at `indexes` for every mirror of the job, in this process,
    into `staging`; return the template problems."""
    result = job.run([(i, list(range(len(job.targets)))) for i in indexes])
    for index, target, changed, sha, size, mtime in result.files:
        staging.record(job.targets[target][0], job.plan.pages[index].output, changed, (sha, size, mtime))
    return list(result.problems)


def _untouched(folder: str, rel: str, recorded: tuple[str, int, int] | None, fingerprint: str | None,
               survey: Survey | None) -> bool:
    """Return whether the file `rel` of `folder` came from `fingerprint`, untouched (as its
    folder's `survey` says, if there is one; else as its stat says)."""
    if recorded is None or recorded[0] != fingerprint:
        return False
    if survey is not None:   # the survey compared every recorded file with its record
        return rel not in survey.moved
    try:
        stat = os.stat(f"{folder}/{rel}")
    except OSError:
        return False
    return (stat.st_size, stat.st_mtime_ns) == (recorded[1], recorded[2])


_WORKER_JOB: list[RenderJob] = []   # the job of a worker process, set once when it starts


def _start_worker(job: RenderJob) -> None:
    as_helper()
    _WORKER_JOB.append(job)


def _run_in_worker(tasks: list[tuple[int, list[int]]]) -> _Rendered:
    return _WORKER_JOB[0].run(tasks)


def render_mirrors(config: Config, plan: SitePlan, mirrors, static: Assets, staging: Staging,
                   progress: Progress, keep: frozenset[str] = frozenset(), cache: BuildCache | None = None,
                   fingerprints: list[str] | None = None, search: SearchFiles | None = None,
                   extras: Background | None = None) -> list[Problem]:
    """Render every page, feed and file for each mirror into `staging`; return template problems.

    Pages whose output path is in `keep` are not rendered: their files stay as they are (the live
    preview keeps the pages a change did not affect). `search` makes the search index (by
    default, anew). `extras`, when given, is making mirror_files() (on the other core)."""
    for mirror in mirrors:
        for rel in sorted(keep):
            staging.record(mirror.host, rel, False)
    prior = {m.host: cache.outputs(m.host, key) for m, key in zip(mirrors, mirror_keys(mirrors))} \
        if cache is not None else {}
    # per mirror: host, its folder, recorded rows, survey (None: look at each file)
    folders = [(m.host, f"{config.output_dir}/{m.host}", prior.get(m.host, {}), staging.present(m.host))
               for m in mirrors]
    tasks: list[tuple[int, list[int]]] = []   # (page index, the mirrors it is rendered for)
    for index, page in enumerate(plan.pages):
        output = page.output   # a property: worked out once here, not once per mirror
        if output in keep:
            continue
        fingerprint = fingerprints[index] if fingerprints else None
        targets = []
        for target, (host, folder, recorded, survey) in enumerate(folders):
            # a page made from exactly these inputs, whose file nobody touched since, is done
            row = recorded.get(output)
            if _untouched(folder, output, row, fingerprint, survey):
                staging.record(host, output, False)
                staging.stats[(host, output)] = (row[1], row[2])
            else:
                targets.append(target)
        if targets:
            tasks.append((index, targets))
    job = RenderJob(config, plan, mirrors, staging.places, static, cache.templates if cache is not None else None)
    copies = sum(len(t) for _, t in tasks)
    if job.sharing:
        _verify_sharing(config, mirrors, job, tasks, cache, copies >= PARALLEL_RENDER_FROM)
    search = search or SearchFiles(config, plan)
    workers = min(os.cpu_count() or 1, 8)
    problems: list[Problem] = []
    if copies < PARALLEL_RENDER_FROM or workers < 2:
        results: Iterable[_Rendered] = [job.run(tasks)]
        pool = None
    else:
        # forked workers inherit the plan instead of receiving it pickled
        pool = ProcessPoolExecutor(workers, mp_context=get_context("fork"), initializer=_start_worker,
                                   initargs=(job,))
        size = max(20, len(tasks) // (workers * 6))
        results = pool.map(_run_in_worker, [tasks[i:i + size] for i in range(0, len(tasks), size)])
    try:
        if pool is not None:
            # this process waits for the workers: it makes the search index meanwhile instead
            # of after them (3.5 s of a 10,000-article cold build, on the core a worker waits for)
            search.prepare()
        done = 0
        for result in results:
            for index, target, changed, sha, size, mtime in result.files:
                staging.record(mirrors[target].host, plan.pages[index].output, changed, (sha, size, mtime))
            problems += result.problems
            done += len(result.files)
            progress("render", done, copies)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    if problems:
        return problems[:51]
    for mirror, files in zip(mirrors, extras.result() if extras is not None else
                             mirror_files(config, plan, mirrors, static)):
        for rel, data in files:
            staging.add(mirror.host, rel, data)
        search.stage(staging, mirror.host, prior.get(mirror.host, {}))
        for rel, data in static.files:
            staging.add(mirror.host, rel, data)
    return problems


def _verify_sharing(config: Config, mirrors, job: RenderJob, tasks: list[tuple[int, list[int]]],
                    cache: BuildCache | None, many: bool) -> None:
    """Have the job share renders among mirrors when they were found right with these layouts
    and config, by this build or an earlier one (a rebuild after adding or publishing a story
    spent 0.45 s comparing them again). A few pages (`many` false: an edit) of a kind not yet
    compared are rendered for each mirror alone: that costs less than comparing."""
    key = digest(signature(config, {}), [m.host for m in mirrors], layouts_fingerprint(config))
    state = cache.state(SHARING) if cache is not None else None
    known = state[1] if isinstance(state, tuple) and len(state) == 2 and state[0] == key else frozenset()
    kinds = {job.plan.pages[index].kind for index, targets in tasks if len(targets) > 1}
    if known is None or not (many or kinds <= known):   # known None: found to differ when shared
        job.sharing = False
        return
    verified = job.verify_sharing(tasks, known)
    if cache is not None and verified != known:
        cache.set_state(SHARING, (key, verified))


def mirror_files(config: Config, plan: SitePlan, mirrors, static: Assets) -> list[list[tuple[str, bytes]]]:
    """Return, per mirror, the (site path, bytes) of the files made from the whole plan but
    the pages and the search index: feeds, sitemaps, robots.txt, mirrors.json, CNAME, _headers
    and .nojekyll. They are made on every build, never kept by fingerprint (the feeds and the
    news sitemap depend on the clock)."""
    newest = plan.stories[0].date if plan.stories else None
    hashed = {h for _, h in static.names}
    others = {page.output for page in plan.pages} | {rel for rel, _ in static.files if rel not in hashed} \
        | {f.rss_path for f in plan.feeds} | {f.atom_path for f in plan.feeds}
    immutable = immutable_patterns(sorted(hashed), others)
    listed = sitemap_pages(plan.pages)
    out = []
    for mirror in mirrors:
        files = list(feed_files(config, plan, mirror, static, plan.feeds))
        files += sitemap_files(plan.pages, mirror, listed=listed).items()
        files += [(NEWS_SITEMAP, news_sitemap(plan.news, mirror, config.site.title)),
                  ("robots.txt", robots_txt(mirror)), ("mirrors.json", mirrors_json(config, newest)),
                  ("_headers", headers_file(config, mirror, immutable)),
                  (".nojekyll", b"")]   # GitHub Pages: serve files as they are, no Jekyll
        domain_file = cname(mirror)
        if domain_file is not None:
            files.append(("CNAME", domain_file))
        out.append(files)
    return out


def feed_files(config: Config, plan: SitePlan, mirror, static: Assets, feeds) -> Iterator[tuple[str, bytes]]:
    """Yield the (site path, bytes) of the RSS and Atom files of `feeds` (of the plan) for a mirror."""
    for feed in feeds:
        yield feed.rss_path, rss_feed(feed, mirror, config, plan.refs, static)
        yield feed.atom_path, atom_feed(feed, mirror, config, plan.refs, static)


def stage_feeds(staging: Staging, config: Config, plan: SitePlan, mirror, static: Assets, feeds) -> None:
    """Stage the RSS and Atom files of `feeds` (of the plan) for a mirror."""
    for rel, data in feed_files(config, plan, mirror, static, feeds):
        staging.add(mirror.host, rel, data)


class SearchFiles:
    """The search index of a build: the same files for every mirror (it holds site paths only,
    and the page's script resolves them), made at most once.

    With a cache, each file carries a fingerprint naming the index it was written for, and a
    mirror's copy whose fingerprint, size and mtime are as recorded is kept. The build also keeps
    the postings (keep_state), so that the next build whose stories begin with the same ones in
    the same order (oldest first: an edit, or a new story published) replaces only the stories
    whose content changed and appends the new ones, writes only the files whose bytes change,
    and leaves every other file with the fingerprint it has: a fingerprint names the index a
    file's bytes are those of, not necessarily the newest."""

    STATE = "search"

    def __init__(self, config: Config, plan: SitePlan, base: str | None = None, keys: list[str] | None = None,
                 cache: BuildCache | None = None, index: SearchIndex | None = None):
        self.config, self.plan, self.base, self.keys, self.cache = config, plan, base, keys, cache
        self.index = index
        self.prints: dict[str, str | None] | None = None   # site path: fingerprint (None: no cache)
        self.made: dict[str, bytes] = {}
        self._elsewhere: Background | None = None

    @contextmanager
    def made_elsewhere(self) -> Iterator[None]:
        """Make the index on the other core while the build goes on; prepare() takes it. A story
        added to the archive renumbers the index and rewrites every file of it: 1.1 s of a
        10,000-article rebuild, spent after the pages when it was made here.

        Only from kept postings: a build without them renders every page in worker processes,
        and this one makes the index meanwhile (its files sent back would be copies held twice)."""
        if self.prints is not None or not has_search(self.plan) or self.cache is None \
                or not self.cache.has_state(self.STATE):
            yield
            return
        handover = self.cache.path.parent / "search-handover.pickle"
        handover.unlink(missing_ok=True)   # left by a build that was killed
        with Background(self._made, handover) as job:
            self._elsewhere = job
            try:
                yield
            finally:
                self._elsewhere = None
                handover.unlink(missing_ok=True)

    def _made(self, handover: Path) -> Path:
        """Make the index (in the process made_elsewhere forks) and write what prepare() needs of
        it to `handover`: the postings without the stories (the build has them), the files and
        their fingerprints. Through a file, not the pipe: a message on the pipe is held whole on
        both sides besides what it carries (after an archive add, every file of the index: a
        few hundred megabytes at 100,000 articles)."""
        self._prepare()
        with open(handover, "wb") as f:
            pickle.dump(((self.index.postings if self.index is not None else None), self.made, self.prints), f,
                        protocol=4)
        return handover

    def _prepare(self) -> None:
        """Find the index's files and their fingerprints: from the last build's postings when
        only some stories changed, else from a new index."""
        stories, fmt = self.plan.stories, date_formatter(self.config.zone, self.config.site.locale)
        if self.cache is None or self.base is None:
            self.index = self.index or SearchIndex(stories, fmt)
            self.made = self.index.files()
            self.prints = dict.fromkeys(self.made)
            return
        key = digest(self.base, self.keys)
        state = self.cache.state(self.STATE)
        docs = tuple(reversed(stories))
        renumbered = None
        if state is not None and state[0] == self.base and len(state[1]) <= len(self.keys) \
                and all(old[0] == new[0] for old, new in zip(state[1], self.keys)):
            # the same stories in the same order, and perhaps newer ones: edit and append
            kept = len(state[1])
            index, prints = SearchIndex.restore(docs[:kept], fmt, state[2]), dict(state[3])
            for number, (before, now) in enumerate(zip(state[1] + self.keys[kept:], self.keys)):
                if number < kept and before == now:
                    continue
                changed = index.replace(number, docs[number], scan=True) if number < kept \
                    else index.append(docs[number])
                if changed is None:
                    break
                for rel, data in changed.items():
                    prints.pop(rel, None)
                    self.made.pop(rel, None)
                    if data is not None:
                        prints[rel], self.made[rel] = digest(key, rel), data
            else:
                self.index, self.prints = index, prints
                return
        elif state is not None and state[0] == self.base:   # (the postings are untouched)
            renumbered = self._renumbered(state, docs, fmt)
        self.index = renumbered or SearchIndex(stories, fmt)
        self.made = self.index.files()
        self.prints = {rel: digest(key, rel) for rel in self.made}

    RENUMBER_LIMIT = 32   # changed stories past which indexing every story anew costs less

    def _renumbered(self, state, docs: tuple[Story, ...], fmt) -> SearchIndex | None:
        """Return the index made from the last build's postings when its stories are this
        build's with some added (to the archive too) or removed, and a few edited, in the
        same order; else None."""
        found = renumbering(state[1], self.keys)
        if found is None or len(found[1]) > self.RENUMBER_LIMIT:
            return None
        return SearchIndex.renumbered(docs, fmt, state[2], *found)

    def prepare(self) -> None:
        """Make the index (or find it kept) now, if the site has one and it is not made yet."""
        if self.prints is None and has_search(self.plan):
            if self._elsewhere is None:
                self._prepare()
                return
            with open(self._elsewhere.result(), "rb") as f:
                postings, self.made, self.prints = pickle.load(f)
            if postings is not None:
                stories, fmt = self.plan.stories, date_formatter(self.config.zone, self.config.site.locale)
                self.index = SearchIndex.restore(tuple(reversed(stories)), fmt, postings)

    def stage(self, staging: Staging, host: str, recorded: dict[str, tuple[str, int, int]]) -> None:
        """Put the index into a mirror's staging: each file as it is, or newly made."""
        if not has_search(self.plan):
            return
        self.prepare()
        root, present = f"{self.config.output_dir}/{host}", staging.present(host)
        for rel, fingerprint in sorted(self.prints.items()):
            entry = recorded.get(rel)
            if _untouched(root, rel, entry, fingerprint, present):
                staging.record(host, rel, False)
                staging.stats[(host, rel)] = (entry[1], entry[2])
            else:
                if rel not in self.made:
                    self.made[rel] = self.index.file(rel)
                staging.add(host, rel, self.made[rel])
            if fingerprint is not None:
                staging.fingerprints[(host, rel)] = fingerprint

    def keep_state(self) -> None:
        """Store the postings for the next build (once the files are in place and recorded)."""
        if self.cache is not None and self.base is not None and self.index is not None:
            self.cache.set_state(self.STATE, (self.base, self.keys, self.index.postings, self.prints))


def has_search(plan: SitePlan) -> bool:
    """Return whether the site has a search page (and so a search index)."""
    return any(page.kind == "search" for page in plan.pages)
