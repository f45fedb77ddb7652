"""Work done on the other core while the build goes on.

A rebuild after one edit is a single process that walks the whole site several times (the
output's files, the plan, the fingerprints, the feeds and sitemaps, the manifests); the second
core would sit idle. A `Background` job runs one such walk in a forked process, which inherits
what it needs instead of receiving it pickled, and hands back its result when the build
reaches the point that needs it."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import traceback
from functools import partial
from typing import Any, Callable

from . import collector


def _cores() -> int:
    """Return how many cores this process may run on (its affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # macOS has no affinity call
        return os.cpu_count() or 1


class Background:
    """`fn(*args, **kwargs)` running in a forked process; result() waits for its value. With
    one core, or no fork (Windows), the call runs in this process when result() asks for it."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any):
        self._call = partial(fn, *args, **kwargs)
        self._name = getattr(fn, "__name__", repr(fn))
        self._outcome: tuple[bool, Any] | None = None   # (succeeded, value or the failure's traceback)
        self._process = self._pipe = None
        if _cores() > 1 and "fork" in multiprocessing.get_all_start_methods():
            context = multiprocessing.get_context("fork")
            self._pipe, sender = context.Pipe(duplex=False)
            self._process = context.Process(target=_run, args=(self._pipe, sender, self._call), daemon=True)
            self._process.start()
            sender.close()   # the child holds the only sending end: its death ends recv() with EOFError

    def result(self) -> Any:
        """Return the job's value (a failure in the job is a bug: it raises here, every time)."""
        if self._outcome is None:
            if self._process is not None:
                try:
                    self._outcome = self._pipe.recv()
                except EOFError:
                    self._outcome = (False, None)
                status = self._reap(stop=False)
                if self._outcome[1] is None and not self._outcome[0]:
                    self._outcome = (False, f"its process ended with exit status {status}")
            elif self._pipe is not None:   # closed before anyone asked
                self._outcome = (False, "it was stopped (closed) before its result was asked for")
            else:
                self._outcome = _outcome(self._call)
        succeeded, value = self._outcome
        if not succeeded:
            raise RuntimeError(f"background job {self._name} failed:\n{value}")
        return value

    def __enter__(self) -> "Background":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Stop the job if it still runs (a build that failed before needing it) and reap it."""
        self._reap(stop=True)

    def _reap(self, stop: bool) -> int | None:
        """Wait for the process (ending it first when `stop`); return its exit status."""
        process, self._process = self._process, None
        if process is None:
            return None
        if stop and process.exitcode is None:
            process.terminate()
        process.join()
        self._pipe.close()
        return process.exitcode


def _outcome(call: Callable[[], Any]) -> tuple[bool, Any]:
    try:
        return True, call()
    except Exception:  # noqa: BLE001 - handed to whoever asks for the result, which raises
        return False, traceback.format_exc()


def as_helper() -> None:
    """Run first in every process a build forks (background jobs, parse and render workers):
    the process ends with the build, and leaves the build's objects to it (see collector.py)."""
    _end_with_parent()
    collector.in_forked_process()


def _end_with_parent() -> None:
    """Have the kernel end this process when the build that forked it dies (Linux only): a
    worker orphaned by a killed build (a cron or CI timeout, `kill PID`) otherwise waits for
    work for ever, holding its memory."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL))   # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):   # no libc to ask: the helper outlives a killed build
        pass


def _run(receiver, sender, call: Callable[[], Any]) -> None:
    # the copy of the receiving end this process inherited is closed: if the build is killed,
    # sending fails (broken pipe) and this process ends, instead of waiting for a reader forever
    receiver.close()
    as_helper()
    try:
        sender.send(_outcome(call))
    except OSError:   # a broken pipe: nobody is left to read it
        pass
    sender.close()
