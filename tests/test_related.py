"""Article pages link to related stories and to the previous and next story of their section:
the right ones, in a stable order, and never stale after an incremental build."""

from __future__ import annotations

import random
import shutil
from pathlib import Path
from urllib.parse import urljoin

import pytest
from lxml import html as lxml_html

from conftest import run_build

PRIMARY = "www.meridiancourier.example"
STRIKE = "business/2026/11/27/harbour-strike-ends/"
WIND = "business/2026/11/21/wind-farm-contract/"
FISH = "business/2026/11/19/fish-market-prices/"
BUDGET = "politics/2026/11/20/harbour-budget-vote/"
MAPS = "culture/2026/11/28/lost-maps-exhibition/"


def page_of(output: Path, site_path: str, host: str = PRIMARY):
    return lxml_html.parse(str(output / host / site_path / "index.html")).getroot()


def has(name: str) -> str:
    """Return an XPath test for an element with class `name`."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


RELATED = f"//section[{has('related')}]//*[{has('card-title')}]/a"


def targets(doc, site_path: str, xpath: str) -> list[str]:
    """Return the site paths the links `xpath` finds lead to."""
    base = "https://site.invalid/"
    return [urljoin(base + site_path, a.get("href"))[len(base):] for a in doc.xpath(xpath)]


def story_nav(doc, site_path: str) -> dict[str, tuple[str, str]]:
    """Return {"prev"/"next": (site path, title)} from the section navigation."""
    out = {}
    for rel in ("prev", "next"):
        xpath = f"//nav[{has('story-nav')}]//a[@rel='{rel}']"
        links = doc.xpath(xpath)
        assert len(links) <= 1
        if links:
            title = links[0].xpath(f".//*[{has('story-nav-title')}]")[0].text_content()
            out[rel] = (targets(doc, site_path, xpath)[0], title)
    return out


def test_related_stories_follow_the_documented_score(output: Path):
    # harbour-strike-ends (business) has tags labour, Port of Velmora, shipping, Velmora. Scores,
    # 2 per shared tag + 1 for the same section: fish-market-prices (business; Port of Velmora,
    # Velmora) 5, harbour-budget-vote (politics; Port of Velmora, Velmora) 4, wind-farm-contract
    # (business; Port of Velmora) 3; then six stories share one tag (2): the newest, lost-maps, wins.
    doc = page_of(output, STRIKE)
    assert targets(doc, STRIKE, RELATED) == [FISH, BUDGET, WIND, MAPS]
    assert doc.xpath(f"//section[{has('related')}]/h2")[0].text_content() == "Related coverage"


def test_previous_and_next_are_the_sections_neighbours_by_date(output: Path):
    # business, oldest first: fish-market-prices (19 Nov), wind-farm-contract (21), harbour-strike-ends (27)
    assert story_nav(page_of(output, WIND), WIND) == {
        "prev": (FISH, "Fish prices climb at Velmora market as the fleet stays in port"),
        "next": (STRIKE, "Harbour strike ends after 11 days as dockworkers accept pay deal")}
    assert set(story_nav(page_of(output, STRIKE), STRIKE)) == {"prev"}     # the newest has no next
    assert set(story_nav(page_of(output, FISH), FISH)) == {"next"}         # the oldest no previous
    # drafts and scheduled stories are not neighbours: confidence-motion (draft, 26 Nov) is skipped
    reform = "politics/2026/11/24/electoral-reform-bill/"
    assert set(story_nav(page_of(output, reform), reform)) == {"prev"}


TIE_ARTICLE = """---
title: "{title}"
date: {date}
tags: [{tags}]
---
A story about the tide.
"""


def test_ties_go_newest_first_then_by_path(site: Path):
    shutil.rmtree(site / "content")
    stories = {   # name: (section, date, tags); anchor is the page looked at
        "anchor": ("world", "2026-11-10 09:00:00 +00:00", "tide, reef"),
        "delta": ("world", "2026-11-11 09:00:00 +00:00", "tide, reef"),       # 2+2+1 = 5
        "foxtrot": ("politics", "2026-11-13 09:00:00 +00:00", "tide, reef"),  # 2+2 = 4
        "echo": ("world", "2026-11-14 09:00:00 +00:00", "tide"),              # 2+1 = 3, newest of the 3s
        "charlie": ("world", "2026-11-12 09:00:00 +00:00", "tide"),           # 3, same time as bravo
        "bravo": ("world", "2026-11-12 09:00:00 +00:00", "tide"),             # 3: bravo's path sorts first
        "golf": ("world", "2026-11-09 09:00:00 +00:00", "other"),             # 1: section only
    }
    for name, (section, date, tags) in stories.items():
        folder = site / "content" / section
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{name}.md").write_text(TIE_ARTICLE.format(title=name.title(), date=date, tags=tags),
                                           encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    output = site / "output"
    path = {name: f"{section}/{date[:4]}/{date[5:7]}/{date[8:10]}/{name}/"
            for name, (section, date, _) in stories.items()}
    anchor = page_of(output, path["anchor"])
    assert targets(anchor, path["anchor"], RELATED) == [
        path["delta"], path["foxtrot"], path["echo"], path["bravo"]]
    # same date: bravo before charlie, by path
    bravo, charlie = page_of(output, path["bravo"]), page_of(output, path["charlie"])
    assert story_nav(bravo, path["bravo"])["next"][0] == path["charlie"]
    assert story_nav(charlie, path["charlie"])["prev"][0] == path["bravo"]
    # a story sharing no tag is still related by its section when fewer than four share one
    golf = page_of(output, path["golf"])
    assert targets(golf, path["golf"], RELATED) == [
        path["echo"], path["bravo"], path["charlie"], path["delta"]]


def test_a_retitled_story_is_retitled_on_its_neighbours_after_an_incremental_build(site: Path, tmp_path: Path):
    assert run_build(site).returncode == 0
    source = site / "content/business/wind-farm-contract.md"
    text = source.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("title:"))
    source.write_text(text.replace(old, 'title: "Orla Bank wind farm goes to Caldera Energy"', 1),
                      encoding="utf-8")
    assert run_build(site).returncode == 0
    output = site / "output"
    new = "Orla Bank wind farm goes to Caldera Energy"
    for host in (PRIMARY, "cdn.meridian-mirror.example"):
        assert story_nav(page_of(output, STRIKE, host), STRIKE)["prev"] == (WIND, new)
        assert story_nav(page_of(output, FISH, host), FISH)["next"] == (WIND, new)
        related = page_of(output, STRIKE, host).xpath(RELATED)
        assert new in [a.text_content() for a in related]
    cold = tmp_path / "cold"
    shutil.copytree(site, cold, ignore=shutil.ignore_patterns("output", ".cache"))
    assert run_build(cold).returncode == 0
    for name in (STRIKE, FISH):
        for host in (PRIMARY, "cdn.meridian-mirror.example"):
            assert (output / host / name / "index.html").read_bytes() == \
                (cold / "output" / host / name / "index.html").read_bytes()


def test_a_retagged_story_changes_the_related_stories_after_an_incremental_build(site: Path, tmp_path: Path):
    # a build keeps the related lists for the next one while every story's tags and sections
    # stay the same (an edit of a headline or a body); a tag changed must rank them all again
    assert run_build(site).returncode == 0
    assert WIND in targets(page_of(site / "output", STRIKE), STRIKE, RELATED)
    source = site / "content/business/wind-farm-contract.md"
    text = source.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("tags:"))
    source.write_text(text.replace(old, "tags: [offshore wind]", 1), encoding="utf-8")
    assert run_build(site).returncode == 0
    cold = tmp_path / "cold"
    shutil.copytree(site, cold, ignore=shutil.ignore_patterns("output", ".cache"))
    assert run_build(cold).returncode == 0
    incremental = page_of(site / "output", STRIKE)
    assert targets(incremental, STRIKE, RELATED) == targets(page_of(cold / "output", STRIKE), STRIKE, RELATED)
    assert WIND not in targets(incremental, STRIKE, RELATED)[:3]


def _story(source: str, day: int, hour: int, section: str, tags: list[str]):
    import datetime as dt

    from newsmirror.views import Section, Story, Term
    return Story(title=source, path=f"{section}/{source}/", date=dt.datetime(2026, 1, day, hour, tzinfo=dt.timezone.utc),
                 updated=None, section=Section(section, section.title(), f"{section}/"), slug=source, summary="",
                 tags=tuple(Term(t, f"tags/{t}/") for t in tags), authors=(), image=None, body="",
                 reading_minutes=1, draft=False, scheduled=False, language="en", direction="ltr",
                 layout="article.html", source=f"content/{source}.md", line=1, aliases=(), featured=False)


@pytest.mark.parametrize("seed", range(6))
def test_related_lists_kept_from_the_last_build_match_a_fresh_ranking(seed: int):
    # a rebuild ranks again only the stories whose lists can change; after any publish, removal,
    # retag, move in time or to another section, every list must be what a cold build ranks
    from newsmirror.related import plan_neighbours

    rng = random.Random(seed)
    tags, sections = [f"t{i}" for i in range(12)], ["politics", "world", "business"]

    def make(name: str):
        return _story(name, rng.randint(1, 28), rng.randint(0, 23), rng.choice(sections),
                      rng.sample(tags, rng.randint(0, 3)))

    pool = {f"s{i}": make(f"s{i}") for i in range(150)}
    order = lambda: tuple(sorted(pool.values(), key=lambda s: (-s.date.timestamp(), s.path, s.source)))  # noqa: E731
    _, known = plan_neighbours(order())
    for step in range(12):
        for _ in range(rng.randint(1, 3)):
            name = rng.choice(sorted(pool))
            kind = rng.choice(["publish", "remove", "retag", "redate", "move"])
            if kind == "publish":
                new = f"n{step}-{rng.randint(0, 10**6)}"
                pool[new] = make(new)
            elif kind == "remove":
                del pool[name]
            else:
                old = pool[name]
                pool[name] = _story(name, rng.randint(1, 28) if kind == "redate" else old.date.day,
                                    old.date.hour, rng.choice(sections) if kind == "move" else old.section.key,
                                    rng.sample(tags, rng.randint(0, 3)) if kind == "retag"
                                    else [t.name for t in old.tags])
        stories = order()
        kept, known = plan_neighbours(stories, known)
        cold, fresh = plan_neighbours(stories)
        assert known.lists == fresh.lists, f"seed {seed}, step {step}"
        assert [[s.source for s in n.related] for n in kept] == [[s.source for s in n.related] for n in cold]
