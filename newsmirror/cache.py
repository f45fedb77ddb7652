"""The build cache (.cache/): parsed articles by content hash, and what each output file was
made from, so a rebuild converts only changed Markdown and renders only pages whose inputs
changed. Parse results and output records are keyed by hashes of their inputs, so a stale entry
is never used: it is simply not found. Two things are trusted by stat instead, each checked
against the file itself: an output file's size and mtime (with the hash or fingerprint recorded
for them), and a content file's size, mtime, ctime, inode and device (with the hash of its
bytes; see pipeline.content_keys). SQLite makes every write atomic; a killed build leaves it
consistent."""

from __future__ import annotations

import copyreg
import functools
import hashlib
import io
import os
import pickle
import shutil
import sqlite3
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

from . import __version__

SCHEMA = 1


def package_fingerprint() -> str:
    """Return a hash of newsmirror's own code: a cache written by other code is not trusted."""
    digest = hashlib.sha256(f"{__version__}:{SCHEMA}".encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def files_fingerprint(paths: Iterable[Path], root: Path) -> str:
    """Return a hash of files' names (relative to `root`) and bytes."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class BuildCache:
    """One site's cache folder. No connection stays open between calls, so the worker
    processes a build forks never share one (SQLite forbids using a connection across fork)."""

    def __init__(self, folder: Path, fingerprint: str):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "cache.sqlite"
        # Jinja's compiled layouts (keyed by each layout's source; compiling them took 0.1 s of
        # every rebuild): compiled by other code, they go with the rest
        self.templates = folder / "templates"
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            row = db.execute("SELECT value FROM meta WHERE key='fingerprint'").fetchone()
            if row is None or row[0] != fingerprint:
                # another version of newsmirror wrote it: start afresh rather than trust it
                db.execute("DROP TABLE IF EXISTS parsed")
                db.execute("DROP TABLE IF EXISTS outputs")
                db.execute("DROP TABLE IF EXISTS hashes")
                db.execute("DROP TABLE IF EXISTS states")   # where states were kept before files
                for stale in folder.glob("state-*"):
                    stale.unlink(missing_ok=True)
                shutil.rmtree(self.templates, ignore_errors=True)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
            db.execute("CREATE TABLE IF NOT EXISTS parsed (key TEXT PRIMARY KEY, data BLOB)")
            db.execute("CREATE TABLE IF NOT EXISTS outputs (host TEXT, path TEXT, fingerprint TEXT, "
                       "size INTEGER, mtime INTEGER, PRIMARY KEY (host, path))")
            db.execute("CREATE TABLE IF NOT EXISTS hashes (host TEXT, path TEXT, size INTEGER, "
                       "mtime INTEGER, sha256 TEXT, PRIMARY KEY (host, path))")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        return _Closing(db)

    def __enter__(self) -> "BuildCache":
        return self

    def __exit__(self, *exc) -> None:
        pass

    def parsed(self, keys: list[str]) -> dict[str, Any]:
        """Return the cached parse results for those content keys that have one (a damaged
        entry counts as missing)."""
        found: dict[str, Any] = {}
        with self._connect() as db:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                rows = db.execute(f"SELECT key, data FROM parsed WHERE key IN ({','.join('?' * len(chunk))})",
                                  chunk)
                for key, data in rows:
                    try:
                        found[key] = pickle.loads(data)
                    except Exception:  # noqa: BLE001 - a damaged row is just not a hit
                        pass
        return found

    def store_parsed(self, items: dict[str, Any]) -> None:
        """Remember parse results by content key."""
        if not items:
            return
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO parsed VALUES (?, ?)",
                           ((k, pickle.dumps(v, protocol=pickle.HIGHEST_PROTOCOL)) for k, v in items.items()))

    def forget_parsed_except(self, keys: set[str]) -> None:
        """Drop parse results no current file has (deleted or edited articles)."""
        with self._connect() as db:
            stale = [(k,) for (k,) in db.execute("SELECT key FROM parsed") if k not in keys]
            db.executemany("DELETE FROM parsed WHERE key=?", stale)

    def outputs(self, host: str, key: str | None = None) -> dict[str, tuple[str, int, int]]:
        """Return {output path: (fingerprint, size, mtime_ns)} recorded for a mirror; with
        `key`, none unless they were recorded with that key (see record_outputs)."""
        with self._connect() as db:
            if key is not None:
                row = db.execute("SELECT value FROM meta WHERE key=?", (f"outputs-key:{host}",)).fetchone()
                if row is None or row[0] != key:
                    return {}
            rows = db.execute("SELECT path, fingerprint, size, mtime FROM outputs WHERE host=?", (host,))
            return {path: (fp, size, mtime) for path, fp, size, mtime in rows}

    def meta(self, key: str) -> Any:
        """Return a value stored with set_meta, or None."""
        with self._connect() as db:
            row = db.execute("SELECT value FROM meta WHERE key=?", (f"build:{key}",)).fetchone()
        return None if row is None else pickle.loads(bytes.fromhex(row[0]))

    def set_meta(self, values: dict[str, Any]) -> None:
        """Store small values about the last build (picklable)."""
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                           [(f"build:{k}", pickle.dumps(v, protocol=4).hex()) for k, v in values.items()])

    def has_state(self, key: str) -> bool:
        """Return whether a value stored with set_state may be there (it may still be unreadable)."""
        return (self.path.parent / f"state-{key}.pickle").exists()

    def state(self, key: str) -> Any:
        """Return a large value stored with set_state (a stage's working data), or None."""
        try:
            with open(self.path.parent / f"state-{key}.pickle", "rb") as f:
                return pickle.load(f)
        except Exception:  # noqa: BLE001 - a missing or damaged file is just not there
            return None

    def set_state(self, key: str, value: Any) -> None:
        """Store a large picklable value (None removes it).

        Each is a file of its own, pickled straight into it and then renamed into place: as a
        SQLite blob, the search postings of 100,000 articles were held twice in memory (the
        pickle, and SQLite's copy), a third of a gigabyte at the end of a build."""
        path = self.path.parent / f"state-{key}.pickle"
        if value is None:
            path.unlink(missing_ok=True)
            return
        temp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            with open(temp, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, path)
        except FileNotFoundError:   # another build of this site removed it: this value is not kept
            return
        for other in path.parent.glob(f"{path.name}.*.tmp"):   # left by a killed build
            other.unlink(missing_ok=True)

    def hashes(self, host: str) -> dict[str, tuple[int, int, str]]:
        """Return {path: (size, mtime, sha256)} of the files of a mirror as the last build left them."""
        with self._connect() as db:
            rows = db.execute("SELECT path, size, mtime, sha256 FROM hashes WHERE host=?", (host,))
            return {path: (size, mtime, sha) for path, size, mtime, sha in rows}

    def record_hashes(self, host: str, rows: Iterable[tuple[str, int, int, str]], keep: set[str]) -> None:
        """Store (path, size, mtime, sha256) rows of a mirror and forget files it no longer has
        (`keep`: every path of `keep` has a row once `rows` are in)."""
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?)",
                           ((host, *row) for row in rows))   # rows one at a time: 660,000 at 100,000 articles
            _forget_others(db, "hashes", host, keep)

    def record_outputs(self, host: str, rows: Iterable[tuple[str, str, int, int]], keep: set[str],
                       key: str = "") -> None:
        """Record what output files were made from; forget paths the site no longer has
        (`keep`: every path of `keep` has a row once `rows` are in).

        `key` stands for what every file of the folder is made from besides its own row's
        fingerprint (the mirror): one value per folder, not a hash per file."""
        with self._connect() as db:
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (f"outputs-key:{host}", key))
            db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?)",
                           ((host, path, fp, size, mtime) for path, fp, size, mtime in rows))
            _forget_others(db, "outputs", host, keep)


def _forget_others(db: sqlite3.Connection, table: str, host: str, keep: set[str]) -> None:
    """Delete a host's rows of `table` whose path is not in `keep`, which all have a row.

    So a table with as many rows as `keep` has no other: a rebuild that removed no file
    counts the rows instead of reading back 16,000 paths per mirror."""
    if db.execute(f"SELECT COUNT(*) FROM {table} WHERE host=?", (host,)).fetchone()[0] == len(keep):
        return
    gone = [p for (p,) in db.execute(f"SELECT path FROM {table} WHERE host=?", (host,)) if p not in keep]
    db.executemany(f"DELETE FROM {table} WHERE host=? AND path=?", ((host, p) for p in gone))


class _Closing:
    """A connection used as `with`: one transaction, committed on success, then closed."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                self.db.commit()
            else:
                self.db.rollback()
        finally:
            self.db.close()


def content_key(fingerprint: str, name: str, raw_sha256: bytes) -> str:
    """Return the cache key of one content file: settings, its path under content/, the
    SHA-256 digest of its bytes."""
    return hashlib.sha256(fingerprint.encode() + b"\0" + name.encode() + b"\0" + raw_sha256).hexdigest()


def signature(value: Any, story_ids: dict[int, str]) -> Any:
    """Return a picklable summary of a planned value, with each Story replaced by its id."""
    if id(value) in story_ids:
        return story_ids[id(value)]
    if value is None or isinstance(value, (str, int, float, bool, datetime, date)):
        return value
    if isinstance(value, (tuple, list)):
        return tuple(signature(v, story_ids) for v in value)
    if isinstance(value, (set, frozenset)):   # their order changes with each process's hash seed
        return tuple(sorted(repr(signature(v, story_ids)) for v in value))
    if isinstance(value, dict):
        return tuple(sorted((str(k), repr(signature(v, story_ids))) for k, v in value.items()))
    if is_dataclass(value):
        return (type(value).__name__,) + tuple(signature(getattr(value, name), story_ids)
                                               for name in _field_names(type(value)))
    return repr(value)


@functools.lru_cache(maxsize=None)
def _field_names(kind: type) -> tuple[str, ...]:
    """Return a dataclass's field names (dataclasses.fields() is slow for tens of thousands of calls)."""
    return tuple(f.name for f in fields(kind))


class _StoryPickler(pickle.Pickler):
    """Pickles planned values with each Story replaced by its key (as signature does), in C but
    for one call per Story: a 10,000-article site has two million objects in its pages, and a
    Python recursion over them took seconds (so did a reducer_override, called for every object
    that is not a str, int or tuple)."""

    def __init__(self, story_ids: dict[int, str], kind: type):
        self.buffer = io.BytesIO()
        super().__init__(self.buffer, protocol=4)
        self.story_ids = story_ids
        self.dispatch_table = {**copyreg.dispatch_table, kind: self._story}

    def _story(self, obj: Any) -> Any:
        key = self.story_ids.get(id(obj))
        return obj.__reduce_ex__(4) if key is None else (str, (key,))


def story_digests(values: Iterable[Any], story_ids: dict[int, str], *shared: Any, kind: type) -> list[str]:
    """Return, per value, a short stable hash of `shared` and the value, with each Story (of
    type `kind`; by identity: `story_ids` maps id() to a key) standing for its key. Every value
    must stay alive."""
    pickler = _StoryPickler(story_ids, kind)
    prefix = pickle.dumps(shared, protocol=4)
    out = []
    for value in values:
        pickler.buffer.seek(0)
        pickler.buffer.truncate()
        pickler.clear_memo()
        pickler.dump(value)
        out.append(hashlib.sha256(prefix + pickler.buffer.getvalue()).hexdigest()[:32])
    return out


def digest(*parts: Any) -> str:
    """Return a short stable hash of picklable parts."""
    return hashlib.sha256(pickle.dumps(parts, protocol=4)).hexdigest()[:32]
