"""iOS app inventory: FrontBoard's applicationState.db (FrontBoard's own schema, real NSKeyedArchiver values),
iTunesMetadata.plist (XML and binary) and container-manager metadata plists."""
import plistlib
from datetime import datetime

from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

STATE_PATH = "/private/var/mobile/Library/FrontBoard/applicationState.db"
BUNDLE = "/private/var/containers/Bundle/Application/5B1E5E0C-7A43-4C2B-9B8F-0D7F8E1A2B3C"
DATA = "/private/var/mobile/Containers/Data/Application/9C7D1E2F-3A4B-4C5D-8E9F-A0B1C2D3E4F5"
GROUP = "/private/var/mobile/Containers/Shared/AppGroup/11111111-2222-4333-8444-555555555555"
METADATA = ".com.apple.mobile_container_manager.metadata.plist"

# The statements FrontBoard (FBSqliteApplicationDataStoreRepository) runs to create the store.
STATE_SCHEMA = """
CREATE TABLE schema(version INT NOT NULL);
INSERT INTO schema (version) VALUES (1);
CREATE TABLE key_tab (id INTEGER PRIMARY KEY, key TEXT NOT NULL, UNIQUE(key));
CREATE TABLE application_identifier_tab (id INTEGER PRIMARY KEY, application_identifier TEXT NOT NULL,
  UNIQUE(application_identifier));
CREATE TABLE kvs(id INTEGER PRIMARY KEY, application_identifier INT REFERENCES application_identifier_tab(id),
  key INT REFERENCES key_tab(id), value BLOB, UNIQUE(application_identifier, key));
CREATE INDEX kvs_keys ON kvs(key);
CREATE INDEX kvs_application_identifiers ON kvs(application_identifier);
CREATE VIEW kvs_debug AS SELECT application_identifier_tab.application_identifier, key_tab.key, value
  FROM application_identifier_tab, key_tab, kvs
  WHERE kvs.application_identifier=application_identifier_tab.id AND kvs.key=key_tab.id;
"""


def compatibility_info(bundle_id: str, app_name: str) -> bytes:
    """XBApplicationLaunchCompatibilityInfo as NSKeyedArchiver encodes it (its encodeWithCoder: keys)."""
    uid = plistlib.UID
    archive = {
        "$version": 100000, "$archiver": "NSKeyedArchiver", "$top": {"root": uid(1)},
        "$objects": [
            "$null",
            {"$class": uid(6), "bundleIdentifier": uid(2), "bundlePath": uid(3), "sandboxPath": uid(4),
             "bundleContainerPath": uid(5), "launchInterfaces": uid(7), "launchesOpaque": True,
             "hasKnownBadLaunchImage": False, "BadLaunchImageCandidateCount": 0},
            bundle_id, f"{BUNDLE}/{app_name}.app", DATA, BUNDLE,
            {"$classname": "XBApplicationLaunchCompatibilityInfo",
             "$classes": ["XBApplicationLaunchCompatibilityInfo", "NSObject"]},
            {"NS.objects": [], "$class": uid(8)},
            {"$classname": "NSArray", "$classes": ["NSArray", "NSObject"]}]}
    return plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)


def _state_rows() -> str:
    nested = plistlib.dumps(compatibility_info("net.whatsapp.WhatsApp", "WhatsApp"), fmt=plistlib.FMT_BINARY)
    direct = compatibility_info("com.apple.mobilesafari", "MobileSafari")
    return f"""
        INSERT INTO key_tab VALUES (1, 'compatibilityInfo'), (2, 'SBApplicationRecentlyUpdated');
        INSERT INTO application_identifier_tab VALUES (1, 'net.whatsapp.WhatsApp'), (2, 'com.apple.mobilesafari'),
          (3, 'org.example.broken');
        INSERT INTO kvs VALUES (1, 1, 1, X'{nested.hex()}'), (2, 1, 2, 0), (3, 2, 1, X'{direct.hex()}'),
          (4, 3, 1, X'62706c6973743030ffff');"""


def test_application_state_paths_wal_and_undecodable_value(tmp_path):
    db = make_db(tmp_path / "src" / "applicationState.db", STATE_SCHEMA + _state_rows(),
                 wal_sql="INSERT INTO application_identifier_tab VALUES (4, 'ph.telegra.Telegraph');")
    outcomes, rows = parser_harness.run(tmp_path / "run", {STATE_PATH: db, STATE_PATH + "-wal": str(db) + "-wal"},
                                        ["ios-application-state"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].records == 4 and outcomes[0].from_wal == 1
    whatsapp, safari, broken, telegram = rows["apps"]
    assert whatsapp["package"] == "net.whatsapp.WhatsApp" and whatsapp["extra"] == {
        "bundle_path": f"{BUNDLE}/WhatsApp.app", "bundle_container_path": BUNDLE, "data_container_path": DATA}
    assert safari["extra"]["bundle_path"] == f"{BUNDLE}/MobileSafari.app"
    assert broken["package"] == "org.example.broken"
    assert broken["extra"]["compatibility_info_error"].startswith("InvalidFileException")
    assert telegram["package"] == "ph.telegra.Telegraph" and telegram["extra"] == {} and telegram["from_wal"]
    assert [a["source_table"] for a in rows["apps"]] == ["application_identifier_tab"] * 4


def test_damaged_application_state_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO application_identifier_tab VALUES ({i}, 'com.example.{'a' * 300}{i}');"
                   for i in range(10, 210))
    good = make_db(tmp_path / "good.db", STATE_SCHEMA + _state_rows() + many)
    data = good.read_bytes()
    # the table's leaf page (the record has the id as rowid, the UNIQUE index repeats the text with the id after it)
    page = next(off // 4096 + 1 for off in range(0, len(data), 4096)
                if b"a" * 300 + b"100" in data[off:off + 4096] and data[off] == 0x0D)
    outcomes, rows = parser_harness.run(tmp_path / "run", {STATE_PATH: damage(good, tmp_path / "bad.db", page)},
                                        ["ios-application-state"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered
    assert 150 < outcomes[0].records < 203 and all(a["recovered"] for a in rows["apps"])


ITUNES_XML = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
  <key>artistName</key><string>WhatsApp Inc.</string>
  <key>bundleShortVersionString</key><string>23.10.76</string>
  <key>bundleVersion</key><string>502716722</string>
  <key>com.apple.iTunesStore.downloadInfo</key><dict>
    <key>accountInfo</key><dict>
      <key>AppleID</key><string>suspect@icloud.com</string>
      <key>DSPersonID</key><integer>12345678901</integer>
      <key>FirstName</key><string>Sam</string><key>LastName</key><string>Doe</string>
    </dict>
    <key>purchaseDate</key><string>2019-06-14T18:23:40Z</string>
  </dict>
  <key>genre</key><string>Social Networking</string>
  <key>itemId</key><integer>310633997</integer>
  <key>itemName</key><string>WhatsApp Messenger</string>
  <key>releaseDate</key><string>2009-05-04T07:00:00Z</string>
  <key>softwareVersionBundleId</key><string>net.whatsapp.WhatsApp</string>
  <key>sourceApp</key><string>com.apple.AppStore</string>
</dict></plist>
"""


def test_itunes_metadata_xml_binary_and_entities(tmp_path):
    older = plistlib.dumps({"softwareVersionBundleId": "com.example.legacy", "itemName": "Legacy",
                            "bundleVersion": "1.0", "appleId": "old@example.com",
                            "purchaseDate": datetime(2014, 2, 3, 4, 5, 6)}, fmt=plistlib.FMT_BINARY)
    hostile = (b'<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY boom "boom">]><plist version="1.0"><dict>'
               b'<key>softwareVersionBundleId</key><string>&boom;</string></dict></plist>')
    files = {f"{BUNDLE}/iTunesMetadata.plist": ITUNES_XML,
             "/private/var/containers/Bundle/Application/OLD/iTunesMetadata.plist": older,
             "/private/var/containers/Bundle/Application/BAD/iTunesMetadata.plist": hostile}
    outcomes, rows = parser_harness.run(tmp_path, files, ["ios-itunes-metadata"])
    by_path = {o.source.path.split("/")[-2]: o for o in outcomes}
    assert by_path["BAD"].outcome == "error" and "entity" in by_path["BAD"].message.lower()
    assert by_path["OLD"].outcome == "parsed" and by_path[BUNDLE.rsplit("/", 1)[1]].outcome == "parsed"
    legacy, whatsapp = sorted(rows["apps"], key=lambda a: a["package"])
    assert whatsapp["package"] == "net.whatsapp.WhatsApp" and whatsapp["name"] == "WhatsApp Messenger"
    assert whatsapp["version"] == "23.10.76" and whatsapp["installer"] == "com.apple.AppStore"
    assert whatsapp["ts"] == "2019-06-14T18:23:40.000000Z" and whatsapp["ts_encoding"] == "iso8601"
    assert whatsapp["extra"] == {
        "container_path": BUNDLE, "ts_is": "purchase", "apple_id": "suspect@icloud.com",
        "ds_person_id": 12345678901, "buyer_first_name": "Sam", "buyer_last_name": "Doe", "item_id": 310633997,
        "artist": "WhatsApp Inc.", "genre": "Social Networking", "bundle_version": "502716722",
        "release_ts": {"iso": "2009-05-04T07:00:00.000000Z", "raw": "2009-05-04T07:00:00Z", "encoding": "iso8601"}}
    assert whatsapp["source_path"] == f"{BUNDLE}/iTunesMetadata.plist" and whatsapp["source_table"] is None
    assert legacy["ts"] == "2014-02-03T04:05:06.000000Z" and legacy["ts_encoding"] == "plist_date"
    assert legacy["extra"]["apple_id"] == "old@example.com" and legacy["version"] == "1.0"


def test_container_metadata_for_data_and_group_containers(tmp_path):
    def metadata(identifier, content_class):
        return plistlib.dumps({"MCMMetadataContentClass": content_class, "MCMMetadataIdentifier": identifier,
                               "MCMMetadataUUID": "X", "MCMMetadataVersion": 6}, fmt=plistlib.FMT_BINARY)
    files = {f"{DATA}/{METADATA}": metadata("net.whatsapp.WhatsApp", 2),
             f"{GROUP}/{METADATA}": metadata("group.net.whatsapp.WhatsApp.shared", 7)}
    outcomes, rows = parser_harness.run(tmp_path, files, ["ios-container-metadata"])
    assert [o.outcome for o in outcomes] == ["parsed", "parsed"]
    data, group = sorted(rows["apps"], key=lambda a: a["extra"]["container_kind"])
    assert data["package"] == "net.whatsapp.WhatsApp" and data["extra"] == {
        "container_kind": "app data", "container_uuid": DATA.rsplit("/", 1)[1], "container_path": DATA,
        "content_class": 2}
    assert group["package"] == "group.net.whatsapp.WhatsApp.shared"
    assert group["extra"]["container_kind"] == "app group" and group["extra"]["container_path"] == GROUP
