"""Pages are rendered once for mirrors that are alike and the mirror's values substituted:
whatever a layout does with mirror values, every mirror's page must say what its own
render would say."""

from __future__ import annotations

import re

import pytest

from conftest import run_build

PROBE = ('<p id="probe">{{ mirror.host|upper }}|{{ "none" if mirror.banner is none else "banner" }}|'
         '{{ mirror.label|length }}|{{ "onion" if mirror.is_onion else "clear" }}|'
         '{{ mirror.url[:5] }}|{% if mirror.host == "meridiancourier.example.net" %}net{% endif %}|'
         '{{ mirror.alternates|map(attribute="host")|join(",") }}|{{ absolute("x/")|urlencode }}|'
         '{{ page.canonical|tojson }}</p>')

MIRRORS = {
    "www.meridiancourier.example": "https://www.meridiancourier.example/",
    "meridiancourier.example.net": "https://meridiancourier.example.net/",
    "cdn.meridian-mirror.example": "https://cdn.meridian-mirror.example/courier/",
    "6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion":
        "http://6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion/",
}


def expected(host: str, banner: bool) -> str:
    from urllib.parse import quote

    url = MIRRORS[host]
    others = ",".join(h for h in MIRRORS if h != host)
    return (f"{host.upper()}|{'banner' if banner else 'none'}|{len(host)}|"
            f"{'onion' if host.endswith('.onion') else 'clear'}|{url[:5]}|"
            f"{'net' if host == 'meridiancourier.example.net' else ''}|{others}|"
            f"{quote(url + 'x/', safe='/')}|")


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    from conftest import copy_sample

    site = copy_sample(tmp_path_factory.mktemp("probe") / "site")
    base = site / "layouts/base.html"
    base.write_text(base.read_text(encoding="utf-8").replace("<main", PROBE + "\n<main", 1), encoding="utf-8")
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    return site / "output"


@pytest.mark.parametrize("host", sorted(MIRRORS))
def test_every_use_of_a_mirror_value_shows_that_mirrors_value(probed, host):
    html = (probed / host / "politics/index.html").read_text(encoding="utf-8")
    probe = re.search(r'<p id="probe">(.*?)</p>', html).group(1)
    values = probe.split("|")
    wanted = expected(host, banner=host == "meridiancourier.example.net").split("|")
    assert values[:8] == wanted[:8], probe
    assert values[8] == '"https://www.meridiancourier.example/politics/"', probe   # canonical: the primary


def test_pages_without_probes_are_identical_to_their_own_render(output):
    """The sample's pages share renders; the pairwise tests in test_mirrors.py prove each mirror's
    files differ only in its own values. Here: no slot marker survives anywhere."""
    for path in output.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "\ue100" not in text and "\ue101" not in text, path


def test_the_default_layouts_render_each_page_once_for_all_four_mirrors(site, monkeypatch):
    """Sharing is what makes four mirrors cost little more than one: with the sample's layouts,
    every page but the 404 (rendered per mirror: its links are rooted) is rendered once for the
    four mirrors, the onion and the one with a banner among them (the layouts print
    mirror.onion_meta and mirror.banner_html instead of testing mirror.onion_url and
    mirror.banner); each copy is what its own render gives."""
    from datetime import datetime, timezone

    from newsmirror.config import load_config
    from newsmirror.pipeline import RenderJob, check_and_plan, parse_content
    from newsmirror.plan import BuildOptions
    from newsmirror.render import SharedRenderer
    from newsmirror.writer import StagingPlaces

    config = load_config(site / "config.yaml")
    parsed = parse_content(config, lambda *a: None)
    plan, static, _ = check_and_plan(config, parsed, BuildOptions(now=datetime(2026, 11, 29, 12, tzinfo=timezone.utc)))
    job = RenderJob(config, plan, config.mirrors, StagingPlaces(str(site / "staging"), frozenset()), static)
    renders = []
    slotted = SharedRenderer._render_slotted
    monkeypatch.setattr(SharedRenderer, "_render_slotted",
                        lambda self, page, t, log: renders.append(page.output) or slotted(self, page, t, log))
    everyone = list(range(len(config.mirrors)))
    assert len(everyone) == 4 and sum(m.is_onion for m in config.mirrors) == 1
    assert sum(bool(m.banner) for m in config.mirrors) == 1 and not any(m.banner for m in config.mirrors if m.is_onion)
    for page in plan.pages:
        if page.kind == "404":
            continue
        renders.clear()
        copies = job.shared.render(page, everyone)
        assert renders == [page.output], f"{page.output}: {len(renders)} renders"
        assert copies == {t: job.targets[t][2].render(page) for t in everyone}, page.output


def test_a_banner_comes_from_its_layout_on_its_mirror_only(tmp_path):
    """The banner's markup is the layouts' (banner.html); a layout without one prints the text;
    a broken one is reported with its file and line, and nothing is written."""
    from conftest import copy_sample

    site = copy_sample(tmp_path / "site")
    net = "meridiancourier.example.net"
    banner = site / "layouts/banner.html"
    banner.write_text('<aside class="notice">{{ banner|upper }}</aside>\n', encoding="utf-8")
    assert run_build(site).returncode == 0
    for host in MIRRORS:
        html = (site / "output" / host / "world/index.html").read_text(encoding="utf-8")
        assert ('<aside class="notice">YOU ARE READING A MIRROR' in html) == (host == net), host
        assert "mirror-banner" not in html

    banner.unlink()
    assert run_build(site).returncode == 0
    html = (site / "output" / net / "world/index.html").read_text(encoding="utf-8")
    assert "</a>\nYou are reading a mirror of The Meridian Courier." in html and "notice" not in html

    banner.write_text("<aside>\n{{ banner|nosuchfilter }}</aside>\n", encoding="utf-8")
    before = {p: p.read_bytes() for p in (site / "output").rglob("*") if p.is_file()}
    result = run_build(site)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "layouts/banner.html:2: template error" in result.stderr, result.stderr
    assert before == {p: p.read_bytes() for p in (site / "output").rglob("*") if p.is_file()}
