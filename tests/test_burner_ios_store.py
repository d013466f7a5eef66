"""Burner for iOS, Phoenix.sqlite: a Core Data store built with the tables and columns iLEAPP's burner.py reads (no
public test file of it exists; iLEAPP's own test cases hold only the URL cache)."""
from tests import parser_harness
from tests.fixtures.sqlite_db import make_db

PATH = "/private/var/mobile/Containers/Shared/AppGroup/9C1D/Phoenix.sqlite"
LINE, PEER = "+18285550100", "+19195550111"
SCHEMA = """
    CREATE TABLE ZUSER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZDATECREATED TIMESTAMP,
        ZPHONENUMBER VARCHAR, ZCOUNTRYCODE VARCHAR, ZTOTALNUMBERBURNERS INTEGER, ZDNDENABLED INTEGER,
        ZVOICEMAILURL VARCHAR, ZUSERID VARCHAR);
    CREATE TABLE ZBURNER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZUSER INTEGER, ZIMAGE BLOB,
        ZPHONENUMBER VARCHAR, ZNAME VARCHAR, ZDATECREATED TIMESTAMP, ZEXPIRATIONDATE TIMESTAMP,
        ZNOTIFICATIONS INTEGER, ZCALLERIDENABLED INTEGER, ZUSESIP INTEGER, ZAUTOREPLYACTIVE INTEGER,
        ZAUTOREPLYTEXT VARCHAR, ZREMAININGMINUTES INTEGER, ZTOTALMINUTES INTEGER, ZREMAININGTEXTS INTEGER, ZTOTALTEXTS INTEGER,
        ZBURNERID VARCHAR);
    CREATE TABLE ZCONTACT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZPHONENUMBER VARCHAR,
        ZNAME VARCHAR, ZVERIFIED INTEGER, ZBLOCKED INTEGER, ZMUTED INTEGER, ZIMAGE BLOB, ZTHUMBNAIL BLOB,
        ZIMAGEURL VARCHAR, ZTHUMBNAILURL VARCHAR, ZCONTACTID VARCHAR);
    CREATE TABLE ZCONTACTPHONENUMBER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACT INTEGER,
        ZPHONENUMBER VARCHAR, ZPHONENUMBERLABEL VARCHAR);
    CREATE TABLE ZCONTACTNOTE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACT INTEGER,
        ZNOTEVALUE VARCHAR);
    CREATE TABLE ZMESSAGETHREAD (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZCONTACT INTEGER,
        ZBURNERID VARCHAR, ZCONTACTPHONENUMBER VARCHAR, ZMESSAGETHREADID VARCHAR);
    CREATE TABLE ZMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZMESSAGETHREAD INTEGER,
        ZDATECREATED TIMESTAMP, ZDIRECTION INTEGER, ZREAD INTEGER, ZSTATE INTEGER, ZTYPE INTEGER, ZBODY VARCHAR,
        ZLOCALASSETURL VARCHAR, ZLOCALTHUMBNAILURL VARCHAR, ZASSETURL VARCHAR, ZVOICEMAILURL VARCHAR,
        ZMESSAGEID VARCHAR, ZBURNERID VARCHAR, ZCONTACTPHONENUMBER VARCHAR);
"""
ROWS = f"""
INSERT INTO ZUSER (Z_PK, ZDATECREATED, ZPHONENUMBER, ZCOUNTRYCODE, ZTOTALNUMBERBURNERS, ZUSERID)
    VALUES (1, 607740647.2, '+19195550100', 'US', 1, 'user-uuid');
INSERT INTO ZBURNER (Z_PK, ZUSER, ZPHONENUMBER, ZNAME, ZDATECREATED, ZEXPIRATIONDATE, ZREMAININGMINUTES,
                     ZTOTALMINUTES, ZREMAININGTEXTS, ZTOTALTEXTS, ZBURNERID)
    VALUES (1, 1, '{LINE}', 'Work', 705259377.0, 707851377.0, 48, 50, 87, 100, 'burner-uuid');
INSERT INTO ZCONTACT (Z_PK, ZPHONENUMBER, ZNAME, ZBLOCKED, ZCONTACTID) VALUES (1, '{PEER}', 'Dee', 1, 'contact-uuid');
INSERT INTO ZCONTACTPHONENUMBER (Z_PK, ZCONTACT, ZPHONENUMBER, ZPHONENUMBERLABEL)
    VALUES (1, 1, '+19195550199', 'work');
INSERT INTO ZCONTACTNOTE (Z_PK, ZCONTACT, ZNOTEVALUE) VALUES (1, 1, 'met at the bus station');
INSERT INTO ZMESSAGETHREAD (Z_PK, ZCONTACT, ZBURNERID, ZCONTACTPHONENUMBER, ZMESSAGETHREADID)
    VALUES (1, 1, 'burner-uuid', '{PEER}', 'thread-1'), (2, NULL, 'burner-uuid', '+19195550222', 'thread-2');
INSERT INTO ZMESSAGE (Z_PK, ZMESSAGETHREAD, ZDATECREATED, ZDIRECTION, ZREAD, ZSTATE, ZTYPE, ZBODY, ZASSETURL,
                      ZVOICEMAILURL, ZMESSAGEID, ZBURNERID) VALUES
    (1, 1, 705261937.113, 2, 1, 1, 2, 'You there?', NULL, NULL, 'm-1', 'burner-uuid'),
    (2, 1, 705262045.112, 1, 1, 1, 2, '', 'https://s3.amazonaws.com/burner-mms/p.jpg', NULL, 'm-2', 'burner-uuid'),
    (3, 1, 705263481.293, 1, 1, 5, 1, '', NULL, 'https://s3.amazonaws.com/burner-voicemail/v.wav', 'm-3',
     'burner-uuid'),
    (4, 2, 705263500.0, 1, 0, 1, 2, 'stranger', NULL, NULL, 'm-4', 'burner-uuid');
"""


def test_store_messages_calls_numbers_contacts_account_and_wal(tmp_path):
    wal = ("INSERT INTO ZMESSAGE (Z_PK, ZMESSAGETHREAD, ZDATECREATED, ZDIRECTION, ZSTATE, ZTYPE, ZMESSAGEID, "
           "ZBURNERID) VALUES (5, 1, 705263600.0, 2, 3, 1, 'm-5', 'burner-uuid');")
    src = make_db(tmp_path / "src/Phoenix.sqlite", SCHEMA + ROWS, wal_sql=wal)
    files = {PATH: src, PATH + "-wal": tmp_path / "src/Phoenix.sqlite-wal"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "burner-ios-store-messages": ("parsed", 5, 1), "burner-ios-store-numbers": ("parsed", 1, 0),
        "burner-ios-store-account": ("parsed", 1, 0), "burner-ios-store-contacts": ("parsed", 1, 0)}
    m = rows["messages"]
    assert [(x["direction"], x["sender"], x["recipients"], x["body"], x["message_type"], x["thread_id"])
            for x in m] == [
        ("outgoing", LINE, [PEER], "You there?", "sms", "thread-1"),
        ("incoming", PEER, [LINE], None, "mms", "thread-1"),
        ("incoming", "+19195550222", [LINE], "stranger", "sms", "thread-2")]
    assert (m[0]["ts"], m[0]["ts_encoding"]) == ("2023-05-08T18:05:37.113000Z", "cocoa_s")
    assert m[1]["sender_name"] == "Dee"
    assert m[1]["attachments"] == [{"url": "https://s3.amazonaws.com/burner-mms/p.jpg"}]
    voicemail, completed = rows["calls"]
    assert (voicemail["status"], voicemail["answered"], voicemail["peers"], voicemail["peer_name"]) == (
        "voicemail", False, [PEER], "Dee")
    assert voicemail["extra"]["attachments"] == [{"url": "https://s3.amazonaws.com/burner-voicemail/v.wav"}]
    assert (completed["direction"], completed["status"], completed["from_wal"]) == ("outgoing", "completed", True)
    number, user = sorted(rows["accounts"], key=lambda a: a["account_type"])
    assert (number["phone"], number["display_name"], number["user_id"]) == (LINE, "Work", "user-uuid")
    assert number["extra"]["expiration_date"] == "2023-06-07T17:22:57.000000Z"
    assert (user["phone"], user["user_id"], user["extra"]["country_code"]) == ("+19195550100", "user-uuid", "US")
    (contact,) = rows["contacts"]
    assert (contact["name"], contact["phones"], contact["note"], contact["extra"]["blocked"]) == (
        "Dee", [PEER, "+19195550199"], "met at the bus station", 1)


def test_older_store_without_threads(tmp_path):
    """Only the ZMESSAGE columns the fingerprint needs and a per-message other party (ZCONTACTPHONENUMBER)."""
    legacy = ("CREATE TABLE ZMESSAGE (Z_PK INTEGER PRIMARY KEY, ZDATECREATED TIMESTAMP, ZDIRECTION INTEGER, "
              "ZTYPE INTEGER, ZBODY VARCHAR, ZBURNERID VARCHAR, ZCONTACTPHONENUMBER VARCHAR);"
              f"INSERT INTO ZMESSAGE VALUES (1, 705261937.0, 1, 2, 'hi', 'b', '{PEER}');")
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: make_db(tmp_path / "old.sqlite", legacy)},
                                        ["burner-ios-store-messages"])
    (message,) = rows["messages"]
    assert (message["sender"], message["recipients"], message["thread_id"]) == (PEER, [], PEER)


def test_damaged_store_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ZMESSAGE (Z_PK, ZDATECREATED, ZDIRECTION, ZTYPE, ZBODY, ZBURNERID) VALUES "
                   f"({i}, {705261937 + i}, 1, 2, '{'x' * 300}', 'b');\n" for i in range(1, 201))
    outcome, _ = parser_harness.run_damaged_leaf(tmp_path, PATH, SCHEMA + many, "ZMESSAGE", "burner-ios-store-messages")
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records < 200
