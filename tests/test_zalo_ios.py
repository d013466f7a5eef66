"""Zalo for iOS: per-chat databases and the profile/group databases built with the columns iLEAPP's ZaloChats.py
reads."""
from tests import parser_harness
from tests.fixtures.sqlite_db import make_db
from tests.fixtures.zalo_ios import CHAT_SCHEMA, GROUP_SCHEMA, PROFILE_SCHEMA, chat_row

DOCS = "/private/var/mobile/Containers/Data/Application/5E2F/Documents"
OWNER, PEER, OTHER = "1001", "2002", "3003"
CHAT, GROUP_CHAT = f"{DOCS}/chat_dbs/{OWNER}/{PEER}.db", f"{DOCS}/chat_dbs/{OWNER}/group_77.db"
PARSERS = ["zalo-ios-messages", "zalo-ios-contacts", "zalo-ios-groups"]

CHAT_ROWS = "".join([
    chat_row(OWNER, "c1", 0, 1700000000123, "việc làm ở Bangkok, lương cao"),
    chat_row(PEER, "c2", 0, 1700000100000, "ok"),
    chat_row(PEER, "c3", 2, 1700000200000, "", local_path=f"{DOCS}/{OWNER}/1/abc.jpg"),
    chat_row(PEER, "c4", 6, 1700000300000, "", b'{"href":"https://voice.zdn.vn/v/1.aac"}'),
    chat_row(OWNER, "c5", 12, 1700000400000, "", b'{"action":"recommened.calltime","duration":61}'),
    chat_row(PEER, "c6", 12, 1700000500000, "", b'{"action":"recommened.misscall"}'),
    chat_row(PEER, "c7", 18, 1700000600000, "", b'{"latitude":13.7563,"longitude":100.5018}'),
    chat_row(PEER, "c8", 99, 1700000700000, "?"),
])
WAL_ROW = chat_row(PEER, "c9", 0, 1700000800000, "only in the WAL")


def _companions(tmp_path):
    profile = make_db(tmp_path / "src/profile.sqlite", PROFILE_SCHEMA + f"""
        INSERT INTO ProfileEntity VALUES ('{OWNER}', 'Me'), ('{PEER}', 'Anh Tuan'), ('{OTHER}', 'Linh');
        INSERT INTO BuddyEntity VALUES ('{PEER}', '+84901234567');
        INSERT INTO GlobalIdEntity VALUES ('{PEER}', 'G-2002');""")
    groups = make_db(tmp_path / "src/chatgroup.sqlite", GROUP_SCHEMA + "INSERT INTO GroupEntity VALUES ('77', 'Jobs');")
    return {f"{DOCS}/profile.sqlite": profile, f"{DOCS}/chatgroup.sqlite": groups}


def test_chats_calls_locations_contacts_groups_and_wal(tmp_path):
    chat = make_db(tmp_path / "src/chat.db", CHAT_SCHEMA + CHAT_ROWS, wal_sql=WAL_ROW)
    group = make_db(tmp_path / "src/group.db", CHAT_SCHEMA + chat_row(OTHER, "g1", 0, 1700000900, "room 12"))
    files = {CHAT: chat, CHAT + "-wal": tmp_path / "src/chat.db-wal", GROUP_CHAT: group, **_companions(tmp_path)}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, PARSERS)
    by_source = {(o.spec.name, o.source.path.rsplit("/", 1)[-1]): (o.outcome, o.records, o.from_wal)
                 for o in outcomes}
    assert by_source == {("zalo-ios-messages", f"{PEER}.db"): ("parsed", 10, 1),
                         ("zalo-ios-messages", "group_77.db"): ("parsed", 1, 0),
                         ("zalo-ios-contacts", "profile.sqlite"): ("parsed", 3, 0),
                         ("zalo-ios-groups", "chatgroup.sqlite"): ("parsed", 1, 0)}
    m = {x["extra"]["client_message_id"]: x for x in rows["messages"]}
    assert (m["c1"]["direction"], m["c1"]["sender"], m["c1"]["recipients"], m["c1"]["thread_name"]) == (
        "outgoing", OWNER, [PEER], "Anh Tuan")
    assert (m["c1"]["ts"], m["c1"]["ts_raw"], m["c1"]["ts_encoding"]) == (
        "2023-11-14T22:13:20.123000Z", "1700000000123", "unix_ms(by magnitude)")
    assert (m["c2"]["direction"], m["c2"]["sender_name"], m["c2"]["message_type"]) == ("incoming", "Anh Tuan", "text")
    assert m["c3"]["message_type"] == "media" and m["c3"]["attachments"] == [{"path": f"{DOCS}/{OWNER}/1/abc.jpg"}]
    assert m["c4"]["message_type"] == "voice note" and m["c4"]["attachments"] == [
        {"url": "https://voice.zdn.vn/v/1.aac"}]
    assert (m["c7"]["message_type"], m["c7"]["extra"]["latitude"]) == ("location", 13.7563)
    assert m["c8"]["message_type"] == "type 99" and m["c9"]["from_wal"]
    assert (m["g1"]["thread_id"], m["g1"]["thread_name"], m["g1"]["sender_name"], m["g1"]["recipients"]) == (
        "group_77", "Jobs", "Linh", [])
    assert m["g1"]["ts_encoding"] == "unix_s(by magnitude)"
    call, missed = rows["calls"]
    assert (call["direction"], call["peers"], call["extra"]["call_kind"]) == ("outgoing", [PEER], "call")
    assert (missed["direction"], missed["status"], missed["answered"]) == ("incoming", "missed", False)
    (place,) = rows["locations"]
    assert (place["latitude"], place["longitude"], place["label"]) == (13.7563, 100.5018, "received")
    contacts = rows["contacts"]
    assert [(c["name"], c["user_id"], c["phones"], c["extra"]) for c in contacts] == [
        ("Jobs", "77", [], {"group": True}), ("Me", OWNER, [], {}),
        ("Anh Tuan", PEER, ["+84901234567"], {"global_id": "G-2002"}), ("Linh", OTHER, [], {})]


def test_without_profile_databases_and_ext_files(tmp_path):
    chat = make_db(tmp_path / "chat.db", CHAT_SCHEMA.replace(", LocalPath TEXT", "")
                   .replace(", BinNet BLOB", "") + f"INSERT INTO ChatContent VALUES ('{PEER}', 'c1', 0, 1700000000, 'hi'), "
                   f"(NULL, 'c2', 0, 1700000001, 'no sender');")
    ext = make_db(tmp_path / "ext.db", CHAT_SCHEMA)
    files = {CHAT: chat, f"{DOCS}/chat_dbs/{OWNER}/{PEER}_ext.db": ext}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, PARSERS)
    assert sorted((o.source.path.rsplit("/", 1)[-1], o.outcome) for o in outcomes) == [
        (f"{PEER}.db", "parsed"), (f"{PEER}_ext.db", "unsupported version")]
    message, anonymous = rows["messages"]
    assert (message["sender"], message["sender_name"], message["thread_name"]) == (PEER, None, None)
    assert (anonymous["sender"], anonymous["direction"], anonymous["body"]) == (None, None, "no sender")


def test_damaged_chat_database_is_recovered(tmp_path):
    many = "".join(chat_row(PEER, f"c{i}", 0, 1700000000000 + i, "x" * 300) for i in range(200))
    outcome, _ = parser_harness.run_damaged_leaf(tmp_path, CHAT, CHAT_SCHEMA + many, "ChatContent", "zalo-ios-messages")
    assert outcome.outcome == "parsed" and outcome.recovered and 150 < outcome.records < 200
