"""VK and OK for Android (older layouts), on databases built with the columns unhure/autopsy_modules reads."""
import json

from tests import parser_harness
from tests.fixtures.sqlite_db import make_db
from tests.fixtures.vk_ok_android import OK_SCHEMA, VK_JSON_SCHEMA, VK_LEGACY_SCHEMA

VK = "/data/data/com.vkontakte.android/databases/vk.db"
OK = "/data/data/ru.ok.android/databases/odnklassniki.db"


def test_vk_legacy_layout_and_wal(tmp_path):
    rows = """
    INSERT INTO users VALUES (501, 'Olena', 'K', 'https://vk.com/p.jpg', 1), (900, 'Me', 'Self', NULL, 0);
    INSERT INTO messages VALUES (1, 501, 1700000000, 501, 'робота в Польщі', NULL),
                                (2, 501, 1700000100, 900, 'деталі?', X'70686f746f'),
                                (3, 2000000001, 1700000200, 501, 'group text', NULL);
    """
    wal = "INSERT INTO messages VALUES (4, 501, 1700000300, 501, 'only in the WAL', NULL);"
    src = make_db(tmp_path / "src/vk.db", VK_LEGACY_SCHEMA + rows, wal_sql=wal)
    outcomes, out = parser_harness.run(tmp_path / "run", {VK: src, VK + "-wal": tmp_path / "src/vk.db-wal"})
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "vk-android-messages": ("parsed", 4, 1), "vk-android-json-messages": ("unsupported version", 0, 0),
        "vk-android-contacts": ("parsed", 2, 0)}
    m = out["messages"]
    assert [(x["direction"], x["sender"], x["sender_name"], x["thread_id"], x["body"]) for x in m] == [
        ("incoming", "501", "Olena K", "501", "робота в Польщі"), (None, "900", "Me Self", "501", "деталі?"),
        (None, "501", "Olena K", "2000000001", "group text"), ("incoming", "501", "Olena K", "501", "only in the WAL")]
    assert (m[0]["ts"], m[0]["ts_encoding"]) == ("2023-11-14T22:13:20.000000Z", "unix_s")
    assert m[1]["extra"] == {"message_id": "2", "attachments_raw": "photo"} and m[3]["from_wal"]
    assert [(c["name"], c["user_id"], c["extra"].get("friend")) for c in out["contacts"]] == [
        ("Olena K", "501", True), ("Me Self", "900", False)]


def test_vk_json_layout(tmp_path):
    incoming = {"id": 11, "date": 1700000000, "out": 0, "body": "hi", "user_id": 501, "read_state": 1}
    outgoing = {"id": 12, "date": 1700000100, "out": 1, "body": "who is this", "user_id": 501, "read_state": 0}
    rows = (f"INSERT INTO messages VALUES ('900', '{json.dumps(incoming)}', 501, 1700000000), "
            f"('900', '{json.dumps(outgoing)}', 501, 1700000100), ('900', 'not json', 501, 1700000200);")
    src = make_db(tmp_path / "vk.db", VK_JSON_SCHEMA + rows)
    outcomes, out = parser_harness.run(tmp_path / "run", {VK: src}, ["vk-android-json-messages"])
    assert [(o.outcome, o.records) for o in outcomes] == [("parsed", 3)]
    m = out["messages"]
    assert [(x["direction"], x["sender"], x["recipients"], x["body"]) for x in m[:2]] == [
        ("incoming", "501", ["900"], "hi"), ("outgoing", "900", ["501"], "who is this")]
    assert m[0]["extra"] == {"message_id": "11", "read_state": 1} and "not JSON" in m[2]["extra"]["error"]


def test_ok_messages_users_and_account(tmp_path):
    rows = """
    INSERT INTO authorized_users VALUES ('77', 'me@example.invalid', 'Ivan', 'P', NULL);
    INSERT INTO users VALUES ('77', 'Ivan', 'P', 'ivan', NULL), ('88', 'Oksana', 'M', 'oksana', 'https://ok.ru/a.jpg');
    INSERT INTO messages VALUES (1, '88', 'привіт', 1700000000123), (2, '77', 'hello', 1700000100000);
    """
    src = make_db(tmp_path / "odnklassniki.db", OK_SCHEMA + rows)
    outcomes, out = parser_harness.run(tmp_path / "run", {OK: src})
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "ok-android-messages": ("parsed", 2), "ok-android-contacts": ("parsed", 2), "ok-android-account": ("parsed", 1)}
    m = out["messages"]
    assert [(x["direction"], x["sender"], x["sender_name"], x["body"]) for x in m] == [
        ("incoming", "88", "Oksana M", "привіт"), ("outgoing", "77", "Ivan P", "hello")]
    assert (m[0]["ts"], m[0]["ts_encoding"]) == ("2023-11-14T22:13:20.123000Z", "unix_ms")
    (account,) = out["accounts"]
    assert (account["user_id"], account["username"], account["display_name"]) == ("77", "me@example.invalid", "Ivan P")
    assert [c["name"] for c in out["contacts"]] == ["Ivan P", "Oksana M"]


def test_ok_without_authorized_users_has_no_direction(tmp_path):
    src = make_db(tmp_path / "odnklassniki.db", OK_SCHEMA.split("CREATE TABLE users")[0].replace(
        "CREATE TABLE authorized_users (uid TEXT, login TEXT, first_name TEXT, last_name TEXT, uri_pic TEXT);", "")
        + "CREATE TABLE messages (_id INTEGER, author_id TEXT, message TEXT, _date INTEGER);"
        + "INSERT INTO messages VALUES (1, '88', 'hi', 1700000000000);")
    outcomes, out = parser_harness.run(tmp_path / "run", {OK: src}, ["ok-android-messages"])
    assert [(x["direction"], x["sender_name"]) for x in out["messages"]] == [(None, None)]


def test_ok_tamtam_messages(tmp_path):
    schema = ("CREATE TABLE messages (_id INTEGER PRIMARY KEY, msg_server_id INTEGER, msg_time INTEGER, msg_text TEXT, "
              "msg_sender INTEGER, msg_attaches BLOB, msg_media_type INTEGER, msg_chat_id INTEGER);")
    rows = ("INSERT INTO messages VALUES (1, 9001, 1700000000123, 'де ти?', 88, NULL, 0, 5), "
            "(2, 9002, 1700000100000, '', 77, X'00', 3, 5);")
    wal = "INSERT INTO messages VALUES (3, 9003, 1700000200000, 'only in the WAL', 88, NULL, 0, 5);"
    src = make_db(tmp_path / "src/tamtam_messages", schema + rows, wal_sql=wal)
    path = "/data/data/ru.ok.android/databases/tamtam_messages"
    files = {path: src, path + "-wal": tmp_path / "src/tamtam_messages-wal"}
    outcomes, out = parser_harness.run(tmp_path / "run", files)
    assert [(o.spec.name, o.outcome, o.records, o.from_wal) for o in outcomes] == [
        ("ok-android-tamtam-messages", "parsed", 3, 1)]
    m = out["messages"]
    assert [(x["sender"], x["thread_id"], x["body"], x["message_type"], x["direction"]) for x in m] == [
        ("88", "5", "де ти?", "text", None), ("77", "5", None, "media", None),
        ("88", "5", "only in the WAL", "text", None)]
    assert (m[0]["ts"], m[0]["extra"]) == ("2023-11-14T22:13:20.123000Z", {"message_id": "9001", "media_type": 0})


def test_kate_mobile_messages_and_users(tmp_path):
    schema = ("CREATE TABLE messages (message_id INTEGER, account_id INTEGER, uid INTEGER, title TEXT, body TEXT, "
              "date INTEGER, read_state INTEGER, is_out INTEGER);"
              "CREATE TABLE users (_id INTEGER, first_name TEXT, last_name TEXT, nickname TEXT, birthdate TEXT, "
              "mobile_phone TEXT, home_phone TEXT, status TEXT);")
    rows = ("INSERT INTO users VALUES (900, 'Me', 'Self', NULL, NULL, NULL, NULL, NULL), "
            "(501, 'Olena', 'K', 'olenka', '1.2.2001', '+380501112233', '', 'busy');"
            "INSERT INTO messages VALUES (1, 900, 501, ' ... ', 'привіт', 1700000000, 1, 0), "
            "(2, 900, 501, '', 'робота є', 1700000100, 0, 1);")
    src = make_db(tmp_path / "kate.db", schema + rows)
    outcomes, out = parser_harness.run(tmp_path / "run", {"/data/data/com.perm.kate_new_6/databases/kate.db": src})
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "vk-kate-messages": ("parsed", 2), "vk-kate-contacts": ("parsed", 2)}
    m = out["messages"]
    assert [(x["direction"], x["sender"], x["sender_name"], x["recipients"], x["body"]) for x in m] == [
        ("incoming", "501", "Olena K", ["900"], "привіт"), ("outgoing", "900", "Me Self", ["501"], "робота є")]
    assert (m[0]["ts"], m[0]["ts_encoding"], m[0]["thread_name"]) == (
        "2023-11-14T22:13:20.000000Z", "unix_s", "Olena K")
    olena = out["contacts"][1]
    assert (olena["name"], olena["phones"], olena["extra"]) == (
        "Olena K", ["+380501112233"], {"nickname": "olenka", "birthdate": "1.2.2001", "status": "busy"})
