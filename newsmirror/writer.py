"""The only stage that touches output/: stage changed files, then swap them in all at once.

Nothing under output/<host>/ changes until every page of every mirror has rendered, so a
failed build leaves the previous site exactly as it was; unchanged files keep their mtime."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

STAGING = ".newsmirror-staging"
HOSTS_FILE = ".newsmirror-hosts"   # which folders of output/ are mirrors newsmirror wrote


@dataclass(frozen=True)
class WriteReport:
    """What a build did to output/: files written, removed and left alone."""

    written: int
    removed: int
    unchanged: int


_SIZE_MTIME = struct.Struct("<Qq")   # a held file's size and mtime (ns), after its 32-byte digest


class Staging:
    """Collects a build's files for several mirror folders; commit() makes them the site."""

    def __init__(self, output_dir: Path, hosts: list[str], all_hosts: list[str] | None = None,
                 folders: tuple[str, ...] = ()):
        self.output_dir = output_dir
        self.folder = output_dir / STAGING
        if self.folder.exists():
            shutil.rmtree(self.folder)  # left by a build that was killed: never part of the site
        self.hosts = hosts
        self.all_hosts = all_hosts   # every current mirror, when this build may retire old ones
        # other folders of output/ written the same way (output/deploy/), but not mirrors
        self.folders = [*hosts, *(f for f in folders if f not in hosts)]
        self.roots = {host: (output_dir / host) for host in self.folders}
        self.places = StagingPlaces(str(self.folder),
                                    frozenset(h for h in self.folders if self.roots[h].is_dir()))
        self.files: dict[str, set[str]] = {host: set() for host in self.folders}
        self.changed: list[tuple[str, str]] = []
        self.gone: list[tuple[str, str]] = []   # files an incomplete commit removes
        self.unchanged = 0
        self.seen_dirs: dict = {}   # folder checks, see stage_file
        # what files other than pages were made from (the search index's; a page's comes from
        # its page fingerprint, see pipeline.record_outputs)
        self.fingerprints: dict[tuple[str, str], str] = {}
        # what the build held of a file's bytes (see held()), packed into one bytes object: at
        # 660,000 files a tuple of a digest and two ints cost 110 bytes a file more (70 MB)
        self.digests: dict[tuple[str, str], bytes] = {}
        self.stats: dict[tuple[str, str], tuple[int, int]] = {}     # (size, mtime) of files found untouched
        # gives what each folder held when the build began (survey_output, made on the other
        # core while the build plans, so that nothing walks output/ on the build's own time);
        # without one, files are looked at one by one
        self.survey: Callable[[], dict[str, Survey]] | None = None

    def present(self, host: str) -> Survey | None:
        """Return the folder's survey (what it held when the build began) if one was made."""
        return self.survey()[host] if self.survey is not None else None

    def add(self, host: str, rel: str, data: bytes) -> None:
        """Stage one file of a mirror unless the site already has exactly these bytes."""
        changed, mtime = stage_file(self.places, self.roots[host], host, rel, data, self.seen_dirs)
        self.record(host, rel, changed, (hashlib.sha256(data).digest(), len(data), mtime))

    def record(self, host: str, rel: str, changed: bool, held: tuple[bytes, int, int] | None = None) -> None:
        """Note a file staged (changed) or found identical, here or by a worker process, with
        the (SHA-256, size, mtime) its bytes have once in place, when the build held them."""
        if rel in self.files[host]:
            raise ValueError(f"output path {rel!r} written twice for {host}")  # the plan prevents this
        self.files[host].add(rel)
        key = (host, rel)   # one tuple for every table: a large site has 660,000 files
        if changed:
            self.changed.append(key)
        else:
            self.unchanged += 1
        if held is not None:
            self.digests[key] = held[0] + _SIZE_MTIME.pack(held[1], held[2])

    def held(self, host: str, rel: str) -> tuple[bytes, int, int] | None:
        """Return the (SHA-256 digest, size, mtime) of a file whose bytes the build held, with
        the mtime it has once in place (a rename keeps it: recording the build stats nothing)."""
        packed = self.digests.get((host, rel))
        return None if packed is None else (packed[:32], *_SIZE_MTIME.unpack_from(packed, 32))

    def remove(self, host: str, rel: str) -> None:
        """Have an incomplete commit (complete=False) delete a file the site no longer has."""
        self.gone.append((host, rel))

    def abort(self) -> None:
        """Throw the staged files away; output/ stays as it was."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def commit(self, complete: bool = True) -> WriteReport:
        """Move staged files into place and remove files the site no longer has.

        A build that staged only some files (the preview's edit in place) passes
        complete=False: every other file stays as it is."""
        whole = set()
        for host in self.folders:
            staged, root = self.folder / host, self.roots[host]
            if host not in self.places.flat and staged.is_dir() and not root.exists():
                root.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, root)   # a mirror built for the first time: one rename
                whole.add(host)
        for host, rel in self.changed:
            if host in whole:
                continue
            target = os.path.join(self.roots[host], rel)
            source = self.places.path(host, rel)
            try:
                os.replace(source, target)   # the folder is there already, as a rule
            except (FileNotFoundError, NotADirectoryError):   # a new folder, or a file where it goes
                _make_folder(os.path.dirname(target), str(self.roots[host]))
                os.replace(source, target)   # a staged file missing (a code bug) raises here
            except IsADirectoryError:   # a page now stands where a folder was
                shutil.rmtree(target)
                os.replace(source, target)
        removed = 0
        for host, rel in self.gone:
            try:
                os.unlink(os.path.join(self.roots[host], rel))
                removed += 1
            except FileNotFoundError:
                pass
        if complete:
            removed += sum(self._remove_stale(host) for host in self.folders)
            removed += self._retire_hosts()
        shutil.rmtree(self.folder, ignore_errors=True)
        return WriteReport(len(self.changed), removed, self.unchanged)

    def _retire_hosts(self) -> int:
        """Remove folders of mirrors that an earlier build wrote and the config no longer lists.

        A domain moved to `former:` must stop being deployed; folders newsmirror did not write
        are never touched."""
        record = self.output_dir / HOSTS_FILE
        try:
            previous = set(record.read_text(encoding="utf-8").split())
        except FileNotFoundError:
            previous = set()
        current = set(self.all_hosts if self.all_hosts is not None else self.hosts)
        removed = 0
        if self.all_hosts is not None:
            for host in sorted(previous - current):
                folder = self.output_dir / host
                if host and "/" not in host and host not in self.folders and folder.is_dir():
                    removed += sum(1 for p in folder.rglob("*") if p.is_file())
                    shutil.rmtree(folder)
            previous = set()
        text = "".join(f"{h}\n" for h in sorted(previous | current))
        if _same_bytes(record, text.encode("utf-8")) is None:
            record.write_text(text, encoding="utf-8")
        return removed

    def _remove_stale(self, host: str) -> int:
        """Delete files under a mirror folder that this build did not produce; return how many."""
        root, keep, removed = self.roots[host], self.files[host], 0
        if not root.is_dir():
            return 0
        emptied = set()
        present = self.present(host)
        # the survey is as good as a walk now: the build added only files it keeps since
        listed = (rel for rel, _ in walk_files(root)) if present is None else _entries(present.listing)
        for rel in listed:
            if rel not in keep:   # the full path only for a file to remove: 66,000 joins cost 0.1 s
                path = os.path.join(root, rel)
                try:
                    os.unlink(path)
                except OSError:
                    if not os.path.lexists(path) or os.path.isdir(path):
                        continue   # the commit put a page or a folder where this file was
                    raise
                removed += 1
                emptied.add(os.path.dirname(path))
        for folder in sorted(emptied, key=len, reverse=True):   # deepest first
            while folder != str(root) and os.path.isdir(folder) and not os.listdir(folder):
                os.rmdir(folder)
                folder = os.path.dirname(folder)
        return removed


def _entries(listing: str) -> Iterator[str]:
    """Yield the paths of a Survey's listing one at a time (a list of them all is as large as a table)."""
    start = 0
    while start < len(listing):
        end = listing.find("\0", start)
        end = len(listing) if end < 0 else end
        yield listing[start:end]
        start = end + 1


def walk_files(folder: Path) -> Iterator[tuple[str, str]]:
    """Yield (path relative to `folder` with /, full path) of every file below it. As os.walk,
    a link to a folder is neither followed nor listed (os.walk's generator per folder cost
    seconds on 60,000 page folders)."""
    stack = [("", str(folder))]
    while stack:
        prefix, current = stack.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((prefix + entry.name + "/", entry.path))
                elif not entry.is_dir():
                    yield prefix + entry.name, entry.path


@dataclass(frozen=True)
class Survey:
    """What a mirror folder held when the build began, made on the other core: the path of
    every file, and the files the cache recorded that no longer have the recorded size and
    mtime (changed, replaced or gone since). Kept small: at 100,000 articles a table of every
    file's size and mtime would cost a hundred megabytes more at the build's peak."""

    listing: str            # every file's path under the folder, each ended by NUL (no file name holds one)
    moved: frozenset[str]   # recorded paths whose file is not as recorded


def survey_output(output_dir: Path, folders: list[str],
                  recorded: Callable[[str], dict[str, tuple[str, int, int]]]) -> dict[str, Survey]:
    """Return the Survey of each folder of output/, against `recorded(folder)`: the cache's
    {path: (fingerprint, size, mtime)} of the files the last build wrote there."""
    found = {}
    for folder in folders:
        root, rows = output_dir / folder, recorded(folder)
        paths, seen = [], {}
        if root.is_dir():
            for rel, path in walk_files(root):   # as _remove_stale's walk: links to folders left out
                paths.append(rel)
                if rel in rows:
                    try:
                        stat = os.stat(path)
                        seen[rel] = (stat.st_size, stat.st_mtime_ns)
                    except OSError:   # a dangling link, or removed meanwhile
                        pass
        moved = frozenset(rel for rel, row in rows.items() if seen.get(rel) != (row[1], row[2]))
        found[folder] = Survey("".join(rel + "\0" for rel in paths), moved)
    return found


@dataclass(frozen=True)
class StagingPlaces:
    """Where each staged file is written, in this process or a worker.

    A mirror built for the first time is staged as a tree and moved into place with one
    rename. A mirror folder that exists already gets its changed files side by side in one
    flat folder, each named by a hash of its path: a layout edit changes every page, and a
    staged tree meant making and then removing a folder per page (100,000 folders cost
    longer than moving the 66,000 files they held)."""

    folder: str
    flat: frozenset[str]   # the hosts staged flat

    def path(self, host: str, rel: str) -> str:
        """Return where the staged copy of `rel` in `host` is written."""
        if host in self.flat:
            return f"{self.folder}/{host}/{hashlib.blake2b(rel.encode('utf-8'), digest_size=16).hexdigest()}"
        return f"{self.folder}/{host}/{rel}"


def stage_file(places: StagingPlaces, root: Path, host: str, rel: str, data: bytes,
               seen_dirs: dict) -> tuple[bool, int]:
    """Write `data` to the staging copy of root/rel unless root/rel already holds it.

    Returns whether the file changed, and the mtime (ns) root/rel has once the staging is
    committed (os.replace keeps a file's mtime). `seen_dirs` caches folder checks and creations (a site
    has a folder per article, and resolving or creating each twice is most of the I/O)."""
    parent, _, name = rel.rpartition("/")
    if rel.startswith("/") or not _inside(root, parent, seen_dirs) or name in ("", ".", ".."):
        raise ValueError(f"output path {rel!r} leaves {root}")  # plan and config prevent this
    mtime = _same_bytes(f"{root}/{rel}", data)
    if mtime is not None:
        return False, mtime
    path = places.path(host, rel)
    folder = os.path.dirname(path)
    if folder not in seen_dirs:
        os.makedirs(folder, exist_ok=True)
        seen_dirs[folder] = True
    with open(path, "wb") as f:
        f.write(data)
        f.flush()   # a small file's bytes reach it only here: its mtime changes with them
        return True, os.fstat(f.fileno()).st_mtime_ns


def _inside(root: Path, parent: str, seen_dirs: dict) -> bool:
    """Return whether the folder root/parent stays inside root, following symlinks."""
    key = (root, parent, "inside")
    inside = seen_dirs.get(key)
    if inside is None:
        top, real = _real(str(root), "", seen_dirs), _real(str(root), parent, seen_dirs)
        # compared as strings: two Path objects per folder cost a 10,000-article rebuild a second
        inside = seen_dirs[key] = real == top or real.startswith(top.rstrip("/") + "/")
    return inside


def _real(root: str, parent: str, seen_dirs: dict) -> str:
    """Return the real path of the folder root/parent (as os.path.realpath does), resolving
    each folder once: realpath alone looks at every folder of the path again for each page
    (800,000 lstat calls for a 10,000-article site's four mirrors)."""
    key = (root, parent, "real")
    if key in seen_dirs:
        return seen_dirs[key]
    if not parent:
        real = os.path.realpath(root)
    else:
        up, _, name = parent.rpartition("/")
        base = _real(root, up, seen_dirs)
        if name in ("", "."):
            real = base
        elif name == "..":
            real = os.path.dirname(base)
        else:
            joined = os.path.join(base, name)
            real = os.path.realpath(joined) if os.path.islink(joined) else joined
    seen_dirs[key] = real
    return real


def _make_folder(folder: str, root: str) -> None:
    """Create `folder` (inside `root`), replacing any file that stands where a folder must be."""
    try:
        os.makedirs(folder, exist_ok=True)
        return
    except (FileExistsError, NotADirectoryError):
        pass
    current = folder
    while current != root and not os.path.isdir(current):
        if os.path.lexists(current) and not os.path.isdir(current):
            os.unlink(current)   # an old page file (an alias without .html) where folders now go
            break
        current = os.path.dirname(current)
    os.makedirs(folder, exist_ok=True)


def _same_bytes(path: Path | str, data: bytes) -> int | None:
    """Return the mtime (ns) of the file at `path` if it holds exactly `data`, else None."""
    try:
        stat = os.stat(path)
        if stat.st_size != len(data):
            return None
        with open(path, "rb") as f:
            return stat.st_mtime_ns if f.read() == data else None
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
