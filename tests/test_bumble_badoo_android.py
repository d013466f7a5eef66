"""Bumble and Badoo ChatComDatabase (two releases of the real schema) and Badoo's CombinedConnectionsDatabase.

The ChatComDatabase tables are column for column those of real app databases (the public HPI test data for
Bumble, two releases); Badoo shares the code base. The connection table carries the columns ALEAPP's
BadooConnections.py reads.
"""
import json

from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

BUMBLE = "/data/data/com.bumble.app/databases/ChatComDatabase"
BADOO = "/data/data/com.badoo.mobile/databases/ChatComDatabase"
BADOO_CONNECTIONS = "/data/data/com.badoo.mobile/databases/CombinedConnectionsDatabase"

CONVERSATION_INFO = """CREATE TABLE conversation_info (user_id text primary key on conflict replace, gender integer,
  user_name text, user_image_url text, user_deleted boolean, max_unanswered_messages integer,
  sending_multimedia_enabled integer, disabled_multimedia_explanation text, multimedia_visibility_options text,
  enlarged_emojis_max_count integer, photo_url text, age integer not null, is_inapp_promo_partner boolean,
  game_mode integer, match_status text, chat_theme_settings text, chat_input_settings text not null,
  is_open_profile_enabled boolean, conversation_type text not null, extra_message text, user_photos text not null,
  photo_id text, work text, education text, photo_count integer not null, common_interest_count integer not null,
  bumped_into_count integer not null, is_liked_you boolean not null, forwarding_settings text,
  is_reply_allowed boolean not null, live_location_settings text, is_disable_private_detector_enabled boolean not null,
  member_count integer, is_url_parsing_allowed boolean not null, is_user_verified boolean not null,
  last_message_status text, encrypted_user_id text, covid_preferences text, mood_status_emoji text,
  mood_status_name text, show_dating_hub_entry_point boolean not null, hive_id text,
  hive_pending_join_request_count integer, last_seen_message_id text, is_best_bee boolean not null default 0,
  photo_background_color integer{newer_info});"""
MESSAGE = """CREATE TABLE message (_id integer primary key autoincrement, id text unique,
  conversation_id text not null, sender_id text, sender_name text, recipient_id text not null,
  created_timestamp int not null, modified_timestamp int not null, status text not null, is_masked int not null,
  payload text not null, reply_to_id text, is_reply_allowed boolean not null, is_forwarded boolean not null,
  is_forwarding_allowed boolean not null, send_error_type string, sender_avatar_url text,
  is_incoming boolean not null, payload_type text not null, is_liked int not null, is_like_allowed int not null,
  is_likely_offensive boolean not null, clear_chat_version int not null{newer_message});"""
OLD_SCHEMA = CONVERSATION_INFO.format(newer_info="") + MESSAGE.format(newer_message="")
NEW_SCHEMA = CONVERSATION_INFO.format(newer_info=", location text, statusIndicators text not null") + \
    MESSAGE.format(newer_message=", composed_offline boolean not null")


def _literal(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def insert(table: str, **values) -> str:
    return f"INSERT INTO {table} ({', '.join(values)}) VALUES ({', '.join(map(_literal, values.values()))});\n"


def person(user_id, name, encrypted, newer=False, **more) -> str:
    values = dict(user_id=user_id, user_name=name, age=29, chat_input_settings="{}", conversation_type="User",
                  user_photos=json.dumps([{"id": "1", "url": f"https://us1.bumbcdn.com/p/{user_id}.jpg"}]),
                  photo_count=1, common_interest_count=0, bumped_into_count=0, is_liked_you=0, is_reply_allowed=1,
                  is_disable_private_detector_enabled=0, is_url_parsing_allowed=0, is_user_verified=1,
                  show_dating_hub_entry_point=0, encrypted_user_id=encrypted, **more)
    if newer:
        values["statusIndicators"] = "[]"
    return insert("conversation_info", **values)


def message(_id, conversation, sender, recipient, ts, payload, payload_type="TEXT", incoming=1, newer=False,
            keyed_by_id=False) -> str:
    values = dict(id=str(9000 + _id)) if keyed_by_id else dict(_id=_id, id=str(9000 + _id))
    values.update(conversation_id=conversation, sender_id=sender, recipient_id=recipient,
                  created_timestamp=ts, modified_timestamp=ts, status="ON_SERVER", is_masked=0,
                  payload=json.dumps(payload), is_reply_allowed=1, is_forwarded=0, is_forwarding_allowed=0,
                  is_incoming=incoming, payload_type=payload_type, is_liked=0, is_like_allowed=1,
                  is_likely_offensive=0, clear_chat_version=1)
    if newer:
        values["composed_offline"] = 0
    return insert("message", **values)


# the current release: the message table's key is ``id`` (the column ALEAPP's bumble.py reads), there is no ``_id``
CURRENT_SCHEMA = CONVERSATION_INFO.format(newer_info=", location text, statusIndicators text not null") + \
    MESSAGE.replace("_id integer primary key autoincrement, id text unique", "id text primary key").format(
        newer_message=", composed_offline boolean not null")


ROWS = (person("1234567890", "Dana", "dana-enc", gender=1, game_mode=0, work="Nurse")
        + message(1, "1234567890", "dana-enc", "me-enc", 1687425601000, {"text": "Hello there!", "type": "TEXT"})
        + message(2, "1234567890", "me-enc", "dana-enc", 1687425658000, {"text": "Reply there!"}, incoming=0)
        + message(3, "1234567890", "dana-enc", "me-enc", 1690856116000,
                  {"url": "https://us1.bumbcdn.com/a/voice.mp4", "duration": 23650}, payload_type="AUDIO"))
WAL_ROW = message(4, "1234567890", "dana-enc", "me-enc", 1692781351000,
                  {"photo_url": "https://us1.bumbcdn.com/p/1.jpg", "emoji_reaction": "x",
                   "message": "Dana reacted to your profile"}, payload_type="REACTION")


def test_bumble_chat_with_wal_row(tmp_path):
    db = make_db(tmp_path / "src" / "ChatComDatabase", OLD_SCHEMA + ROWS, wal_sql=WAL_ROW)
    files = {BUMBLE: db, BUMBLE + "-wal": db.with_name("ChatComDatabase-wal")}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["bumble-android-chat", "badoo-android-chat"])
    (outcome,) = outcomes
    assert (outcome.spec.name, outcome.outcome, outcome.records, outcome.from_wal) == \
        ("bumble-android-chat", "parsed", 5, 1)
    (dana,) = rows["contacts"]
    assert (dana["app"], dana["platform"], dana["user_id"], dana["name"], dana["handles"]) == \
        ("com.bumble.app", "Bumble", "1234567890", "Dana", ["dana-enc"])
    assert dana["extra"] == {"age": 29, "gender": 1, "work": "Nurse", "conversation_type": "User",
                             "is_user_verified": 1, "mode": "Date",
                             "photo_urls": ["https://us1.bumbcdn.com/p/1234567890.jpg"]}
    first, reply, audio, reaction = rows["messages"]
    assert (first["direction"], first["sender"], first["sender_name"], first["recipients"], first["body"]) == \
        ("incoming", "dana-enc", "Dana", ["me-enc"], "Hello there!")
    assert first["ts"] == "2023-06-22T09:20:01.000000Z" and first["thread_id"] == "1234567890"
    assert (first["source_table"], first["source_row"], first["from_wal"]) == ("message", "1", False)
    assert first["extra"] == {"payload": {"text": "Hello there!", "type": "TEXT"}, "id": "9001",
                              "status": "ON_SERVER"}
    assert (reply["direction"], reply["sender_name"]) == ("outgoing", None)
    assert audio["body"] is None and audio["attachments"] == [{"url": "https://us1.bumbcdn.com/a/voice.mp4",
                                                              "kind": "AUDIO"}]
    assert (reaction["body"], reaction["message_type"], reaction["from_wal"]) == \
        ("Dana reacted to your profile", "REACTION", True)


def test_bumble_current_layout_keyed_by_id_keeps_contacts_and_messages(tmp_path):
    rows_sql = person("1234567890", "Dana", "dana-enc", newer=True, game_mode=1) + "".join(
        message(i, "1234567890", sender, recipient, 1700000000000 + i * 1000, {"text": f"text {i}"},
                incoming=int(sender == "dana-enc"), newer=True, keyed_by_id=True)
        for i, (sender, recipient) in enumerate([("dana-enc", "me-enc"), ("me-enc", "dana-enc")], start=1))
    db = make_db(tmp_path / "src" / "ChatComDatabase", CURRENT_SCHEMA + rows_sql)
    outcomes, rows = parser_harness.run(tmp_path / "run", {BUMBLE: db}, ["bumble-android-chat"])
    assert [(o.outcome, o.records, o.message) for o in outcomes] == [("parsed", 3, None)]
    (dana,) = rows["contacts"]
    assert (dana["name"], dana["extra"]["mode"]) == ("Dana", "BFF")
    assert [(m["source_row"], m["extra"]["id"], m["direction"], m["body"]) for m in rows["messages"]] == [
        ("1", "9001", "incoming", "text 1"), ("2", "9002", "outgoing", "text 2")]


def test_badoo_chat_newer_schema_and_connections(tmp_path):
    chat = make_db(tmp_path / "chat" / "ChatComDatabase", NEW_SCHEMA
                   + person("555", "Lee", "lee-enc", newer=True, gender=0)
                   + message(1, "555", "lee-enc", "me-enc", 1700000000000, {"text": "hi from badoo"}, newer=True)
                   + message(2, "555", "me-enc", "lee-enc", 1700000060000, "not an object", incoming=0, newer=True))
    connections = make_db(tmp_path / "conn" / "CombinedConnectionsDatabase", """
        CREATE TABLE connection (id TEXT PRIMARY KEY, name TEXT, gender INTEGER, origin TEXT,
          sort_timestamp INTEGER, avatar_url TEXT, display_message TEXT);
        INSERT INTO connection VALUES ('555', 'Lee', 0, 'MESSAGES', 1700000060000, 'https://x/a.jpg', 'hi from badoo');
        INSERT INTO connection VALUES ('777', 'Sam', 1, 'PROFILE_VISITORS', 1699990000000, NULL, NULL);""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {BADOO: chat, BADOO_CONNECTIONS: connections})
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "badoo-android-chat": ("parsed", 3), "badoo-android-connections": ("parsed", 2)}
    chat_contact, lee, sam = rows["contacts"]
    assert chat_contact["platform"] == "Badoo" and "mode" not in chat_contact["extra"]
    assert (lee["source_table"], lee["ts"], lee["extra"]["origin"]) == \
        ("connection", "2023-11-14T22:14:20.000000Z", "MESSAGES")
    assert sam["extra"] == {"gender": 1, "origin": "PROFILE_VISITORS"}
    incoming, odd = rows["messages"]
    assert (incoming["app"], incoming["direction"], incoming["body"]) == \
        ("com.badoo.mobile", "incoming", "hi from badoo")
    assert odd["body"] is None and odd["extra"]["payload_raw"] == '"not an object"'


def test_damaged_copy_is_recovered(tmp_path):
    many = "".join(message(i, "1234567890", "dana-enc", "me-enc", 1687425601000 + i, {"text": "y" * 400})
                   for i in range(10, 210))
    good = make_db(tmp_path / "good", OLD_SCHEMA + ROWS + many)
    bad = damage(good, tmp_path / "bad", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {BUMBLE: bad}, ["bumble-android-chat"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered
    assert 150 < len(rows["messages"]) < 203
