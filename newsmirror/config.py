"""config.yaml: read, check every key, and return one frozen Config."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .deploy import DeploySettings, DeployTarget
from .assets import FINGERPRINT
from .errors import BuildError, Problem
from .manifest import Signing
from .mirrors import Mirror, bare_domain, parse_mirror_url
from .yamltext import YamlDoc, YamlSyntaxError, parse_yaml

RTL_LANGUAGES = frozenset({"ar", "arc", "ckb", "dv", "fa", "he", "ks", "ku", "ps", "sd", "ug", "ur", "yi"})
PERMALINK_FIELDS = ("section", "yyyy", "mm", "dd", "slug")
DEPLOY_FOLDER = "deploy"   # output/deploy/: server configs, beside the mirror folders


@dataclass(frozen=True)
class SiteInfo:
    """What the site says about itself."""

    title: str
    tagline: str
    description: str
    language: str
    direction: str
    timezone: str
    logo: str | None
    copyright: str
    twitter: str | None = None    # the outlet's X/Twitter handle, "@name"
    locale: str = "en_GB"


@dataclass(frozen=True)
class SectionInfo:
    """A section as configured: its key (folder name), title and description."""

    key: str
    title: str
    description: str


@dataclass(frozen=True)
class LanguageInfo:
    """One language edition: its code, where it lives, what it calls itself and its sections."""

    code: str
    path: str                      # site path prefix: "" for the default language, else `fa/`
    direction: str
    locale: str                    # Babel locale for dates and digits
    title: str
    tagline: str
    description: str
    sections: tuple[SectionInfo, ...]   # translated section titles (only those given)
    is_default: bool


@dataclass(frozen=True)
class AuthorInfo:
    """An author profile: the slug articles refer to, the display name and a bio."""

    key: str
    name: str
    bio: str


@dataclass(frozen=True)
class HostingInfo:
    """How hosts serve the mirrors: hashed asset names, security headers, nginx server blocks."""

    fingerprint: tuple[str, ...]
    content_security_policy: str
    nginx_root: str
    nginx_listen: tuple[str, ...]
    nginx_onion_listen: tuple[str, ...]
    nginx_include: tuple[str, ...]


@dataclass(frozen=True)
class Config:
    """Everything config.yaml says, checked; paths are absolute."""

    path: Path
    root: Path
    site: SiteInfo
    permalink: str
    page_size: int
    feed_size: int
    expired: str
    sections: tuple[SectionInfo, ...]
    authors: tuple[AuthorInfo, ...]
    mirrors: tuple[Mirror, ...]
    languages: tuple[LanguageInfo, ...]   # the default language first; one edition without `languages:`
    former: tuple[str, ...]
    preserve: tuple[str, ...]
    ignore: tuple[str, ...]
    content_dir: Path
    layouts_dir: Path
    static_dir: Path
    output_dir: Path
    cache_dir: Path
    hosting: HostingInfo
    deploy: DeploySettings = DeploySettings()
    signing: Signing | None = None

    @property
    def zone(self) -> ZoneInfo:
        """Return the site's time zone."""
        return ZoneInfo(self.site.timezone)

    @property
    def primary(self) -> Mirror:
        """Return the primary mirror (the first listed)."""
        return self.mirrors[0]

    def language(self, code: str | None) -> LanguageInfo:
        """Return the edition an article in language `code` belongs to (the default if none)."""
        wanted = (code or "").lower()   # language tags are case-insensitive: fa-IR is fa-ir
        return next((lang for lang in self.languages if lang.code.lower() == wanted), self.languages[0])

    def own_domains(self) -> frozenset[str]:
        """Return every bare domain the outlet owns or owned (mirrors and former)."""
        return frozenset(bare_domain(m.host) for m in self.mirrors) | frozenset(
            bare_domain(d) for d in self.former)

    def mirror(self, host: str) -> Mirror | None:
        """Return the mirror whose host is `host`, if any."""
        return next((m for m in self.mirrors if m.host == host), None)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _type_name(v: Any) -> str:
    if v is None:
        return "nothing"
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a mapping"}.get(type(v), type(v).__name__)


# key: (check, what it must be, default); default None with required=True means required
_Spec = dict[str, tuple[Callable[[Any], bool], str, Any]]
SITE_KEYS: _Spec = {
    "title": (_is_str, "text", None),
    "tagline": (_is_str, "text", ""),
    "description": (_is_str, "text", ""),
    "language": (_is_str, "a language code such as en or fa", "en"),
    "direction": (lambda v: v in ("ltr", "rtl"), "ltr or rtl", None),
    "locale": (_is_str, "a locale such as en_GB or fa_IR", None),
    "timezone": (_is_str, "an IANA time zone such as Europe/London", "UTC"),
    "logo": (_is_str, "a path under static/, e.g. images/logo.svg", None),
    "copyright": (_is_str, "text", ""),
    "twitter": (_is_str, "an X/Twitter handle such as @meridiancourier", None),
}
TOP_KEYS: _Spec = {
    "site": (lambda v: isinstance(v, dict), "a mapping", None),
    "permalink": (_is_str, "text such as /{section}/{yyyy}/{mm}/{dd}/{slug}/",
                  "/{section}/{yyyy}/{mm}/{dd}/{slug}/"),
    "page_size": (lambda v: _is_int(v) and v > 0, "a whole number above 0", 10),
    "feed_size": (lambda v: _is_int(v) and v > 0, "a whole number above 0", 20),
    "expired": (lambda v: v in ("remove", "keep"), "remove or keep", "remove"),
    "sections": (lambda v: isinstance(v, dict), "a mapping of section folder to settings", {}),
    "authors": (lambda v: isinstance(v, dict), "a mapping of author slug to profile", {}),
    "mirrors": (lambda v: isinstance(v, list) and len(v) > 0, "a list of at least one mirror", None),
    "languages": (lambda v: isinstance(v, dict) and len(v) > 0, "a mapping of language code to settings",
                  None),
    "former": (lambda v: isinstance(v, list) and all(map(_is_str, v)), "a list of domain names", []),
    "preserve": (lambda v: isinstance(v, list) and all(map(_is_str, v)), "a list of URLs", []),
    "canonical": (lambda v: v in ("primary", "self"), "primary or self", "primary"),
    "paths": (lambda v: isinstance(v, dict), "a mapping", {}),
    "ignore": (lambda v: isinstance(v, list) and all(map(_is_str, v)),
               "a list of file patterns under content/, e.g. drafts/*.md", []),
    "deploy": (lambda v: isinstance(v, dict), "a mapping (max_delete, retries)", {}),
    "signing": (lambda v: isinstance(v, dict), "a mapping (key, public_key)", None),
    "hosting": (lambda v: isinstance(v, dict), "a mapping", {}),
}
MIRROR_KEYS: _Spec = {
    "url": (_is_str, "an http(s) URL", None),
    "label": (_is_str, "text", ""),
    "banner": (_is_str, "text", None),
    "canonical": (lambda v: v in ("primary", "self"), "primary or self", None),
    "robots": (lambda v: v in ("index", "noindex"), "index or noindex", "index"),
    "head": (_is_str, "HTML text", ""),
    "index_links": (_is_bool, "true or false", False),
    "deploy": (lambda v: _is_str(v) or isinstance(v, dict),
               "a folder, an rsync destination such as user@host:/srv/www/site/, or a mapping with "
               "`to:` and `rsh:`", None),
    "nginx_root": (_is_str, "a folder path on the server, e.g. /var/www/example", None),
}
DEPLOY_KEYS: _Spec = {
    "max_delete": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1,
                   "a share of the target between 0 and 1, e.g. 0.25", 0.25),
    "retries": (lambda v: _is_int(v) and 0 <= v <= 10, "a whole number from 0 to 10", 3),
}
TARGET_KEYS: _Spec = {
    "to": (_is_str, "a folder or an rsync destination such as user@host:/srv/www/site/", None),
    "rsh": (_is_str, "the remote shell command rsync uses, e.g. ssh -p 2222 -i ~/.ssh/deploy", None),
}
SIGNING_KEYS: _Spec = {
    "key": (_is_str, "the path of an ssh private key (or of its .pub when the key is in ssh-agent)", None),
    "public_key": (_is_str, "the path of the matching ssh public key", None),
}
_TEXTS = (lambda v: isinstance(v, list) and all(map(_is_str, v)))
# The sample layouts load everything from the mirror itself; the youtube shortcode frames
# youtube-nocookie.com, and its click-to-play placeholder (an iframe srcdoc, which inherits the
# page's policy) carries a <style> element. Scripts: none inline, so only 'self'.
DEFAULT_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data: https:; font-src 'self'; frame-src https://www.youtube-nocookie.com; "
               "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'")
HOSTING_KEYS: _Spec = {
    "fingerprint": (_TEXTS, "a list of file extensions, e.g. [css, js, svg]", list(FINGERPRINT)),
    "content_security_policy": (_is_str, "a Content-Security-Policy header value", DEFAULT_CSP),
    "nginx_root": (_is_str, "a folder path on the server; {host} is the mirror's host", "/var/www/{host}"),
    "nginx_listen": (_TEXTS, "a list of nginx listen values, e.g. ['443 ssl']", ["80", "[::]:80"]),
    "nginx_onion_listen": (_TEXTS, "a list of nginx listen values, e.g. ['127.0.0.1:80']", ["127.0.0.1:80"]),
    "nginx_include": (_TEXTS, "a list of file paths; {host} is the mirror's host", []),
}
LANGUAGE_KEYS: _Spec = {
    "title": (_is_str, "text", None),
    "tagline": (_is_str, "text", None),
    "description": (_is_str, "text", None),
    "path": (lambda v: _is_str(v) and re.fullmatch(r"([\w.~-]+/)*", v) is not None and ".." not in v,
             "a folder path ending in / such as fa/ (or \"\" for the site's root)", None),
    "locale": (_is_str, "a locale such as en_GB or fa_IR", None),
    "sections": (lambda v: isinstance(v, dict), "a mapping of section folder to {title, description}", {}),
}
SECTION_KEYS: _Spec = {"title": (_is_str, "text", None), "description": (_is_str, "text", "")}
AUTHOR_KEYS: _Spec = {"name": (_is_str, "text", None), "bio": (_is_str, "text", "")}
PATH_KEYS: _Spec = {k: (_is_str, "a folder path", k) for k in ("content", "layouts", "static", "output")}
PATH_KEYS["cache"] = (_is_str, "a folder path", ".cache")
REQUIRED = {("site", "title"), ("mirrors",), ("mirrors", "url")}


class _Checker:
    """Collects problems while reading blocks of config against their specs."""

    def __init__(self, doc: YamlDoc, shown: str):
        self.doc, self.shown, self.problems = doc, shown, []

    def problem(self, keys: tuple, message: str) -> None:
        self.problems.append(Problem(self.shown, self.doc.line(*keys, default=1), message))

    def block(self, data: Any, spec: _Spec, keys: tuple, required: set[str] = frozenset()) -> dict:
        """Return the block's values with defaults, recording unknown, missing and wrong keys."""
        name = ".".join(str(k) for k in keys) or "config"
        if not isinstance(data, dict):
            self.problem(keys, f"{name}: expected a mapping of keys, got {_type_name(data)}")
            data = {}
        out = {}
        for key, value in data.items():
            if key not in spec:
                known = ", ".join(spec)
                self.problem(keys + (key,), f"unknown key '{key}' in {name} (known keys: {known})")
                continue
            check, what, _ = spec[key]
            if not check(value):
                label = ".".join(str(k) for k in keys + (key,))
                hint = " (quote it)" if isinstance(value, (bool, int, float)) and what == "text" else ""
                self.problem(keys + (key,), f"{label}: expected {what}, got {_type_name(value)} "
                                            f"{value!r}{hint}")
                out[key] = spec[key][2]   # go on with the default so every problem is found in one run
                continue
            out[key] = value
        for key, (_, what, default) in spec.items():
            if key not in out and key not in data:
                if key in required:
                    label = ".".join(str(k) for k in keys + (key,))
                    self.problem(keys, f"{label} is missing: add it ({what})")
                out.setdefault(key, default)
        return out


def load_config(path: Path) -> Config:
    """Return the checked Config read from `path`, or raise BuildError naming every problem."""
    path = Path(path).absolute()
    shown = path.name
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise BuildError([Problem(str(path), 0, "config file not found; pass --config PATH "
                                                "or run from the site folder")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildError([Problem(shown, 0, f"cannot read the config: {exc}")]) from None
    try:
        doc = parse_yaml(text.replace("\r\n", "\n"))
    except YamlSyntaxError as exc:
        raise BuildError([Problem(shown, exc.line, f"YAML syntax error: {exc.message}")]) from None
    check = _Checker(doc, shown)
    top = check.block(doc.data if doc.data is not None else {}, TOP_KEYS, (), {"site", "mirrors"})
    site = _read_site(check, top["site"] or {})
    permalink = _check_permalink(check, top["permalink"])
    sections = tuple(_named(SectionInfo, check, key, value, SECTION_KEYS, "sections", "title")
                     for key, value in top["sections"].items())
    authors = tuple(_named(AuthorInfo, check, key, value, AUTHOR_KEYS, "authors", "name")
                    for key, value in top["authors"].items())
    mirrors = _read_mirrors(check, top["mirrors"] or [], top["canonical"])
    languages = _read_languages(check, top["languages"], site, {s.key for s in sections})
    former = tuple(_read_former(check, top["former"], mirrors))
    paths = check.block(top["paths"], PATH_KEYS, ("paths",))
    root = path.parent
    deploy = _read_deploy(check, top["deploy"], top["mirrors"] or [], mirrors, root)
    signing = _read_signing(check, top["signing"], root)
    hosting = _read_hosting(check, top["hosting"])
    if check.problems:
        raise BuildError(check.problems)
    return Config(
        path=path, root=root, site=site, permalink=permalink, page_size=top["page_size"],
        feed_size=top["feed_size"], expired=top["expired"], sections=sections, authors=authors,
        mirrors=mirrors, languages=languages, former=former, preserve=tuple(top["preserve"]),
        ignore=tuple(top["ignore"]),
        content_dir=(root / paths["content"]).resolve(), layouts_dir=(root / paths["layouts"]).resolve(),
        static_dir=(root / paths["static"]).resolve(), output_dir=(root / paths["output"]).resolve(),
        cache_dir=(root / paths["cache"]).resolve(), hosting=hosting, deploy=deploy, signing=signing)


# each value goes inside one nginx directive or header line: nothing that could end it early
_HOSTING_TEXT = {
    "content_security_policy": (r'["\n\\]', "quotes, backslashes or line breaks"),
    "nginx_root": (r'[;{}"\'\s\\]', "quotes, backslashes, spaces or ; { }"),
    "nginx_include": (r'[;{}"\'\s\\]', "quotes, backslashes, spaces or ; { }"),
    "nginx_listen": (r'[;{}"\'\n\\]', "quotes, backslashes, line breaks or ; { }"),
    "nginx_onion_listen": (r'[;{}"\'\n\\]', "quotes, backslashes, line breaks or ; { }"),
}


def _read_hosting(check: _Checker, data: Any) -> HostingInfo:
    """Return the hosting block with defaults; nginx values may not break out of their directive."""
    values = check.block(data or {}, HOSTING_KEYS, ("hosting",))
    for key, (bad, what) in _HOSTING_TEXT.items():
        texts = values[key] if isinstance(values[key], list) else [values[key]]
        if any(re.search(bad, t.replace("{host}", "")) for t in texts):
            check.problem(("hosting", key), f"hosting.{key}: may not contain {what}")
    return HostingInfo(tuple(e.lower().lstrip(".") for e in values["fingerprint"]),
                       values["content_security_policy"].strip(), values["nginx_root"],
                       tuple(values["nginx_listen"]), tuple(values["nginx_onion_listen"]),
                       tuple(values["nginx_include"]))


def _named(kind, check: _Checker, key: Any, value: Any, spec: _Spec, block: str | tuple, name: str):
    """Return a section or author profile; a missing or bad name falls back to the key."""
    prefix = block if isinstance(block, tuple) else (block,)
    values = check.block(value or {}, spec, prefix + (key,), {name})
    values[name] = values[name] or str(key)
    return kind(str(key), **values)


def _read_site(check: _Checker, data: Any) -> SiteInfo:
    """Return the site block with defaults; the direction follows the language unless given."""
    values = check.block(data, SITE_KEYS, ("site",), {"title"})
    language = values["language"]
    if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", language):
        check.problem(("site", "language"), f"site.language: '{language}' is not a language code "
                                            "such as en, fa or pt-BR")
    try:
        ZoneInfo(values["timezone"])
    except (ZoneInfoNotFoundError, ValueError):
        check.problem(("site", "timezone"), f"site.timezone: unknown time zone '{values['timezone']}'"
                                            " (use an IANA name such as Europe/London)")
    direction = values["direction"] or direction_of(language)
    locale = values["locale"] or default_locale(language)
    if not _known_locale(locale):
        if values["locale"]:
            check.problem(("site", "locale"), f"site.locale: no date formats are known for '{locale}'; "
                                              "use one such as en_GB or fa_IR")
        locale = "en_GB"   # a language Babel does not know keeps the English dates it always had
    return SiteInfo(title=values["title"] or "", tagline=values["tagline"],
                    description=values["description"], language=language, direction=direction,
                    timezone=values["timezone"], logo=values["logo"], copyright=values["copyright"],
                    twitter=_twitter_handle(check, values["twitter"]), locale=locale)


def _twitter_handle(check: _Checker, raw: str | None) -> str | None:
    """Return the handle as "@name" (written with or without the @), or None."""
    if raw is None:
        return None
    name = raw.strip().removeprefix("@")
    if not re.fullmatch(r"[A-Za-z0-9_]{1,15}", name):
        check.problem(("site", "twitter"), f"site.twitter: '{raw}' is not an X/Twitter handle "
                                           "(1 to 15 letters, digits or _, like @meridiancourier)")
        return None
    return "@" + name




def default_locale(language: str) -> str:
    """Return the Babel locale for a language's dates: the code itself, except that plain `en`
    means en_GB, whose day-month-year dates (18 November 2026) the layouts have always shown."""
    return "en_GB" if language.lower() == "en" else language.replace("-", "_")


def _read_languages(check: _Checker, data: dict | None, site: SiteInfo,
                    section_keys: set[str]) -> tuple[LanguageInfo, ...]:
    """Return the language editions, the site's language first; one edition at the root if
    the config has no `languages:`."""
    if not data:
        return (LanguageInfo(site.language, "", site.direction, site.locale, site.title, site.tagline,
                             site.description, (), True),)
    if site.language not in data:
        check.problem(("languages",), f"languages: the site's language '{site.language}' "
                                      "(site.language) must be one of the languages; add it")
    out: list[LanguageInfo] = []
    paths: dict[str, str] = {}
    for code, value in sorted(data.items(), key=lambda kv: kv[0] != site.language):
        code = str(code)
        keys = ("languages", code)
        values = check.block(value or {}, LANGUAGE_KEYS, keys)
        if not re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", code):
            check.problem(keys, f"languages: '{code}' is not a language code such as en, fa or pt-BR")
            continue
        is_default = code == site.language
        path = values["path"] if values["path"] is not None else ("" if is_default else code.lower() + "/")
        if path in paths:
            check.problem(keys + ("path",), f"languages.{code}.path: '{path}' is already the path of "
                                            f"{paths[path]}; each language needs its own folder")
        paths.setdefault(path, code)
        locale = values["locale"] or (site.locale if is_default else default_locale(code))
        if not _known_locale(locale):
            check.problem(keys + ("locale",) if values["locale"] else keys,
                          f"languages.{code}: no date formats are known for locale '{locale}'; "
                          "set languages.{code}.locale to one such as fa_IR".replace("{code}", code))
        sections = []
        for key, sec in values["sections"].items():
            if str(key) not in section_keys:
                check.problem(keys + ("sections", key), f"languages.{code}.sections: '{key}' is not "
                                                        "a section listed under sections:")
                continue
            sections.append(_named(SectionInfo, check, key, sec, SECTION_KEYS,
                                   keys + ("sections",), "title"))
        direction = site.direction if is_default else _text_direction(locale, code)
        out.append(LanguageInfo(code, path, direction, locale,
                                values["title"] if values["title"] is not None else site.title,
                                values["tagline"] if values["tagline"] is not None else site.tagline,
                                values["description"] if values["description"] is not None
                                else site.description, tuple(sections), is_default))
    return tuple(out)


def _text_direction(locale: str, code: str) -> str:
    """Return the writing direction Babel knows for the locale (else from the language code)."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(locale).text_direction
    except (UnknownLocaleError, ValueError):
        return direction_of(code)


def _known_locale(locale: str) -> bool:
    """Return whether Babel has data for the locale."""
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(locale)
    except (UnknownLocaleError, ValueError):
        return False
    return True


def direction_of(language: str) -> str:
    """Return `rtl` for right-to-left languages, else `ltr`."""
    return "rtl" if language.split("-")[0].lower() in RTL_LANGUAGES else "ltr"


def _check_permalink(check: _Checker, pattern: str) -> str:
    """Return the permalink pattern if its placeholders are known and it names the slug."""
    fields = re.findall(r"\{([^}]*)\}", pattern)
    unknown = [f for f in fields if f not in PERMALINK_FIELDS]
    if unknown:
        check.problem(("permalink",), f"permalink: unknown placeholder {{{unknown[0]}}} "
                                      f"(use {', '.join('{' + f + '}' for f in PERMALINK_FIELDS)})")
    elif "slug" not in fields:
        check.problem(("permalink",), "permalink: must contain {slug} so every article has its own URL")
    elif not pattern.startswith("/") or ".." in pattern:
        check.problem(("permalink",), "permalink: must start with / and stay inside the site")
    return pattern


def _read_mirrors(check: _Checker, items: list, site_canonical: str) -> tuple[Mirror, ...]:
    """Return the mirrors, the first marked primary; duplicate hosts are problems."""
    mirrors: list[Mirror] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        keys = ("mirrors", index)
        if isinstance(item, str):
            item = {"url": item}
        values = check.block(item, MIRROR_KEYS, keys, {"url"})
        if not values.get("url"):
            continue
        parsed = parse_mirror_url(values["url"])
        if isinstance(parsed, str):
            check.problem(keys + ("url",), f"mirrors[{index}].url: {parsed}")
            continue
        url, host, prefix, scheme = parsed
        if host in seen:
            check.problem(keys + ("url",), f"mirrors[{index}].url: host '{host}' is already used by "
                                           f"mirrors[{seen[host]}]; each mirror needs its own host")
            continue
        if host == DEPLOY_FOLDER:
            check.problem(keys + ("url",), f"mirrors[{index}].url: host '{host}' would be written to "
                                           f"output/{DEPLOY_FOLDER}/, where newsmirror puts server configs; "
                                           "use the host's full name")
            continue
        if values["nginx_root"] and re.search(_HOSTING_TEXT["nginx_root"][0], values["nginx_root"].replace("{host}", "")):
            check.problem(keys + ("nginx_root",), f"mirrors[{index}].nginx_root: may not contain quotes, "
                                                  "backslashes, spaces or ; { }")
        seen[host] = index
        mirrors.append(Mirror(
            url=url, host=host, prefix=prefix, scheme=scheme, label=values["label"] or host,
            banner=values["banner"], canonical=values["canonical"] or site_canonical,
            robots=values["robots"] == "index", head_html=values["head"],
            index_links=values["index_links"], nginx_root=values["nginx_root"], is_primary=not mirrors))
    return tuple(mirrors)


def _read_former(check: _Checker, domains: list[str], mirrors: tuple[Mirror, ...]):
    """Yield former domains (lower-case, no scheme); one still listed as a mirror is a problem."""
    current = {bare_domain(m.host) for m in mirrors}
    for index, raw in enumerate(domains):
        domain = re.sub(r"^[a-z]+://", "", raw.strip().lower()).split("/")[0]
        if not domain or " " in domain:
            check.problem(("former", index), f"former[{index}]: '{raw}' is not a domain name")
        elif bare_domain(domain) in current:
            check.problem(("former", index), f"former[{index}]: '{domain}' is also a mirror; remove it "
                                             "from one of the two lists")
        else:
            yield domain


def _read_deploy(check: _Checker, data: dict, items: list, mirrors: tuple[Mirror, ...],
                 root: Path) -> DeploySettings:
    """Return the deploy settings: the shared limits and each mirror's target, if it has one."""
    values = check.block(data, DEPLOY_KEYS, ("deploy",))
    hosts = {m.url: m.host for m in mirrors}
    targets = []
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("deploy") is None:
            continue
        host = hosts.get(parse_mirror_url(item.get("url", ""))[0]) \
            if not isinstance(parse_mirror_url(item.get("url", "")), str) else None
        raw = item["deploy"]
        keys = ("mirrors", index, "deploy")
        target = check.block({"to": raw} if isinstance(raw, str) else raw, TARGET_KEYS, keys, {"to"})
        if host is None or not target["to"]:
            continue
        targets.append(DeployTarget.parse(host, target["to"], target["rsh"], root))
    return DeploySettings(max_delete=float(values["max_delete"]), retries=values["retries"],
                          targets=tuple(targets))


def _read_signing(check: _Checker, data: dict | None, root: Path) -> Signing | None:
    """Return where the manifest signing key is, or None when manifests are not signed."""
    if data is None:
        return None
    values = check.block(data, SIGNING_KEYS, ("signing",), {"key"})
    if not values["key"]:
        return None
    key = (root / Path(values["key"]).expanduser()).resolve()
    public = values["public_key"] or (values["key"] if values["key"].endswith(".pub") else values["key"] + ".pub")
    public_path = (root / Path(public).expanduser()).resolve()
    for name, path in (("key", key), ("public_key", public_path)):
        if not path.is_file():
            check.problem(("signing", name if name in data else "key"),
                          f"signing.{name}: '{path}' is not a file; make a key with "
                          "`ssh-keygen -t ed25519 -f PATH` or remove the signing block")
    return Signing(key=key, public_key=public_path)
