"""`build.py deploy`: to a local folder and over rsync to a real sshd on 127.0.0.1."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, copy_sample, free_port, need, run_build, snapshot

PRIMARY = "www.meridiancourier.example"
PRIMARY_LINE = "  - url: https://www.meridiancourier.example/"
ARTICLE = "content/culture/concert-hall-reopens.md"
ARTICLE_PAGE = "culture/2026/11/22/concert-hall-reopens/index.html"


def deploy(site: Path, *args: str) -> subprocess.CompletedProcess:
    """Run `python build.py deploy` as a user does."""
    return subprocess.run([sys.executable, str(REPO / "build.py"), "deploy", "--config",
                           str(site / "config.yaml"), *args], cwd=site, capture_output=True, text=True,
                          timeout=600)


def set_target(site: Path, target: str, extra: str = "") -> None:
    """Give the primary mirror a deploy target (YAML flow text) and append top-level `extra`."""
    config = site / "config.yaml"
    text = config.read_text(encoding="utf-8")
    start = text.index(PRIMARY_LINE)
    end = text.index("\n", start)
    text = text[:end] + f"\n    deploy: {target}" + text[end:] + extra
    config.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """Start a real OpenSSH server on 127.0.0.1 that accepts one fresh key; yield (port, key)."""
    need(shutil.which("rsync") is not None and Path("/usr/sbin/sshd").exists(),
         "rsync and openssh-server are not installed: apt-get install rsync openssh-server")
    folder = tmp_path_factory.mktemp("sshd")
    for name in ("host", "user"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True)
    shutil.copy(folder / "user.pub", folder / "authorized_keys")
    port = free_port()
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPidFile {folder / 'sshd.pid'}\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n", encoding="utf-8")
    Path("/run/sshd").mkdir(exist_ok=True)   # sshd's privilege separation folder
    server = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(folder / "sshd_config")],
                              stdout=subprocess.DEVNULL, stderr=open(folder / "sshd.log", "wb"))
    rsh = (f"ssh -p {port} -i {folder / 'user'} -o BatchMode=yes -o StrictHostKeyChecking=no "
           "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")
    try:
        for _ in range(50):
            probe = subprocess.run([*rsh.split(), "root@127.0.0.1", "true"], capture_output=True)
            if probe.returncode == 0:
                break
            time.sleep(0.1)
        else:
            pytest.fail(f"sshd did not accept the key: {(folder / 'sshd.log').read_text()}")
        yield rsh
    finally:
        server.terminate()
        server.wait(timeout=10)


def target_for(kind: str, tmp_path: Path, request) -> tuple[str, Path]:
    """Return (deploy: value, the folder that receives the files) for a local or an ssh target."""
    folder = tmp_path / "www"
    if kind == "folder":
        return str(folder), folder
    rsh = request.getfixturevalue("sshd")
    return f"{{to: 'root@127.0.0.1:{folder}/', rsh: '{rsh}'}}", folder


def built_with_target(kind: str, tmp_path: Path, request) -> tuple[Path, Path, Path]:
    """Return (site, the folder its deploy target fills, the primary mirror's output) of a built
    copy of the sample whose primary mirror deploys to a `kind` target."""
    site = copy_sample(tmp_path / "site")
    value, target = target_for(kind, tmp_path, request)
    set_target(site, value)
    assert run_build(site).returncode == 0
    return site, target, site / "output" / PRIMARY


def files_of(folder: Path) -> dict[str, bytes]:
    return {rel: data for rel, (data, _) in snapshot(folder).items()}


def would_send(result: subprocess.CompletedProcess) -> set[str]:
    """Return the files a dry run lists to upload."""
    return {m.group(1) for m in re.finditer(r"^  [a-z ]+: (\S+)$", result.stdout, re.M)
            if not m.group(0).startswith("  delete:")}


@pytest.mark.parametrize("kind", ["folder", "rsync-over-ssh"])
def test_deploy_sends_only_what_changed_and_removes_what_is_gone(kind: str, tmp_path: Path, request):
    site, target, built = built_with_target(kind, tmp_path, request)

    first = deploy(site)
    assert first.returncode == 0, first.stderr
    assert files_of(target) == files_of(built)
    assert f"{PRIMARY}: sent {len(files_of(built))}, deleted 0" in first.stdout

    before = snapshot(target)
    second = deploy(site)
    assert second.returncode == 0, second.stderr
    assert "up to date, nothing to send" in second.stdout
    assert snapshot(target) == before   # not one file rewritten

    output_before = files_of(built)
    article = site / ARTICLE
    article.write_text(article.read_text(encoding="utf-8").replace("title: ", "title: Updated ", 1),
                       encoding="utf-8")
    assert run_build(site).returncode == 0
    changed = {rel for rel, data in files_of(built).items() if output_before.get(rel) != data}
    assert ARTICLE_PAGE in changed and "index.html" in changed
    plan = deploy(site, "--dry-run")
    assert would_send(plan) == changed
    assert snapshot(target) == before   # a dry run sends nothing
    third = deploy(site)
    assert third.returncode == 0, third.stderr
    assert f"sent {len(changed)}, deleted 0" in third.stdout
    after = snapshot(target)
    assert {rel for rel in after if after[rel] != before.get(rel)} == changed
    assert files_of(target) == files_of(built)

    article.unlink()
    assert run_build(site).returncode == 0
    fourth = deploy(site)
    assert fourth.returncode == 0, fourth.stderr
    assert not (target / ARTICLE_PAGE).exists()
    assert not (target / ARTICLE_PAGE).parent.exists()   # no empty folder left where the page was
    assert files_of(target) == files_of(built)


def test_deploy_refuses_to_empty_a_folder_that_is_not_the_mirror(tmp_path: Path):
    site = copy_sample(tmp_path / "site")
    target = tmp_path / "someone-elses-files"
    for n in range(200):
        (target / "docs").mkdir(parents=True, exist_ok=True)
        (target / "docs" / f"report-{n}.pdf").write_bytes(b"%PDF-1.4 " + bytes([n]))
    set_target(site, str(target))
    assert run_build(site).returncode == 0
    before = snapshot(target)
    result = deploy(site)
    assert result.returncode == 1
    assert (f"refusing to delete 200 of the 200 files at {target} (100%, more than deploy.max_delete 25%)"
            in result.stderr)
    assert "Traceback" not in result.stderr
    assert snapshot(target) == before


FLAKY = """#!/bin/sh
# A remote shell for rsync that fails from call number {fail_from} to {fail_to}, as a dropped link would.
n=$(cat "{counter}" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "{counter}"
if [ $n -ge {fail_from} ] && [ $n -le {fail_to} ]; then echo "Connection reset by peer" >&2; exit 255; fi
shift   # the host name: run rsync's other end right here
exec "$@"
"""


def flaky_rsh(folder: Path, fail_from: int, fail_to: int) -> str:
    """Return a remote shell command whose calls fail from `fail_from` to `fail_to` (1-based)."""
    script = folder / f"rsh-{fail_from}-{fail_to}"
    counter = folder / f"count-{fail_from}-{fail_to}"
    script.write_text(FLAKY.format(counter=counter, fail_from=fail_from, fail_to=fail_to), encoding="utf-8")
    script.chmod(0o755)
    return str(script)


def set_rsh(site: Path, rsh: str) -> None:
    config = site / "config.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"rsh: '[^']*'", f"rsh: '{rsh}'", text), encoding="utf-8")


def new_article(site: Path) -> str:
    """Write a new published article; return its page path."""
    (site / "content" / "business" / "ferry-timetable.md").write_text(
        "---\ntitle: Winter ferry timetable adds a late crossing\ndate: 2026-11-28 09:00:00 +00:00\n"
        "summary: The last boat to the Ondine Islands will leave Velmora at 23:40 from December.\n"
        "tags: [transport]\n---\n\nThe harbour authority confirmed the extra sailing on Friday.\n",
        encoding="utf-8")
    return "business/2026/11/28/ferry-timetable/index.html"


def test_a_failed_upload_never_leaves_pages_linking_to_missing_files(tmp_path: Path):
    need(shutil.which("rsync") is not None, "rsync is not installed: apt-get install rsync")
    site = copy_sample(tmp_path / "site")
    target = tmp_path / "remote"
    set_target(site, f"{{to: 'localhost:{target}/', rsh: 'placeholder'}}", "deploy: {retries: 1}\n")
    set_rsh(site, flaky_rsh(tmp_path, 99, 99))
    assert run_build(site).returncode == 0
    assert deploy(site).returncode == 0
    old_home, old_feed = (target / "index.html").read_bytes(), (target / "feed.xml").read_bytes()

    page = new_article(site)
    assert run_build(site).returncode == 0
    # calls: 1 compare, 2 new pages, 3 and 4 changed pages (first try and retry) fail
    set_rsh(site, flaky_rsh(tmp_path, 3, 99))
    failed = deploy(site)
    assert failed.returncode == 1
    assert "uploading changed pages failed (rsync exit status" in failed.stdout   # the first try
    assert "uploading changed pages failed after 2 attempt(s)" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert (target / page).exists()                        # the new page went up first
    assert (target / "index.html").read_bytes() == old_home   # the home page does not link to it yet
    assert (target / "feed.xml").read_bytes() == old_feed     # nor does the feed

    set_rsh(site, flaky_rsh(tmp_path, 2, 2))   # the first upload fails once, the retry succeeds
    retried = deploy(site)
    assert retried.returncode == 0, retried.stderr
    assert "retrying in 1 s" in retried.stdout
    assert files_of(target) == files_of(site / "output" / PRIMARY)


def test_deploy_before_build_and_without_targets_say_what_to_do(tmp_path: Path):
    site = copy_sample(tmp_path / "site")
    result = deploy(site)
    assert result.returncode == 1
    assert "config.yaml: no mirror has a deploy target" in result.stderr
    set_target(site, str(tmp_path / "www"))
    result = deploy(site)
    assert result.returncode == 1
    assert f"{PRIMARY}: output/{PRIMARY}/ is not built (no manifest); run `python build.py` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_deploy_value_is_reported_with_its_line(tmp_path: Path):
    site = copy_sample(tmp_path / "site")
    set_target(site, "{to: /srv/www, speed: fast}")
    line = site.joinpath("config.yaml").read_text(encoding="utf-8").splitlines().index(
        "    deploy: {to: /srv/www, speed: fast}") + 1
    result = deploy(site)
    assert result.returncode == 1
    assert f"config.yaml:{line}: unknown key 'speed' in mirrors.0.deploy (known keys: to, rsh)" in result.stderr


def test_a_dry_run_changes_nothing_even_an_mtime(tmp_path: Path):
    site = copy_sample(tmp_path / "site")
    target = tmp_path / "www"
    set_target(site, str(target))
    assert run_build(site).returncode == 0
    assert deploy(site).returncode == 0
    built = site / "output" / PRIMARY
    os.utime(built / "robots.txt", ns=(1_000_000_000, 1_000_000_000))   # same bytes, another mtime
    before = snapshot(target)
    assert deploy(site, "--dry-run").returncode == 0
    assert snapshot(target) == before
    result = deploy(site)
    assert "up to date, nothing to send" in result.stdout   # equal bytes are not sent again
    assert (target / "robots.txt").stat().st_mtime_ns == 1_000_000_000


@pytest.mark.parametrize("kind", ["folder", "rsync-over-ssh"])
def test_a_change_that_keeps_a_files_size_within_one_second_is_sent(kind: str, tmp_path: Path, request):
    # two builds within a second: a date or a count in a file changes and its size does not
    # (rsync compares whole seconds by default, and skipped such a file)
    site, target, built = built_with_target(kind, tmp_path, request)
    assert deploy(site).returncode == 0, "first deploy"
    before = snapshot(built)
    new_article(site)
    assert run_build(site).returncode == 0
    same_size = [rel for rel, (data, _) in snapshot(built).items()
                 if rel in before and data != before[rel][0] and len(data) == len(before[rel][0])]
    assert "mirrors.json" in same_size and "search/data/meta.js" in same_size
    for rel in same_size:   # as if rebuilt in the second the deployed copy was written
        sent = (target / rel).stat().st_mtime_ns
        os.utime(built / rel, ns=(sent, sent + 1000 if sent % 10**9 < 999_000_000 else sent - 1000))
    result = deploy(site)
    assert result.returncode == 0, result.stderr
    assert files_of(target) == files_of(built)
