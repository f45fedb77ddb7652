"""The command line: parse arguments, call the package, turn problems into exit status 1."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .config import Config, load_config
from .dates import parse_date
from .deploy import DeployError
from .errors import BuildError, Problem
from .plan import BuildOptions
from .verify import VerifyError
from .views import slugify

COMMANDS = ("build", "new", "check", "clean", "serve", "deploy", "verify", "import-hugo")


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=Path("config.yaml"), metavar="PATH",
                        help="the site's config file (default: ./config.yaml); paths in it are "
                             "relative to its folder")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every warning (by default the first 20)")


def _build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--drafts", action="store_true", help="include articles with `draft: true`")
    parser.add_argument("--future", action="store_true",
                        help="include scheduled articles (dated in the future)")
    parser.add_argument("--mirror", action="append", metavar="HOST",
                        help="build only this mirror (repeatable; default: every mirror)")
    parser.add_argument("--now", metavar="DATETIME",
                        help="judge schedules and expiry as of this time, e.g. '2026-11-28 12:00 +00:00' "
                             "(default: the clock)")


def make_parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """Return the argument parser and its sub-parsers by command."""
    parser = argparse.ArgumentParser(
        prog="build.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="newsmirror: build a complete static news site for every mirror address.\n"
                    "With no command, `build` runs.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    subs = {}
    sub = commands.add_parser("build", help="build every mirror into output/<host>/ (the default)",
                              description="Build content/ through layouts/ into output/<host>/ for "
                                          "every mirror in config.yaml.")
    _common(sub)
    _build_options(sub)
    subs["build"] = sub
    sub = commands.add_parser("new", help='write a new article: new SECTION "Title"',
                              description="Write content/SECTION/<slug>.md with its front matter "
                                          "filled in (as a draft; remove `draft: true` to publish).")
    sub.add_argument("section", help="section folder, e.g. politics")
    sub.add_argument("title", help="the headline, quoted")
    _common(sub)
    subs["new"] = sub
    sub = commands.add_parser("check", help="check the built mirrors for leaked addresses",
                              description="Read output/<host>/ of every mirror and report any reference "
                                          "to a former domain, and any URL on another mirror's host "
                                          "outside the allowed places (canonical pointing at the primary, "
                                          "the 'also reachable at' list, onion-location, mirrors.json). "
                                          "Exit status 1 when anything is found.")
    _common(sub)
    sub.add_argument("--mirror", action="append", metavar="HOST", help="check only this mirror (repeatable)")
    subs["check"] = sub
    sub = commands.add_parser("clean", help="remove the output folder and the build cache",
                              description="Remove the output folder (paths.output) and the build cache "
                                          "(paths.cache, .cache/ by default). The next build is cold.")
    _common(sub)
    subs["clean"] = sub
    sub = commands.add_parser("serve", help="build one mirror into a temporary folder and serve it with "
                                            "live reload",
                              description="Build one mirror (the primary by default) into a temporary "
                                          "folder with http://BIND:PORT/ as its address, serve it, and "
                                          "rebuild and reload the browser whenever content/, layouts/, "
                                          "static/ or the config change. output/ is never touched. "
                                          "Ctrl-C stops.")
    _common(sub)
    sub.add_argument("--mirror", metavar="HOST", help="preview this mirror (default: the primary)")
    sub.add_argument("--port", type=int, default=8000, help="port to listen on (default: 8000; 0 picks a free one)")
    sub.add_argument("--bind", default="127.0.0.1", metavar="ADDRESS",
                     help="address to listen on (default: 127.0.0.1; 0.0.0.0 lets other machines in)")
    sub.add_argument("--drafts", action="store_true", help="include articles with `draft: true`")
    sub.add_argument("--future", action="store_true", help="include scheduled articles (dated in the future)")
    sub.add_argument("--now", metavar="DATETIME", help="judge schedules and expiry as of this time "
                                                       "(default: the clock at each rebuild)")
    subs["serve"] = sub
    sub = commands.add_parser("deploy", help="upload each built mirror to its target (mirrors[].deploy)",
                              description="Send each built mirror in output/<host>/ to the target set by "
                                          "its `deploy:` in config.yaml: a local folder, or an rsync "
                                          "destination (user@host:/path/ over ssh). Only changed files are "
                                          "sent; assets and new pages go before the pages that link to "
                                          "them, feeds, sitemaps and the manifest last, and files gone "
                                          "from the site are deleted at the end. Build first.")
    _common(sub)
    sub.add_argument("--mirror", action="append", metavar="HOST", help="deploy only this mirror (repeatable)")
    sub.add_argument("--dry-run", action="store_true", help="show what would be sent and deleted; send nothing")
    subs["deploy"] = sub
    sub = commands.add_parser("verify", help="check a deployed mirror or a folder against its manifest",
                              description="Fetch a deployed mirror's manifest (/.well-known/newsmirror-"
                                          "manifest.json) and every file it lists, or read a folder, and "
                                          "report every file that is missing, different or (in a folder) "
                                          "extra, and whether the manifest's signature holds. Exit status "
                                          "1 when anything is wrong.")
    sub.add_argument("where", metavar="URL-OR-FOLDER", help="e.g. https://www.example.org/ or output/www.example.org")
    sub.add_argument("--key", type=Path, metavar="PUBLIC_KEY",
                     help="the outlet's ssh public key (default: signing.public_key of --config, if any)")
    _common(sub)
    subs["verify"] = sub
    sub = commands.add_parser("import-hugo", help="bring a Hugo site's content into this site",
                              description="Copy the Markdown files of the Hugo site at PATH (its content/ "
                                          "folder) into this site's content folder with newsmirror front "
                                          "matter (topics/categories/tags -> tags, expirydate -> expires, "
                                          "lastmod -> updated, ...). Prints a report of what could not be "
                                          "mapped and the config.yaml lines the content needs, and writes "
                                          "both beside the config (hugo-import-report.txt, "
                                          "hugo-import-config.yaml). Refuses to overwrite any file.")
    sub.add_argument("path", type=Path, help="the Hugo site's folder (the one with content/)")
    sub.add_argument("--into", type=Path, metavar="FOLDER",
                     help="write the files here instead of the content folder (paths.content)")
    _common(sub)
    subs["import-hugo"] = sub
    return parser, subs


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        try:
            return _main(argv)
        finally:   # argparse's help exits through here too
            sys.stdout.flush()   # here, not at exit, where a closed pipe can no longer be caught
    except BrokenPipeError:
        # whoever read our output stopped (`build.py --help | head`): no traceback for that;
        # stdout is pointed at nothing so that Python's own flush at exit stays quiet
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _main(argv: list[str] | None) -> int:
    """Run the command line (see main)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, subs = make_parser()
    if argv in (["-h"], ["--help"]):
        print(parser.format_help())
        for name, sub in subs.items():
            print(f"\n{'=' * 8} build.py {name} {'=' * 8}\n{sub.format_help()}")
        return 0
    if not argv or argv[0] not in COMMANDS:
        argv.insert(0, "build")
    args = parser.parse_args(argv)
    say = _printer(args.quiet)
    try:
        if args.command == "verify":
            return run_verify(args, say)
        config = load_config(args.config)
        return {"build": run_build, "new": run_new, "check": run_check, "clean": run_clean,
                "serve": run_serve, "deploy": run_deploy,
                "import-hugo": run_import_hugo}[args.command](args, config, say)
    except (DeployError, VerifyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BuildError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        if args.command == "deploy":   # a deploy changes no output folder: the problems say it all
            return 1
        errors = sum(1 for p in exc.problems if not p.warning)
        print(f"error: {errors} problem{'s' if errors != 1 else ''}; nothing was written, the output "
              "folder is as it was", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; the output folder is as it was", file=sys.stderr)
        return 130


def _printer(quiet: bool) -> Callable[[str], None]:
    return (lambda text: None) if quiet else (lambda text: print(text, flush=True))


def _now(value: str | None, config: Config) -> datetime:
    """Return the build's clock: --now if given, else the current time."""
    if value is None:
        return datetime.now(timezone.utc)
    moment = parse_date(value, config.zone)
    if isinstance(moment, str):
        raise BuildError([Problem("--now", 0, moment)])
    return moment


def _hosts(args, config: Config) -> list[str] | None:
    """Return the hosts named by --mirror (None for all), or raise naming the unknown ones."""
    if not args.mirror:
        return None
    unknown = [h for h in args.mirror if config.mirror(h) is None]
    if unknown:
        known = ", ".join(m.host for m in config.mirrors)
        raise BuildError([Problem("--mirror", 0, f"no mirror '{h}' in {config.path.name} "
                                                 f"(mirrors: {known})") for h in unknown])
    return args.mirror


def run_check(args, config: Config, say) -> int:
    """Run the leak check over the built mirrors; return 1 when anything leaks."""
    from .leaks import check_leaks

    report = check_leaks(config, _hosts(args, config))
    for problem in report.problems:
        print(problem, file=sys.stderr)
    if report.problems:
        print(f"error: {len(report.problems)} leak(s) in {report.mirrors} mirror(s)", file=sys.stderr)
        return 1
    say(f"No leaks: {report.files} files in {report.mirrors} mirrors checked")
    return 0


def run_build(args, config: Config, say) -> int:
    """Build the site and print a one-line summary; return the exit status."""
    from .pipeline import build_site

    hosts = _hosts(args, config)
    options = BuildOptions(now=_now(args.now, config), drafts=args.drafts, future=args.future)
    result = build_site(config, options, hosts, _progress(args.quiet))
    for warning in result.warnings if (args.verbose or len(result.warnings) <= 20) else result.warnings[:20]:
        print(warning, file=sys.stderr)
    if len(result.warnings) > 20 and not args.verbose:
        print(f"... and {len(result.warnings) - 20} more warnings (-v shows all)", file=sys.stderr)
    r = result.report
    say(f"Built {result.articles} articles, {result.pages} pages for {result.mirrors} mirror"
        f"{'s' if result.mirrors != 1 else ''}: {r.written} files written, {r.removed} removed, "
        f"{r.unchanged} unchanged in {result.seconds:.2f} s")
    return 0


def _progress(quiet: bool):
    """Return a progress callback that draws one line on a terminal, and nothing elsewhere."""
    if quiet or not sys.stderr.isatty():
        return lambda stage, done, total: None

    def show(stage: str, done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r{stage}: {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def run_new(args, config: Config, say) -> int:
    """Write a new article file with its front matter filled in."""
    section = args.section.strip("/")
    if not section or slugify(section) != section:
        raise BuildError([Problem("new", 0, f"section '{args.section}' is not a folder name like politics")])
    title = args.title.strip()
    slug = slugify(title)
    if not title or not slug:
        raise BuildError([Problem("new", 0, "give the article a title with letters or digits")])
    path = config.content_dir / section / f"{slug}.md"
    if path.exists():
        raise BuildError([Problem(str(path.relative_to(config.root)), 0,
                                  "already exists; choose another title or edit that file")])
    now = datetime.now(config.zone).replace(second=0, microsecond=0)
    quoted = title.replace("\\", "\\\\").replace('"', '\\"')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'---\ntitle: "{quoted}"\ndate: {now:%Y-%m-%d %H:%M:%S %z}\nsummary: ""\ntags: []\n'
        f"authors: []\n# image: images/example.jpg\n# caption: \"\"\n# alt: \"\"\ndraft: true\n---\n\n"
        "Write the article here.\n", encoding="utf-8")
    say(f"Wrote {path.relative_to(config.root)} (a draft: preview with --drafts, remove `draft: true` "
        "to publish)")
    return 0


def run_serve(args, config: Config, say) -> int:
    """Serve a live preview of one mirror until Ctrl-C; return the exit status."""
    from .preview import ServeOptions, serve_site

    options = ServeOptions(mirror=args.mirror, bind=args.bind, port=args.port, drafts=args.drafts,
                           future=args.future, now=_now(args.now, config) if args.now else None)
    return serve_site(config, options, say, _progress(args.quiet), args.verbose)


def run_clean(args, config: Config, say) -> int:
    """Remove the output folder and the build cache (once no build of the site is running)."""
    from .sitelock import LOCK, one_build_at_a_time

    removed = []
    with one_build_at_a_time(config.cache_dir):
        if config.output_dir.exists():
            shutil.rmtree(config.output_dir)
            removed.append(config.output_dir)
        held = [entry for entry in config.cache_dir.iterdir() if entry.name != LOCK]
        for entry in held:
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        if held:
            removed.append(config.cache_dir)
        # last, while still held: a build waiting for it then sees its lock file gone and takes a new one
        (config.cache_dir / LOCK).unlink(missing_ok=True)
    try:
        config.cache_dir.rmdir()
    except OSError:   # a build that waited has begun in it
        pass
    for folder in removed:
        say(f"Removed {folder}")
    if not removed:
        say("Nothing to clean")
    return 0


def run_deploy(args, config: Config, say) -> int:
    """Deploy each chosen mirror that has a target; return the exit status."""
    from .deploy import deploy_mirror
    from .manifest import MANIFEST
    from .sitelock import one_build_at_a_time

    hosts = _hosts(args, config) or [m.host for m in config.mirrors]
    targets = {t.host: t for t in config.deploy.targets}
    if not any(h in targets for h in hosts):
        raise BuildError([Problem(config.path.name, 0, "no mirror has a deploy target: add `deploy: FOLDER` "
                                                       "or `deploy: user@host:/path/` to a mirror in mirrors:")])
    problems = []
    with one_build_at_a_time(config.cache_dir):   # a build committing meanwhile would be sent half done
        for host in hosts:
            if host not in targets:
                say(f"{host}: no deploy target set (mirrors[].deploy); skipped")
                continue
            source = config.output_dir / host
            if not (source / MANIFEST).is_file():
                problems.append(Problem(config.path.name, 0, f"{host}: output/{host}/ is not built (no "
                                                             "manifest); run `python build.py` first"))
                continue
            try:
                deploy_mirror(source, targets[host], config.deploy, args.dry_run, say)
            except DeployError as exc:
                problems.append(Problem(config.path.name, 0, str(exc)))
    if problems:
        raise BuildError(problems)
    return 0


def run_verify(args, say) -> int:
    """Check a deployed mirror or folder against its manifest; return 1 when anything is wrong."""
    from .verify import verify

    key = args.key
    if key is None and args.config.is_file():
        config = load_config(args.config)
        key = config.signing.public_key if config.signing else None
    verdict = verify(args.where, key)
    for label, files in (("MISSING", verdict.missing), ("CHANGED", verdict.different), ("EXTRA", verdict.extra)):
        for rel in files:
            print(f"{label} {rel}")
    if verdict.unserved:
        print(f"not served (hosts read these themselves): {', '.join(verdict.unserved)}")
    signature = {"good": "good", "bad": "BAD", "unsigned": "none (the manifest is not signed)",
                 "unchecked": "present, not checked (pass --key with the outlet's public key)"}[verdict.signature]
    print(f"signature: {signature}" + (f" ({verdict.detail})" if verdict.detail else ""))
    wrong = len(verdict.missing) + len(verdict.different) + len(verdict.extra)
    if verdict.ok:
        served = verdict.files - len(verdict.unserved)
        say(f"{verdict.where}: all {served} files {'served ' if verdict.unserved else ''}match the manifest")
        return 0
    print(f"error: {verdict.where}: {wrong} file(s) differ from the manifest of {verdict.files}"
          + ("; the signature does not hold" if verdict.signature == "bad" else ""), file=sys.stderr)
    return 1
def run_import_hugo(args, config: Config, say) -> int:
    """Import a Hugo site's content; print the report and where it and the config block went."""
    from .hugoimport import import_hugo

    result = import_hugo(args.path, config, args.into, datetime.now(timezone.utc))
    say(result.report.rstrip("\n"))
    say(f"\nWrote {result.written} files ({result.articles} articles, {result.sections} section pages)"
        f"{f'; {result.left_out} left out' if result.left_out else ''}. Report: "
        f"{result.report_path.name}; config lines to paste: {result.config_path.name}")
    return 0
