"""Work done on the other core while the build goes on.

A rebuild after one edit is a single process that walks the whole site several times (the
output's files, the plan, the fingerprints); the second core sits idle. A `Background` job
runs one such walk in a forked process, which inherits what it needs instead of receiving it
pickled, and hands back its result when the build reaches the point that needs it."""

from __future__ import annotations

import os
import traceback
from functools import partial
from multiprocessing import get_context
from typing import Any, Callable


class Background:
    """`fn(*args, **kwargs)` running in a forked process; result() waits for its value. On a
    one-core machine the call runs in this process, when result() is first asked for."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any):
        if kwargs:
            fn = partial(fn, **kwargs)
        self._fn, self._args = fn, args
        self._done, self._closed, self._value = False, False, None
        self._process = self._pipe = None
        if (os.cpu_count() or 1) > 1:
            context = get_context("fork")
            self._pipe, sender = context.Pipe(duplex=False)
            self._process = context.Process(target=_run, args=(sender, fn, args), daemon=True)
            self._process.start()
            sender.close()   # the child holds the only sending end: its death ends recv() with EOFError

    def result(self) -> Any:
        """Return the job's value (a failure in the job is a bug: it raises here)."""
        if not self._done:
            if self._closed:
                raise RuntimeError(f"background job {_name(self._fn)} was closed before its result was asked for")
            if self._process is None:
                self._value = self._fn(*self._args)
            else:
                try:
                    ok, value = self._pipe.recv()
                except EOFError:
                    ok, value = False, None
                status = self._reap(stop=False)
                if not ok:
                    raise RuntimeError(f"background job {_name(self._fn)} failed:\n"
                                       f"{value or f'its process ended with exit status {status}'}")
                self._value = value
            self._done = True
        return self._value

    def __enter__(self) -> "Background":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the job if it still runs (a build that failed before needing it) and reap it."""
        self._reap(stop=True)
        self._closed = not self._done

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


def _run(sender, fn: Callable[..., Any], args: tuple) -> None:
    try:
        value = (True, fn(*args))
    except BaseException:  # noqa: BLE001 - reported to the parent, which raises
        value = (False, traceback.format_exc())
    sender.send(value)
    sender.close()


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", repr(fn))
