"""Each mirror's manifest and signature, and `build.py verify` on folders and over HTTP."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, copy_sample, run_build, serve

MANIFEST = ".well-known/newsmirror-manifest.json"
PRIMARY = "www.meridiancourier.example"
PREFIXED = "cdn.meridian-mirror.example"
ARTICLE = "politics/2026/11/20/harbour-budget-vote/index.html"


def keygen(path: Path, passphrase: str = "") -> Path:
    """Make an ed25519 ssh key pair at `path` (and path.pub); return the private key."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", "test", "-f", str(path)],
                   check=True)
    return path


def verify(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `python build.py verify ...` as a user does."""
    return subprocess.run([sys.executable, str(REPO / "build.py"), "verify", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def signed(tmp_path_factory) -> Path:
    """Return a copy of the sample signed with a fresh key (keys in the site folder), built."""
    if shutil.which("ssh-keygen") is None:
        pytest.fail("ssh-keygen is missing: apt-get install openssh-client")
    root = copy_sample(tmp_path_factory.mktemp("signed") / "site")
    keygen(root / "outlet-key")
    with open(root / "config.yaml", "a", encoding="utf-8") as f:
        f.write("signing: {key: outlet-key}\n")
    result = run_build(root)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def mirror_copy(signed: Path, tmp_path: Path) -> Path:
    """Return a copy of the signed primary mirror that a test may tamper with."""
    return Path(shutil.copytree(signed / "output" / PRIMARY, tmp_path / "deployed"))


def test_manifest_lists_every_file_with_its_hash(output: Path):
    for mirror in sorted(p for p in output.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (mirror / MANIFEST).exists():
            continue   # output/deploy/ and such hold no mirror
        listed = json.loads((mirror / MANIFEST).read_text(encoding="utf-8"))["files"]
        on_disk = {p.relative_to(mirror).as_posix() for p in mirror.rglob("*") if p.is_file()}
        assert set(listed) == on_disk - {MANIFEST}, mirror.name
        for rel, entry in listed.items():
            data = (mirror / rel).read_bytes()
            assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}, rel


def test_manifest_names_its_mirror(output: Path):
    body = json.loads((output / PREFIXED / MANIFEST).read_text(encoding="utf-8"))
    assert body["mirror"] == "https://cdn.meridian-mirror.example/courier/"
    assert body["format"] == "newsmirror-manifest/1"


def test_verify_passes_on_an_untouched_signed_mirror(signed: Path):
    folder = signed / "output" / PRIMARY
    result = verify(str(folder), "--key", str(signed / "outlet-key.pub"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "signature: good" in result.stdout
    files = sum(1 for p in folder.rglob("*") if p.is_file()) - 2   # the manifest and its signature
    assert f"all {files} files match the manifest" in result.stdout


def test_verify_names_a_page_with_one_byte_changed(mirror_copy: Path, signed: Path):
    page = mirror_copy / ARTICLE
    data = bytearray(page.read_bytes())
    data[len(data) // 2] ^= 0x01
    page.write_bytes(bytes(data))
    result = verify(str(mirror_copy), "--key", str(signed / "outlet-key.pub"))
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == f"CHANGED {ARTICLE}"
    assert "1 file(s) differ" in result.stderr


def test_verify_names_an_added_and_a_removed_file(mirror_copy: Path, signed: Path):
    (mirror_copy / "politics" / "extra.html").write_text("<p>planted</p>", encoding="utf-8")
    (mirror_copy / "robots.txt").unlink()
    result = verify(str(mirror_copy), "--key", str(signed / "outlet-key.pub"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert "MISSING robots.txt" in lines and "EXTRA politics/extra.html" in lines
    assert "signature: good" in result.stdout   # the manifest itself is intact


def test_verify_catches_a_manifest_rewritten_to_match_a_tampered_page(mirror_copy: Path, signed: Path):
    page = mirror_copy / ARTICLE
    page.write_bytes(page.read_bytes().replace(b"</h1>", b" (corrected)</h1>", 1))
    manifest = mirror_copy / MANIFEST
    body = json.loads(manifest.read_text(encoding="utf-8"))
    body["files"][ARTICLE] = {"sha256": hashlib.sha256(page.read_bytes()).hexdigest(),
                              "size": page.stat().st_size}
    manifest.write_text(json.dumps(body), encoding="utf-8")
    result = verify(str(mirror_copy), "--key", str(signed / "outlet-key.pub"))
    assert result.returncode == 1
    assert "signature: BAD" in result.stdout
    assert "CHANGED" not in result.stdout   # the files match the forged manifest: only the signature tells


def test_verify_rejects_a_signature_by_another_key(signed: Path, tmp_path: Path):
    other = keygen(tmp_path / "other-key")
    result = verify(str(signed / "output" / PRIMARY), "--key", f"{other}.pub")
    assert result.returncode == 1
    assert "signature: BAD" in result.stdout


def test_verify_with_a_key_fails_on_an_unsigned_mirror(output: Path, signed: Path):
    result = verify(str(output / PRIMARY), "--key", str(signed / "outlet-key.pub"))
    assert result.returncode == 1
    assert "signature: BAD (the manifest has no signature" in result.stdout


def test_verify_takes_the_key_from_the_config(signed: Path):
    result = verify(str(signed / "output" / PRIMARY), cwd=signed)
    assert result.returncode == 0, result.stderr
    assert "signature: good" in result.stdout


def test_verify_over_http_on_a_prefix_mirror(signed: Path, tmp_path: Path):
    folder = Path(shutil.copytree(signed / "output" / PREFIXED, tmp_path / "prefixed"))
    key = str(signed / "outlet-key.pub")
    with serve(folder, "/courier/") as base:
        good = verify(base, "--key", key)
        assert good.returncode == 0, good.stdout + good.stderr
        assert "signature: good" in good.stdout
        (folder / "index.html").write_bytes((folder / "index.html").read_bytes() + b" ")
        (folder / "css" / "site.css").unlink(missing_ok=True)
        bad = verify(base, "--key", key)
    assert bad.returncode == 1
    assert "CHANGED index.html" in bad.stdout.splitlines()


def test_verify_over_http_without_a_manifest_says_so(output: Path, tmp_path: Path):
    (tmp_path / "index.html").write_text("<p>not a mirror</p>", encoding="utf-8")
    with serve(tmp_path) as base:
        result = verify(base)
    assert result.returncode == 1
    assert "newsmirror-manifest.json: HTTP 404" in result.stderr
    assert "Traceback" not in result.stderr


def test_incremental_build_keeps_the_manifest_true(signed: Path, tmp_path: Path):
    site = Path(shutil.copytree(signed, tmp_path / "site", ignore=shutil.ignore_patterns("output", ".cache")))
    assert run_build(site).returncode == 0
    article = site / "content" / "culture" / "concert-hall-reopens.md"
    text = article.read_text(encoding="utf-8")
    article.write_text(text.replace("\n---\n", "\n---\n\nA late addition to the story.\n", 1), encoding="utf-8")
    (site / "static" / "images" / "logo.svg").write_bytes(
        (site / "static" / "images" / "logo.svg").read_bytes() + b"\n")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    for host in (PRIMARY, PREFIXED):
        checked = verify(str(site / "output" / host), "--key", str(site / "outlet-key.pub"))
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_a_key_that_cannot_sign_fails_the_build_and_keeps_the_output(tmp_path: Path):
    from conftest import snapshot

    root = copy_sample(tmp_path / "site")
    assert run_build(root).returncode == 0
    before = snapshot(root / "output")
    keygen(root / "locked-key", passphrase="correct horse")
    with open(root / "config.yaml", "a", encoding="utf-8") as f:
        f.write("signing:\n  key: locked-key\n")
    result = subprocess.run([sys.executable, str(REPO / "build.py"), "--config", str(root / "config.yaml"),
                             "--now", "2026-11-29 12:00 +00:00"], capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=300)
    assert result.returncode == 1
    assert "config.yaml: signing: ssh-keygen could not sign with" in result.stderr
    assert "Traceback" not in result.stderr
    assert snapshot(root / "output") == before


def test_a_missing_key_file_is_a_config_problem(tmp_path: Path):
    root = copy_sample(tmp_path / "site")
    lines = (root / "config.yaml").read_text(encoding="utf-8").count("\n")
    with open(root / "config.yaml", "a", encoding="utf-8") as f:
        f.write("signing:\n  key: keys/nowhere\n")
    result = run_build(root)
    assert result.returncode == 1
    assert f"config.yaml:{lines + 2}: signing.key: '{root / 'keys/nowhere'}' is not a file" in result.stderr


def test_verify_over_http_accepts_host_files_a_host_does_not_serve(signed: Path, tmp_path: Path):
    folder = Path(shutil.copytree(signed / "output" / PRIMARY, tmp_path / "netlify-like"))
    (folder / "_headers").unlink()     # Netlify and Cloudflare Pages read it and do not serve it
    (folder / ".nojekyll").unlink()
    with serve(folder) as base:
        result = verify(base, "--key", str(signed / "outlet-key.pub"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not served (hosts read these themselves): .nojekyll, _headers" in result.stdout
    assert (folder / "robots.txt").exists()   # an ordinary file missing is still a failure:
    (folder / "robots.txt").unlink()
    with serve(folder) as base:
        missing = verify(base, "--key", str(signed / "outlet-key.pub"))
    assert missing.returncode == 1 and "MISSING robots.txt" in missing.stdout.splitlines()
