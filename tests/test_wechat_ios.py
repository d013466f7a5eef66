"""WeChat iOS: MM.sqlite Chat_<md5> tables and WCDB_Contact.sqlite built at test time (no public WeChat iOS
extraction exists, so there is no peer count to compare)."""
from tests import parser_harness
from tests.fixtures.sqlite_db import make_db
from tests.fixtures.wechat_ios import (CONTACT_SCHEMA, DB_DIR, MEMBER, OWNER, PEER, ROOM, chat_rows, chat_table,
                                       contact_rows)

PARSERS = ["wechat-ios-contacts", "wechat-ios-messages"]


def _files(tmp_path, wal=None):
    mm = make_db(tmp_path / "mm" / "MM.sqlite", chat_rows(), wal_sql=wal)
    files = {DB_DIR + "MM.sqlite": mm,
             DB_DIR + "WCDB_Contact.sqlite": make_db(tmp_path / "c" / "WCDB_Contact.sqlite", CONTACT_SCHEMA
                                                     + contact_rows())}
    if wal:
        files[DB_DIR + "MM.sqlite-wal"] = mm.with_name("MM.sqlite-wal")
    return files


def test_messages_resolve_chats_owner_and_group_senders(tmp_path):
    wal = f"INSERT INTO {chat_table(PEER)} (MesSvrID, CreateTime, Message, Type, Des) VALUES (503, 1700000400, " \
          f"'only in the WAL', 1, 1);"
    outcomes, rows = parser_harness.run(tmp_path / "run", _files(tmp_path, wal), PARSERS)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "wechat-ios-contacts": ("parsed", 5, 0), "wechat-ios-messages": ("parsed", 7, 1)}
    got = [(m["thread_id"], m["sender"], m["sender_name"], m["direction"], m["body"], m["message_type"])
           for m in rows["messages"]]
    assert sorted(got, key=str) == sorted([
        (PEER, PEER, "Recruiter Wu", "incoming", "Visa and flight are paid", "text"),
        (PEER, OWNER, "Me Myself", "outgoing", "When do I leave?", "text"),
        (PEER, PEER, "Recruiter Wu", "incoming", "only in the WAL", "text"),
        (ROOM, MEMBER, "Member Nine", "incoming", "I am in", "text"),
        (ROOM, OWNER, "Me Myself", "outgoing", "me too", "text"),
        (ROOM, None, None, None, "Agent Wu joined the group", "system"),
        (chat_table("wxid_deleted_contact")[5:], None, None, "incoming", "who is this", "text")], key=str)
    first = next(m for m in rows["messages"] if m["body"] == "Visa and flight are paid")
    assert (first["ts"], first["ts_encoding"], first["source_table"], first["source_row"]) == (
        "2023-11-14T22:13:20.000000Z", "unix_s", chat_table(PEER), "1")
    assert first["extra"] == {"type": 1, "Des": 1, "MesLocalID": 1, "MesSvrID": 501, "Status": 4,
                              "chat_hash": chat_table(PEER)[5:]}
    assert next(m for m in rows["messages"] if m["body"] == "only in the WAL")["from_wal"]
    assert next(m for m in rows["messages"] if m["body"] == "When do I leave?")["recipients"] == [PEER]


def test_contacts_names_aliases_and_chat_rooms(tmp_path):
    outcomes, rows = parser_harness.run(tmp_path / "run", _files(tmp_path), ["wechat-ios-contacts"])
    contacts = {c["user_id"]: c for c in rows["contacts"]}
    assert (contacts[PEER]["name"], contacts[PEER]["handles"], contacts[PEER]["extra"]) == (
        "Recruiter Wu", ["wu_jobs"], {"nickname": "Agent Wu", "remark": "Recruiter Wu", "type": 3})
    assert contacts[ROOM]["extra"]["kind"] == "chat room" and contacts[ROOM]["name"] == "Work abroad group"
    assert contacts["1688@openim"]["extra"]["table"] == "OpenIMContact"
