"""WeChat Android: a real SQLCipher-1 EnMicroMsg.db built at test time, keyed with md5(IMEI + uin)[:7] computed here
independently of the parser, with the shared preferences the uin comes from.

No public EnMicroMsg.db exists (shared docs app-databases-corridor.md §1.7), so there is no peer count to compare.
"""
from pathlib import Path

import pytest
from Crypto.Cipher import AES
import hashlib

from artifacts.records import DeviceFact
from parsers import framework
from parsers.wechat_android import derive_key
from tests import parser_harness
from tests.fixtures.wechat_android import (DB_PATH, FALLBACK_IMEI, IMEI, OWNER, PREFS, UIN, derived_key,
                                           make_wechat_db, prefs_xml)

PARSERS = ["wechat-android", "wechat-android-key", "test-imei-fact"]
SYSTEM_CONFIG = PREFS + "system_config_prefs.xml"
AUTH_INFO = PREFS + "auth_info_key_prefs.xml"
FACT_FILE = "/zz_extraction/device_imei.txt"  # sorts after the database: the fact must still be there in time


@pytest.fixture(autouse=True, scope="module")
def imei_fact_parser():
    """Stands in for any parser that stores the device's IMEI as a device fact (none reads one on Android yet)."""
    @framework.parser(name="test-imei-fact", app="system", paths=["*/zz_extraction/device_imei.txt"])
    def imei_fact(db, ctx):
        for number, line in enumerate(ctx.local.read_text().split(), start=1):
            yield DeviceFact(app="system", key="imei", value=line, prov=ctx.prov(None, number))
    yield
    framework._REGISTRY.pop("test-imei-fact", None)


@pytest.fixture(scope="module")
def imei_db(tmp_path_factory) -> Path:
    return make_wechat_db(tmp_path_factory.mktemp("wechat") / "EnMicroMsg.db", derived_key(IMEI, UIN))


def only(outcomes, name="wechat-android"):
    (outcome,) = [o for o in outcomes if o.spec.name == name]
    return outcome


def test_fixture_is_sqlcipher_1_with_the_independently_derived_key(imei_db):
    """Page 1 decrypts with hashlib + AES alone: PBKDF2-HMAC-SHA1(key, salt, 4000), 1024-byte page, IV in its last
    16 bytes (no HMAC), and the plain header says 1024-byte pages, 16 reserved bytes, payload fractions 64/32/32."""
    key = hashlib.md5((IMEI + UIN).encode()).hexdigest()[:7]
    assert derive_key(IMEI, UIN) == key == derived_key()
    page = imei_db.read_bytes()[:1024]
    aes_key = hashlib.pbkdf2_hmac("sha1", key.encode(), page[:16], 4000, 32)
    plain = AES.new(aes_key, AES.MODE_CBC, page[-16:]).decrypt(page[16:1008])
    assert (int.from_bytes(plain[0:2], "big"), plain[4], plain[5:8]) == (1024, 16, b"\x40\x20\x20")


def test_key_from_device_fact_imei_and_system_config_uin(tmp_path, imei_db):
    files = {DB_PATH: imei_db, SYSTEM_CONFIG: prefs_xml(default_uin=int(UIN)),
             FACT_FILE: f"{IMEI}\n".encode()}
    outcomes, rows = parser_harness.run(tmp_path, files, PARSERS)
    main = only(outcomes)
    assert (main.outcome, main.records) == ("parsed", 11)  # 1 account, 4 contacts, 6 messages
    assert main.message == "key derived from IMEI + uin; IMEI from device facts; uin from system_config_prefs.xml " \
                           "default_uin"
    assert derived_key() not in main.message
    assert derived_key().encode() not in (tmp_path / "shard.sqlite").read_bytes()
    (account,) = rows["accounts"]
    assert (account["user_id"], account["username"], account["display_name"], account["phone"]) == \
        (OWNER, "owner_alias", "Owner Nick", "+8613800000001")
    contacts = {c["user_id"]: c for c in rows["contacts"]}
    assert sorted(contacts) == ["123456789@chatroom", "wxid_owner0001", "wxid_recruiter01", "wxid_victim002"]
    assert (contacts["wxid_recruiter01"]["name"], contacts["wxid_recruiter01"]["handles"]) == \
        ("Agent Li", ["jobs_agent"])
    room = contacts["123456789@chatroom"]
    assert (room["name"], room["source_table"], room["extra"]["owner"]) == \
        ("Overseas jobs", "chatroom", "wxid_recruiter01")
    assert room["extra"]["members"] == [OWNER, "wxid_recruiter01", "wxid_victim002"]
    assert room["extra"]["member_names"]["wxid_victim002"] == "Mei"
    got = [(m["source_row"], m["thread_id"], m["sender"], m["sender_name"], m["direction"], m["body"],
            m["message_type"]) for m in rows["messages"]]
    assert got == [
        ("1", "wxid_recruiter01", "wxid_recruiter01", "Agent Li", "incoming", "Job in Bangkok, 3000 USD", "text"),
        ("2", "wxid_recruiter01", OWNER, "Owner Nick", "outgoing", "Where do I go?", "text"),
        ("3", "123456789@chatroom", "wxid_recruiter01", "Agent Li", "incoming", "bring your passport", "text"),
        ("4", "123456789@chatroom", "wxid_victim002", "Mei", "incoming", "<msg><img /></msg>", "image"),
        ("5", "123456789@chatroom", None, None, None,
         '"Li Wei" invited "Mei" to the group chat', "system"),
        ("6", "123456789@chatroom", OWNER, "Owner Nick", "outgoing", "ok", "text")]
    first = rows["messages"][0]
    assert (first["ts"], first["ts_raw"], first["ts_encoding"]) == \
        ("2023-11-14T22:13:20.123000Z", "1700000000123", "unix_ms")
    assert rows["messages"][1]["recipients"] == ["wxid_recruiter01"]
    assert rows["messages"][3]["extra"]["imgPath"] == "THUMBNAIL_DIRPATH://th_abc"


def test_fallback_imei_with_auth_info_uin_and_a_wal_row(tmp_path):
    db = make_wechat_db(tmp_path / "src" / "EnMicroMsg.db", derived_key(FALLBACK_IMEI, UIN), wal_sql="""
        INSERT INTO message (msgId, msgSvrId, type, status, isSend, createTime, talker, content) VALUES
          (7, 7007, 1, 3, 0, 1700000360000, 'wxid_victim002', 'help me');""")
    files = {DB_PATH: db, DB_PATH + "-wal": Path(str(db) + "-wal"), AUTH_INFO: prefs_xml(_auth_uin=int(UIN)),
             FACT_FILE: b"350000000000001\n"}  # a device IMEI that is not the one this install used
    outcomes, rows = parser_harness.run(tmp_path / "run", files, PARSERS)
    main = only(outcomes)
    assert (main.outcome, main.records, main.from_wal) == ("parsed", 12, 1)
    assert main.message == "key derived from IMEI + uin; fallback IMEI; uin from auth_info_key_prefs.xml _auth_uin"
    last = rows["messages"][-1]
    assert (last["body"], last["from_wal"], rows["messages"][0]["from_wal"]) == ("help me", True, False)


def test_undecryptable_database_says_what_was_tried(tmp_path):
    db = make_wechat_db(tmp_path / "src" / "EnMicroMsg.db", derived_key("990000000000009", UIN))
    files = {DB_PATH: db, SYSTEM_CONFIG: prefs_xml(default_uin=int(UIN)), FACT_FILE: f"{IMEI}\n".encode(),
             PREFS + "DENGTA_META.xml": prefs_xml(IMEI_DENGTA="A0000099999999")}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, PARSERS)
    main = only(outcomes)
    assert main.outcome == "encrypted" and rows["messages"] == [] and rows["contacts"] == []
    assert main.message.startswith(
        "encrypted: key not found: tried 3 key(s) (key derived from IMEI + uin; IMEI from device facts; uin from "
        "system_config_prefs.xml default_uin; key derived from IMEI + uin; IMEI from DENGTA_META.xml IMEI_DENGTA; "
        "uin from system_config_prefs.xml default_uin; key derived from IMEI + uin; fallback IMEI; uin from "
        "system_config_prefs.xml default_uin); none opens this database")
    for imei in (IMEI, "A0000099999999", FALLBACK_IMEI):
        assert derived_key(imei, UIN) not in main.message


def test_without_a_uin_the_key_is_not_found(tmp_path, imei_db):
    outcomes, _ = parser_harness.run(tmp_path, {DB_PATH: imei_db, FACT_FILE: f"{IMEI}\n".encode()}, PARSERS)
    assert only(outcomes).message == ("encrypted: key not found: no uin in shared_prefs (system_config_prefs.xml "
                                      "default_uin, auth_info_key_prefs.xml _auth_uin)")
