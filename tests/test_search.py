"""The site search, as a reader uses it: in headless Chromium, on a mirror under a path prefix,
on a mirror opened from disk, and on a rebuilt site."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import quote


from conftest import REPO, copy_sample, run_build, serve, snapshot
from sitecheck import front_matter

CDN_HOST = "cdn.meridian-mirror.example"
MIRROR_HOSTS = ("www.meridiancourier.example", "meridiancourier.example.net", CDN_HOST,
                "6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion")
BODY_WORD = "backlog"             # only in the body of business/harbour-strike-ends.md
BODY_ARTICLE = "business/2026/11/27/harbour-strike-ends/"
BODY_HEADLINE = "Harbour strike ends after 11 days as dockworkers accept pay deal"
PERSIAN_WORD = "ماهیگیری"         # "fishing": only in the body of world/fisheries-talks-fa.md
PERSIAN_ARTICLE = "fa/world/2026/11/18/fisheries-talks-stall/"   # the Persian edition
START = "politics/2026/11/24/electoral-reform-bill/"




def settled(page) -> str:
    """Wait until the search has answered; return its status line."""
    page.wait_for_function("() => { const s = document.querySelector('.search-status');"
                           " return s && s.textContent && !s.textContent.startsWith('Searching'); }")
    return page.locator(".search-status").inner_text()


def search_from_header(page, words: str) -> str:
    """Type into the masthead's search box and submit; return the status line of the results."""
    page.fill("#site-search-q", words)
    with page.expect_navigation():
        page.press("#site-search-q", "Enter")
    return settled(page)


def result_links(page) -> list[str]:
    return [a.get_attribute("href") for a in page.locator(".search-results .card-title a").all()]


def test_the_chosen_words_are_in_one_body_and_no_headline():
    """The browser tests below rely on these facts of the sample, checked here from the files."""
    for word, name in ((BODY_WORD, "business/harbour-strike-ends.md"), (PERSIAN_WORD, "world/fisheries-talks-fa.md")):
        holders = []
        for path in sorted((REPO / "content").rglob("*.md")):
            meta, body = front_matter(path)
            if word in body.lower():
                holders.append(path.relative_to(REPO / "content").as_posix())
                assert word not in str(meta.get("title", "")).lower(), path
                assert word not in str(meta.get("summary", "")).lower(), path
        assert holders == [name]


def test_a_word_from_one_body_finds_that_article_on_the_prefix_mirror(output: Path, page):
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    with serve(output / CDN_HOST, "/courier/") as base:
        page.goto(base + START)
        status = search_from_header(page, BODY_WORD)
        assert page.url == base + "search/?q=" + BODY_WORD
        assert status == f"1 result for \u201c{BODY_WORD}\u201d"
        assert result_links(page) == [base + BODY_ARTICLE]
        result = page.locator(".search-results li").first
        assert result.locator(".kicker").inner_text().lower() == "business"
        assert result.locator("time").get_attribute("datetime").startswith("2026-11-27")
        assert result.locator(".card-summary").inner_text().startswith("Dockworkers at the Port of Velmora")
        with page.expect_navigation():
            page.locator(".search-results .card-title a").first.click()
        assert page.url == base + BODY_ARTICLE
        assert page.locator("h1.headline").inner_text() == BODY_HEADLINE
    outside = [url for url in loaded if not url.startswith(base)]
    assert not outside, outside
    # one query reads the small meta file, one term shard and one chunk of documents: not the index
    data = sorted({url.rsplit("/", 1)[1] for url in loaded if "/search/data/" in url})
    assert "meta.js" in data and len(data) == 3, data
    assert len(list((output / CDN_HOST / "search/data").glob("*.js"))) > 10


def test_a_word_that_matches_nothing_says_so(output: Path, page):
    with serve(output / CDN_HOST, "/courier/") as base:
        page.goto(base + "search/")
        status = search_from_header(page, "zyzzogeton")
        assert status.startswith("No results for \u201czyzzogeton\u201d")
        assert page.locator(".search-results li").count() == 0


def test_several_words_must_all_match_and_the_last_may_be_unfinished(output: Path, page):
    with serve(output / CDN_HOST, "/courier/") as base:
        page.goto(base + "search/?q=" + quote("harbour backlo"))
        settled(page)
        assert result_links(page) == [base + BODY_ARTICLE]      # "backlo" as the start of "backlog"
        page.goto(base + "search/?q=" + quote("harbour backlo "))
        assert settled(page).startswith("No results")            # a finished word must match whole
        page.goto(base + "search/?q=harbour")
        settled(page)
        assert len(result_links(page)) >= 3


def test_persian_words_are_found_whichever_yeh_the_reader_types(output: Path, page):
    with serve(output / CDN_HOST, "/courier/") as base:
        for typed in (PERSIAN_WORD, PERSIAN_WORD.replace("\u06cc", "\u064a")):   # Persian or Arabic yeh
            page.goto(base + "search/?q=" + quote(typed))
            assert settled(page).startswith("1 result"), typed
            assert result_links(page) == [base + PERSIAN_ARTICLE]
            assert page.locator(".search-results li").first.get_attribute("dir") == "rtl"


def test_typing_shows_results_without_submitting(output: Path, page):
    with serve(output / CDN_HOST, "/courier/") as base:
        page.goto(base + "search/")
        page.locator("#search-input").press_sequentially(BODY_WORD[:5])
        page.wait_for_function("() => document.querySelectorAll('.search-results li').length > 0")
        assert result_links(page) == [base + BODY_ARTICLE]


def test_search_works_on_a_mirror_opened_from_disk(site: Path, page):
    config = site / "config.yaml"
    text = re.sub(r"(  - url: https://cdn\.meridian-mirror\.example/courier/[^\n]*\n)",
                  r"\1    index_links: true\n", config.read_text(encoding="utf-8"), count=1)
    assert "index_links: true" in text
    config.write_text(text, encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    root = site / "output" / CDN_HOST
    page.goto((root / START / "index.html").as_uri())
    status = search_from_header(page, BODY_WORD)
    assert page.url.startswith((root / "search/index.html").as_uri() + "?q=")
    assert status.startswith("1 result")
    target = (root / BODY_ARTICLE / "index.html").as_uri()
    assert result_links(page) == [target]
    page.locator(".search-results .card-title a").first.click()
    page.wait_for_url(target)
    assert page.locator("h1.headline").inner_text() == BODY_HEADLINE


def test_the_index_is_the_same_on_every_mirror(output: Path):
    files = {host: {p.relative_to(output / host).as_posix(): p.read_bytes()
                    for p in sorted((output / host / "search").rglob("*.js"))} for host in MIRROR_HOSTS}
    first = files[MIRROR_HOSTS[0]]
    assert "search/search.js" in first and "search/data/meta.js" in first
    for host in MIRROR_HOSTS[1:]:
        assert files[host] == first, host
    assert not any(b"http" in data for name, data in first.items() if name.startswith("search/data/"))


def test_an_edit_updates_the_index_and_no_change_leaves_it_untouched(tmp_path: Path):
    site = copy_sample(tmp_path / "site")
    assert run_build(site).returncode == 0
    search = site / "output" / CDN_HOST / "search"
    before = snapshot(search)
    assert run_build(site).returncode == 0
    assert snapshot(search) == before, "a rebuild with no change rewrote the index"

    path = site / "content/culture/saltwater-book-fair.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nThe fair ends with a quillwort exhibit.\n",
                    encoding="utf-8")
    assert run_build(site).returncode == 0
    after = snapshot(search)
    changed = sorted(k for k in after if before.get(k, (None, 0))[0] != after[k][0])
    assert any(k.startswith("data/t-") for k in changed), changed   # the shard that holds "quillwort"
    assert all(after[k][1] == before[k][1] for k in after if k not in changed), "unchanged files rewritten"
    key = int(re.search(r'"key":(\d)', (search / "data/meta.js").read_text(encoding="utf-8")).group(1))
    shard = "t-" + "quillwort"[:key].encode().hex()
    text = (search / "data" / f"{shard}.js").read_text(encoding="utf-8")
    assert '"quillwort":' in text

    scratch = tmp_path / "cold"
    shutil.copytree(site, scratch, ignore=shutil.ignore_patterns("output", ".cache"))
    assert run_build(scratch).returncode == 0
    cold = scratch / "output" / CDN_HOST / "search"
    assert {k: v[0] for k, v in snapshot(cold).items()} == {k: v[0] for k, v in after.items()}


WORDS = [f"{a}{b}" for a in "abcdefghij" for b in ("alpha", "beta", "gamma", "delta", "omega")]


def random_story(rng, hours: float, name: str, section):
    """Return a Story of random words from WORDS, `hours` before the new year, named `name`."""
    from datetime import datetime, timedelta, timezone
    from newsmirror.views import Story, Term

    return Story(title=" ".join(rng.sample(WORDS, 3)), path=f"s/{name}/", updated=None, section=section,
                 date=datetime(2026, 1, 1, tzinfo=timezone.utc) - timedelta(hours=hours), slug=name,
                 summary=" ".join(rng.sample(WORDS, 5)), tags=(Term(rng.choice(WORDS), "t/"),), authors=(),
                 image=None, body="", reading_minutes=1, draft=False, scheduled=False, language="en",
                 direction="ltr", layout="article", source=f"{name}.md", line=1, aliases=(), featured=False,
                 search_words=" ".join(rng.sample(WORDS, 12)))


def test_edits_and_new_stories_in_the_index_give_the_files_of_a_fresh_index():
    """The preview's in-place edit and a rebuild's kept postings: SearchIndex.replace (an edited
    story) and append (a story newer than all, published) return exactly the files that differ
    from the old index, with the bytes a fresh index of the new stories has."""
    import pickle
    import random
    from dataclasses import replace as swap
    from newsmirror.search import SMALL, SearchIndex
    from newsmirror.views import Section, Story

    rng = random.Random(7)
    words = WORDS
    sections = [Section(k, k.title(), k + "/") for k in ("news", "sport")]

    def story(n: int) -> Story:
        return random_story(rng, n, str(n), sections[n % 2])

    def fmt(moment):
        return moment.date().isoformat()

    shards = unchanged = 0
    for count in (120, SMALL // 16 + 50):   # a small index (one-character shards) and a large one
        stories = tuple(story(n) for n in range(count))   # newest first, as the plan has them
        live = SearchIndex(stories, fmt)
        before = live.files()
        for step in range(10):
            if rng.random() < 0.5:   # as a build does: postings kept by the last build, read back
                live = SearchIndex.restore(tuple(reversed(stories)), fmt, pickle.loads(pickle.dumps(live.postings)))
            if step % 3 == 2:        # a story newer than every other is published
                new = swap(story(-step), title="published " + rng.choice(["azunique", "zzunique", "yyunique"]))
                stories = (new,) + stories
                changed = live.append(new)
            else:
                position = rng.randrange(len(stories))
                edited = swap(stories[position],
                              title=" ".join(rng.sample(words, 2)) + " " + rng.choice(["azunique", "zzunique"]),
                              search_words=" ".join(rng.sample(words, 10)))
                stories = stories[:position] + (edited,) + stories[position + 1:]
                changed = live.replace(live.number(position), edited, scan=rng.random() < 0.5)
            after = SearchIndex(stories, fmt).files()
            assert changed is not None
            assert {rel for rel in after if after[rel] != before.get(rel)} <= set(changed), \
                "a file that differs was not returned"
            assert {rel for rel, data in changed.items() if data is None} == before.keys() - after.keys()
            assert all(after[rel] == data for rel, data in changed.items() if data is not None)
            shards += len(before.keys() ^ after.keys())
            unchanged += sum(1 for rel in after if rel in before and after[rel] == before[rel])
            before = after
    assert shards, "no edit began or ended a shard file"
    assert unchanged, "every file changed: nothing shows that the rest is left alone"


def test_stories_added_to_the_archive_or_removed_renumber_the_kept_postings_as_a_fresh_index_would():
    """A rebuild after stories were added among older ones, removed, and a few edited: the
    postings kept by the last build, moved to the new numbers, give the files of a fresh index."""
    import pickle
    import random
    from dataclasses import replace as swap
    from newsmirror.search import SMALL, SearchIndex, renumbering
    from newsmirror.views import Section, Story

    rng = random.Random(11)
    words = WORDS
    section = Section("news", "News", "news/")

    def story(n: float, name: str) -> Story:
        return random_story(rng, n, name, section)

    def fmt(moment):
        return moment.date().isoformat()

    def keys(stories):   # as a build's search inputs: (content file, its key), oldest first
        return [(s.source, repr((s.title, s.search_words))) for s in reversed(stories)]

    for count in (120, SMALL // 16 + 50):
        stories = tuple(story(n, str(n)) for n in range(count))   # newest first
        for step in range(6):
            old, postings = keys(stories), pickle.loads(pickle.dumps(SearchIndex(stories, fmt).postings))
            changed = list(stories)
            for _ in range(rng.randint(1, 3)):   # added among older stories
                changed.append(story(rng.uniform(0, count), f"added-{step}-{rng.randrange(10**6)}"))
            for _ in range(rng.randint(0, 2)):   # removed
                changed.pop(rng.randrange(len(changed)))
            if step % 2:   # edited in place
                at = rng.randrange(len(changed))
                changed[at] = swap(changed[at], search_words=" ".join(rng.sample(words, 10)))
            stories = tuple(sorted(changed, key=lambda s: s.date, reverse=True))
            found = renumbering(old, keys(stories))
            assert found is not None, "the kept stories keep their order"
            index = SearchIndex.renumbered(tuple(reversed(stories)), fmt, postings, *found)
            assert index.files() == SearchIndex(stories, fmt).files()


def test_renumbering_refuses_a_story_that_moved_among_the_others():
    from newsmirror.search import renumbering

    before = [("a.md", "1"), ("b.md", "2"), ("c.md", "3")]
    assert renumbering(before, [("a.md", "1"), ("x.md", "9"), ("b.md", "2"), ("c.md", "4")]) == ([0, 2, 3], [1, 3])
    assert renumbering(before, [("a.md", "1"), ("c.md", "3")]) == ([0, -1, 1], [])
    assert renumbering(before, [("b.md", "2"), ("a.md", "1"), ("c.md", "3")]) is None   # a's date changed
