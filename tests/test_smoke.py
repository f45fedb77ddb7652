"""The sample site builds from a copy, as a newcomer would build it."""

from conftest import run_build


def test_sample_site_builds_every_mirror(site):
    result = run_build(site)
    assert result.returncode == 0, result.stderr
    hosts = sorted(p.name for p in (site / "output").iterdir() if p.is_dir())
    assert hosts == ["6nhy6xv6qorxw2n4xtywgls6m75adoi2qiuynex27mbrc2jj7xq4inid.onion",
                     "cdn.meridian-mirror.example", "deploy", "meridiancourier.example.net",
                     "www.meridiancourier.example"]
    assert result.stdout.startswith("Built 12 articles")
