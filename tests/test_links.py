"""Cross-device links on a five-device case built at test time (raw ext4, E01, tar, folder, iPhone tar.gz): the
exact link set, every sighting traced to its row, and no false merges (two Annas, a short code on every phone, the
same local number in two countries)."""
from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from artifacts.platforms import Registry
from cases import footprint as footprint_mod, links as links_mod
from cases.case import Case
from cases.batch import ingest_device
from cli import main
from tests.fixtures import identifier_case as ic
from tests.fixtures.images import missing_tools

pytestmark = pytest.mark.skipif(bool(missing_tools("mke2fs", "sfdisk", "ewfacquire")),
                                reason=f"image tools missing: {missing_tools('mke2fs', 'sfdisk', 'ewfacquire')}")

OVERLAY = {
    "flags": [{"platform": "Telegram", "flag": "suspected", "note": "recruitment channel in case files",
               "source": "test overlay"}],
    "watchlist": [{"value": "+380 93 111 4562", "note": "recruiter in op-north", "source": "op-north report 7"},
                  {"value": "+48 601 234 567", "note": "victim's sister", "source": "op-north report 9"}],
}


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Case:
    root = tmp_path_factory.mktemp("links")
    evidence = ic.build(root / "evidence")
    case = Case.init(root / "case")
    for device_id, paths in evidence.items():
        result = ingest_device(case, paths, device_id)
        assert result["status"] == "ok", result.get("error")
    return case


def _links(case, registry=None, **filters):
    store = case.store()
    try:
        links_mod.build(store, registry)
        return links_mod.links(store, registry, **filters)
    finally:
        store.close()


def test_the_exact_link_set(case):
    found = [(f["identifier"], f["kind"], f["devices"], len(f["sightings"])) for f in _links(case)]
    assert found == [
        (ic.OLEH, "phone", ["nl-folder", "pl-e01", "ua-raw"], 9),
        ("oleh.rabota@example.com", "email", ["nl-folder", "ua-raw", "ua-tar"], 3),
        (ic.CHANNEL, "handle", ["pl-e01", "ua-raw", "ua-tar"], 3),
        (ic.ANNA_UA, "phone", ["ua-raw", "ua-tar"], 3),
        (ic.GROUP, "group", ["pl-e01", "ua-raw"], 2),
        (ic.IPHONE_OWNER, "phone", ["iphone", "ua-raw"], 2),
    ]


def test_every_spelling_is_kept_with_its_source_row(case):
    oleh = next(f for f in _links(case) if f["identifier"] == ic.OLEH)
    assert oleh["platforms"] == ["WhatsApp"]
    assert oleh["also_known_as"] == ["oleh.rabota@example.com"]  # tied by ua-raw's contact card
    written = sorted({(s["device_id"], s["artifact"], s["role"], s["written_as"]) for s in oleh["sightings"]})
    assert written == [
        ("nl-folder", "messages", "sender", ic.OLEH_JID),
        ("pl-e01", "contacts", "contact", "00380 93 111 45 62"),
        ("pl-e01", "messages", "sender", "+380931114562"),
        ("pl-e01", "messages", "sender", ic.OLEH_JID),
        ("ua-raw", "contacts", "contact", "093 111 4562"),
        ("ua-raw", "messages", "sender", "0931114562"),
        ("ua-raw", "messages", "sender", ic.OLEH_JID),
    ]
    contact = next(s for s in oleh["sightings"] if s["device_id"] == "pl-e01" and s["artifact"] == "contacts")
    assert contact["source_path"] == "/data/com.android.providers.contacts/databases/contacts2.db"
    assert (contact["source_table"], contact["source_row"]) == ("raw_contacts", "1")
    channel = next(f for f in _links(case) if f["identifier"] == ic.CHANNEL)
    assert sorted(s["written_as"] for s in channel["sightings"]) == [
        "https://t.me/Poland_Rabota_Official", "t.me/poland_rabota_official", "t.me/poland_rabota_official"]
    assert {s["role"] for s in channel["sightings"]} == {"mentioned"}


def test_no_false_merges(case):
    store = case.store()
    try:
        links_mod.build(store)
        rows = {r["identifier"]: r for r in store.rows("identifiers")}
    finally:
        store.close()
    # two women called Anna: two identifiers, and the name ties nothing
    assert rows[ic.ANNA_UA]["devices"] == ["ua-raw", "ua-tar"] and rows[ic.ANNA_PL]["devices"] == ["pl-e01"]
    assert rows[ic.ANNA_UA]["also_known_as"] is None and rows[ic.ANNA_PL]["also_known_as"] is None
    # the same local number read in two countries
    assert rows["+380612345678"]["devices"] == ["ua-raw"] and rows["+31612345678"]["devices"] == ["nl-folder"]
    # the short code every Android phone received is scoped to its region and not linked by default
    assert {k: rows[k]["devices"] for k in rows if k.endswith(":7494")} == {
        "UA:7494": ["ua-raw", "ua-tar"], "PL:7494": ["pl-e01"], "NL:7494": ["nl-folder"]}
    assert rows["UA:7494"]["kind"] == "shortcode"
    assert [f["identifier"] for f in _links(case, kind="shortcode")] == ["UA:7494"]
    # the iPhone's own WhatsApp group is another group
    assert rows["120363000000000001@g.us"]["devices"] == ["iphone"]


def test_device_regions_and_reasons(case):
    store = case.store()
    try:
        regions = {r["device_id"]: (r["default_region"], r["region_reason"]) for r in store.rows("devices")}
    finally:
        store.close()
    assert regions == {"iphone": ("US", "iccid country code"), "nl-folder": ("NL", "time zone Europe/Amsterdam"),
                       "pl-e01": ("PL", "time zone Europe/Warsaw"), "ua-raw": ("UA", "time zone Europe/Kyiv"),
                       "ua-tar": ("UA", "time zone Europe/Kyiv")}


def test_filters_flags_and_watchlist(case):
    registry = Registry.load(OVERLAY)
    assert [f["identifier"] for f in _links(case, registry, min_devices=3)] == [
        ic.OLEH, "oleh.rabota@example.com", ic.CHANNEL]
    assert [f["identifier"] for f in _links(case, registry, kind="email")] == ["oleh.rabota@example.com"]
    assert [f["identifier"] for f in _links(case, registry, platform="whatsapp")] == [ic.OLEH, ic.GROUP]
    assert [f["identifier"] for f in _links(case, registry, category="messenger")] == [ic.OLEH, ic.CHANNEL,
                                                                                        ic.GROUP]
    flagged = _links(case, registry, flagged=True)
    assert [(f["identifier"], f["flagged"]) for f in flagged] == [(ic.CHANNEL, ["Telegram (suspected)"])]
    watched = _links(case, registry, watchlist=True)  # seen on one device is enough
    assert [(f["identifier"], f["devices"], [w["note"] for w in f["watchlist"]]) for f in watched] == [
        (ic.OLEH, ["nl-folder", "pl-e01", "ua-raw"], ["recruiter in op-north"]),
        (ic.ANNA_PL, ["pl-e01"], ["victim's sister"])]


def test_linking_is_incremental_and_deterministic(case):
    store = case.store()
    try:
        assert links_mod.build(store)["rebuilt"] in (True, False)
        assert links_mod.build(store)["rebuilt"] is False  # nothing changed since
        first = list(store.rows("identifiers"))
        links_mod.build(store, force=True)
        again = list(store.rows("identifiers"))
    finally:
        store.close()
    strip = [{k: v for k, v in r.items() if k != "id"} for r in first]
    assert strip == [{k: v for k, v in r.items() if k != "id"} for r in again]


def test_footprint_lists_platforms_with_evidence_flagged_first(case):
    store = case.store()
    try:
        links_mod.build(store)
        result = footprint_mod.footprint(store, Registry.load(OVERLAY), "ua-raw")
    finally:
        store.close()
    platforms = [(p["platform"], p["flag"], p["evidence"]) for p in result[0]["platforms"]]
    assert platforms == [
        ("Telegram", "suspected", {"installed_app": [], "account": [], "messages": 0, "visits": 0, "links": 1}),
        ("WhatsApp", None, {"installed_app": [], "account": [], "messages": 2, "visits": 0, "links": 0}),
    ]


def test_cli_links_footprint_and_exports(case):
    runner = CliRunner()
    out = runner.invoke(main, ["links", str(case.root), "--format", "json"])
    assert out.exit_code == 0, out.output
    parsed = json.loads(out.output)
    assert [f["identifier"] for f in parsed] == [ic.OLEH, "oleh.rabota@example.com", ic.CHANNEL, ic.ANNA_UA,
                                                 ic.GROUP, ic.IPHONE_OWNER]
    assert set(parsed[0]) >= {"identifier", "kind", "platforms", "devices", "also_known_as", "sightings"}
    assert set(parsed[0]["sightings"][0]) == {"device_id", "artifact", "role", "ts", "written_as", "source_path",
                                              "source_table", "source_row"}
    table = runner.invoke(main, ["links", str(case.root), "--min-devices", "3"])
    assert table.exit_code == 0 and table.output.splitlines()[0].startswith(f"{ic.OLEH}  [phone]  devices ")
    rows = list(csv.reader(io.StringIO(runner.invoke(main, ["links", str(case.root), "--format", "csv"]).output)))
    assert len(rows) == 1 + sum(len(f["sightings"]) for f in parsed)
    assert rows[1][0] == "'" + ic.OLEH  # a leading '+' would be a formula in a spreadsheet
    foot = runner.invoke(main, ["footprint", str(case.root), "pl-e01", "--format", "json"])
    assert foot.exit_code == 0 and [p["platform"] for p in json.loads(foot.output)[0]["platforms"]] == [
        "Telegram", "WhatsApp"]
    missing = runner.invoke(main, ["footprint", str(case.root), "no-such-phone"])
    assert missing.exit_code == 2 and "no device 'no-such-phone'" in missing.output
    for table_name in ("sightings", "identifiers"):
        exported = runner.invoke(main, ["export", str(case.root), table_name])
        assert exported.exit_code == 0
        lines = [json.loads(line) for line in exported.output.splitlines()]
        assert lines and all("identifier" in line for line in lines)
    one = runner.invoke(main, ["export", str(case.root), "identifiers", "--device-id", "iphone"])
    assert all("iphone" in json.loads(line)["devices"] for line in one.output.splitlines())


def test_reingest_replaces_a_devices_sightings(case, tmp_path):
    store = case.store()
    try:
        before = store.count("sightings", "ua-tar")
    finally:
        store.close()
    evidence = ic.build(tmp_path / "again")
    ingest_device(case, evidence["ua-tar"], "ua-tar", replace=True)
    store = case.store()
    try:
        assert store.count("sightings", "ua-tar") == before > 0
        assert links_mod.build(store)["rebuilt"] is True
    finally:
        store.close()
    assert [f["identifier"] for f in _links(case)][:3] == [ic.OLEH, "oleh.rabota@example.com", ic.CHANNEL]


def test_case_overlay_flags_and_watch_list_through_the_cli(case, tmp_path):
    overlay = tmp_path / "overlay.json"
    overlay.write_text(json.dumps(OVERLAY), encoding="utf-8")
    runner = CliRunner()
    installed = runner.invoke(main, ["case", "overlay", str(case.root), str(overlay)])
    assert installed.exit_code == 0, installed.output
    flagged = runner.invoke(main, ["links", str(case.root), "--flagged", "--format", "json"])
    assert [(f["identifier"], f["flagged"]) for f in json.loads(flagged.output)] == [
        (ic.CHANNEL, ["Telegram (suspected)"])]
    watched = runner.invoke(main, ["links", str(case.root), "--watchlist"])
    assert [line.split()[0] for line in watched.output.splitlines()] == [ic.OLEH, ic.ANNA_PL]
    foot = runner.invoke(main, ["footprint", str(case.root), "ua-raw"])
    assert foot.output.splitlines()[:2] == ["device ua-raw: 2 platforms",
                                            "  Telegram [SUSPECTED] (messenger): links 1"]


def test_timeline_identifier_written_without_country_code(case):
    """An examiner types the number as the victim said it, without its country code: it is read in the countries
    of the case's devices, so it finds the same events as the international spelling."""
    runner = CliRunner()

    def events(value):
        out = runner.invoke(main, ["timeline", str(case.root), "--identifier", value])
        assert out.exit_code == 0, out.output
        return sorted((e["device_id"], e["artifact"], e["source_row"], e["timestamp_desc"])
                      for e in map(json.loads, out.stdout.splitlines()))

    international = events("+380 93 111 4562")
    assert len(international) > 3
    assert events("(093) 111-45-62") == international


def test_watch_list_number_without_country_code_is_read_in_the_devices_countries():
    keys = links_mod.watch_keys({"value": "(093) 111-45-62"}, ["PL", "UA"])
    assert ("phone", ic.OLEH) in keys
    assert ("phone", ic.OLEH) not in links_mod.watch_keys({"value": "(093) 111-45-62"})
