"""Same input, same bytes; a rebuild rewrites only what changed, so sync tools upload only that."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import copy_sample, run_build, snapshot

OLD = 1_000_000_000 * 1_000_000_000   # 2001-09-09 in ns: any file rewritten by a build gets a new mtime
MIRRORS = ("www.meridiancourier.example", "meridiancourier.example.net", "cdn.meridian-mirror.example",
           "6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion")
COUNTS = re.compile(r": (\d+) files written, (\d+) removed, (\d+) unchanged in ")


def age(folder: Path) -> None:
    """Set every file's mtime far in the past, so a rewrite cannot keep the same mtime by chance."""
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, ns=(OLD, OLD))


def counts(stdout: str) -> tuple[int, int, int]:
    """Return (written, removed, unchanged) from a build's summary line."""
    match = COUNTS.search(stdout)
    assert match, stdout
    return tuple(map(int, match.groups()))


@pytest.fixture
def built_copy(built_site: Path, tmp_path: Path) -> Path:
    """Return a private copy of the built sample site with every output file aged."""
    root = Path(shutil.copytree(built_site, tmp_path / "site", copy_function=shutil.copy2))
    age(root / "output")
    return root


def test_two_builds_of_the_same_input_are_byte_identical(tmp_path, monkeypatch):
    trees = []
    for name, seed in (("one", "1"), ("two", "2")):   # set and dict order must not leak into output
        monkeypatch.setenv("PYTHONHASHSEED", seed)
        root = copy_sample(tmp_path / name)
        result = run_build(root)
        assert result.returncode == 0, result.stderr
        trees.append({rel: data for rel, (data, _) in snapshot(root / "output").items()})
    assert trees[0].keys() == trees[1].keys()
    assert [rel for rel in trees[0] if trees[0][rel] != trees[1][rel]] == []


def test_a_second_build_rewrites_nothing(built_copy):
    before = snapshot(built_copy / "output")
    result = run_build(built_copy)
    assert result.returncode == 0, result.stderr
    files = sum(1 for rel in before if rel.split("/", 1)[0] in MIRRORS + ("deploy",))   # + server configs
    assert counts(result.stdout) == (0, 0, files)
    assert snapshot(built_copy / "output") == before


def test_an_edit_rewrites_only_files_whose_bytes_change(built_copy):
    before = snapshot(built_copy / "output")
    article = built_copy / "content/business/harbour-strike-ends.md"
    text = article.read_text(encoding="utf-8")
    assert "were moving again on Friday" in text
    article.write_text(text.replace("were moving again on Friday", "were turning again on Friday"),
                       encoding="utf-8")
    result = run_build(built_copy)
    assert result.returncode == 0, result.stderr
    after = snapshot(built_copy / "output")
    assert after.keys() == before.keys()
    touched = [rel for rel in after if after[rel][1] != before[rel][1]]
    assert [rel for rel in touched if after[rel][0] == before[rel][0]] == [], "rewritten with the same bytes"
    assert [rel for rel in after if after[rel][0] != before[rel][0] and rel not in touched] == []
    for host in MIRRORS:
        assert f"{host}/business/2026/11/27/harbour-strike-ends/index.html" in touched
        assert f"{host}/index.html" not in touched      # the home page shows no body text
    assert counts(result.stdout) == (len(touched), 0, len(after) - len(touched) - 1)  # minus .newsmirror-hosts


def test_deleting_an_article_removes_its_page_from_every_mirror(built_copy):
    output = built_copy / "output"
    before = snapshot(output)
    (built_copy / "content/culture/saltwater-book-fair.md").unlink()
    result = run_build(built_copy)
    assert result.returncode == 0, result.stderr
    after = snapshot(output)
    for host in MIRRORS:
        assert f"{host}/culture/2026/11/10/saltwater-book-fair/index.html" in before
        assert not (output / host / "culture/2026/11/10/saltwater-book-fair").exists()
    mentions = [rel for rel, (data, _) in after.items() if b"saltwater-book-fair" in data]
    assert mentions == []
    gone = before.keys() - after.keys()
    assert after.keys() <= before.keys()
    assert counts(result.stdout)[1] == len(gone)
