"""Build the shipped platform registry from its sources: ``python -m artifacts.platform_build [--shared DIR]``.

Inputs (``DIR`` defaults to ``../shared/data/platforms`` beside the project):
  seed_platforms.json   41 hand-checked platforms (app ids with where they were seen and a confidence grade)
  maigret-data.json     Maigret's site list (MIT, Soxoj): URL templates, tags (country codes, dating, forum, ...)
  sherlock-data.json    Sherlock's site list (MIT, Sherlock Project): URL templates, NSFW marks
  wmn-data.json         WhatsMyName (CC BY-SA 4.0, Micah Hoffman and contributors): URL templates, categories
and the curated layer written by hand in this package, ``artifacts/data/curated_platforms.json`` (every fact cites
where it comes from).

Outputs, inside the package (``--out`` to write elsewhere):
  data/platforms.json       seed + curated + Maigret + Sherlock facts (MIT-compatible)
  data/platforms-wmn.json   WhatsMyName-derived facts only, a separate file under CC BY-SA 4.0
  data/LICENSE-maigret.txt, data/LICENSE-sherlock.txt, data/LICENSE-wmn.md, data/NOTICE

Same input, same bytes: keys sorted, lists sorted, no timestamps. Each fact records its layer and upstream entry
(``maigret:VK (by id)``); a category or region derived from tags says so in ``detail``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from importlib import resources
from pathlib import Path

from artifacts.platforms import CATEGORIES, pattern_problem, strip_host

DATA_DIR = Path(str(resources.files("artifacts").joinpath("data")))
DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "platforms"
CURATED = "curated_platforms.json"
FORMAT = 1

SEED_CATEGORY = {"messaging": "messenger", "social": "social network", "dating": "dating",
                 "marketplace": "classifieds/marketplace", "jobs": "jobs/recruitment"}
# Maigret tags → category, most telling first (a site tagged 'ru, forum, dating' is a dating site).
MAIGRET_CATEGORY = (
    ("dating", "dating"), ("porn", "adult content"), ("erotic", "adult content"), ("webcam", "adult content"),
    ("classified", "classifieds/marketplace"), ("career", "jobs/recruitment"), ("freelance", "jobs/recruitment"),
    ("messaging", "messenger"), ("review", "review forum"), ("gambling", "gambling"), ("crypto", "finance"),
    ("fintech", "finance"), ("finance", "finance"), ("trading", "finance"), ("stock", "finance"),
    ("video", "video/streaming"), ("movies", "video/streaming"), ("music", "music"), ("streaming", "video/streaming"),
    ("photo", "photo sharing"), ("forum", "forum"), ("discussion", "forum"), ("q&a", "forum"),
    ("social", "social network"), ("networking", "social network"), ("geosocial", "social network"),
    ("shopping", "online shop"), ("gaming", "gaming"), ("blog", "blog"), ("writing", "blog"),
    ("news", "news"), ("coding", "coding/tech"), ("tech", "coding/tech"), ("hacking", "coding/tech"),
    ("education", "education"), ("travel", "travel/accommodation"),
)
WMN_CATEGORY = {"dating": "dating", "xx NSFW xx": "adult content", "social": "social network",
                "images": "photo sharing", "video": "video/streaming", "shopping": "online shop",
                "finance": "finance", "music": "music", "gaming": "gaming", "blog": "blog", "news": "news",
                "coding": "coding/tech", "tech": "coding/tech", "search": "search"}
# ccTLDs widely sold for generic use; they say nothing about a country.
GENERIC_CCTLDS = {"ac", "ag", "ai", "am", "bz", "cc", "cd", "cf", "co", "cx", "eu", "fm", "ga", "gd", "gg", "gl",
                  "gq", "im", "io", "is", "je", "la", "ly", "me", "ml", "ms", "mu", "nu", "pw", "sc", "sh", "so",
                  "st", "su", "tc", "tf", "tk", "to", "tv", "vc", "ws", "xyz", "yt", "re", "lu", "li", "fi"}
COUNTRY_FIX = {"UK": "GB"}
DEFAULT_ACCOUNT = r"[^/?#&]+"
HOST_ACCOUNT = r"[A-Za-z0-9_-]+"


class BuildError(Exception):
    """Inconsistent hand-written data (a domain claimed twice without a reason, a bad pattern): fix the data."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class Table:
    """Platform records under construction, and which platform owns each domain."""

    def __init__(self):
        self.records: dict[str, dict] = {}
        self.owner: dict[str, str] = {}      # domain → platform key
        self.shares: dict[tuple[str, str], str] = {}   # (platform key, domain) → why it may be claimed twice

    def add(self, name: str, facts: list[dict] | None = None, **extra) -> str:
        key = name.casefold()
        rec = self.records.setdefault(key, {"name": name, "facts": []})
        rec["facts"].extend(facts or [])
        for k, v in extra.items():
            if v:
                rec[k] = v
        return key

    def fact(self, key: str, field: str, value: str, source: str, detail: str | None = None) -> None:
        f = {"field": field, "value": value, "source": source}
        if detail:
            f["detail"] = detail
        if f not in self.records[key]["facts"]:
            self.records[key]["facts"].append(f)

    def claim(self, key: str, domain: str, source: str, strict: bool) -> bool:
        owner = self.owner.get(domain)
        if owner is None:
            self.owner[domain] = key
        elif owner != key and (key, domain) not in self.shares:
            if strict:
                raise BuildError(f"{domain} claimed by {self.records[owner]['name']} and "
                                 f"{self.records[key]['name']} with no reason given ({source})")
            return False
        self.fact(key, "domain", domain, source)
        return True


def add_hand_platform(table: Table, p: dict, layer: str, source: str, category: str, category_detail: str | None,
                      app_source) -> str:
    key = table.add(p["name"])
    table.fact(key, "name", p["name"], source)
    if category:
        table.fact(key, "category", category, source, category_detail)
    for item in p.get("shared_domains", []):
        table.shares[(key, item["domain"])] = item["why"]
        table.fact(key, "shared_domain", item["domain"], f"{layer}: {item['src']}", item["why"])
    for d in p.get("domains", []):
        table.claim(key, strip_host(d), source, strict=True)
    for pattern in p.get("url_patterns", []):
        regex, src = (pattern, source) if isinstance(pattern, str) else (pattern["regex"], f"{layer}: {pattern['src']}")
        problem = pattern_problem(regex)
        if problem:
            raise BuildError(f"{p['name']}: pattern {regex}: {problem}")
        table.fact(key, "url_pattern", regex, src)
    for kind in ("android", "ios", "account_types"):
        for app in p.get(kind, []):
            src, detail = app_source(app)
            table.fact(key, "account_type" if kind == "account_types" else kind, app["id"], src, detail)
    for region in p.get("regions", []):
        table.fact(key, "region", region.upper(), p.get("regions_src") and f"{layer}: {p['regions_src']}" or source)
    rec = table.records[key]
    if p.get("reserved_paths"):
        rec["reserved_paths"] = sorted(set(rec.get("reserved_paths", [])) | {r.casefold() for r in
                                                                             p["reserved_paths"]})
    if p.get("case_sensitive"):
        rec["case_sensitive"] = True
    if p.get("notes"):
        rec["notes"] = "; ".join(filter(None, [rec.get("notes"), p["notes"]]))
    return key


def load_seed(table: Table, seed: dict) -> None:
    for p in seed["platforms"]:
        if p["category"] not in SEED_CATEGORY:
            raise BuildError(f"seed {p['name']}: category {p['category']!r} has no mapping")
        category = SEED_CATEGORY[p["category"]]
        app_source = lambda app: ("seed", f"confidence {app['confidence']}; seen in: {app['src']}")  # noqa: E731
        add_hand_platform(table, {k: v for k, v in p.items() if k not in ("android", "ios")} |
                          {"android": [a for a in p["android"] if a["confidence"] != "X"],
                           "ios": [a for a in p["ios"] if a["confidence"] != "X"]},
                          "seed", "seed", category, f"seed category '{p['category']}'", app_source)


def load_curated(table: Table, curated: dict) -> None:
    for p in curated["platforms"]:
        if p.get("category") and p["category"] not in CATEGORIES:
            raise BuildError(f"curated {p['name']}: unknown category {p['category']!r}")
        if not p.get("src"):
            raise BuildError(f"curated {p['name']}: no 'src'")
        source = f"curated: {p['src']}"
        add_hand_platform(table, p, "curated", source, p.get("category"), None,
                          lambda app: (f"curated: {app['src']}", None))


def regex_from_template(template: str, account: str | None, group: str) -> str | None:
    """A URL regex (matched against ``https://host/path``) from an upstream template with ``{username}`` in it."""
    m = re.match(r"^https?://([^/?#]+)(.*)$", template)
    if not m or "{username}" not in template:
        return None
    host, rest = m.group(1), m.group(2)
    account = account or DEFAULT_ACCOUNT
    if "{username}" in host:
        if host.count("{username}") != 1 or not host.startswith("{username}."):
            return None
        parent = strip_host(host[len("{username}."):])
        return rf"^https?://(?P<{group}>{HOST_ACCOUNT})\.{re.escape(parent)}(?:[/?#].*)?$"
    host = strip_host(host.split(":")[0])
    before = rest.split("{username}", 1)[0]
    if not before or before == "/":
        tail = r"/?(?:[?#].*)?$"
    else:
        tail = r"(?:[/?#&].*)?$"
    return rf"^https?://{re.escape(host)}{re.escape(before or '/')}(?P<{group}>{account}){tail}"


def account_regex(check: str | None) -> str | None:
    """Maigret/Sherlock ``regexCheck`` as the account group's body, when it is a simple anchored pattern."""
    if not check or "|" in check or not check.startswith("^") or not check.endswith("$") or check.endswith("\\$"):
        return None
    body = check[1:-1]
    if "^" in body.replace("[^", "") or "$" in body or "(?" in body:
        return None
    try:
        re.compile(body)
    except re.error:
        return None
    return body


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    m = re.match(r"^(?:[a-z]+:)?//([^/?#:]+)", url.strip(), re.I)
    if not m or "{" in m.group(1):
        return None
    host = strip_host(m.group(1))
    return host if "." in host else None


def add_upstream(table: Table, layer: str, entry_name: str, hosts: list[str], regex: str | None,
                 category: str | None, category_detail: str | None, regions: list[tuple[str, str]],
                 out: Table | None = None) -> None:
    """One upstream site entry: merged into the platform owning its host, else a new platform.

    ``table`` decides who owns which domain; ``out`` receives the facts (the WhatsMyName layer writes into a table of
    its own, so that its facts stay in their separate file).
    """
    out = out or table
    source = f"{layer}:{entry_name}"
    primary = hosts[0]
    key = table.owner.get(primary) or _same_platform(table, entry_name, primary)
    if key is None:
        name = entry_name if entry_name.casefold() not in table.records else f"{entry_name} ({primary})"
        if name.casefold() in table.records:
            return
        key = table.add(name)
        out.add(name)
        out.fact(key, "name", name, source)
    else:
        out.add(table.records[key]["name"])
    for host in hosts:
        if _covered(table, host, key):
            continue
        if table.owner.get(host) is None:
            table.owner[host] = key
            out.fact(key, "domain", host, source)
    if regex and not pattern_problem(regex):
        out.fact(key, "url_pattern", regex, source)
    if category:
        out.fact(key, "category", category, source, category_detail)
    for region, detail in regions:
        out.fact(key, "region", COUNTRY_FIX.get(region, region), source, detail)


def _same_platform(table: Table, name: str, host: str) -> str | None:
    """The platform called ``name`` if ``host`` is its subdomain or has the same second-level label as one of its
    domains (Maigret's "Venmo" at account.venmo.com is the curated Venmo; its "Signal" forum at signalusers.org is not
    the Signal messenger)."""
    key = name.casefold()
    if key not in table.records:
        return None
    label = _site_label(host)
    for d, owner in table.owner.items():
        if owner == key and (host.endswith("." + d) or _site_label(d) == label):
            return key
    return None


def _site_label(host: str) -> str:
    """The label before the public suffix, roughly: 'venmo' for account.venmo.com, 'olx' for olx.com.br."""
    labels = host.split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in ("com", "co", "org", "net", "gov", "edu", "ac"):
        return labels[-3]
    return labels[-2] if len(labels) >= 2 else host


def _covered(table: Table, host: str, key: str) -> bool:
    labels = host.split(".")
    return any(table.owner.get(".".join(labels[i:])) == key for i in range(len(labels) - 1))


def tld_region(host: str) -> list[tuple[str, str]]:
    tld = host.rsplit(".", 1)[-1]
    if len(tld) == 2 and tld.isalpha() and tld not in GENERIC_CCTLDS:
        return [(COUNTRY_FIX.get(tld.upper(), tld.upper()), f"from the country-code domain .{tld}")]
    return []


def load_maigret(table: Table, data: dict) -> None:
    engines = data.get("engines", {})
    for name in sorted(data["sites"]):
        site = data["sites"][name]
        url = site.get("url")
        if not url and site.get("engine") in engines:
            url = engines[site["engine"]].get("site", {}).get("url")
        main = site.get("urlMain") or ""
        if url:
            url = url.replace("{urlMain}", main.rstrip("/")).replace("{urlSubpath}", site.get("urlSubpath", ""))
        hosts = [h for h in (host_of(main), host_of(url)) if h]
        if not hosts:
            continue
        hosts = list(dict.fromkeys(hosts))
        tags = site.get("tags", [])
        category = next((c for t, c in MAIGRET_CATEGORY if t in tags), None)
        group = "user_id" if (site.get("type", "").endswith("_id") or "(by id)" in name) else "username"
        regex = regex_from_template(url, account_regex(site.get("regexCheck")), group) if url else None
        regions = [(t.upper(), "Maigret country tag") for t in sorted(tags) if len(t) == 2 and t.isalpha()]
        regions = regions or tld_region(hosts[0])
        add_upstream(table, "maigret", name, hosts, regex, category,
                     f"Maigret tags: {', '.join(tags)}" if category else None, regions)


def load_sherlock(table: Table, data: dict) -> None:
    for name in sorted(k for k, v in data.items() if isinstance(v, dict)):
        site = data[name]
        url = (site.get("url") or "").replace("{}", "{username}")
        hosts = list(dict.fromkeys(h for h in (host_of(site.get("urlMain")), host_of(url)) if h))
        if not hosts:
            continue
        category = "adult content" if site.get("isNSFW") else None
        regex = regex_from_template(url, account_regex(site.get("regexCheck")), "username") if url else None
        add_upstream(table, "sherlock", name, hosts, regex, category,
                     "Sherlock isNSFW" if category else None, tld_region(hosts[0]))


def load_wmn(table: Table, data: dict) -> Table:
    out = Table()
    for site in sorted(data["sites"], key=lambda s: s["name"]):
        url = (site.get("uri_pretty") or site.get("uri_check") or "").replace("{account}", "{username}")
        hosts = list(dict.fromkeys(h for h in (host_of(site.get("uri_pretty")), host_of(site.get("uri_check")))
                                   if h))
        if not hosts:
            continue
        category = WMN_CATEGORY.get(site.get("cat"))
        regex = regex_from_template(url, None, "username")
        add_upstream(table, "wmn", site["name"], hosts, regex, category,
                     f"WhatsMyName category '{site['cat']}'" if category else None, tld_region(hosts[0]), out=out)
    return out


def records(table: Table) -> list[dict]:
    out = []
    for key in sorted(table.records):
        rec = dict(table.records[key])
        if not rec["facts"]:
            continue
        rec["facts"] = sorted(rec["facts"], key=lambda f: (f["field"], f["value"], f["source"], f.get("detail", "")))
        out.append(rec)
    return out


def build(shared: Path, out_dir: Path, curated_path: Path | None = None) -> dict[str, Path]:
    """Read the sources, write the shipped files into ``out_dir``; return them by name."""
    curated_path = curated_path or DATA_DIR / CURATED
    inputs = {"seed": shared / "seed_platforms.json", "maigret": shared / "maigret-data.json",
              "sherlock": shared / "sherlock-data.json", "wmn": shared / "wmn-data.json"}
    for path in inputs.values():
        if not path.is_file():
            raise BuildError(f"missing input {path}")
    load = {k: json.loads(p.read_text(encoding="utf-8")) for k, p in inputs.items()}
    curated = json.loads(curated_path.read_text(encoding="utf-8"))
    table = Table()
    for p in curated["platforms"]:  # a reason to share a domain may be given for a seed platform's claim
        for item in p.get("shared_domains", []):
            table.shares[(p["name"].casefold(), item["domain"])] = item["why"]
    load_seed(table, load["seed"])
    load_curated(table, curated)
    load_maigret(table, load["maigret"])
    load_sherlock(table, load["sherlock"])
    wmn_table = load_wmn(table, load["wmn"])
    layers = {
        "seed": {"file": "seed_platforms.json", "sha256": sha256(inputs["seed"]),
                 "licence": "project data (hand-checked; see its _about)"},
        "curated": {"file": f"artifacts/data/{CURATED}", "sha256": sha256(curated_path),
                    "licence": "project data (Apache-2.0); every entry cites its source"},
        "maigret": {"file": "maigret-data.json", "sha256": sha256(inputs["maigret"]),
                    "licence": "MIT, Copyright (c) 2020-2026 Soxoj; see LICENSE-maigret.txt"},
        "sherlock": {"file": "sherlock-data.json", "sha256": sha256(inputs["sherlock"]),
                     "licence": "MIT, Copyright (c) 2019 Sherlock Project; see LICENSE-sherlock.txt"},
    }
    main = {"format": FORMAT, "categories": list(CATEGORIES), "layers": layers, "platforms": records(table),
            "about": "Platform registry of phone-forensics: seed, curated, Maigret and Sherlock layers. Built by "
                     "`python -m artifacts.platform_build`; do not edit by hand."}
    wmn = {"format": FORMAT, "layers": {"wmn": {"file": "wmn-data.json", "sha256": sha256(inputs["wmn"]),
                                                "licence": "CC BY-SA 4.0, Copyright (C) 2015-2026 Micah Hoffman; "
                                                           "see LICENSE-wmn.md"}},
           "platforms": records(wmn_table),
           "about": "Facts derived from WhatsMyName (https://github.com/WebBreacher/WhatsMyName) by "
                    "`python -m artifacts.platform_build`: names, domains and profile-URL patterns taken from its "
                    "wmn-data.json, categories mapped. This file is licensed under CC BY-SA 4.0 (LICENSE-wmn.md)."}
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {
        "platforms.json": _dump(main), "platforms-wmn.json": _dump(wmn),
        "LICENSE-maigret.txt": (shared / "maigret-LICENSE").read_text(encoding="utf-8"),
        "LICENSE-sherlock.txt": (shared / "sherlock-LICENSE").read_text(encoding="utf-8"),
        "LICENSE-wmn.md": (shared / "wmn-LICENSE.md").read_text(encoding="utf-8"),
        "NOTICE": notice(load["wmn"]),
    }
    paths = {}
    for name, text in written.items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8", newline="\n")
        paths[name] = path
    return paths


def notice(wmn: dict) -> str:
    authors = ", ".join(wmn.get("authors", []))
    return (
        "Platform registry data of phone-forensics: attributions\n\n"
        "platforms.json contains facts (site names, domains, profile-URL templates turned into patterns, tags\n"
        "mapped to categories and regions) derived from:\n"
        "  - Maigret, https://github.com/soxoj/maigret, maigret/resources/data.json\n"
        "    MIT License, Copyright (c) 2020-2026 Soxoj (LICENSE-maigret.txt)\n"
        "  - Sherlock, https://github.com/sherlock-project/sherlock, sherlock_project/resources/data.json\n"
        "    MIT License, Copyright (c) 2019 Sherlock Project (LICENSE-sherlock.txt)\n"
        "and the project's own seed and curated layers (Apache-2.0).\n\n"
        "platforms-wmn.json is a separate file that contains only facts derived from:\n"
        "  - WhatsMyName, https://github.com/WebBreacher/WhatsMyName, wmn-data.json\n"
        f"    Copyright (C) 2015-2026 Micah Hoffman; contributors: {authors}\n"
        "    licensed under CC BY-SA 4.0 (LICENSE-wmn.md); platforms-wmn.json is shared under the same licence.\n"
        "    Changes: entries reduced to name, domains and a profile-URL regex; categories mapped to the\n"
        "    registry's categories.\n"
    )


def _dump(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m artifacts.platform_build", description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=DEFAULT_SHARED,
                        help=f"folder with the upstream files (default: {DEFAULT_SHARED})")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="output folder (default: the package's data)")
    args = parser.parse_args(argv)
    try:
        paths = build(args.shared, args.out)
    except (BuildError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    main_data = json.loads(paths["platforms.json"].read_text(encoding="utf-8"))
    wmn_data = json.loads(paths["platforms-wmn.json"].read_text(encoding="utf-8"))
    print(f"{len(main_data['platforms'])} platform records in platforms.json, {len(wmn_data['platforms'])} in "
          f"platforms-wmn.json, written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
