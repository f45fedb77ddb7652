"""`deploy`: copy each built mirror to its own target, a local folder or an rsync destination.

Only files that changed are sent, in an order that never leaves a page linking to something not
uploaded yet: assets, then new pages, then changed pages, then feeds and sitemaps, then the
manifest; files gone from the site are deleted last, and only when they are a small share of
the target (a mistyped target must not be emptied)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .manifest import MANIFEST, SIGNATURE, file_sha256, read_manifest
from .writer import walk_files

Say = Callable[[str], None]
PHASES = ("assets", "new pages", "changed pages", "feeds and sitemaps", "manifest")
_INDEX_NAMES = ("robots.txt", "mirrors.json", "CNAME", "_headers", "_redirects", ".nojekyll")


@dataclass(frozen=True)
class DeployTarget:
    """Where one mirror goes: a local folder, or an rsync destination (host:path, rsync://)."""

    host: str
    to: str
    rsh: str | None = None
    remote: bool = False

    @classmethod
    def parse(cls, host: str, to: str, rsh: str | None, root: Path) -> "DeployTarget":
        """Return the target for `to` as written in config.yaml (folders relative to it)."""
        if is_remote(to):
            return cls(host, to, rsh, True)
        return cls(host, str((root / Path(to).expanduser()).resolve()), rsh, False)


@dataclass(frozen=True)
class DeploySettings:
    """The deploy block: how much of a target a deploy may delete, how often to retry, targets."""

    max_delete: float = 0.25
    retries: int = 3
    targets: tuple[DeployTarget, ...] = ()


@dataclass(frozen=True)
class Changes:
    """What a target lacks: files new to it, files that differ, files it has and the site not."""

    new: tuple[str, ...]
    changed: tuple[str, ...]
    deleted: tuple[str, ...]
    existing: int   # files the target holds now
    removals: int = 0   # files and folders rsync will delete (folders count too)


@dataclass(frozen=True)
class DeployReport:
    """What deploying one mirror did (or, on a dry run, would do)."""

    host: str
    sent: int
    deleted: int


class DeployError(Exception):
    """A deploy step failed or was refused; the message says what to do."""


def is_remote(to: str) -> bool:
    """Return whether a target is an rsync destination rather than a local folder."""
    return to.startswith("rsync://") or re.match(r"^[^/:\s]+:", to) is not None


def phase_of(rel: str) -> int:
    """Return the upload phase of a changed file (pages: 1 when new, 2 when changed, caller decides)."""
    if rel in (MANIFEST, SIGNATURE):
        return 4
    name = rel.rsplit("/", 1)[-1]
    if rel.endswith(".html"):
        return 1
    if name in _INDEX_NAMES or rel.endswith((".xml", ".json", ".txt")) or rel.startswith("search/"):
        return 3   # these list pages: they go once every page they list is there
    return 0


def ordered(changes: Changes) -> list[tuple[str, list[str]]]:
    """Return (phase name, files) in upload order."""
    phases: list[list[str]] = [[] for _ in PHASES]
    for rel in changes.new:
        phases[phase_of(rel)].append(rel)
    for rel in changes.changed:
        phase = phase_of(rel)
        phases[2 if phase == 1 else phase].append(rel)
    return [(name, sorted(files)) for name, files in zip(PHASES, phases)]


def deploy_mirror(source: Path, target: DeployTarget, settings: DeploySettings, dry_run: bool,
                  say: Say) -> DeployReport:
    """Bring `target` up to date with the built mirror in `source`; raise DeployError on failure."""
    transport = Rsync(target) if target.remote else LocalFolder(target)
    changes = _retrying(lambda: transport.changes(source), settings.retries, "comparing", target, say)
    share = len(changes.deleted) / changes.existing if changes.existing else 0.0
    if share > settings.max_delete:
        raise DeployError(f"{target.host}: refusing to delete {len(changes.deleted)} of the "
                          f"{changes.existing} files at {target.to} ({share:.0%}, more than "
                          f"deploy.max_delete {settings.max_delete:.0%}); check that the target is "
                          "this mirror's folder, or raise deploy.max_delete in config.yaml")
    phases = ordered(changes)
    sending = sum(len(files) for _, files in phases)
    if not dry_run:
        transport.settle()
    if not sending and not changes.deleted:
        say(f"{target.host} -> {target.to}: up to date, nothing to send")
        return DeployReport(target.host, 0, 0)
    plan = ", ".join(f"{len(files)} {name}" for name, files in phases if files)
    verb = "would send" if dry_run else "sending"
    say(f"{target.host} -> {target.to}: {verb} {sending} file(s) ({plan or 'none'}), "
        f"{'would delete' if dry_run else 'deleting'} {len(changes.deleted)}")
    if dry_run:
        for name, files in phases:
            for rel in files:
                say(f"  {name}: {rel}")
        for rel in changes.deleted:
            say(f"  delete: {rel}")
        return DeployReport(target.host, sending, len(changes.deleted))
    for name, files in phases:
        if files:
            _retrying(lambda: transport.upload(source, files), settings.retries, f"uploading {name}",
                      target, say)
    if changes.deleted:
        _retrying(lambda: transport.delete(source, changes), settings.retries, "deleting", target, say)
    say(f"{target.host}: sent {sending}, deleted {len(changes.deleted)}")
    return DeployReport(target.host, sending, len(changes.deleted))


def _retrying(step: Callable, retries: int, what: str, target: DeployTarget, say: Say):
    """Run `step`, retrying a failed transfer; raise DeployError when every attempt failed."""
    for attempt in range(retries + 1):
        try:
            return step()
        except TransferError as exc:
            if attempt == retries:
                raise DeployError(f"{target.host}: {what} failed after {attempt + 1} attempt(s): {exc}. "
                                  "Nothing later in the upload order was sent, so the deployed pages "
                                  "still link only to files that are there; run deploy again") from None
            wait = min(2 ** attempt, 10)
            say(f"{target.host}: {what} failed ({exc}); retrying in {wait} s")
            time.sleep(wait)
    raise AssertionError("unreachable")


class TransferError(Exception):
    """One attempt to talk to a target failed (it may work when retried)."""


def files_under(folder: Path) -> dict[str, os.stat_result]:
    """Return {site path: stat} of the files under `folder` (a built mirror or a target)."""
    return {rel: os.stat(path) for rel, path in walk_files(folder)}


class LocalFolder:
    """A target folder on this machine: files are copied next to their place, then renamed in."""

    def __init__(self, target: DeployTarget):
        self.root = Path(target.to)
        self.retimed: list[tuple[str, int]] = []   # same bytes, other mtime: set when not a dry run

    def changes(self, source: Path) -> Changes:
        """Compare by size, then by content when only the mtime differs (a rebuild after `clean`)."""
        try:
            theirs = files_under(self.root) if self.root.exists() else {}
        except OSError as exc:
            raise TransferError(f"cannot read {self.root}: {exc}") from None
        ours = files_under(source)
        hashes = _manifest_hashes(source)
        new, changed = [], []
        for rel, stat in ours.items():
            other = theirs.get(rel)
            if other is None:
                new.append(rel)
            elif other.st_size != stat.st_size:
                changed.append(rel)
            elif other.st_mtime_ns != stat.st_mtime_ns:
                mine = hashes.get(rel) or file_sha256(source / rel)
                if file_sha256(self.root / rel) != mine:
                    changed.append(rel)
                else:
                    self.retimed.append((rel, stat.st_mtime_ns))
        deleted = sorted(set(theirs) - set(ours))
        return Changes(tuple(sorted(new)), tuple(sorted(changed)), tuple(deleted), len(theirs))

    def settle(self) -> None:
        """Give files whose bytes were already right the site's mtime (so the next compare is quick)."""
        for rel, mtime in self.retimed:
            os.utime(self.root / rel, ns=(mtime, mtime))
        self.retimed = []

    def upload(self, source: Path, files: list[str]) -> None:
        """Copy each file into place atomically (readers never see half a file)."""
        try:
            for rel in files:
                target = self.root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                temporary = target.parent / f".{target.name}.newsmirror-upload"
                shutil.copy2(source / rel, temporary)
                os.replace(temporary, target)
        except OSError as exc:
            raise TransferError(str(exc)) from None

    def delete(self, source: Path, changes: Changes) -> None:
        """Delete files gone from the site, and folders they leave empty."""
        try:
            for rel in changes.deleted:
                path = self.root / rel
                path.unlink(missing_ok=True)
                parent = path.parent
                while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
                    parent.rmdir()
                    parent = parent.parent
        except OSError as exc:
            raise TransferError(str(exc)) from None


def _manifest_hashes(source: Path) -> dict[str, str]:
    """Return {path: sha256} from the built mirror's manifest (empty when it has none)."""
    try:
        return {rel: sha for rel, (sha, _) in read_manifest((source / MANIFEST).read_bytes()).items()}
    except (OSError, ValueError):
        return {}


class Rsync:
    """A target reached with rsync: another machine over ssh (host:path), or an rsync daemon."""

    def __init__(self, target: DeployTarget):
        self.target = target
        self.dest = target.to if target.to.endswith("/") else target.to + "/"

    def _run(self, options: list[str], source: Path, stdin: bytes | None = None) -> str:
        # mtimes compared to the nanosecond (rsync's default is whole seconds): two builds in one
        # second change a date or a count in a file, not its size, and the file was skipped
        command = ["rsync", "-rt", "--modify-window=-1", "--mkpath", "--out-format=%i|%n", *options]
        if self.target.rsh:
            command += ["--rsh", self.target.rsh]
        command += [f"{source}/", self.dest]
        try:
            result = subprocess.run(command, input=stdin, capture_output=True, timeout=3600)
        except FileNotFoundError:
            raise DeployError("rsync is not installed: install it (apt-get install rsync) or deploy "
                              "to a local folder") from None
        except subprocess.TimeoutExpired:
            raise TransferError("rsync did not finish within an hour") from None
        if result.returncode != 0:
            said = result.stderr.decode("utf-8", "replace").strip().splitlines()
            raise TransferError(f"rsync exit status {result.returncode}: {said[-1] if said else 'no message'}")
        return result.stdout.decode("utf-8", "surrogateescape")

    def changes(self, source: Path) -> Changes:
        """Ask rsync what it would send and delete (a dry run with itemized changes)."""
        new, changed, deleted, removals = [], [], [], 0
        for line in self._run(["--dry-run", "--delete"], source).splitlines():
            flags, _, name = line.partition("|")
            if flags.startswith("*deleting"):
                removals += 1
                if not name.endswith("/"):
                    deleted.append(name)
            elif len(flags) > 2 and flags[1] == "f" and flags[0] in "<>":
                (new if flags[2:].strip("+") == "" else changed).append(name)
        total = len(files_under(source))
        existing = total - len(new) + len(deleted)
        return Changes(tuple(sorted(new)), tuple(sorted(changed)), tuple(sorted(deleted)), existing,
                       removals)

    def settle(self) -> None:
        """Nothing to do: rsync's own compare already gave equal files their mtime."""

    def upload(self, source: Path, files: list[str]) -> None:
        """Send exactly these files (their folders are created as needed)."""
        self._run(["--files-from=-", "--from0"], source, "\0".join(files).encode("utf-8", "surrogateescape"))

    def delete(self, source: Path, changes: Changes) -> None:
        """Delete what the site no longer has, and no more than the dry run counted."""
        self._run(["--delete", "--existing", "--ignore-existing", f"--max-delete={changes.removals}"], source)
