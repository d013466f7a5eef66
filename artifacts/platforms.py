"""The platform registry: which online platform a URL, a host, an app id or an account type belongs to.

The shipped data is built by ``python -m artifacts.platform_build`` (see ``docs/platforms.md``) from the hand-checked
seed list, a hand-written curated layer (``artifacts/data/curated_platforms.json``, every fact cited), Maigret's and
Sherlock's site lists (MIT) into ``artifacts/data/platforms.json``, and from WhatsMyName (CC BY-SA 4.0) into the
separate ``artifacts/data/platforms-wmn.json``. Every fact keeps the layer and entry it came from (``Platform.facts``).

A case may add an overlay (:func:`load_overlay`): extra platforms, platforms flagged ``suspected``/``confirmed`` as used
for recruitment or exploitation, and watch-listed identifiers from other investigations.

Matching is deterministic and prefers the most specific rule: a URL pattern of the platform owning the longest
matching domain suffix; among patterns, phone > user id > group/channel > invite > user name > post, then the pattern
that consumed more literal text before the account, then layer order (seed, curated, overlay, maigret, sherlock, wmn);
a bare domain match (account ``None``) only when no pattern matches. Scheme and ``www.``/``m.``/``mobile.`` prefixes
do not matter. Reserved first path segments (``instagram.com/p``, ``facebook.com/groups``, ``t.me/joinchat``) are never
taken as user names.
"""
from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

CATEGORIES = (
    "social network", "messenger", "dating", "forum", "review forum", "classifieds/marketplace", "online shop",
    "jobs/recruitment", "escort/adult ads", "adult content", "money transfer/payments", "crypto exchange",
    "crypto wallet", "finance", "video/streaming", "photo sharing", "music", "gaming", "gambling", "blog", "news",
    "email", "search", "coding/tech", "education", "travel/accommodation", "transport/delivery", "other",
)
FLAGS = ("suspected", "confirmed")
LAYERS = ("seed", "curated", "overlay", "maigret", "sherlock", "wmn")  # precedence, highest first

# Named regex groups → (Match.kind, priority; lower wins). The group that matched names the account.
ACCOUNT_GROUPS = {
    "phone": ("profile", 0), "user_id": ("profile", 1), "qq": ("profile", 1), "line_id": ("profile", 2),
    "sec_uid": ("profile", 2), "group": ("group", 3), "group_id": ("group", 3), "channel": ("channel", 3),
    "channel_id": ("channel", 3), "invite": ("invite", 4), "username_link": ("profile", 5), "username": ("profile", 5),
    "company": ("page", 6), "item_id": ("post", 7), "listing": ("post", 7), "post_id": ("post", 7),
    "job_id": ("post", 7), "shortcode": ("short_link", 8),
}
CASE_FOLDED_GROUPS = ("username", "line_id", "username_link")  # user names are case-insensitive unless data says not
_HOST_PREFIXES = ("www.", "m.", "mobile.")
_CACHE_SIZE = 100_000
_EMAIL = re.compile(r"(?:mailto:)?([^@\s/:]+@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+))", re.IGNORECASE)
_DATA = "data"


class OverlayError(ValueError):
    """A case overlay that does not validate; ``problems`` lists every one, each ``location: what is wrong``."""

    def __init__(self, problems: list[str], origin: str = "overlay"):
        self.problems = list(problems)
        super().__init__(f"{origin}: {len(self.problems)} problem(s):\n" + "\n".join(self.problems))


@dataclass(frozen=True)
class UrlPattern:
    regex: str
    kind: str       # what the URL names: profile, invite, channel, group, post, ...
    group: str      # the named group holding the account ('username', 'phone', 'user_id', ...)
    scheme: str     # 'web' for http(s)/scheme-less patterns, else the URI scheme ('tg', 'whatsapp', ...)
    source: str

    @functools.cached_property
    def compiled(self) -> re.Pattern:
        return re.compile(self.regex)


@dataclass(frozen=True)
class Fact:
    field: str      # 'name', 'category', 'domain', 'url_pattern', 'android', 'ios', 'region', 'flag', ...
    value: str
    source: str     # layer and entry: 'seed', 'maigret:VK (by id)', 'curated: <citation>', 'overlay: <source>'
    detail: str | None = None   # e.g. the seed's confidence and where an app id was seen


@dataclass(frozen=True)
class Platform:
    name: str
    category: str
    domains: tuple[str, ...]
    url_patterns: tuple[UrlPattern, ...]
    android: tuple[str, ...]
    ios: tuple[str, ...]
    regions: tuple[str, ...]
    sources: tuple[str, ...]            # layers the facts come from, in precedence order
    flag: str | None = None             # 'suspected' | 'confirmed' | None (from the case overlay)
    flag_note: str | None = None
    flag_source: str | None = None
    account_types: tuple[str, ...] = ()     # Android AccountManager account types
    reserved_paths: tuple[str, ...] = ()    # first path segments that are never user names
    shared_domains: tuple[tuple[str, str], ...] = ()   # (domain, why) claimed also by another platform
    case_sensitive: bool = False
    notes: str | None = None
    facts: tuple[Fact, ...] = field(default=(), compare=False, repr=False)

    def sources_of(self, field_name: str, value: str) -> list[Fact]:
        """Every fact stating ``value`` for ``field_name`` (e.g. ``('android', 'com.whatsapp')``)."""
        return [f for f in self.facts if f.field == field_name and f.value == value]

    def as_dict(self) -> dict:
        return {
            "name": self.name, "category": self.category, "domains": list(self.domains),
            "url_patterns": [{"regex": p.regex, "kind": p.kind, "group": p.group, "source": p.source}
                             for p in self.url_patterns],
            "android": list(self.android), "ios": list(self.ios), "regions": list(self.regions),
            "account_types": list(self.account_types), "sources": list(self.sources), "flag": self.flag,
            "flag_note": self.flag_note, "flag_source": self.flag_source,
            "facts": [{"field": f.field, "value": f.value, "source": f.source, **({"detail": f.detail} if f.detail
                                                                                   else {})} for f in self.facts],
        }


@dataclass(frozen=True)
class Match:
    platform: str
    category: str
    kind: str   # profile|invite|channel|group|post|page|short_link|domain|email|android|ios|account_type
    account: str | None         # the handle / user id / digits the URL names, normalised
    rule: str                   # which rule matched, human-readable
    account_kind: str | None = None   # the named group: 'username', 'phone', 'user_id', 'invite', ...
    source: str | None = None         # the layer/entry the matching rule comes from
    flag: str | None = None


def canonical_url(value: str) -> tuple[str, str, str] | None:
    """``(scheme, host, canonical)`` for a URL or a scheme-less ``host/path``; ``None`` if it names no host.

    http, https and scheme-less URLs become ``https://host/path?query#fragment`` with the host lower-cased and a
    leading ``www.``/``m.``/``mobile.`` removed; other schemes (``tg:``, ``whatsapp:``, ``skype:``) stay as written.
    """
    text = value.strip()
    if not text:
        return None
    scheme_match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", text)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if scheme and scheme not in ("http", "https") and not re.match(r"^[^/]+\.[^/]+:\d", text):
        return scheme, "", scheme + text[len(scheme):]
    if not scheme:
        text = "https://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
    except ValueError:
        return None
    if not host or "." not in host or " " in host:
        return None
    host = strip_host(host)
    rest = parts.path or ""
    if parts.query:
        rest += "?" + parts.query
    if parts.fragment:
        rest += "#" + parts.fragment
    return "web", host, f"https://{host}{rest}"


def strip_host(host: str) -> str:
    """Lower-case, drop a trailing dot and one leading ``www.``/``m.``/``mobile.`` (``m.me`` stays ``m.me``)."""
    host = host.strip().lower().rstrip(".")
    for prefix in _HOST_PREFIXES:
        if host.startswith(prefix) and "." in host[len(prefix):]:
            return host[len(prefix):]
    return host


def _read_json(name: str) -> dict:
    return json.loads(resources.files("artifacts").joinpath(_DATA, name).read_text(encoding="utf-8"))


@functools.lru_cache(maxsize=1)
def shipped_data() -> tuple[dict, dict]:
    """The two shipped files: the seed/curated/MIT layers and the separate CC BY-SA (WhatsMyName) layer."""
    return _read_json("platforms.json"), _read_json("platforms-wmn.json")


class Registry:
    """Every platform, its rules, and the case overlay's flags and watch list."""

    def __init__(self, platforms: list[Platform], watchlist: list[dict] | None = None):
        self.platforms = sorted(platforms, key=lambda p: p.name.casefold())
        self.watchlist = list(watchlist or [])
        self._by_name = {p.name.casefold(): p for p in self.platforms}
        self._by_domain: dict[str, list[Platform]] = {}
        self._schemes: dict[str, list[Platform]] = {}
        self._apps: dict[tuple[str, str], list[Platform]] = {}
        self._url_cache: dict[str, Match | None] = {}  # the same links recur across messages and devices
        for p in self.platforms:
            for d in p.domains:
                self._by_domain.setdefault(d, []).append(p)
            for pattern in p.url_patterns:
                if pattern.scheme != "web" and p not in self._schemes.get(pattern.scheme, []):
                    self._schemes.setdefault(pattern.scheme, []).append(p)
            for kind, ids in (("android", p.android), ("ios", p.ios), ("account_type", p.account_types)):
                for app in ids:
                    self._apps.setdefault((kind, app.lower()), []).append(p)
        for domain, owners in self._by_domain.items():  # the platform that merely shares a domain comes last
            owners.sort(key=lambda p, d=domain: (d in dict(p.shared_domains), p.name.casefold()))

    @classmethod
    def load(cls, overlay: dict | None = None) -> "Registry":
        """The shipped registry, plus ``overlay`` (as returned by :func:`load_overlay`/:func:`validate_overlay`)."""
        main, wmn = shipped_data()
        records = merge_layers([main, wmn])
        watchlist: list[dict] = []
        if overlay:
            overlay = validate_overlay(overlay)
            records = apply_overlay(records, overlay)
            watchlist = overlay.get("watchlist", [])
        return cls([platform_from_record(r) for r in records.values()], watchlist)

    def get(self, name: str) -> Platform | None:
        return self._by_name.get(name.casefold())

    def _owners(self, host: str) -> list[tuple[str, Platform]]:
        """(domain, platform) for every suffix of ``host`` the registry knows, longest suffix first."""
        labels = host.split(".")
        found = []
        for i in range(len(labels) - 1):
            suffix = ".".join(labels[i:])
            for p in self._by_domain.get(suffix, []):
                found.append((suffix, p))
        return found

    def match_domain(self, host: str) -> Match | None:
        """The platform owning the longest suffix of ``host`` (``www.``/``m.`` and case do not matter)."""
        owners = self._owners(strip_host(host))
        if not owners:
            return None
        domain, p = owners[0]
        return Match(p.name, p.category, "domain", None, f"domain {domain}", source=_fact_source(p, "domain", domain),
                     flag=p.flag)

    def match_url(self, url: str) -> Match | None:
        """A profile/invite/channel/group URL → platform + account; else the owning domain with account ``None``."""
        if url in self._url_cache:
            return self._url_cache[url]
        if len(self._url_cache) >= _CACHE_SIZE:
            self._url_cache.clear()
        found = self._url_cache[url] = self._match_url(url)
        return found

    def _match_url(self, url: str) -> Match | None:
        parsed = canonical_url(url)
        if parsed is None:
            return None
        scheme, host, canonical = parsed
        if scheme != "web":
            candidates = [(scheme, p) for p in self._schemes.get(scheme, [])]
            owners: list[tuple[str, Platform]] = []
        else:
            owners = self._owners(host)
            candidates = owners
        best = None
        best_key = None
        seen: set[str] = set()
        for rank, (domain, p) in enumerate(candidates):
            if p.name in seen:
                continue
            seen.add(p.name)
            suffix_len = len(domain) if scheme == "web" else 0
            for order, pattern in enumerate(p.url_patterns):
                if pattern.scheme != scheme:
                    continue
                found = _pattern_match(p, pattern, canonical)
                if found is None:
                    continue
                account, start = found
                key = (-suffix_len, ACCOUNT_GROUPS.get(pattern.group, ("", 9))[1], -start,
                       _layer_rank(pattern.source), rank, order)
                if best_key is None or key < best_key:
                    best_key = key
                    best = Match(p.name, p.category, pattern.kind, account, f"pattern {pattern.regex}",
                                 account_kind=pattern.group, source=pattern.source, flag=p.flag)
        if best is not None:
            return best
        if owners:
            domain, p = owners[0]
            return Match(p.name, p.category, "domain", None, f"domain {domain}",
                         source=_fact_source(p, "domain", domain), flag=p.flag)
        return None

    def match_app(self, app_id: str) -> Match | None:
        """An Android package or iOS bundle id (exact, case-insensitive) → its platform."""
        matches = self._app_matches(app_id, ("android", "ios"))
        return matches[0] if matches else None

    def match_account_type(self, account_type: str) -> Match | None:
        """An Android AccountManager account type (``com.whatsapp``, ``org.telegram.messenger``) → its platform."""
        matches = self._app_matches(account_type, ("account_type", "android"))
        if not matches:
            return None
        m = matches[0]
        return Match(m.platform, m.category, "account_type", None, m.rule, source=m.source, flag=m.flag)

    def _app_matches(self, app_id: str, kinds: tuple[str, ...]) -> list[Match]:
        out = []
        for kind in kinds:
            for p in self._apps.get((kind, app_id.strip().lower()), []):
                value = next(a for a in (p.android if kind == "android" else p.ios if kind == "ios"
                                         else p.account_types) if a.lower() == app_id.strip().lower())
                label = {"android": "android package", "ios": "iOS bundle id", "account_type": "account type"}[kind]
                out.append(Match(p.name, p.category, kind, None, f"{label} {value}",
                                 source=_fact_source(p, kind, value), flag=p.flag))
        return out

    def match_email(self, address: str) -> Match | None:
        """An e-mail address (or ``mailto:`` link) → the platform owning its domain; the account is the address."""
        m = _EMAIL.fullmatch(address.strip())
        owner = self.match_domain(m.group(2)) if m else None
        if owner is None:
            return None
        return Match(owner.platform, owner.category, "email", m.group(1).lower(),
                     f"e-mail {owner.rule}", account_kind="email", source=owner.source, flag=owner.flag)

    def match(self, value: str) -> list[Match]:
        """Every way ``value`` matches: as an app id / account type, an e-mail address, a URL or host.

        Deterministic order: app matches, then the e-mail or URL match.
        """
        value = value.strip()
        out = self._app_matches(value, ("android", "ios", "account_type")) if _looks_like_app_id(value) else []
        url = self.match_email(value) or self.match_url(value)
        if url is not None and not (out and url.kind == "domain"):
            out.append(url)
        unique, seen = [], set()
        for m in out:
            if (m.platform, m.kind, m.rule) not in seen:
                seen.add((m.platform, m.kind, m.rule))
                unique.append(m)
        return unique

    def watchlisted(self, value: str) -> list[dict]:
        """Watch-list entries whose value equals ``value`` (case-insensitive, surrounding spaces ignored)."""
        key = value.strip().casefold()
        return [w for w in self.watchlist if w["value"].strip().casefold() == key]


def _looks_like_app_id(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+", value)) and "/" not in value


def _layer_rank(source: str) -> int:
    layer = source.split(":", 1)[0].strip()
    return LAYERS.index(layer) if layer in LAYERS else len(LAYERS)


def _fact_source(p: Platform, field_name: str, value: str) -> str | None:
    facts = p.sources_of(field_name, value)
    return "; ".join(sorted({f.source for f in facts})) or None


def _pattern_match(p: Platform, pattern: UrlPattern, canonical: str) -> tuple[str | None, int] | None:
    m = pattern.compiled.search(canonical)
    if m is None:
        return None
    groups = m.groupdict()
    account = groups.get(pattern.group)
    if account is None:
        return None
    start = m.start(pattern.group)
    if pattern.kind == "profile" and (account.casefold() in p.reserved_paths or (
            pattern.group == "username" and _not_a_user_name(account))):
        return None
    if pattern.kind in ("post", "short_link"):
        return None, start  # a post or short link names no account
    if pattern.group in CASE_FOLDED_GROUPS and not p.case_sensitive:
        account = account.lower()
    return account, start


# Site sections that upstream root-level templates ("site.com/{username}") would otherwise take for user names.
GENERIC_RESERVED = frozenset((
    "about", "account", "accounts", "admin", "api", "app", "assets", "auth", "careers", "contact", "download",
    "explore", "faq", "help", "home", "index", "intent", "legal", "login", "logout", "oauth", "policies", "privacy",
    "register", "search", "settings", "share", "signin", "signup", "static", "support", "terms", "tos",
))


def _not_a_user_name(account: str) -> bool:
    name = account.casefold()
    return name in GENERIC_RESERVED or bool(re.search(r"\.(?:php|html?|aspx?|jsp|cgi|js|css|png|jpe?g|gif|svg|ico|xml|txt)$",
                                                      name))


# --- the data: layers merged into one record per platform -------------------------------------------------------

def merge_layers(files: list[dict]) -> dict[str, dict]:
    """Merge the shipped files' platform records (same name = same platform) into one record per platform."""
    records: dict[str, dict] = {}
    for data in files:
        for rec in data["platforms"]:
            key = rec["name"].casefold()
            if key not in records:
                records[key] = {"name": rec["name"], "facts": []}
            records[key]["facts"].extend(rec["facts"])
            for opt in ("reserved_paths", "case_sensitive", "notes"):
                if opt in rec and opt not in records[key]:
                    records[key][opt] = rec[opt]
    return records


def platform_from_record(rec: dict) -> Platform:
    """A :class:`Platform` from a merged record: facts ordered by layer precedence, first category wins."""
    facts = sorted((Fact(f["field"], f["value"], f["source"], f.get("detail")) for f in rec["facts"]),
                   key=lambda f: _layer_rank(f.source))

    def values(name: str) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for f in facts:
            if f.field == name:
                seen.setdefault(f.value, None)
        return tuple(seen)

    patterns, seen_regex = [], set()
    # Hand-checked patterns (seed, curated, overlay) are authoritative: where a platform has any, the upstream
    # templates (kept in ``facts``) are not used for matching, so a loose template cannot accept what they reject.
    hand = any(f.field == "url_pattern" and _layer_rank(f.source) < LAYERS.index("maigret") for f in facts)
    for f in facts:
        if hand and f.field == "url_pattern" and _layer_rank(f.source) >= LAYERS.index("maigret"):
            continue
        if f.field == "url_pattern" and f.value not in seen_regex:
            seen_regex.add(f.value)
            group, kind, scheme = pattern_shape(f.value)
            patterns.append(UrlPattern(f.value, kind, group, scheme, f.source))
    categories = values("category")
    flag = next((f for f in facts if f.field == "flag"), None)
    shared = tuple(sorted((f.value, f.detail or f.source) for f in facts if f.field == "shared_domain"))
    layers = tuple(sorted({f.source.split(":", 1)[0].strip() for f in facts}, key=_layer_rank))
    return Platform(
        name=rec["name"], category=categories[0] if categories else "other",
        domains=tuple(sorted(values("domain"))), url_patterns=tuple(patterns), android=values("android"),
        ios=values("ios"), regions=tuple(sorted(values("region"))), sources=layers,
        flag=flag.value if flag else None, flag_note=flag.detail if flag else None,
        flag_source=flag.source.split(":", 1)[1].strip() if flag and ":" in flag.source else None,
        account_types=values("account_type"), reserved_paths=tuple(sorted(p.casefold() for p in
                                                                          rec.get("reserved_paths", ()))),
        shared_domains=shared, case_sensitive=bool(rec.get("case_sensitive")), notes=rec.get("notes"),
        facts=tuple(facts),
    )


def pattern_shape(regex: str) -> tuple[str, str, str]:
    """(account group, Match.kind, scheme) of a URL regex: the highest-priority named group it defines."""
    names = re.findall(r"\(\?P<([A-Za-z_][A-Za-z0-9_]*)>", regex)
    known = sorted((ACCOUNT_GROUPS[n][1], n) for n in names if n in ACCOUNT_GROUPS)
    group = known[0][1] if known else (names[0] if names else "")
    kind = ACCOUNT_GROUPS.get(group, ("profile", 9))[0]
    if re.match(r"^\^(?:\(\?:https\?://\)\?|https\?://)", regex) or not re.match(r"^\^[a-z][a-z0-9+.-]*:", regex):
        scheme = "web"
    else:
        scheme = re.match(r"^\^([a-z][a-z0-9+.-]*):", regex).group(1)
    return group, kind, scheme


# --- the case overlay ---------------------------------------------------------------------------------------------

_OVERLAY_KEYS = {"about", "platforms", "flags", "watchlist"}
_PLATFORM_KEYS = {"name", "category", "domains", "url_patterns", "android", "ios", "regions", "account_types",
                  "source", "flag", "flag_note", "flag_source", "notes", "reserved_paths"}
_FLAG_KEYS = {"platform", "flag", "note", "source"}
_WATCH_KEYS = {"value", "kind", "note", "source"}


def load_overlay(path) -> dict:
    """Parse a YAML or JSON overlay file and validate it; :class:`OverlayError` lists every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise OverlayError(["(file): not UTF-8 text"], str(path)) from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            import yaml
            data = yaml.safe_load(text)
    except (ValueError, ImportError) as exc:
        raise OverlayError([f"(file): not valid JSON: {exc}"], str(path)) from None
    except Exception as exc:  # yaml.YAMLError and its subclasses
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise OverlayError([f"(file): not valid YAML{at}: {getattr(exc, 'problem', None) or exc}"],
                           str(path)) from None
    return validate_overlay(data, str(path))


def validate_overlay(data, origin: str = "overlay", registry: "Registry | None" = None) -> dict:
    """The overlay normalised (sorted, stripped); raise :class:`OverlayError` listing every problem."""
    problems: list[str] = []
    if not isinstance(data, dict):
        raise OverlayError(["(top): must be a mapping with 'platforms', 'flags' and/or 'watchlist'"], origin)
    for key in sorted(set(map(str, data)) - _OVERLAY_KEYS):
        problems.append(f"{key}: unknown key (allowed: {', '.join(sorted(_OVERLAY_KEYS))})")
    base = registry if registry is not None else _base_registry()
    out: dict = {}
    if "about" in data:
        out["about"] = _text(data["about"], "about", problems)
    names: dict[str, str] = {}     # new platform name (case-folded) → where it is defined
    domains: dict[str, str] = {}   # domain → where it is claimed
    flagged: dict[str, str] = {}   # platform name (case-folded) → where it is flagged
    out["platforms"] = [_overlay_platform(where, item, base, names, domains, flagged, problems)
                        for where, item in _entries(data, "platforms", _PLATFORM_KEYS, problems)]
    out["flags"] = [_overlay_flag(where, item, base, names, flagged, problems)
                    for where, item in _entries(data, "flags", _FLAG_KEYS, problems)]
    out["watchlist"] = [_overlay_watch(where, item, problems)
                        for where, item in _entries(data, "watchlist", _WATCH_KEYS, problems)]
    if problems:
        raise OverlayError(problems, origin)
    out["platforms"].sort(key=lambda r: r["name"].casefold())
    out["flags"].sort(key=lambda r: r["platform"].casefold())
    out["watchlist"].sort(key=lambda r: (r["value"].casefold(), r.get("kind") or "", r["source"]))
    return out


def _overlay_platform(where: str, item: dict, base: Registry, names: dict, domains: dict, flagged: dict,
                      problems: list) -> dict:
    rec = {"name": _text(item.get("name"), f"{where}.name", problems, required=True),
           "category": _category(item.get("category"), f"{where}.category", problems),
           "source": _text(item.get("source"), f"{where}.source", problems, required=True)}
    name = rec["name"]
    if name:
        if base.get(name) is not None:
            problems.append(f"{where}.name: '{name}' is already in the registry (flag it under 'flags:' instead)")
        elif name.casefold() in names:
            problems.append(f"{where}.name: '{name}' is also defined at {names[name.casefold()]}")
        else:
            names[name.casefold()] = where
    for key in ("domains", "android", "ios", "regions", "account_types", "reserved_paths"):
        rec[key] = _strings(item.get(key, []), f"{where}.{key}", problems)
    rec["domains"] = [strip_host(d) for d in rec["domains"]]
    for j, d in enumerate(rec["domains"]):
        valid = re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", d)
        owner = base.match_domain(d) if valid else None
        if not valid:
            problems.append(f"{where}.domains[{j}]: '{d}' is not a domain name")
        elif d in domains:
            problems.append(f"{where}.domains[{j}]: '{d}' is also claimed by {domains[d]}")
        elif owner is not None and owner.rule == f"domain {d}":
            problems.append(f"{where}.domains[{j}]: '{d}' already belongs to {owner.platform}")
        else:
            domains[d] = where
    rec["regions"] = [r.upper() for r in rec["regions"]]
    for j, r in enumerate(rec["regions"]):
        if not re.fullmatch(r"[A-Z]{2}", r):
            problems.append(f"{where}.regions[{j}]: '{r}' is not a two-letter country code")
    rec["url_patterns"] = _strings(item.get("url_patterns", []), f"{where}.url_patterns", problems)
    for j, regex in enumerate(rec["url_patterns"]):
        problem = pattern_problem(regex)
        if problem:
            problems.append(f"{where}.url_patterns[{j}]: {problem}")
    if item.get("notes") is not None:
        rec["notes"] = _text(item.get("notes"), f"{where}.notes", problems)
    if item.get("flag") is not None:
        rec["flag"] = _flag(item.get("flag"), f"{where}.flag", problems)
        if name:
            flagged.setdefault(name.casefold(), f"{where}.flag")
        rec["flag_note"] = _text(item.get("flag_note"), f"{where}.flag_note", problems, required=True)
        rec["flag_source"] = _text(item.get("flag_source", item.get("source")), f"{where}.flag_source", problems,
                                   required=True)
    elif item.get("flag_note") is not None or item.get("flag_source") is not None:
        problems.append(f"{where}.flag: missing (flag_note/flag_source given without a flag)")
    return rec


def _overlay_flag(where: str, item: dict, base: Registry, names: dict, flagged: dict, problems: list) -> dict:
    rec = {"platform": _text(item.get("platform"), f"{where}.platform", problems, required=True),
           "flag": _flag(item.get("flag"), f"{where}.flag", problems),
           "note": _text(item.get("note"), f"{where}.note", problems, required=True),
           "source": _text(item.get("source"), f"{where}.source", problems, required=True)}
    target = rec["platform"]
    if target:
        known = base.get(target)
        if known is None and target.casefold() not in names:
            problems.append(f"{where}.platform: unknown platform '{target}' (see `forensics platforms list`)")
        elif target.casefold() in flagged:
            problems.append(f"{where}.platform: '{target}' is already flagged at {flagged[target.casefold()]}")
        else:
            flagged[target.casefold()] = where
            rec["platform"] = known.name if known is not None else target
    return rec


def _overlay_watch(where: str, item: dict, problems: list) -> dict:
    rec = {"value": _text(item.get("value"), f"{where}.value", problems, required=True),
           "note": _text(item.get("note"), f"{where}.note", problems, required=True),
           "source": _text(item.get("source"), f"{where}.source", problems, required=True)}
    if item.get("kind") is not None:
        kind = _text(item.get("kind"), f"{where}.kind", problems)
        if kind and not re.fullmatch(r"[a-z][a-z0-9_]*", kind):
            problems.append(f"{where}.kind: '{kind}' must be a lower-case word such as phone, email, handle, url")
        rec["kind"] = kind
    return rec


def _entries(data: dict, key: str, allowed: set[str], problems: list[str]):
    """``(location, mapping)`` for each entry of the list ``data[key]``; problems with the list are recorded."""
    for i, item in enumerate(_items(data, key, problems)):
        where = f"{key}[{i}]"
        if _mapping(item, where, allowed, problems):
            yield where, item


@functools.lru_cache(maxsize=1)
def _base_registry() -> Registry:
    return Registry.load()


def pattern_problem(regex: str) -> str | None:
    """Why ``regex`` cannot serve as a URL pattern, or ``None``."""
    try:
        compiled = re.compile(regex)
    except re.error as exc:
        return f"does not compile: {exc}"
    if not regex.startswith("^"):
        return "must start with '^' (patterns are matched against 'https://host/path', host without www./m.)"
    if not set(compiled.groupindex) & set(ACCOUNT_GROUPS):
        return f"needs a named group naming the account, one of: {', '.join(sorted(ACCOUNT_GROUPS))}"
    return None


def apply_overlay(records: dict[str, dict], overlay: dict) -> dict[str, dict]:
    """The merged records with the overlay's platforms and flags added (facts sourced ``overlay: <source>``)."""
    records = {k: {**v, "facts": list(v["facts"])} for k, v in records.items()}
    for rec in overlay.get("platforms", []):
        src = f"overlay: {rec['source']}"
        facts = [{"field": "name", "value": rec["name"], "source": src},
                 {"field": "category", "value": rec["category"], "source": src}]
        for key, fname in (("domains", "domain"), ("url_patterns", "url_pattern"), ("android", "android"),
                           ("ios", "ios"), ("regions", "region"), ("account_types", "account_type")):
            facts += [{"field": fname, "value": v, "source": src} for v in rec.get(key, [])]
        if rec.get("flag"):
            facts.append({"field": "flag", "value": rec["flag"], "source": f"overlay: {rec['flag_source']}",
                          "detail": rec["flag_note"]})
        records[rec["name"].casefold()] = {"name": rec["name"], "facts": facts,
                                           "reserved_paths": rec.get("reserved_paths", []),
                                           **({"notes": rec["notes"]} if rec.get("notes") else {})}
    for flag in overlay.get("flags", []):
        target = records[flag["platform"].casefold()]
        target["facts"].append({"field": "flag", "value": flag["flag"], "source": f"overlay: {flag['source']}",
                                "detail": flag["note"]})
    return records


def _items(data: dict, key: str, problems: list[str]) -> list:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list):
        problems.append(f"{key}: must be a list")
        return []
    return value


def _mapping(item, where: str, allowed: set[str], problems: list[str]) -> bool:
    if not isinstance(item, dict):
        problems.append(f"{where}: must be a mapping")
        return False
    for key in sorted(set(map(str, item)) - allowed):
        problems.append(f"{where}.{key}: unknown key (allowed: {', '.join(sorted(allowed))})")
    return True


def _text(value, where: str, problems: list[str], required: bool = False) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            problems.append(f"{where}: missing")
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        problems.append(f"{where}: must be text")
        return ""
    return str(value).strip()


def _strings(value, where: str, problems: list[str]) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        problems.append(f"{where}: must be a list of text")
        return []
    out = []
    for j, v in enumerate(value):
        text = _text(v, f"{where}[{j}]", problems, required=True)
        if text:
            out.append(text)
    return out


def _category(value, where: str, problems: list[str]) -> str:
    text = _text(value, where, problems, required=True)
    if text and text not in CATEGORIES:
        problems.append(f"{where}: unknown category '{text}' (choose from {', '.join(CATEGORIES)})")
    return text


def _flag(value, where: str, problems: list[str]) -> str:
    text = _text(value, where, problems, required=True)
    if text and text not in FLAGS:
        problems.append(f"{where}: unknown flag '{text}' (choose from {', '.join(FLAGS)})")
    return text
