"""Facebook Messenger / Facebook app: threads_db2 and MSYS databases built at test time.

threads_db2 ``messages`` has the 91 columns the app's MessageCursorUtil reads (decompiled Messenger); the other
threads_db2 tables and the MSYS tables carry the columns public parsers (ALEAPP ``FacebookMessenger.py``, Autopsy's
Messenger module) read, as the full MSYS schema is not public.
"""
import json

from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

OWNER, PEER, THIRD = "100001111", "100002222", "100003333"
THREADS = "/data/data/com.facebook.orca/databases/threads_db2"
UID = "/data/data/com.facebook.orca/databases/threads_db2-uid"
KATANA_THREADS = "/data/data/com.facebook.katana/databases/threads_db2"
MSYS = f"/data/data/com.facebook.orca/databases/msys_database_{OWNER}"
KATANA_MSYS = f"/data/data/com.facebook.katana/app_mib_msys/v2/{OWNER}/msys_database_{OWNER}"

MESSAGE_COLUMNS = """thread_key msg_id text is_not_forwardable sender timestamp_ms timestamp_sent_ms msg_type
    affected_users attachments shares sticker_id sticker_size offline_threading_id source channel_source
    is_non_authoritative pending_send_media_attachment sent_share_attachment client_tags extensible_message_data
    send_error send_error_message send_error_detail send_error_original_exception send_error_number
    send_error_timestamp_ms send_error_error_url send_channel publicity copy_message_id send_queue_type
    payment_transaction payment_request has_unavailable_attachment app_attribution content_app_attribution tree_xma
    admin_text_type admin_text_theme_color admin_text_should_show_theme_icon admin_text_gradient_colors
    admin_text_thread_icon_emoji admin_text_nickname admin_text_target_id admin_text_thread_message_lifetime
    message_lifetime admin_text_thread_rtc_event admin_text_thread_rtc_server_info_data
    admin_text_thread_rtc_is_video_call is_sponsored unsent_timestamp_ms unsendability_status
    admin_text_thread_ad_properties admin_text_game_score_data commerce_message_type admin_text_joinable_event_type
    metadata_at_text_ranges platform_metadata admin_text_is_joinable_promo montage_reply_message_id
    montage_reply_action montage_reply_message_media_type montage_reply_story_media_type montage_reply_story_name
    montage_reply_story_type montage_story_type generic_admin_message_extensible_data reactions profile_ranges
    tree_message_replied_to_data message_replied_to_id message_replied_to_status montage_attribution montage_metadata
    work_bot_should_show_get_started_cta snippet genie_original_sender ad_client_token powerup_type transcriptions_v2
    magic_word_ranges admin_text_notification_messages_token_ent_id admin_text_notification_messages_user_action_type
    pinned_message_metadata forward_score admin_text_cta_text admin_text_game_bot_message_management_user_action
    is_takedown admin_text_custom_update_mute_management_game_id admin_text_custom_update_mute_management_user_action
""".split()
_INTEGER = {"timestamp_ms", "timestamp_sent_ms", "msg_type", "send_error_timestamp_ms", "unsent_timestamp_ms"}
THREADS_SCHEMA = (
    "CREATE TABLE messages (" + ", ".join(f"{c} {'INTEGER' if c in _INTEGER else 'TEXT'}"
                                          + (" PRIMARY KEY" if c == "msg_id" else "") for c in MESSAGE_COLUMNS) + ");"
    """
    CREATE TABLE threads (thread_key TEXT PRIMARY KEY, legacy_thread_id TEXT, sequence_id INTEGER, name TEXT,
        senders TEXT, snippet TEXT, timestamp_ms INTEGER, last_read_timestamp_ms INTEGER, folder TEXT);
    CREATE TABLE thread_participants (thread_key TEXT, user_key TEXT, type TEXT, is_admin INTEGER,
        last_read_receipt_time INTEGER, last_delivered_receipt_time INTEGER, PRIMARY KEY (thread_key, user_key, type));
    CREATE TABLE thread_users (user_key TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, username TEXT, name TEXT,
        is_messenger_user INTEGER, profile_pic_square TEXT, is_friend INTEGER, friendship_status TEXT,
        contact_relationship_status TEXT);
    CREATE TABLE message_reactions (msg_id TEXT, user_key TEXT, reaction TEXT, reaction_timestamp INTEGER);
    """)


def _q(value):
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def _sender(uid, name):
    return json.dumps({"email": f"{uid}@facebook.com", "user_key": f"FACEBOOK:{uid}", "name": name})


def _msg(msg_id, thread, ts, sender, text, msg_type=0, attachments=None, admin=None, rtc=None, shares=None):
    values = {"msg_id": msg_id, "thread_key": thread, "timestamp_ms": ts, "timestamp_sent_ms": ts - 500,
              "sender": sender, "text": text, "msg_type": msg_type, "attachments": attachments, "shares": shares,
              "generic_admin_message_extensible_data": admin, "admin_text_thread_rtc_event": rtc}
    return (f"INSERT INTO messages ({', '.join(values)}) VALUES "
            f"({', '.join(str(v) if isinstance(v, int) else _q(v) for v in values.values())});")


ONE, GROUP = f"ONE_TO_ONE:{PEER}:{OWNER}", "GROUP:7777"
THREAD_ROWS = "".join([
    f"INSERT INTO threads (thread_key, name) VALUES ('{ONE}', NULL), ('{GROUP}', 'Crew');",
    "INSERT INTO thread_participants (thread_key, user_key, type) VALUES "
    f"('{ONE}', 'FACEBOOK:{PEER}', 'PARTICIPANT'), ('{ONE}', 'FACEBOOK:{OWNER}', 'PARTICIPANT'),"
    f"('{GROUP}', 'FACEBOOK:{PEER}', 'PARTICIPANT'), ('{GROUP}', 'FACEBOOK:{THIRD}', 'PARTICIPANT'),"
    f"('{GROUP}', 'FACEBOOK:{OWNER}', 'PARTICIPANT');",
    "INSERT INTO thread_users (user_key, first_name, last_name, name, username, is_messenger_user, is_friend) VALUES "
    f"('FACEBOOK:{PEER}', 'Pia', 'Peer', 'Pia Peer', 'pia.peer', 1, 1), "
    f"('FACEBOOK:{THIRD}', 'Tom', NULL, NULL, NULL, 1, 0);",
    _msg("mid.1", ONE, 1600000000123, _sender(PEER, "Pia Peer"), "bring the cash",
         shares=json.dumps([{"name": "Map", "href": "https://maps.example/x", "description": None}])),
    _msg("mid.2", ONE, 1600000060000, _sender(OWNER, "Me"), None,
         attachments=json.dumps([{"id": 55, "fbid": "55", "mime_type": "image/jpeg", "filename": "image-55.jpg",
                                  "file_size": 4096}])),
    _msg("mid.3", GROUP, 1600000120000, _sender(THIRD, "Tom"), "group hi"),
    _msg("mid.4", ONE, 1600000300000, _sender(PEER, "Pia Peer"), "Pia called you.", msg_type=9,
         admin=json.dumps({"caller_id": PEER, "call_duration": 95, "video": False}), rtc="one_on_one_call_ended"),
    _msg("mid.5", ONE, 1600000400000, _sender(OWNER, "Me"), "You called Pia.", msg_type=9,
         admin=json.dumps({"caller_id": OWNER, "call_duration": 0, "video": True})),
])
THREAD_WAL = _msg("mid.6", ONE, 1600000500000, _sender(PEER, "Pia Peer"), "only in the WAL")


def test_threads_db2_messages_calls_contacts_account_and_wal(tmp_path):
    make_db(tmp_path / "src/threads_db2", THREADS_SCHEMA + THREAD_ROWS, wal_sql=THREAD_WAL)
    files = {THREADS: tmp_path / "src/threads_db2", THREADS + "-wal": tmp_path / "src/threads_db2-wal",
             UID: f"\n{OWNER}\n".encode()}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["facebook-messenger-threads-messages",
                                                                  "facebook-messenger-threads-contacts",
                                                                  "facebook-messenger-account"])
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "facebook-messenger-threads-messages": ("parsed", 6, 1),
        "facebook-messenger-threads-contacts": ("parsed", 2, 0), "facebook-messenger-account": ("parsed", 1, 0)}
    m = rows["messages"]
    assert m[0]["body"] == "bring the cash" and m[0]["direction"] == "incoming" and m[0]["sender"] == PEER
    assert m[0]["sender_name"] == "Pia Peer" and m[0]["recipients"] == [OWNER] and m[0]["thread_id"] == ONE
    assert m[0]["ts"] == "2020-09-13T12:26:40.123000Z" and m[0]["extra"]["sent"] == "2020-09-13T12:26:39.623000Z"
    assert m[0]["extra"]["shares"] == [{"name": "Map", "href": "https://maps.example/x"}]
    assert m[0]["extra"]["msg_id"] == "mid.1" and m[0]["source_table"] == "messages"
    assert m[1]["direction"] == "outgoing" and m[1]["recipients"] == [PEER]
    assert m[1]["attachments"] == [{"name": "image-55.jpg", "mime_type": "image/jpeg", "size": 4096, "id": "55"}]
    assert m[2]["thread_name"] == "Crew" and m[2]["recipients"] == [PEER, OWNER]
    assert m[3]["body"] == "only in the WAL" and m[3]["from_wal"] and not m[2]["from_wal"]
    incoming, outgoing = rows["calls"]
    assert incoming["direction"] == "incoming" and incoming["call_type"] == "audio" and incoming["duration_s"] == 95.0
    assert incoming["answered"] is True and incoming["peers"] == [PEER] and incoming["status"] == "one_on_one_call_ended"
    assert incoming["ts"] == "2020-09-13T12:31:40.000000Z"
    assert outgoing["direction"] == "outgoing" and outgoing["call_type"] == "video" and outgoing["answered"] is False
    contacts = rows["contacts"]
    assert [(c["user_id"], c["name"], c["handles"]) for c in contacts] == [
        (PEER, "Pia Peer", ["pia.peer"]), (THIRD, "Tom", [])]
    (account,) = rows["accounts"]
    assert account["user_id"] == OWNER and account["app"] == "com.facebook.orca"


def test_facebook_app_copy_without_uid_file(tmp_path):
    make_db(tmp_path / "threads_db2", THREADS_SCHEMA + THREAD_ROWS)
    outcomes, rows = parser_harness.run(tmp_path / "run", {KATANA_THREADS: tmp_path / "threads_db2"},
                                        ["facebook-katana-threads-messages", "facebook-messenger-threads-messages"])
    assert [(o.spec.name, o.outcome, o.records) for o in outcomes] == [
        ("facebook-katana-threads-messages", "parsed", 5)]
    assert {x["app"] for x in rows["messages"]} == {"com.facebook.katana"}
    assert [x["direction"] for x in rows["messages"]] == [None, None, None]  # the account is not known


MSYS_SCHEMA = """
CREATE TABLE messages (thread_key INTEGER, timestamp_ms INTEGER, message_id TEXT PRIMARY KEY, offline_threading_id TEXT,
    sender_id INTEGER, text TEXT, is_admin_message INTEGER, send_status INTEGER, primary_sort_key INTEGER);
CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, normalized_name_for_search TEXT, username TEXT,
    profile_picture_url TEXT, profile_picture_large_url TEXT, email_address TEXT, phone_number TEXT,
    is_messenger_user INTEGER, friendship_status INTEGER, birthday_timestamp INTEGER, blocked_by_viewer_status INTEGER,
    blocked_since_timestamp_ms INTEGER, work_company_name TEXT, work_job_title TEXT);
CREATE TABLE attachments (thread_key INTEGER, message_id TEXT, attachment_fbid TEXT, filename TEXT, title_text TEXT,
    subtitle_text TEXT, playable_url TEXT, playable_url_mime_type TEXT, timestamp_ms INTEGER);
CREATE TABLE call_log (call_id TEXT, call_timestamp_ms INTEGER, call_duration INTEGER, call_direction INTEGER,
    call_media_type INTEGER, has_been_seen INTEGER, thread_key INTEGER);
"""
MSYS_ROWS = f"""
INSERT INTO contacts (id, name, username, email_address, phone_number, is_messenger_user, friendship_status,
                      work_company_name, birthday_timestamp)
    VALUES ({OWNER}, 'Me Myself', 'me.myself', NULL, NULL, 1, 0, NULL, NULL),
           ({PEER}, 'Pia Peer', 'pia.peer', 'pia@example.com', '+15550123', 1, 1, 'Acme Freight', 631152000);
INSERT INTO messages (thread_key, timestamp_ms, message_id, sender_id, text, is_admin_message)
    VALUES ({PEER}, 1600000000123, 'mid.$a1', {PEER}, 'where', 0), ({PEER}, 1600000060000, 'mid.$a2', {OWNER}, NULL, 0),
           (9988776655, 1600000120000, 'mid.$a3', {PEER}, 'Pia named the group Crew.', 1);
INSERT INTO attachments (thread_key, message_id, filename, playable_url_mime_type, playable_url)
    VALUES ({PEER}, 'mid.$a2', 'video-1.mp4', 'video/mp4', 'https://video.example/1.mp4');
INSERT INTO call_log (call_id, call_timestamp_ms, call_duration, call_direction, call_media_type, has_been_seen,
                      thread_key)
    VALUES ('c1', 1600000200000, 61, 2, 2, 1, {PEER}), ('c2', 1600000300000, 0, 1, 1, 1, {PEER});
"""


def test_msys_messages_calls_contacts_and_wal(tmp_path):
    make_db(tmp_path / "src/msys", MSYS_SCHEMA + MSYS_ROWS,
            wal_sql=f"INSERT INTO messages (thread_key, timestamp_ms, message_id, sender_id, text) "
                    f"VALUES ({PEER}, 1600000500000, 'mid.$a4', {PEER}, 'only in the WAL');")
    files = {KATANA_MSYS: tmp_path / "src/msys", KATANA_MSYS + "-wal": tmp_path / "src/msys-wal"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["facebook-katana-msys-messages",
                                                                  "facebook-katana-msys-calls",
                                                                  "facebook-katana-msys-contacts"])
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "facebook-katana-msys-messages": ("parsed", 4, 1), "facebook-katana-msys-calls": ("parsed", 2, 0),
        "facebook-katana-msys-contacts": ("parsed", 2, 0)}
    m = rows["messages"]
    assert m[0]["body"] == "where" and m[0]["direction"] == "incoming" and m[0]["sender"] == PEER
    assert m[0]["sender_name"] == "Pia Peer" and m[0]["recipients"] == [OWNER] and m[0]["thread_id"] == PEER
    assert m[0]["ts"] == "2020-09-13T12:26:40.123000Z" and m[0]["app"] == "com.facebook.katana"
    assert m[1]["direction"] == "outgoing" and m[1]["recipients"] == [PEER]
    assert m[1]["attachments"] == [{"name": "video-1.mp4", "mime_type": "video/mp4",
                                    "url": "https://video.example/1.mp4"}]
    assert m[2]["message_type"] == "admin" and m[2]["recipients"] == []  # a group thread: members unknown
    assert m[3]["from_wal"] and m[3]["body"] == "only in the WAL"
    video, dialled = rows["calls"]
    assert video["direction"] == "incoming" and video["call_type"] == "video" and video["duration_s"] == 61.0
    assert video["peers"] == [PEER] and video["peer_name"] == "Pia Peer" and video["answered"] is True
    assert dialled["direction"] == "outgoing" and dialled["call_type"] is None and dialled["answered"] is False
    peer = rows["contacts"][1]
    assert peer["phones"] == ["+15550123"] and peer["emails"] == ["pia@example.com"]
    assert peer["organization"] == "Acme Freight" and peer["extra"]["birthday_timestamp"] == 631152000


def test_msys_without_call_log_and_the_orca_path(tmp_path):
    make_db(tmp_path / "msys", MSYS_SCHEMA.split("CREATE TABLE call_log")[0] + MSYS_ROWS.split("INSERT INTO call_log")[0])
    outcomes, _ = parser_harness.run(tmp_path / "run", {MSYS: tmp_path / "msys"},
                                     ["facebook-messenger-msys-messages", "facebook-messenger-msys-calls"])
    assert {o.spec.name: o.outcome for o in outcomes} == {"facebook-messenger-msys-messages": "parsed",
                                                          "facebook-messenger-msys-calls": "unsupported version"}


def test_damaged_threads_db2_is_recovered(tmp_path):
    filler = "".join(_msg(f"mid.f{i}", ONE, 1600000000000 + i, _sender(PEER, "Pia Peer"), "k" * 400)
                     for i in range(150))
    good = make_db(tmp_path / "good", THREADS_SCHEMA + THREAD_ROWS + filler)
    bad = damage(good, tmp_path / "bad", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {THREADS: bad}, ["facebook-messenger-threads-messages"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered and 100 < outcomes[0].records < 155
    assert all(x["recovered"] for x in rows["messages"] + rows["calls"])
