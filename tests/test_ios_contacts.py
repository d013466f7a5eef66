"""iOS AddressBook.sqlitedb built with the address book's schema (iOS 13 and iOS 3 layouts), a WAL-only person and a
damaged copy."""
from tests import parser_harness
from tests.fixtures.ios_contacts import SCHEMA, WAL
from tests.fixtures.sqlite_db import damage, make_db

PATH = "/private/var/mobile/Library/AddressBook/AddressBook.sqlitedb"


def test_people_numbers_handles_and_wal(tmp_path):
    db = make_db(tmp_path / "src" / "AddressBook.sqlitedb", SCHEMA, wal_sql=WAL)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db, PATH + "-wal": str(db) + "-wal"},
                                        ["ios-contacts"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].records == 3 and outcomes[0].from_wal == 1
    ana, pizza, wal = rows["contacts"]
    assert ana["name"] == "Ana M Lopez" and ana["organization"] == "Acme" and ana["note"] == "met at the bus station"
    assert ana["phones"] == ["+1 (555) 010-0100", "555 0199"] and ana["emails"] == ["ana@example.com"]
    assert ana["handles"] == [
        {"kind": "im", "label": None, "username": "ana_l", "service": "WhatsApp"},
        {"kind": "social profile", "label": None, "value": "x-apple:ana.l", "username": "ana.l",
         "service": "Instagram", "url": "https://instagram.com/ana.l"}]
    assert ana["ts"] == "2023-03-08T20:26:40.000000Z" and ana["ts_encoding"] == "cocoa_s"
    assert ana["extra"] == {
        "nickname": "Ani", "job_title": "Driver", "birthday_raw": "-62135769600", "guid": "G-1",
        "urls": [{"label": "homepage", "value": "https://ana.example"}],
        "addresses": [{"label": "home", "value": None, "entries": {"Street": "1 Main St", "City": "Springfield"}}],
        "labels": [{"property": 3, "label": "mobile", "value": "+1 (555) 010-0100"},
                   {"property": 3, "label": "burner", "value": "555 0199"},
                   {"property": 4, "label": "home", "value": "ana@example.com"}],
        "modified_ts": {"iso": "2023-03-08T20:28:20.000000Z", "raw": "700000100", "encoding": "cocoa_s"}}
    assert ana["source_table"] == "ABPerson" and ana["source_row"] == "1" and ana["platform"] == "Contacts"
    assert pizza["name"] is None and pizza["organization"] == "Pizza Place" and pizza["phones"] == ["+15550100300"]
    assert wal["name"] == "Wal Only" and wal["phones"] == ["+15550100400"] and wal["from_wal"] is True
    assert not ana["from_wal"] and not pizza["from_wal"]


def test_ios3_layout(tmp_path):
    db = make_db(tmp_path / "AddressBook.sqlitedb", """
        CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER, property INTEGER,
          identifier INTEGER, label INTEGER, value TEXT);
        CREATE TABLE ABMultiValueLabel (value TEXT, UNIQUE(value));
        CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, First TEXT, Last TEXT, Middle TEXT,
          FirstPhonetic TEXT, MiddlePhonetic TEXT, LastPhonetic TEXT, Organization TEXT, Department TEXT,
          Note TEXT, Kind INTEGER, Birthday TEXT, JobTitle TEXT, Nickname TEXT, Prefix TEXT, Suffix TEXT,
          FirstSort TEXT, LastSort TEXT, CreationDate INTEGER, ModificationDate INTEGER,
          CompositeNameFallback TEXT, ExternalIdentifier TEXT, StoreID INTEGER, DisplayName TEXT,
          ExternalRepresentation BLOB, FirstSortSection TEXT, LastSortSection TEXT,
          FirstSortLanguageIndex INTEGER DEFAULT 2147483647, LastSortLanguageIndex INTEGER DEFAULT 2147483647);
        INSERT INTO ABPerson (ROWID, First, Last, CreationDate) VALUES (1, 'Old', 'Timer', 300000000);
        INSERT INTO ABMultiValue (UID, record_id, property, label, value) VALUES (1, 1, 4, NULL, 'old@example.com');
        """)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db}, ["ios-contacts"])
    (person,) = rows["contacts"]
    assert person["name"] == "Old Timer" and person["emails"] == ["old@example.com"] and person["handles"] == []
    assert person["ts"] == "2010-07-05T05:20:00.000000Z" and person["extra"] == {}


def test_damaged_address_book_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ABPerson (ROWID, First, Note, guid) VALUES ({i}, 'P{i}', '{'n' * 300} {i}', 'g{i}');"
                   for i in range(3, 203))
    good = make_db(tmp_path / "good.sqlitedb", SCHEMA + many)
    page = good.read_bytes().find(b"n" * 300 + b" 100") // 4096 + 1
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: damage(good, tmp_path / "bad.sqlitedb", page)},
                                        ["ios-contacts"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered
    assert 150 < outcomes[0].records < 202 and all(c["recovered"] for c in rows["contacts"])
