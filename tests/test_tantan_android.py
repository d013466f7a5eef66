"""Tantan for Android: a core_v<N>_<user id> database built with the columns pa_script's android_tantan.py reads."""
from tests import parser_harness
from tests.fixtures.sqlite_db import make_db

PATH = "/data/data/com.p1.mobile.putong/databases/core_v3_11223344"
SCHEMA = """
    CREATE TABLE users (_id INTEGER PRIMARY KEY, id_c TEXT, name_c TEXT, age_c INTEGER, gender_c INTEGER,
                        description_c TEXT);
    CREATE TABLE conversations (_id INTEGER PRIMARY KEY, id_c TEXT, otherUser_c BLOB);
    CREATE TABLE messages (_id INTEGER PRIMARY KEY, cid_c TEXT, owner_c TEXT, value_c TEXT, moment_c TEXT,
                           media_c BLOB, location_c BLOB, createdTime_c INTEGER);
"""
MEDIA = (b"\x0a\x01\x1a\x01" + b"https://img.tantan/1.jpg" + b"\x1a\x00").hex()  # URL between 0x01 and 0x1a
ROWS = f"""
INSERT INTO users VALUES (1, '11223344', 'Me', 24, 1, ''), (2, '55667788', 'Xiao Li', 22, 2, 'hi'), (3, '0', '', 0, 0, '');
INSERT INTO conversations VALUES (1, 'conv-1', CAST('55667788' AS BLOB));
INSERT INTO messages VALUES
    (1, 'conv-1', '11223344', '在深圳有工作', NULL, NULL, NULL, 1700000000123),
    (2, 'conv-1', '55667788', '好的', NULL, NULL, NULL, 1700000100000),
    (3, 'conv-1', '55667788', '[照片]', NULL, X'{MEDIA}', NULL,
     1700000200000),
    (4, 'conv-1', '55667788', '[地理位置]', NULL, NULL, CAST('深圳市南山区' AS BLOB), 1700000300000),
    (5, 'conv-1', '55667788', 'nice post', 'moment-9', NULL, NULL, 1700000400000);
"""


def test_messages_comments_contacts_account_and_wal(tmp_path):
    wal = "INSERT INTO messages VALUES (6, 'conv-1', '55667788', 'only in the WAL', NULL, NULL, NULL, 1700000500000);"
    src = make_db(tmp_path / "src/core_v3_11223344", SCHEMA + ROWS, wal_sql=wal)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: src, PATH + "-wal": str(src) + "-wal"})
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "tantan-android-messages": ("parsed", 6, 1), "tantan-android-contacts": ("parsed", 2, 0)}
    m = rows["messages"]
    assert [(x["direction"], x["sender"], x["recipients"], x["body"], x["message_type"]) for x in m] == [
        ("outgoing", "11223344", ["55667788"], "在深圳有工作", "text"), ("incoming", "55667788", [], "好的", "text"),
        ("incoming", "55667788", [], None, "photo"), ("incoming", "55667788", [], None, "location"),
        ("incoming", "55667788", [], "nice post", "comment"), ("incoming", "55667788", [], "only in the WAL", "text")]
    assert (m[0]["ts"], m[0]["ts_encoding"], m[0]["thread_name"]) == (
        "2023-11-14T22:13:20.123000Z", "unix_ms(by magnitude)", "Xiao Li")
    assert m[2]["attachments"] == [{"url": "https://img.tantan/1.jpg"}]
    assert m[3]["extra"]["address"] == "深圳市南山区" and m[4]["extra"]["moment"] == "moment-9"
    assert m[5]["from_wal"] and not any(x["from_wal"] for x in m[:5])
    (me,) = rows["accounts"]
    assert (me["user_id"], me["display_name"]) == ("11223344", "Me")
    (other,) = rows["contacts"]
    assert (other["name"], other["user_id"], other["extra"]) == ("Xiao Li", "55667788",
                                                                 {"age": 22, "gender": 2, "description": "hi"})


def test_other_file_names_are_not_read(tmp_path):
    src = make_db(tmp_path / "core_v3_abc", SCHEMA)
    outcomes, _ = parser_harness.run(tmp_path / "run", {PATH.replace("11223344", "abc"): src})
    assert {o.outcome for o in outcomes} == {"unsupported version"}


def test_damaged_database_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO messages (cid_c, owner_c, value_c, createdTime_c) VALUES "
                   f"('c', '1', '{'x' * 300}', {1700000000000 + i});\n" for i in range(200))
    outcome, _ = parser_harness.run_damaged_leaf(tmp_path, PATH, SCHEMA + many, "messages", "tantan-android-messages")
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records < 200
