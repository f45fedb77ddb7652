"""The only stage that touches output/: stage changed files, then swap them in all at once.

Nothing under output/<host>/ changes until every page of every mirror has rendered, so a
failed build leaves the previous site exactly as it was; unchanged files keep their mtime."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

STAGING = ".newsmirror-staging"


@dataclass(frozen=True)
class WriteReport:
    """What a build did to output/: files written, removed and left alone."""

    written: int
    removed: int
    unchanged: int


class Staging:
    """Collects a build's files for several mirror folders; commit() makes them the site."""

    def __init__(self, output_dir: Path, hosts: list[str]):
        self.output_dir = output_dir
        self.folder = output_dir / STAGING
        if self.folder.exists():
            shutil.rmtree(self.folder)  # left by a build that was killed: never part of the site
        self.hosts = hosts
        self.roots = {host: (output_dir / host) for host in hosts}
        self.files: dict[str, set[str]] = {host: set() for host in hosts}
        self.changed: list[tuple[str, str]] = []
        self.unchanged = 0

    def add(self, host: str, rel: str, data: bytes) -> None:
        """Stage one file of a mirror unless the site already has exactly these bytes."""
        root = self.roots[host]
        target = root / rel
        if not target.resolve().is_relative_to(root.resolve()) or rel in self.files[host]:
            raise ValueError(f"bad or repeated output path {rel!r} for {host}")  # plan prevents this
        self.files[host].add(rel)
        if _same_bytes(target, data):
            self.unchanged += 1
            return
        staged = self.folder / host / rel
        staged.parent.mkdir(parents=True, exist_ok=True)
        staged.write_bytes(data)
        self.changed.append((host, rel))

    def abort(self) -> None:
        """Throw the staged files away; output/ stays as it was."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def commit(self) -> WriteReport:
        """Move staged files into place and remove files the site no longer has."""
        for host, rel in self.changed:
            target = self.roots[host] / rel
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.folder / host / rel, target)
        removed = sum(self._remove_stale(host) for host in self.hosts)
        shutil.rmtree(self.folder, ignore_errors=True)
        return WriteReport(len(self.changed), removed, self.unchanged)

    def _remove_stale(self, host: str) -> int:
        """Delete files under a mirror folder that this build did not produce; return how many."""
        root, keep, removed = self.roots[host], self.files[host], 0
        if not root.is_dir():
            return 0
        for folder, dirs, names in os.walk(root, topdown=False):
            for name in names:
                path = Path(folder) / name
                if path.relative_to(root).as_posix() not in keep:
                    path.unlink()
                    removed += 1
            if folder != str(root) and not os.listdir(folder):
                os.rmdir(folder)
        return removed


def _same_bytes(path: Path, data: bytes) -> bool:
    """Return whether the file at `path` holds exactly `data`."""
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return False
