"""Rendering: a planned page and a mirror in, the page's HTML bytes out."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import jinja2
from markupsafe import Markup, escape

from .assets import Assets
from .config import Config
from .errors import Problem, display_path, template_frame
from .links import relative_from, resolve_tokens
from .mirrors import Mirror
from .i18n import Strings, date_formatter
from .plan import SitePlan
from .structured import json_ld, structured_data
from .views import Page, Section, Translation

SHARE_TARGETS = (
    ("E-mail", "mailto:?subject={title}&body={url}"),
    ("WhatsApp", "https://wa.me/?text={title}%20{url}"),
    ("Telegram", "https://t.me/share/url?url={url}&text={title}"),
    ("Facebook", "https://www.facebook.com/sharer/sharer.php?u={url}"),
    ("X", "https://x.com/intent/post?url={url}&text={title}"),
    ("LinkedIn", "https://www.linkedin.com/sharing/share-offsite/?url={url}"),
    ("Bluesky", "https://bsky.app/intent/compose?text={title}%20{url}"),
    ("Reddit", "https://www.reddit.com/submit?url={url}&title={title}"),
)


@dataclass(frozen=True)
class SiteView:
    """The `site` variable of templates."""

    title: str
    tagline: str
    description: str
    language: str
    direction: str
    logo: str | None
    copyright: str
    sections: tuple[Section, ...]
    twitter: str | None = None
    feed_path: str = "feed.xml"
    atom_path: str = "atom.xml"
    path: str = ""                                 # the edition's home
    languages: tuple[Translation, ...] = ()        # every edition's home, when there are several


@dataclass(frozen=True)
class MirrorView:
    """The `mirror` variable of templates, for one page on one mirror."""

    url: str
    host: str
    label: str
    is_primary: bool
    is_onion: bool
    banner: str | None
    head_html: Markup
    alternates: tuple[Mirror, ...]
    onion_url: str | None
    # the Onion-Location tag itself, or nothing: a layout that prints it instead of testing
    # onion_url keeps the onion mirror's page in the same shared render as the others
    onion_meta: Markup
    # the banner through layouts/banner.html, or nothing: printed instead of testing `banner`,
    # it keeps a mirror with a banner in the same shared render as the others
    banner_html: Markup


BANNER_LAYOUT = "banner.html"   # a mirror's banner, rendered once per mirror with `banner`


def onion_meta(onion_url: str | None) -> Markup:
    """Return the tag that has Tor Browser offer the onion address of the page (empty without one)."""
    return Markup('<meta http-equiv="onion-location" content="{}">').format(onion_url) if onion_url else Markup("")


@dataclass(frozen=True)
class Share:
    """A plain share link: the network's name and a URL that shares this mirror's page."""

    name: str
    url: str


class PageContext:
    """The `page` variable: a planned Page plus what depends on the mirror (its canonical URL)."""

    def __init__(self, page: Page, canonical: str, noindex: bool):
        self._page, self.canonical, self.noindex = page, canonical, noindex

    def __getattr__(self, name: str) -> Any:
        return getattr(self._page, name)


class TemplateProblem(Exception):
    """A layout failed; carries the Problem naming the layout file and line."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def make_environment(config: Config, compiled: Path | None = None) -> jinja2.Environment:
    """Return the Jinja2 environment for the site's layouts (autoescape, undefined is an error),
    keeping compiled layouts in the folder `compiled` when given."""
    cache = None
    if compiled is not None:
        # Jinja checks only its bytecode format and Python's version: another Jinja release
        # gets a folder of its own
        folder = compiled / f"jinja-{jinja2.__version__}"
        folder.mkdir(parents=True, exist_ok=True)
        (compiled / f"jinja-{jinja2.__version__}-shared").mkdir(exist_ok=True)   # see SharedRenderer
        cache = jinja2.FileSystemBytecodeCache(str(folder))
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(config.layouts_dir)), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, bytecode_cache=cache)
    env.globals["format_date"] = date_formatter(config.zone, config.site.locale)
    env.filters["json_ld"] = json_ld
    return env


def site_views(config: Config, plan: SitePlan) -> dict[str, SiteView]:
    """Return the `site` template variable of each language edition, by language code."""
    s = config.site
    editions = plan.editions
    homes = tuple(Translation(e.code, e.name, e.path, e.title) for e in editions) if len(editions) > 1 else ()
    return {e.code: SiteView(e.title, e.tagline, e.description, e.code, e.direction, s.logo, s.copyright,
                             e.sections, s.twitter, e.path + "feed.xml", e.path + "atom.xml", e.path, homes)
            for e in editions}


def edition_helpers(config: Config, plan: SitePlan) -> dict[str, dict[str, Callable]]:
    """Return, per edition, the template functions that speak its language: `t` and `format_date`."""
    strings = plan.strings or Strings(config.languages[0].code)
    return {e.code: {"t": strings.translator(e.code, e.locale), "format_date": date_formatter(config.zone, e.locale)}
            for e in plan.editions}


class Renderer:
    """Renders pages for one mirror; made once per mirror and reused for every page."""

    def __init__(self, config: Config, env: jinja2.Environment, plan: SitePlan, mirror: Mirror,
                 assets: Assets = Assets(())):
        self.config, self.env, self.mirror, self.refs = config, env, mirror, plan.refs
        self.sites, self.helpers = site_views(config, plan), edition_helpers(config, plan)
        self.default = config.languages[0].code
        self.assets = assets
        self.onion = next((m for m in config.mirrors if m.is_onion), None)
        self.alternates = tuple(m for m in config.mirrors if m is not mirror)
        self.canonical_mirror = config.primary if mirror.canonical == "primary" else mirror
        # the banner's layout fails once here, and then every page of this mirror with it
        self.banner_html, self.banner_error = Markup(""), None
        if mirror.banner:
            try:
                self.banner_html = Markup(env.get_template(BANNER_LAYOUT).render(banner=mirror.banner))
            except jinja2.TemplateNotFound as exc:
                if exc.name != BANNER_LAYOUT:
                    self.banner_error = exc
                self.banner_html = escape(mirror.banner)
            except jinja2.TemplateError as exc:
                self.banner_error = exc

    def render(self, page: Page) -> bytes:
        """Return the page's HTML for this mirror, or raise TemplateProblem."""
        if self.banner_error is not None:
            raise TemplateProblem(self._problem(self.banner_error, page))
        mirror = self.mirror
        onion = self.onion.absolute(page.path) if self.onion and not mirror.is_onion and page.kind != "404" \
            else None
        view = MirrorView(mirror.url, mirror.host, mirror.label, mirror.is_primary, mirror.is_onion,
                          mirror.banner, Markup(mirror.head_html), self.alternates, onion, onion_meta(onion),
                          self.banner_html)
        canonical = self.canonical_mirror.absolute(page.target if page.target is not None else page.path)
        context = page_context(self.site_of(page), page, view, canonical, page.noindex or not mirror.robots,
                               link_for(page, mirror, self.assets), mirror.url, quote(mirror.url, safe=""),
                               self.refs, self.assets, self.canonical_mirror.url, self.helpers_of(page))
        try:
            return self.env.get_template(page.template).render(context).encode("utf-8")
        except jinja2.TemplateError as exc:
            raise TemplateProblem(self._problem(exc, page)) from None

    def site_of(self, page: Page) -> SiteView:
        """Return the `site` of the page's language edition."""
        return self.sites.get(page.edition) or self.sites[self.default]

    def helpers_of(self, page: Page) -> dict[str, Callable]:
        """Return `t` and `format_date` in the page's edition's language."""
        return self.helpers.get(page.edition) or self.helpers[self.default]

    def _problem(self, exc: jinja2.TemplateError, page: Page) -> Problem:
        """Return the Problem for a template error: the layout's file and line, and the page."""
        filename = getattr(exc, "filename", None)
        line = getattr(exc, "lineno", None)
        if isinstance(exc, jinja2.TemplateNotFound):
            missing = exc.name
            return Problem(page.source or display_path(self.config.layouts_dir, self.config.root), 0,
                           f"layout '{missing}' not found in {display_path(self.config.layouts_dir, self.config.root)}/")
        if not filename or not line:
            filename, line = template_frame(exc)
        shown = display_path(Path(filename), self.config.root) if filename else page.template
        where = f" (rendering {page.source or page.output})"
        message = exc.message if isinstance(exc, jinja2.TemplateSyntaxError) else str(exc)
        return Problem(shown, line or 0, f"template error: {message}{where}")


def link_for(page: Page, mirror: Mirror, assets: Assets) -> Callable[[Any], str]:
    """Return the `link()` of a page on a mirror: page-relative; rooted on the 404 page, which is
    served at any URL; naming index.html on a mirror with index_links; a fingerprinted static
    file by its hashed name."""
    if page.kind == "404":
        return lambda target: _link_target(target, mirror.rooted, assets)
    relative = relative_from(page.output)
    if mirror.index_links:
        return lambda target: _link_target(
            target, lambda p: relative(p + "index.html" if p.endswith("/") or not p else p), assets)
    return lambda target: _link_target(target, relative, assets)


def page_context(site: SiteView, page: Page, mirror: Any, canonical: str, noindex: bool,
                 link: Callable[[Any], str], base_url: str, quoted_base: str, refs: dict,
                 assets: Assets, canonical_base: str, helpers: dict[str, Callable]) -> dict[str, Any]:
    """Return the template context of a page; `base_url` is the mirror's address, `quoted_base`
    the same percent-encoded and `canonical_base` the address canonical URLs use (real values,
    or slots when renders are shared)."""
    absolute = lambda p: base_url + assets.path(p.lstrip("/"))  # noqa: E731
    context: dict[str, Any] = {
        "site": site,
        "mirror": mirror,
        "page": PageContext(page, canonical, noindex),
        "link": link,
        "absolute": lambda target: _link_target(target, absolute),
        "article": None,
        "share": (),
        "schema": structured_data(site, page, page.article, base_url, canonical_base, assets.path),
        **helpers,
    }
    if page.article is not None:
        story = page.article
        body = resolve_tokens(str(story.body), link, absolute, refs.get)
        context["article"] = replace(story, body=Markup(body))
        # quoting works character by character: quote(base + path) == quote(base) + quote(path)
        own = quoted_base + quote(story.path, safe="")
        title = quote(story.title, safe="")
        context["share"] = tuple(Share(name, pattern.format(url=own, title=title))
                                 for name, pattern in SHARE_TARGETS)
    return context


def _link_target(target: Any, make: Callable[[str], str], assets: Assets | None = None) -> str:
    """Return the URL for a site path or an object with `.path`; absolute URLs pass through."""
    path = target if isinstance(target, str) else target.path
    if path.startswith(("http://", "https://", "//", "mailto:", "#")):
        return path
    path = path.lstrip("/")
    return make(assets.path(path) if assets is not None else path)


def _tainting_test(test: Callable) -> Callable:
    """Return a Jinja test that taints a slotted render when it looks at a slot."""
    from .sharing import TAINT, Flag, Slot, SlotAlternate

    @functools.wraps(test)   # keeps Jinja's pass_environment mark (`is filter`, `is test`)
    def wrapped(value: Any, *args: Any, **kwargs: Any) -> Any:
        for arg in (value, *args):
            if isinstance(arg, (Slot, Flag, SlotAlternate)):
                arg.log.append(TAINT) if not isinstance(arg, SlotAlternate) else arg.url.log.append(TAINT)
        return test(value, *args, **kwargs)

    return wrapped


SLOT_NAMES = ("url", "host", "label", "banner", "head", "onion", "canonical", "quoted", "is_primary",
              "is_onion", "canonical_base", "onion_meta", "banner_html")


class SharedRenderer:
    """Renders a page once for every mirror that can share it (see sharing.py), and on its
    own for each mirror that cannot; the bytes are the same as Renderer.render gives."""

    def __init__(self, renderers: list["Renderer"]):
        self.renderers = renderers
        first = renderers[0]
        self.config, self.refs = first.config, first.refs
        # Jinja tests (`is none`, `is string`, ...) look at a value without asking it: a test
        # on a slot taints the render like any other use but a truth test
        # its own compiled layouts, kept in a folder of their own: code compiled for these tests
        # differs from the plain environment's (compiling them took 0.2 s of every rebuild that
        # shares renders: adding or publishing a story)
        kept = first.env.bytecode_cache
        self.env = first.env.overlay(bytecode_cache=jinja2.FileSystemBytecodeCache(kept.directory + "-shared")
                                     if isinstance(kept, jinja2.FileSystemBytecodeCache) else None)
        self.env.tests = {name: _tainting_test(test) for name, test in first.env.tests.items()}
        # what each mirror's slots test as, and the values of the slots that are the same on
        # every page: worked out once, not once per page
        self.truths = [self._truths(t) for t in range(len(renderers))]
        self.fixed = [self._fixed_values(t) for t in range(len(renderers))]

    def render(self, page: Page, targets: list[int]) -> dict[int, bytes]:
        """Return {target: HTML} for the page on each target mirror (indexes into renderers)."""
        from .sharing import fill, groups_for, split

        out: dict[int, bytes] = {}
        if page.kind == "404" or len(targets) < 2 or any(r.banner_error for r in self.renderers):
            return {t: self.renderers[t].render(page) for t in targets}
        # mirrors whose links or robots differ are never alike: share only within these
        kinds: dict[tuple, list[int]] = {}
        for t in targets:
            m = self.renderers[t].mirror
            kinds.setdefault((m.index_links, m.robots, len(self.renderers[t].alternates)), []).append(t)
        for members in kinds.values():
            while members:
                head = members[0]
                log: list = []
                try:
                    pieces = split(self._render_slotted(page, head, log))
                except Exception:  # noqa: BLE001 - the mirror-by-mirror render reports any real error
                    pieces, log = None, [("taint", None)]
                group = groups_for(log, self.truths.__getitem__, members) if pieces is not None else None
                if not group:
                    out.update((t, self.renderers[t].render(page)) for t in members)
                    break
                for t in group:
                    out[t] = fill(pieces, self._values(page, t)).encode("utf-8")
                members = [t for t in members if t not in group]
        return out

    def _fixed_values(self, t: int) -> list[str]:
        """Return the text each slot stands for on mirror t (escaped as the template shows it),
        with the page's own slots (the onion and canonical URLs) left empty: see _values."""
        from .sharing import escaped, quoted

        r = self.renderers[t]
        m = r.mirror
        values = [escaped(m.url), escaped(m.host), escaped(m.label), escaped(m.banner), str(Markup(m.head_html)),
                  "", "", quoted(m.url), "", "", escaped(r.canonical_mirror.url), "", str(r.banner_html)]
        for alt in r.alternates:
            values += [escaped(alt.url), escaped(alt.host), escaped(alt.label), "", ""]
        return values

    def _values(self, page: Page, t: int) -> list[str]:
        """Return the text each slot stands for on mirror t for this page."""
        from .sharing import escaped

        r = self.renderers[t]
        onion = r.onion.absolute(page.path) if r.onion and not r.mirror.is_onion else None
        target = page.target if page.target is not None else page.path
        values = self.fixed[t].copy()
        values[5], values[6], values[11] = (escaped(onion), escaped(r.canonical_mirror.absolute(target)),
                                            str(onion_meta(onion)))
        return values

    def _truths(self, t: int) -> list[bool]:
        """Return how each slot tests on mirror t (the same on every page)."""
        r = self.renderers[t]
        m = r.mirror
        onion = bool(r.onion and not m.is_onion)
        truths = [True, True, bool(m.label), bool(m.banner), bool(m.head_html), onion, True, True,
                  m.is_primary, m.is_onion, True, onion, bool(r.banner_html)]
        for alt in r.alternates:
            truths += [True, True, bool(alt.label), alt.is_onion, alt.has_label]
        return truths

    def _render_slotted(self, page: Page, t: int, log: list) -> str:
        """Return the page rendered with slots for every mirror-specific value."""
        from .sharing import Flag, Slot, SlotAlternate

        r = self.renderers[t]
        truths = self.truths[t]

        def slot(number: int) -> Slot:
            return Slot(number, truths[number], log)

        url = slot(0)
        alternates = []
        for i in range(len(r.alternates)):
            base = len(SLOT_NAMES) + 5 * i
            alternates.append(SlotAlternate(slot(base), slot(base + 1), slot(base + 2),
                                            Flag(base + 3, truths[base + 3], log),
                                            Flag(base + 4, truths[base + 4], log)))
        view = MirrorView(url, slot(1), slot(2), Flag(8, truths[8], log), Flag(9, truths[9], log),
                          slot(3), slot(4), tuple(alternates), slot(5), slot(11), slot(12))
        context = page_context(r.site_of(page), page, view, slot(6), page.noindex or not r.mirror.robots,
                               link_for(page, r.mirror, r.assets), url, slot(7), self.refs, r.assets, slot(10),
                               r.helpers_of(page))
        return self.env.get_template(page.template).render(context)
