"""Each mirror's manifest: the SHA-256 of every file it serves, optionally signed with an ssh key,
so anyone can check that a deployed mirror is exactly what the outlet built.

Signing and checking use `ssh-keygen -Y` (OpenSSH's SSHSIG format): a tool every server already
has, and no cryptography of our own."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

MANIFEST = ".well-known/newsmirror-manifest.json"
SIGNATURE = MANIFEST + ".sig"
NAMESPACE = "newsmirror-manifest"   # an SSHSIG signature is only valid for the namespace it names
FORMAT = "newsmirror-manifest/1"


@dataclass(frozen=True)
class Signing:
    """Where the outlet's signing key is: a private key file, or the public key of one in ssh-agent."""

    key: Path
    public_key: Path


class SigningError(Exception):
    """ssh-keygen could not sign or check; the message says why."""


def file_sha256(path: Path | str) -> str:
    """Return the hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_manifest_file(rel: str) -> bool:
    """Return whether a site path is the manifest or its signature (which it cannot list)."""
    return rel in (MANIFEST, SIGNATURE)


def manifest_bytes(url: str, files: dict[str, tuple[str, int]]) -> bytes:
    """Return the manifest of a mirror at `url`: {path: (sha256, size)}, sorted, no timestamps.

    One file per line, so two manifests compare well with diff."""
    head = json.dumps({"format": FORMAT, "mirror": url, "algorithm": "sha256"}, ensure_ascii=False)[:-1]
    lines = [f'{_json_text(rel)}: {{"sha256": "{sha}", "size": {size}}}'
             for rel, (sha, size) in sorted(files.items())]
    return (head + ', "files": {\n' + ",\n".join(lines) + "\n}}\n").encode("utf-8")


def _json_text(text: str) -> str:
    """Return `text` as a JSON string (json.dumps only where escaping is needed: it is slow per call)."""
    if '"' in text or "\\" in text or not text.isprintable():
        return json.dumps(text, ensure_ascii=False)
    return f'"{text}"'


def read_manifest(data: bytes) -> dict[str, tuple[str, int]]:
    """Return {path: (sha256, size)} from manifest bytes; raise ValueError when it is not one."""
    try:
        body = json.loads(data.decode("utf-8"))
        if body.get("format") != FORMAT:
            raise ValueError(f"format is {body.get('format')!r}, expected {FORMAT!r}")
        return {rel: (entry["sha256"], int(entry["size"])) for rel, entry in body["files"].items()}
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError, KeyError, TypeError) as exc:
        raise ValueError(f"not a newsmirror manifest ({exc})") from None


def sign(data: bytes, signing: Signing) -> bytes:
    """Return an SSHSIG signature of `data` made with the outlet's key."""
    result = subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(signing.key), "-n", NAMESPACE],
                            input=data, capture_output=True, timeout=60)
    if result.returncode != 0 or not result.stdout.startswith(b"-----BEGIN SSH SIGNATURE-----"):
        said = result.stderr.decode("utf-8", "replace").strip() or f"exit status {result.returncode}"
        raise SigningError(f"ssh-keygen could not sign with {signing.key}: {said} (a key with a "
                           "passphrase must be loaded in ssh-agent, and signing.key must then name its .pub)")
    return result.stdout


def check_signature(data: bytes, signature: bytes, public_key: Path) -> tuple[bool, str]:
    """Return whether `signature` is a valid signature of `data` by `public_key`, and what ssh-keygen said."""
    try:
        key_line = public_key.read_text(encoding="utf-8").strip().splitlines()[0]
    except (OSError, UnicodeDecodeError, IndexError) as exc:
        raise SigningError(f"cannot read the public key {public_key}: {exc}") from None
    parts = key_line.split()
    if len(parts) < 2:
        raise SigningError(f"{public_key} is not an ssh public key (expected 'ssh-ed25519 AAAA...')")
    with tempfile.TemporaryDirectory(prefix="newsmirror-verify-") as folder:
        signers = os.path.join(folder, "allowed_signers")
        with open(signers, "w", encoding="utf-8") as f:
            f.write(f'outlet namespaces="{NAMESPACE}" {parts[0]} {parts[1]}\n')
        sig_path = os.path.join(folder, "manifest.sig")
        with open(sig_path, "wb") as f:
            f.write(signature)
        result = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", signers, "-I", "outlet",
                                 "-n", NAMESPACE, "-s", sig_path], input=data, capture_output=True,
                                timeout=60)
    said = (result.stdout + result.stderr).decode("utf-8", "replace").strip()
    return result.returncode == 0, said
