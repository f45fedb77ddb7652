"""One build of a site at a time.

A newsroom's builds start from a schedule, a publish button and a person at a terminal, and
two can overlap. Two builds staging into one output/ folder and renaming files into place
would break each other (one's commit found the other's staged files gone, and stopped half
way). So a build, `clean` and `deploy` hold an exclusive lock on a file in the cache folder; a
second one says whom it waits for and waits.

The lock is a POSIX record lock (lockf), which belongs to the process that took it: the
processes a build forks do not hold it, so when the build is killed, even with a helper process
of it still running, the lock goes with it. Where there are no POSIX locks (Windows), or the
file system refuses them (some network and FUSE mounts), builds are not kept apart."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from .errors import BuildError, Problem

try:
    import fcntl
except ImportError:   # Windows
    fcntl = None

LOCK = "lock"   # the file's name in the cache folder; it holds the process id of the build that has it


def _tell(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def one_build_at_a_time(cache_dir: Path, waiting: Callable[[str], None] = _tell) -> Iterator[None]:
    """Hold the site's lock for the block, waiting (and saying so once) while another process has it."""
    if fcntl is None:
        yield
        return
    told = False
    while True:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            f = open(cache_dir / LOCK, "a+", encoding="utf-8")
        except FileNotFoundError:   # `clean` removed the folder meanwhile
            continue
        with f:
            try:
                fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except (BlockingIOError, PermissionError):   # held by another process
                if not told:
                    f.seek(0)
                    waiting(f"Waiting for another build, clean or deploy of this site to finish "
                            f"(process {f.read().strip() or 'unknown'}) ...")
                    told = True
                try:
                    fcntl.lockf(f, fcntl.LOCK_EX)
                except OSError as exc:   # the system will not let this one wait (ENOLCK, EDEADLK)
                    raise BuildError([Problem(str(cache_dir / LOCK), 0,
                                              f"cannot wait for the other process's lock ({exc.strerror}); "
                                              "run this again once it has finished")]) from None
            except OSError as exc:   # a file system without locks: go on, unguarded
                waiting(f"warning: cannot lock {cache_dir / LOCK} ({exc.strerror}); "
                        "builds of this site are not kept from overlapping")
                yield
                return
            if os.fstat(f.fileno()).st_nlink == 0:   # `clean` removed the file while this one waited
                continue
            f.truncate(0)
            f.write(f"{os.getpid()}\n")
            f.flush()
            yield   # closing the file lets go of the lock
            return
