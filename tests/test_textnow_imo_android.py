"""TextNow and imo for Android, on databases built with the columns ALEAPP's and Autopsy's queries read."""
from tests import parser_harness
from tests.fixtures.sqlite_db import make_db
from tests.fixtures.textnow_imo_android import IMO_ACCOUNT_SCHEMA, IMO_FRIENDS_SCHEMA, TEXTNOW_SCHEMA

TEXTNOW = "/data/data/com.enflick.android.TextNow/databases/textnow_data.db"
IMO = "/data/data/com.imo.android.imous/databases/"
PEER, OTHER, GROUP = "+19195550111", "+19195550122", "group-7"

TEXTNOW_ROWS = f"""
INSERT INTO contacts VALUES ('{PEER}', 'Dee'), ('{OTHER}', ''), ('{GROUP}', 'Crew');
INSERT INTO groups VALUES ('{GROUP}');
INSERT INTO group_members VALUES ('{GROUP}', '{PEER}'), ('{GROUP}', '{OTHER}');
INSERT INTO messages VALUES ('{PEER}', 2, 'new number, save it', 1, 1700000000123, 1, NULL),
                            ('{PEER}', 1, 'ok', 1, 1700000100000, 0, NULL),
                            ('{PEER}', 1, NULL, 2, 1700000150000, 1, 'content://media/1.jpg'),
                            ('{GROUP}', 2, 'all of you', 1, 1700000200000, 1, NULL),
                            ('{PEER}', 2, '61', 100, 1700000300000, 1, NULL),
                            ('{OTHER}', 1, '0', 102, 1700000400000, 0, NULL),
                            ('{OTHER}', 9, 'odd', 1, 1700000500000, 0, NULL);
"""


def test_textnow_texts_groups_calls_contacts_and_wal(tmp_path):
    wal = f"INSERT INTO messages VALUES ('{PEER}', 1, 'only in the WAL', 1, 1700000600000, 0, NULL);"
    src = make_db(tmp_path / "src/textnow_data.db", TEXTNOW_SCHEMA + TEXTNOW_ROWS, wal_sql=wal)
    outcomes, rows = parser_harness.run(tmp_path / "run", {TEXTNOW: src, TEXTNOW + "-wal": str(src) + "-wal"})
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "textnow-android-messages": ("parsed", 8, 1), "textnow-android-contacts": ("parsed", 3, 0)}
    texts = rows["messages"]
    assert [(m["direction"], m["sender"], m["recipients"], m["body"], m["message_type"]) for m in texts] == [
        ("outgoing", None, [PEER], "new number, save it", "sms"), ("incoming", PEER, [], "ok", "sms"),
        ("incoming", PEER, [], None, "sms"), ("outgoing", None, [PEER, OTHER], "all of you", "group"),
        (None, None, [], "odd", "sms"), ("incoming", PEER, [], "only in the WAL", "sms")]
    assert texts[0]["ts"] == "2023-11-14T22:13:20.123000Z" and texts[0]["ts_encoding"] == "unix_ms"
    assert texts[1]["sender_name"] == "Dee" and texts[2]["attachments"] == [{"path": "content://media/1.jpg"}]
    assert texts[3]["thread_name"] == "Crew" and texts[4]["extra"]["direction_raw"] == 9
    assert texts[5]["from_wal"] and not any(m["from_wal"] for m in texts[:5])
    audio, video = rows["calls"]
    assert (audio["direction"], audio["peers"], audio["peer_name"], audio["call_type"], audio["duration_s"]) == (
        "outgoing", [PEER], "Dee", "audio", 61)
    assert (video["direction"], video["call_type"], video["duration_s"]) == ("incoming", "video", 0)
    assert [(c["name"], c["phones"], c["extra"]) for c in rows["contacts"]] == [
        ("Dee", [PEER], {}), (None, [OTHER], {}), ("Crew", [], {"group_members": [PEER, OTHER]})]


def test_textnow_without_group_tables(tmp_path):
    path = make_db(tmp_path / "t.db", TEXTNOW_SCHEMA.split("CREATE TABLE contacts")[0]
                   + f"INSERT INTO messages VALUES ('{PEER}', 1, 'hi', 1, 1700000000000, 0, NULL);")
    outcomes, rows = parser_harness.run(tmp_path / "run", {TEXTNOW: path})
    assert {o.spec.name: o.outcome for o in outcomes} == {"textnow-android-messages": "parsed",
                                                         "textnow-android-contacts": "unsupported version"}
    assert [(m["sender"], m["sender_name"]) for m in rows["messages"]] == [(PEER, None)]


def test_imo_messages_friends_account_and_wal(tmp_path):
    rows_sql = f"""
    INSERT INTO friends VALUES ('u.peer', 'Dee'), ('u.other', 'Sam');
    INSERT INTO messages VALUES ('u.peer', NULL, 'hello', 1700000000123456789, 1, 1),
        ('u.peer', '{{"original_path": "/sdcard/imo/a.jpg", "local_path": "/data/x.jpg"}}', '', 1700000100000000000, 2, 1),
        ('u.other', '{{"local_path": "/data/y.mp4"}}', 'video', 1700000200000000000, 0, 0),
        ('u.other', '{{broken', 'bad imdata', 1700000300000000000, 1, 0);
    """
    wal = "INSERT INTO messages VALUES ('u.peer', NULL, 'only in the WAL', 1700000400000000000, 2, 0);"
    friends = make_db(tmp_path / "src/imofriends.db", IMO_FRIENDS_SCHEMA + rows_sql, wal_sql=wal)
    account = make_db(tmp_path / "src/accountdb.db", IMO_ACCOUNT_SCHEMA + "INSERT INTO account VALUES ('u.me', 'Me');")
    files = {IMO + "imofriends.db": friends, IMO + "imofriends.db-wal": str(friends) + "-wal",
             IMO + "accountdb.db": account}
    outcomes, rows = parser_harness.run(tmp_path / "run", files)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "imo-android-messages": ("parsed", 5, 1), "imo-android-contacts": ("parsed", 2, 0),
        "imo-android-account": ("parsed", 1, 0)}
    m = rows["messages"]
    assert [(x["direction"], x["sender"], x["recipients"], x["body"]) for x in m] == [
        ("incoming", "u.peer", [], "hello"), ("outgoing", None, ["u.peer"], ""), (None, None, [], "video"),
        ("incoming", "u.other", [], "bad imdata"), ("outgoing", None, ["u.peer"], "only in the WAL")]
    assert (m[0]["ts"], m[0]["ts_raw"], m[0]["ts_encoding"]) == (
        "2023-11-14T22:13:20.123456Z", "1700000000123456789", "unix_ns")
    assert m[0]["sender_name"] == "Dee" and m[1]["attachments"] == [{"path": "/sdcard/imo/a.jpg"}]
    assert m[2]["attachments"] == [{"path": "/data/y.mp4"}] and m[2]["extra"]["message_type_raw"] == 0
    assert "imdata_error" in m[3]["extra"] and m[4]["from_wal"]
    assert [(c["name"], c["user_id"]) for c in rows["contacts"]] == [("Dee", "u.peer"), ("Sam", "u.other")]
    (me,) = rows["accounts"]
    assert (me["user_id"], me["display_name"]) == ("u.me", "Me")


def test_damaged_textnow_database_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO messages VALUES ('{PEER}', 1, '{'x' * 300}', 1, {1700000000000 + i}, 0, NULL);\n"
                   for i in range(200))
    outcome, _ = parser_harness.run_damaged_leaf(tmp_path, TEXTNOW, TEXTNOW_SCHEMA + many,
                                            "messages", "textnow-android-messages")
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records < 200
