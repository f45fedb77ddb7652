"""`verify`: check a deployed mirror (a URL) or a folder against its manifest and signature."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .deploy import files_under
from .manifest import MANIFEST, SIGNATURE, SigningError, check_signature, file_sha256, read_manifest

USER_AGENT = "newsmirror-verify"
# files a static host reads for itself and need not serve (Netlify and Cloudflare Pages keep
# _headers to themselves): over HTTP, one that is not served is not missing
HOST_FILES = frozenset({"_headers", "_redirects", ".nojekyll"})


@dataclass(frozen=True)
class Verdict:
    """What checking one mirror found."""

    where: str
    files: int
    missing: tuple[str, ...]
    extra: tuple[str, ...]       # only a folder can be listed; over HTTP this stays empty
    different: tuple[str, ...]
    signature: str               # good, bad, unsigned, unchecked
    detail: str = ""
    unserved: tuple[str, ...] = ()   # HOST_FILES the server does not serve (over HTTP only)

    @property
    def ok(self) -> bool:
        """Return whether the mirror is exactly what was built (and signed, when a key was given)."""
        return not (self.missing or self.extra or self.different) and self.signature in ("good", "unchecked",
                                                                                        "unsigned")


class VerifyError(Exception):
    """The mirror has no readable manifest, or the key cannot be read."""


def verify(where: str, public_key: Path | None) -> Verdict:
    """Return the verdict for a folder or an http(s) URL."""
    if where.startswith(("http://", "https://")):
        return _verify_url(where if where.endswith("/") else where + "/", public_key)
    return _verify_folder(Path(where), public_key)


def _verify_folder(folder: Path, public_key: Path | None) -> Verdict:
    """Compare every file of the folder with the manifest, both ways."""
    try:
        data = (folder / MANIFEST).read_bytes()
    except OSError:
        raise VerifyError(f"{folder}: no manifest at {MANIFEST}; is this a mirror built by newsmirror?") from None
    try:
        signature = (folder / SIGNATURE).read_bytes()
    except OSError:
        signature = None
    listed = _parse(data, str(folder))
    present = {rel for rel in files_under(folder) if rel not in (MANIFEST, SIGNATURE)}
    missing = sorted(set(listed) - present)
    extra = sorted(present - set(listed))
    different = sorted(rel for rel in set(listed) & present
                       if (folder / rel).stat().st_size != listed[rel][1]
                       or file_sha256(folder / rel) != listed[rel][0])
    state, detail = _signature_state(data, signature, public_key)
    return Verdict(str(folder), len(listed), tuple(missing), tuple(extra), tuple(different), state, detail)


def _verify_url(base: str, public_key: Path | None) -> Verdict:
    """Fetch the manifest and every file it lists from a deployed mirror."""
    status, data = _fetch(base + MANIFEST)
    if data is None:
        raise VerifyError(f"{base}{MANIFEST}: {status}; is the mirror deployed with its manifest?")
    _, signature = _fetch(base + SIGNATURE)
    listed = _parse(data, base)

    def check(rel: str) -> tuple[str, str | None]:
        code, body = _fetch(base + urllib.parse.quote(rel))
        if body is None:
            return rel, "unserved" if rel in HOST_FILES and code == "HTTP 404" else "missing"
        ok = len(body) == listed[rel][1] and hashlib.sha256(body).hexdigest() == listed[rel][0]
        return rel, None if ok else "different"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(check, sorted(listed)))
    missing = tuple(rel for rel, what in results if what == "missing")
    different = tuple(rel for rel, what in results if what == "different")
    unserved = tuple(rel for rel, what in results if what == "unserved")
    state, detail = _signature_state(data, signature, public_key)
    return Verdict(base, len(listed), missing, (), different, state, detail, unserved)


def _parse(data: bytes, where: str) -> dict[str, tuple[str, int]]:
    try:
        return read_manifest(data)
    except ValueError as exc:
        raise VerifyError(f"{where}: {MANIFEST} is {exc}") from None


def _fetch(url: str) -> tuple[str, bytes | None]:
    """Return (status, body), body None when the file could not be fetched."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return str(response.status), response.read()
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}", None
    except (urllib.error.URLError, OSError) as exc:
        return f"cannot fetch ({exc})", None


def _signature_state(data: bytes, signature: bytes | None, public_key: Path | None) -> tuple[str, str]:
    """Return (good | bad | unsigned | unchecked, what ssh-keygen said)."""
    if public_key is None:
        return ("unchecked", "") if signature is not None else ("unsigned", "")
    if signature is None:
        return "bad", f"the manifest has no signature ({SIGNATURE} is missing) but a key was given"
    try:
        good, said = check_signature(data, signature, public_key)
    except SigningError as exc:
        raise VerifyError(str(exc)) from None
    return ("good" if good else "bad"), said
