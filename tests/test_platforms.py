"""The platform registry: its shipped data, its build, URL/domain/app matching, the case overlay and the CLI."""
import json
import re
from collections import defaultdict

import pytest
from click.testing import CliRunner

from artifacts import platform_build
from artifacts.platforms import (CATEGORIES, LAYERS, OverlayError, Registry, canonical_url, load_overlay,
                                 pattern_problem, shipped_data, validate_overlay)
from cases.case import Case
from cases.overlay import load_case_registry
from cli import main
from tests.conftest_paths import REPO

SHARED = REPO.parent / "shared" / "data" / "platforms"
DATA = REPO / "artifacts" / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "seed_platforms.json").is_file(),
                                  reason=f"upstream platform lists not present at {SHARED}")


@pytest.fixture(scope="module")
def registry():
    return Registry.load()


# --- the build -----------------------------------------------------------------------------------------------------

@needs_shared
def test_build_is_reproducible_and_equals_the_shipped_files(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    platform_build.build(SHARED, first)
    platform_build.build(SHARED, second)
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir()) == sorted(
        ["platforms.json", "platforms-wmn.json", "LICENSE-maigret.txt", "LICENSE-sherlock.txt", "LICENSE-wmn.md",
         "NOTICE"])
    for name in names:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
        assert (first / name).read_bytes() == (DATA / name).read_bytes(), f"{name} is stale: rerun the build"


@needs_shared
def test_build_refuses_a_domain_claimed_twice_without_a_reason(tmp_path):
    curated = json.loads((DATA / platform_build.CURATED).read_text(encoding="utf-8"))
    curated["platforms"] = [p for p in curated["platforms"] if p["name"] != "Telegram X"]  # drops the reason
    path = tmp_path / "curated.json"
    path.write_text(json.dumps(curated), encoding="utf-8")
    with pytest.raises(platform_build.BuildError, match=r"t\.me claimed by Telegram and Telegram X"):
        platform_build.build(SHARED, tmp_path / "out", path)


def test_build_command_reports_a_missing_input_in_one_line(tmp_path, capsys):
    assert platform_build.main(["--shared", str(tmp_path / "none"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: missing input ") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_template_to_regex():
    regex = platform_build.regex_from_template("https://www.example.com/{username}", None, "username")
    assert re.search(regex, "https://example.com/bob") and re.search(regex, "https://example.com/bob/?x=1")
    assert not re.search(regex, "https://example.com/bob/posts")  # a root-level name takes the whole path
    deep = platform_build.regex_from_template("https://example.com/user/{username}/about", "[0-9]+", "user_id")
    assert re.search(deep, "https://example.com/user/42/posts").group("user_id") == "42"
    assert not re.search(deep, "https://example.com/user/bob")
    sub = platform_build.regex_from_template("https://{username}.example.com/", None, "username")
    assert re.search(sub, "https://alice.example.com/x").group("username") == "alice"
    assert platform_build.regex_from_template("https://example.com/search", None, "username") is None


# --- the shipped data ----------------------------------------------------------------------------------------------

def test_data_validates(registry):
    assert len(registry.platforms) >= 400
    owners = defaultdict(list)
    for p in registry.platforms:
        assert p.category in CATEGORIES, p.name
        assert p.sources and set(p.sources) <= set(LAYERS), p.name
        assert all(f.source for f in p.facts), p.name
        for pattern in p.url_patterns:
            assert pattern_problem(pattern.regex) is None, (p.name, pattern.regex)
            re.compile(pattern.regex)
        for field, values in (("domain", p.domains), ("android", p.android), ("ios", p.ios)):
            for value in values:
                assert p.sources_of(field, value), (p.name, field, value)  # every fact keeps its source
        for d in p.domains:
            owners[d].append(p)
    for domain, claimants in owners.items():
        if len(claimants) > 1:  # allowed only where the data says why
            explained = [p.name for p in claimants if domain in dict(p.shared_domains)]
            assert len(explained) >= len(claimants) - 1, (domain, [p.name for p in claimants])
    assert dict(registry.get("Telegram X").shared_domains)["t.me"]


def test_upstream_entries_merge_into_the_platform_they_describe(registry):
    vk = registry.get("VK")  # Maigret's "VK" and "VK (by id)" add to the seed's VK
    assert {"seed", "maigret"} <= set(vk.sources)
    assert [f for f in vk.facts if f.field == "url_pattern" and f.source == "maigret:VK (by id)"]
    # ... but the seed's hand-checked patterns are the ones used for matching
    assert {p.source for p in vk.url_patterns} == {"seed"}
    venmo = registry.get("Venmo")  # Maigret's "Venmo" lives at account.venmo.com, a subdomain of the curated one
    assert "maigret" in venmo.sources and registry.get("Venmo (account.venmo.com)") is None
    forum = registry.get("Signal (community.signalusers.org)")  # a forum called "Signal" is not the messenger
    assert forum is not None and forum.category == "forum" and registry.get("Signal").category == "messenger"


def test_licence_layers_stay_in_their_files():
    main_data, wmn_data = shipped_data()
    main_layers = {f["source"].split(":", 1)[0] for p in main_data["platforms"] for f in p["facts"]}
    wmn_layers = {f["source"].split(":", 1)[0] for p in wmn_data["platforms"] for f in p["facts"]}
    assert main_layers == {"seed", "curated", "maigret", "sherlock"}
    assert wmn_layers == {"wmn"}
    notice = (DATA / "NOTICE").read_text(encoding="utf-8")
    assert "CC BY-SA 4.0" in notice and "platforms-wmn.json" in notice and "MIT" in notice
    assert "Attribution-ShareAlike" in (DATA / "LICENSE-wmn.md").read_text(encoding="utf-8")


REGIONAL = {  # host → (platform, category): the platforms examiners meet in the corridor cases
    "olx.ua": ("OLX", "classifieds/marketplace"), "olx.pl": ("OLX", "classifieds/marketplace"),
    "olx.ro": ("OLX", "classifieds/marketplace"), "work.ua": ("Work.ua", "jobs/recruitment"),
    "rabota.ua": ("robota.ua", "jobs/recruitment"), "robota.ua": ("robota.ua", "jobs/recruitment"),
    "hh.ru": ("hh.ru", "jobs/recruitment"), "avito.ru": ("Avito", "classifieds/marketplace"),
    "vk.com": ("VK", "social network"), "ok.ru": ("Odnoklassniki (OK.ru)", "social network"),
    "pracuj.pl": ("Pracuj.pl", "jobs/recruitment"), "otodom.pl": ("Otodom", "classifieds/marketplace"),
    "publi24.ro": ("Publi24", "classifieds/marketplace"), "lajumate.ro": ("LaJumate", "classifieds/marketplace"),
    "weixin.qq.com": ("WeChat", "messenger"), "qq.com": ("QQ", "messenger"), "weibo.com": ("Weibo", "social network"),
    "douyin.com": ("Douyin", "social network"), "xiaohongshu.com": ("Xiaohongshu (RED)", "social network"),
    "zalo.me": ("Zalo", "messenger"), "line.me": ("LINE", "messenger"), "kakao.com": ("KakaoTalk", "messenger"),
    "tantanapp.com": ("Tantan", "dating"), "immomo.com": ("Momo", "dating"), "grindr.com": ("Grindr", "dating"),
    "badoo.com": ("Badoo", "dating"), "bumble.com": ("Bumble", "dating"), "tinder.com": ("Tinder", "dating"),
    "massagerepublic.com": ("Massage Republic", "escort/adult ads"), "binance.com": ("Binance", "crypto exchange"),
    "gcash.com": ("GCash", "money transfer/payments"), "shopee.vn": ("Shopee", "online shop"),
}


@pytest.mark.parametrize("host", sorted(REGIONAL))
def test_regional_platforms_are_present(registry, host):
    m = registry.match_domain(host)
    assert m is not None and (m.platform, m.category) == REGIONAL[host]


# --- matching ------------------------------------------------------------------------------------------------------

URLS = [  # value → (platform, kind, account, account_kind)
    ("t.me/poland_rabota_official", ("Telegram", "profile", "poland_rabota_official", "username")),
    ("HTTPS://T.ME/Poland_Rabota_Official", ("Telegram", "profile", "poland_rabota_official", "username")),
    ("http://www.t.me/poland_rabota_official?start=1", ("Telegram", "profile", "poland_rabota_official", "username")),
    ("https://t.me/joinchat/AAAAAEkq3-xyz", ("Telegram", "invite", "AAAAAEkq3-xyz", "invite")),
    ("https://t.me/+AbCdEf12345", ("Telegram", "invite", "AbCdEf12345", "invite")),
    ("t.me/+380931114562", ("Telegram", "profile", "380931114562", "phone")),
    ("https://t.me/s/poland_rabota", ("Telegram", "channel", "poland_rabota", "channel")),
    ("t.me/joinchat", ("Telegram", "domain", None, None)),
    ("t.me/share", ("Telegram", "domain", None, None)),
    ("tg://resolve?domain=Some_User", ("Telegram", "profile", "some_user", "username")),
    ("https://wa.me/380931114562", ("WhatsApp", "profile", "380931114562", "phone")),
    ("https://api.whatsapp.com/send?phone=48123456789", ("WhatsApp", "profile", "48123456789", "phone")),
    ("https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv", ("WhatsApp", "invite", "AbCdEfGhIjKlMnOpQrStUv", "invite")),
    ("https://www.instagram.com/Some.User/", ("Instagram", "profile", "some.user", "username")),
    ("m.instagram.com/some.user", ("Instagram", "profile", "some.user", "username")),
    ("https://www.instagram.com/p/Cx1abc/", ("Instagram", "domain", None, None)),
    ("instagram.com/reels", ("Instagram", "domain", None, None)),
    ("instagram.com/explore", ("Instagram", "domain", None, None)),
    ("https://www.facebook.com/groups/123456", ("Facebook", "group", "123456", "group")),
    ("facebook.com/groups", ("Facebook", "domain", None, None)),
    ("https://mobile.facebook.com/john.smith.77", ("Facebook", "profile", "john.smith.77", "username")),
    ("https://www.facebook.com/profile.php?id=100012345678", ("Facebook", "profile", "100012345678", "user_id")),
    ("facebook.com/marketplace/item/987654", ("Facebook", "post", None, "item_id")),
    ("m.me/john.smith", ("Messenger", "profile", "john.smith", "username")),
    ("https://vk.com/id123456", ("VK", "profile", "123456", "user_id")),
    ("vk.com/club777", ("VK", "group", "777", "group_id")),
    ("https://m.vk.com/Durov", ("VK", "profile", "durov", "username")),
    ("vk.com/feed", ("VK", "domain", None, None)),
    ("https://ok.ru/profile/578912345", ("Odnoklassniki (OK.ru)", "profile", "578912345", "user_id")),
    ("https://www.olx.pl/oferty/uzytkownik/1aBc2/", ("OLX", "profile", "1aBc2", "user_id")),
    ("https://www.tiktok.com/@Some.User", ("TikTok", "profile", "some.user", "username")),
    ("https://x.com/SomeUser", ("Twitter / X", "profile", "someuser", "username")),
    ("twitter.com/home", ("Twitter / X", "domain", None, None)),
    ("https://user.qzone.qq.com/10001", ("QQ", "profile", "10001", "qq")),
    ("https://weibo.com/u/1234567890", ("Weibo", "profile", "1234567890", "user_id")),
    ("zalo.me/0912345678", ("Zalo", "profile", "0912345678", "phone")),
    ("https://line.me/R/ti/p/@shop123", ("LINE", "profile", "shop123", "line_id")),
    ("https://www.linkedin.com/in/jan-kowalski-123", ("LinkedIn", "profile", "jan-kowalski-123", "username")),
    ("https://www.work.ua/jobs/5123456/", ("Work.ua", "post", None, "job_id")),
    ("https://www.avito.ru/moskva/vakansii/rabota_123", ("Avito", "domain", None, None)),
    ("https://jobs.pracuj.pl/x", ("Pracuj.pl", "domain", None, None)),
    ("massagerepublic.com/u/anna", ("Massage Republic", "profile", "anna", "username")),
    ("https://discord.gg/abc-123", ("Discord", "invite", "abc-123", "invite")),
    ("mail.google.com/mail/u/0", ("Gmail", "domain", None, None)),
    ("onlyfans.com/anna", ("OnlyFans", "profile", "anna", "username")),
    ("onlyfans.com/login", ("OnlyFans", "domain", None, None)),
    ("facebook.com/index.php", ("Facebook", "domain", None, None)),
    ("t.me/" + "a" * 40, ("Telegram", "domain", None, None)),  # longer than a Telegram name can be
    ("https://t.me/%2Bfoo", ("Telegram", "domain", None, None)),
]


@pytest.mark.parametrize("value,expected", URLS)
def test_match_url(registry, value, expected):
    m = registry.match_url(value)
    assert m is not None, value
    assert (m.platform, m.kind, m.account, m.account_kind) == expected
    assert m.rule.startswith("pattern " if m.kind != "domain" else "domain ") and m.source


def test_most_specific_domain_wins(registry):
    assert registry.match_domain("weixin.qq.com").platform == "WeChat"
    assert registry.match_domain("www.qq.com").platform == "QQ"
    assert registry.match_domain("work.weixin.qq.com").platform == "WeCom"
    assert registry.match_domain("voice.google.com").platform == "Google Voice"
    assert registry.match_domain("shop.some-sub.olx.ua").platform == "OLX"
    assert registry.match_domain("T.ME.").rule == "domain t.me"
    assert registry.match_domain("t.me").platform == "Telegram"  # not Telegram X, which only shares it
    assert registry.match_domain("m.me").platform == "Messenger"  # 'm.' is not stripped from a two-label host
    assert registry.match_domain("example.invalid") is None
    assert registry.match_domain("notolx.ua") is None


def test_canonical_url():
    assert canonical_url("HTTP://WWW.Example.COM/Path?q=1#f") == ("web", "example.com",
                                                                  "https://example.com/Path?q=1#f")
    assert canonical_url("mobile.example.com/x")[1] == "example.com"
    assert canonical_url("tg://resolve?domain=x") == ("tg", "", "tg://resolve?domain=x")
    assert canonical_url("not a url") is None and canonical_url("") is None


APPS = [
    ("com.whatsapp", "WhatsApp", "android"), ("net.whatsapp.WhatsApp", "WhatsApp", "ios"),
    ("org.telegram.messenger", "Telegram", "android"), ("ph.telegra.telegraph", "Telegram", "ios"),
    ("com.tencent.mm", "WeChat", "android"), ("com.zing.zalo", "Zalo", "android"),
    ("com.kakao.talk", "KakaoTalk", "android"), ("com.binance.dev", "Binance", "crypto exchange"),
    ("com.ebay.kleinanzeigen", "Kleinanzeigen", "android"), ("com.grindrguy.grindrx", "Grindr", "ios"),
]


@pytest.mark.parametrize("app_id,platform,kind", APPS)
def test_match_app(registry, app_id, platform, kind):
    m = registry.match_app(app_id)
    assert m is not None and m.platform == platform
    assert m.kind == kind or m.category == kind
    assert m.rule.lower().endswith(app_id.lower()) and m.source


def test_app_ids_keep_where_they_were_seen(registry):
    facts = registry.get("WhatsApp").sources_of("android", "com.whatsapp")
    assert facts and "ALEAPP" in facts[0].detail and "confidence A" in facts[0].detail
    assert registry.match_app("com.example.unknown") is None


def test_match_email(registry):
    m = registry.match_email("mailto:Recruiter@OLX.pl")
    assert (m.platform, m.kind, m.account, m.rule) == ("OLX", "email", "recruiter@olx.pl", "e-mail domain olx.pl")
    assert registry.match("bob@gmail.com")[0].platform == "Gmail"
    assert registry.match_email("x@unknown.example") is None and registry.match_email("not an address") is None


def test_match_any_value(registry):
    assert [m.platform for m in registry.match("com.whatsapp")] == ["WhatsApp"]
    assert registry.match_account_type("org.telegram.messenger").kind == "account_type"
    assert registry.match("no such thing") == []
    assert registry.match("t.me/x_channel_1")[0].account == "x_channel_1"
    assert Registry.load().match("vk.com/id1") == registry.match("vk.com/id1")  # deterministic


# --- the overlay ---------------------------------------------------------------------------------------------------

OVERLAY = """\
about: Operation Example
platforms:
  - name: Rabota Express PL
    category: jobs/recruitment
    domains: [WWW.Rabota-Express.example]
    url_patterns: ['^https?://rabota-express\\.example/u/(?P<username>\\w+)']
    regions: [pl]
    source: exhibit JD/4
    flag: suspected
    flag_note: fake warehouse job adverts
    flag_source: intelligence report 2026/17
flags:
  - platform: telegram
    flag: confirmed
    note: recruitment channel
    source: statement S-4
watchlist:
  - value: "+380931114562"
    kind: phone
    note: recruiter in op. Kestrel
    source: op. Kestrel chart v3
"""


def test_overlay_adds_flags_and_watchlist(tmp_path):
    path = tmp_path / "overlay.yaml"
    path.write_text(OVERLAY, encoding="utf-8")
    overlay = load_overlay(path)
    assert overlay["platforms"][0]["domains"] == ["rabota-express.example"]
    assert overlay["platforms"][0]["regions"] == ["PL"] and overlay["flags"][0]["platform"] == "Telegram"
    registry = Registry.load(overlay)
    m = registry.match_url("https://www.rabota-express.example/u/Ivan")
    assert (m.platform, m.account, m.flag, m.source) == ("Rabota Express PL", "ivan", "suspected",
                                                         "overlay: exhibit JD/4")
    telegram = registry.get("Telegram")
    assert (telegram.flag, telegram.flag_note, telegram.flag_source) == ("confirmed", "recruitment channel",
                                                                         "statement S-4")
    assert registry.match_url("t.me/somebody").flag == "confirmed"
    assert registry.watchlisted(" +380931114562 ")[0]["note"] == "recruiter in op. Kestrel"
    assert Registry.load().get("Telegram").flag is None  # the shipped registry is untouched
    json_path = tmp_path / "overlay.json"
    json_path.write_text(json.dumps(overlay), encoding="utf-8")
    assert load_overlay(json_path) == overlay == validate_overlay(overlay)  # normalised form is stable


BAD = """\
platforms:
  - name: Telegram
    category: datng
    source: x
    domains: [t.me, "bad domain"]
    url_patterns: ['^https://x\\.example/(?P<foo>\\w+)', 'https://x']
  - category: dating
flags:
  - platform: NoSuchSite
    flag: maybe
watchlist:
  - value: ""
    kind: Phone Number
    note: n
    source: s
extra: 1
"""


def test_overlay_problems_are_all_listed_with_their_location(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(OverlayError) as caught:
        load_overlay(path)
    problems = caught.value.problems
    expected = [
        "extra: unknown key (allowed: about, flags, platforms, watchlist)",
        "platforms[0].category: unknown category 'datng' (choose from " + ", ".join(CATEGORIES) + ")",
        "platforms[0].name: 'Telegram' is already in the registry (flag it under 'flags:' instead)",
        "platforms[0].domains[0]: 't.me' already belongs to Telegram",
        "platforms[0].domains[1]: 'bad domain' is not a domain name",
        "platforms[0].url_patterns[0]: needs a named group naming the account, one of: " +
        ", ".join(sorted(__import__("artifacts.platforms").platforms.ACCOUNT_GROUPS)),
        "platforms[0].url_patterns[1]: must start with '^' (patterns are matched against 'https://host/path', "
        "host without www./m.)",
        "platforms[1].name: missing", "platforms[1].source: missing",
        "flags[0].flag: unknown flag 'maybe' (choose from suspected, confirmed)",
        "flags[0].note: missing", "flags[0].source: missing",
        "flags[0].platform: unknown platform 'NoSuchSite' (see `forensics platforms list`)",
        "watchlist[0].value: missing",
        "watchlist[0].kind: 'Phone Number' must be a lower-case word such as phone, email, handle, url",
    ]
    assert problems == expected


@pytest.mark.parametrize("text,problem", [
    ("platforms: [\n  - name: x\n", "(file): not valid YAML at line"),
    ("- just\n- a list\n", "(top): must be a mapping"),
    ("platforms: 3\n", "platforms: must be a list"),
    ("flags:\n  - platform: Telegram\n    flag: confirmed\n    note: n\n    source: s\n"
     "  - platform: TELEGRAM\n    flag: suspected\n    note: n\n    source: s\n",
     "flags[1].platform: 'TELEGRAM' is already flagged at flags[0]"),
    ("platforms:\n  - name: New Site\n    category: other\n    source: s\n    flag: suspected\n    flag_note: n\n"
     "flags:\n  - platform: new site\n    flag: confirmed\n    note: n\n    source: s\n",
     "flags[0].platform: 'new site' is already flagged at platforms[0].flag"),
    ("platforms:\n  - name: New Site\n    category: other\n    source: s\n    flag_note: n\n",
     "platforms[0].flag: missing (flag_note/flag_source given without a flag)"),
])
def test_overlay_file_level_problems(tmp_path, text, problem):
    path = tmp_path / "o.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OverlayError) as caught:
        load_overlay(path)
    assert any(p.startswith(problem) for p in caught.value.problems), caught.value.problems


# --- the command line ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["platforms"], ["platforms", "list"], ["platforms", "match"],
                                     ["case", "overlay"]])
def test_platform_commands_have_help(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_cli_platforms_list_and_match():
    runner = CliRunner()
    listed = runner.invoke(main, ["platforms", "list", "--category", "dating", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert rows and {r["category"] for r in rows} == {"dating"} and "Tinder" in {r["name"] for r in rows}
    assert [r["name"].casefold() for r in rows] == sorted(r["name"].casefold() for r in rows)
    table = runner.invoke(main, ["platforms", "list", "--category", "escort/adult ads"])
    assert table.exit_code == 0 and "Massage Republic\tescort/adult ads" in table.output
    bad = runner.invoke(main, ["platforms", "list", "--category", "datng"])
    assert bad.exit_code == 2 and bad.output.startswith("error: unknown category 'datng'")
    matched = runner.invoke(main, ["platforms", "match", "https://t.me/joinchat/AAAAAEkq3"])
    assert matched.exit_code == 0
    assert matched.output.splitlines()[:3] == [
        "Telegram [messenger]: invite account=AAAAAEkq3 (invite)",
        r"  rule: pattern ^(?:https?://)?(?:t\.me|telegram\.me|telegram\.dog)/(?:joinchat/|\+)"
        r"(?P<invite>[A-Za-z0-9_-]{5,})",
        "  source: seed"]
    app = runner.invoke(main, ["platforms", "match", "com.whatsapp"])
    assert app.output.splitlines()[:2] == ["WhatsApp [messenger]: android", "  rule: android package com.whatsapp"]
    publi24 = runner.invoke(main, ["platforms", "match", "https://www.publi24.ro/anunturi/"])
    assert publi24.output.splitlines()[0] == "Publi24 [classifieds/marketplace]: domain"
    assert "  notes: general classifieds with a 'matrimoniale/escorte' (escort) section" in publi24.output
    none = runner.invoke(main, ["platforms", "match", "nothing-here"])
    assert none.exit_code == 1 and none.output == "no platform matches 'nothing-here'\n"


def test_cli_case_overlay(tmp_path):
    runner = CliRunner()
    case_dir = tmp_path / "case"
    assert runner.invoke(main, ["case", "init", str(case_dir)]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    result = runner.invoke(main, ["case", "overlay", str(case_dir), str(bad)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.output.splitlines()
    assert lines[-1] == f"error: {bad}: 15 problem(s); overlay not installed"
    assert f"{bad}: platforms[0].category: unknown category 'datng'" in result.output
    assert not (case_dir / "overlay.json").exists()
    good = tmp_path / "good.yaml"
    good.write_text(OVERLAY, encoding="utf-8")
    result = runner.invoke(main, ["case", "overlay", str(case_dir), str(good)])
    assert result.exit_code == 0, result.output
    assert result.output == "overlay installed: 1 platform(s), 1 flag(s), 1 watch-listed identifier(s)\n"
    installed = json.loads((case_dir / "overlay.json").read_text(encoding="utf-8"))
    assert installed == load_overlay(good)
    audit = Case.open(case_dir).audit.entries()[-1]
    assert audit["action"] == "case overlay" and audit["flags"] == 1 and len(audit["sha256"]) == 64
    assert load_case_registry(Case.open(case_dir)).get("Telegram").flag == "confirmed"
    matched = runner.invoke(main, ["platforms", "match", "--case", str(case_dir), "+380931114562"])
    assert matched.exit_code == 0
    assert matched.output == "WATCH-LISTED phone: recruiter in op. Kestrel (source: op. Kestrel chart v3)\n"
    flagged = runner.invoke(main, ["platforms", "match", "--case", str(case_dir), "t.me/someone"])
    assert "  FLAGGED confirmed: recruitment channel (source: statement S-4)" in flagged.output
    (case_dir / "overlay.json").write_text("{broken", encoding="utf-8")
    damaged = runner.invoke(main, ["platforms", "list", "--case", str(case_dir)])
    assert damaged.exit_code == 2 and "is damaged" in damaged.output
