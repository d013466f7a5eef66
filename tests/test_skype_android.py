"""Skype: the real desktop main.db from plaso's test data; a Skype 7 main.db built at test time with the schema
Skyperious (a Skype database viewer) creates for that version (timestamp__ms, call_db_id, ...); and a current
Android ``live:`` database with the chatitem/person/particiapnt columns public parsers read (the rest of that schema
is not public)."""
import pytest

from tests import parser_harness
from tests.conftest_paths import TESTDATA
from tests.fixtures.sqlite_db import damage, make_db

REAL = TESTDATA / "log2timeline+plaso/test_data/sqlite/skype_main.db"
DESKTOP = "/Users/gberinger/Library/Application Support/Skype/gen.beringer/main.db"
LEGACY = "/data/data/com.skype.raider/files/owner.one/main.db"
LIVE = "/data/data/com.skype.raider/databases/live:owner.one"
MAIN = ["skype-desktop-messages", "skype-desktop-calls", "skype-desktop-contacts"]
LEGACY_PARSERS = ["skype-legacy-messages", "skype-legacy-calls", "skype-legacy-contacts"]


def test_real_desktop_main_db_per_table_counts(tmp_path):
    if not REAL.exists():
        pytest.skip(f"third-party test data absent: {REAL}")
    outcomes, rows = parser_harness.run(tmp_path, {DESKTOP: REAL}, MAIN)
    assert {o.spec.name: (o.outcome, o.records) for o in outcomes} == {
        "skype-desktop-messages": ("parsed", 18), "skype-desktop-calls": ("parsed", 1),
        "skype-desktop-contacts": ("parsed", 3)}
    by_table = {}
    for table in ("messages", "calls", "contacts", "accounts"):
        for row in rows[table]:
            by_table[row["source_table"]] = by_table.get(row["source_table"], 0) + 1
    # plaso counts 20 events in this file (15 chat, 1 account, 1 SMS, 3 for the one call); here each row is one record
    assert by_table == {"Messages": 15, "SMSes": 1, "Transfers": 2, "Calls": 1, "Contacts": 2, "Accounts": 1}
    messages = {(m["source_table"], m["source_row"]): m for m in rows["messages"]}
    first = messages[("Messages", "39")]
    assert first["body"] == "yt?" and first["ts"] == "2013-07-30T21:26:28.000000Z" and first["ts_raw"] == "1375219588"
    assert first["sender"] == "gen.beringer" and first["direction"] == "outgoing"
    assert first["recipients"] == ["european.bbq.competitor"] and first["thread_name"] == "European Competitor"
    reply = messages[("Messages", "52")]
    assert reply["body"] == "I'm here" and reply["extra"]["body_xml"] == "I&apos;m here"
    assert reply["direction"] == "incoming" and reply["sender_name"] == "European Competitor"
    group = messages[("Messages", "62")]
    assert group["recipients"] == ["gen.beringer", "echo123"]  # from Chats.participants: no Participants rows
    sms_row = messages[("Messages", "61")]
    assert sms_row["message_type"] == "sms" and sms_row["recipients"] == ["+34123456789"]
    assert sms_row["ts_raw"] == "13727168620"  # the file's own (bogus) value, kept as stored
    sms = messages[("SMSes", "145")]
    assert sms["ts"] == "2013-07-01T22:14:22.000000Z" and sms["status"] == "delivered"
    assert sms["body"] == "If you want I can copy some documents for you, if you can pay it... ;)"
    transfer = messages[("Transfers", "1094")]
    assert transfer["direction"] == "outgoing" and transfer["recipients"] == ["european.bbq.competitor"]
    assert transfer["attachments"] == [{"name": "secret-project.pdf", "path": "/Users/gberinger/Desktop/secret-project.pdf",
                                        "size": 69986}]
    assert transfer["status"] == "delivered" and transfer["extra"]["finished"] == "2013-10-24T21:49:37.000000Z"
    (call,) = rows["calls"]
    assert call["ts"] == "2013-07-01T22:12:17.000000Z" and call["direction"] == "outgoing"
    assert call["peers"] == ["european.bbq.competitor"] and call["duration_s"] == 646.0 and call["answered"] is True
    (account,) = rows["accounts"]
    assert account["username"] == "gen.beringer" and account["email"] == "genberinger@gmail.com"
    assert [c["user_id"] for c in rows["contacts"]] == ["echo123", "european.bbq.competitor"]


SKYPE7_SCHEMA = """
CREATE TABLE Accounts (id INTEGER NOT NULL PRIMARY KEY, is_permanent INTEGER, status INTEGER, pwdchangestatus
    INTEGER, logoutreason INTEGER, commitstatus INTEGER, suggested_skypename TEXT, skypeout_balance_currency
    TEXT, skypeout_balance INTEGER, skypeout_precision INTEGER, skypein_numbers TEXT, subscriptions TEXT,
    cblsyncstatus INTEGER, contactssyncstatus INTEGER, offline_callforward TEXT, chat_policy INTEGER,
    skype_call_policy INTEGER, pstn_call_policy INTEGER, avatar_policy INTEGER, buddycount_policy INTEGER,
    timezone_policy INTEGER, webpresence_policy INTEGER, phonenumbers_policy INTEGER, voicemail_policy INTEGER,
    authrequest_policy INTEGER, ad_policy INTEGER, partner_optedout TEXT, service_provider_info TEXT,
    registration_timestamp INTEGER, nr_of_other_instances INTEGER, partner_channel_status TEXT,
    flamingo_xmpp_status INTEGER, federated_presence_policy INTEGER, liveid_membername TEXT,
    roaming_history_enabled INTEGER, cobrand_id INTEGER, shortcircuit_sync INTEGER, signin_name TEXT,
    read_receipt_optout INTEGER, hidden_expression_tabs TEXT, owner_under_legal_age INTEGER, type INTEGER,
    skypename TEXT, pstnnumber TEXT, fullname TEXT, birthday INTEGER, gender INTEGER, languages TEXT, country
    TEXT, province TEXT, city TEXT, phone_home TEXT, phone_office TEXT, phone_mobile TEXT, emails TEXT, homepage
    TEXT, about TEXT, profile_timestamp INTEGER, received_authrequest TEXT, displayname TEXT, refreshing
    INTEGER, given_authlevel INTEGER, aliases TEXT, authreq_timestamp INTEGER, mood_text TEXT, timezone INTEGER,
    nrof_authed_buddies INTEGER, ipcountry TEXT, given_displayname TEXT, availability INTEGER,
    lastonline_timestamp INTEGER, capabilities BLOB, avatar_image BLOB, assigned_speeddial TEXT,
    lastused_timestamp INTEGER, authrequest_count INTEGER, assigned_comment TEXT, alertstring TEXT,
    avatar_timestamp INTEGER, mood_timestamp INTEGER, rich_mood_text TEXT, synced_email BLOB, set_availability
    INTEGER, options_change_future BLOB, msa_pmn TEXT, authorized_time INTEGER, sent_authrequest TEXT,
    sent_authrequest_time INTEGER, sent_authrequest_serial INTEGER, buddyblob BLOB, cbl_future BLOB,
    node_capabilities INTEGER, node_capabilities_and INTEGER, revoked_auth INTEGER, added_in_shared_group
    INTEGER, in_shared_group INTEGER, authreq_history BLOB, profile_attachments BLOB, stack_version INTEGER,
    offline_authreq_id INTEGER, verified_email BLOB, verified_company BLOB, uses_jcs INTEGER, forward_starttime
    INTEGER);
CREATE TABLE CallMembers (id INTEGER NOT NULL PRIMARY KEY, is_permanent INTEGER, identity TEXT, dispname TEXT,
    languages TEXT, call_duration INTEGER, price_per_minute INTEGER, price_precision INTEGER, price_currency
    TEXT, payment_category TEXT, type INTEGER, status INTEGER, failurereason INTEGER, sounderror_code INTEGER,
    soundlevel INTEGER, pstn_statustext TEXT, pstn_feedback TEXT, forward_targets TEXT, forwarded_by TEXT,
    debuginfo TEXT, videostatus INTEGER, target_identity TEXT, mike_status INTEGER, is_read_only INTEGER,
    quality_status INTEGER, call_name TEXT, transfer_status INTEGER, transfer_active INTEGER, transferred_by
    TEXT, transferred_to TEXT, guid TEXT, next_redial_time INTEGER, nrof_redials_done INTEGER, nrof_redials_left
    INTEGER, transfer_topic TEXT, real_identity TEXT, start_timestamp INTEGER, is_conference INTEGER,
    quality_problems TEXT, identity_type INTEGER, country TEXT, creation_timestamp INTEGER, stats_xml TEXT,
    is_premium_video_sponsor INTEGER, is_multiparty_video_capable INTEGER, recovery_in_progress INTEGER,
    fallback_in_progress INTEGER, nonse_word TEXT, nr_of_delivered_push_notifications INTEGER, call_session_guid
    TEXT, version_string TEXT, ip_address TEXT, is_video_codec_compatible INTEGER, group_calling_capabilities
    INTEGER, mri_identity TEXT, is_seamlessly_upgraded_call INTEGER, voicechannel INTEGER, video_count_changed
    INTEGER, is_active_speaker INTEGER, dominant_speaker_rank INTEGER, participant_sponsor TEXT,
    content_sharing_role INTEGER, endpoint_details TEXT, pk_status INTEGER, call_db_id INTEGER, prime_status
    INTEGER, light_weight_meeting_role INTEGER, capabilities INTEGER, endpoint_type INTEGER, accepted_by TEXT,
    is_server_muted INTEGER, admit_failure_reason INTEGER);
CREATE TABLE Calls (id INTEGER NOT NULL PRIMARY KEY, is_permanent INTEGER, begin_timestamp INTEGER, topic TEXT,
    is_muted INTEGER, is_unseen_missed INTEGER, host_identity TEXT, is_hostless INTEGER, mike_status INTEGER,
    duration INTEGER, soundlevel INTEGER, access_token TEXT, active_members INTEGER, is_active INTEGER, name
    TEXT, video_disabled INTEGER, joined_existing INTEGER, server_identity TEXT, vaa_input_status INTEGER,
    is_incoming INTEGER, is_conference INTEGER, is_on_hold INTEGER, start_timestamp INTEGER, quality_problems
    TEXT, current_video_audience TEXT, premium_video_status INTEGER, premium_video_is_grace_period INTEGER,
    is_premium_video_sponsor INTEGER, premium_video_sponsor_list TEXT, technology INTEGER,
    max_videoconfcall_participants INTEGER, optimal_remote_videos_in_conference INTEGER, message_id TEXT, status
    INTEGER, thread_id TEXT, leg_id TEXT, conversation_type TEXT, datachannel_object_id INTEGER,
    endpoint_details TEXT, caller_mri_identity TEXT, member_count_changed INTEGER, transfer_status INTEGER,
    transfer_failure_reason INTEGER, old_members BLOB, partner_handle TEXT, partner_dispname TEXT, type INTEGER,
    failurereason INTEGER, failurecode INTEGER, pstn_number TEXT, old_duration INTEGER, conf_participants BLOB,
    pstn_status TEXT, members BLOB, conv_dbid INTEGER, is_server_muted INTEGER, forwarding_destination_type
    TEXT, incoming_type TEXT, onbehalfof_mri TEXT, transferor_mri TEXT, light_weight_meeting_count_changed
    INTEGER);
CREATE TABLE Chats (id INTEGER NOT NULL PRIMARY KEY, is_permanent INTEGER, name TEXT, timestamp INTEGER, adder
    TEXT, type INTEGER, posters TEXT, participants TEXT, topic TEXT, activemembers TEXT, friendlyname TEXT,
    alertstring TEXT, is_bookmarked INTEGER, activity_timestamp INTEGER, mystatus INTEGER, passwordhint TEXT,
    description TEXT, options INTEGER, picture BLOB, guidelines TEXT, dialog_partner TEXT, myrole INTEGER,
    applicants TEXT, banned_users TEXT, topic_xml TEXT, name_text TEXT, unconsumed_suppressed_msg INTEGER,
    unconsumed_normal_msg INTEGER, unconsumed_elevated_msg INTEGER, unconsumed_msg_voice INTEGER, state_data
    BLOB, lifesigns INTEGER, last_change INTEGER, first_unread_message INTEGER, pk_type INTEGER, dbpath TEXT,
    split_friendlyname TEXT, conv_dbid INTEGER);
CREATE TABLE Contacts (id INTEGER NOT NULL PRIMARY KEY, is_permanent INTEGER, type INTEGER, skypename TEXT,
    pstnnumber TEXT, aliases TEXT, fullname TEXT, birthday INTEGER, gender INTEGER, languages TEXT, country
    TEXT, province TEXT, city TEXT, phone_home TEXT, phone_office TEXT, phone_mobile TEXT, emails TEXT,
    hashed_emails TEXT, homepage TEXT, about TEXT, avatar_image BLOB, mood_text TEXT, rich_mood_text TEXT,
    timezone INTEGER, capabilities BLOB, profile_timestamp INTEGER, nrof_authed_buddies INTEGER, ipcountry TEXT,
    avatar_timestamp INTEGER, mood_timestamp INTEGER, received_authrequest TEXT, authreq_timestamp INTEGER,
    lastonline_timestamp INTEGER, availability INTEGER, displayname TEXT, refreshing INTEGER, given_authlevel
    INTEGER, given_displayname TEXT, assigned_speeddial TEXT, assigned_comment TEXT, alertstring TEXT,
    lastused_timestamp INTEGER, authrequest_count INTEGER, assigned_phone1 TEXT, assigned_phone1_label TEXT,
    assigned_phone2 TEXT, assigned_phone2_label TEXT, assigned_phone3 TEXT, assigned_phone3_label TEXT,
    buddystatus INTEGER, isauthorized INTEGER, popularity_ord INTEGER, external_id TEXT, external_system_id
    TEXT, isblocked INTEGER, authorization_certificate BLOB, certificate_send_count INTEGER,
    account_modification_serial_nr INTEGER, saved_directory_blob BLOB, nr_of_buddies INTEGER, server_synced
    INTEGER, contactlist_track INTEGER, last_used_networktime INTEGER, authorized_time INTEGER, sent_authrequest
    TEXT, sent_authrequest_time INTEGER, sent_authrequest_serial INTEGER, buddyblob BLOB, cbl_future BLOB,
    node_capabilities INTEGER, revoked_auth INTEGER, added_in_shared_group INTEGER, in_shared_group INTEGER,
    authreq_history BLOB, profile_attachments BLOB, stack_version INTEGER, offline_authreq_id INTEGER,
    node_capabilities_and INTEGER, authreq_crc INTEGER, authreq_src INTEGER, pop_score INTEGER, authreq_nodeinfo
    BLOB, main_phone TEXT, unified_servants TEXT, phone_home_normalized TEXT, phone_office_normalized TEXT,
    phone_mobile_normalized TEXT, sent_authrequest_initmethod INTEGER, authreq_initmethod INTEGER,
    verified_email BLOB, verified_company BLOB, sent_authrequest_extrasbitmask INTEGER, liveid_cid TEXT,
    extprop_seen_birthday INTEGER, extprop_sms_target INTEGER, extprop_external_data TEXT, is_auto_buddy
    INTEGER, group_membership INTEGER, is_mobile INTEGER, is_trusted INTEGER, avatar_url TEXT, firstname TEXT,
    lastname TEXT, network_availability INTEGER, avatar_url_new TEXT, avatar_hiresurl TEXT, avatar_hiresurl_new
    TEXT, profile_json TEXT, profile_etag TEXT, dirblob_last_search_time INTEGER, mutual_friend_count INTEGER);
CREATE TABLE Conversations (id INTEGER NOT NULL PRIMARY KEY, is_permanent INTEGER, identity TEXT, type INTEGER,
    live_host TEXT, live_is_hostless INTEGER, live_call_technology INTEGER, optimal_remote_videos_in_conference
    INTEGER, live_start_timestamp INTEGER, live_is_muted INTEGER, max_videoconfcall_participants INTEGER,
    alert_string TEXT, is_bookmarked INTEGER, is_blocked INTEGER, given_displayname TEXT, displayname TEXT,
    local_livestatus INTEGER, inbox_timestamp INTEGER, inbox_message_id INTEGER, last_message_id INTEGER,
    unconsumed_suppressed_messages INTEGER, unconsumed_normal_messages INTEGER, unconsumed_elevated_messages
    INTEGER, unconsumed_messages_voice INTEGER, active_vm_id INTEGER, context_horizon INTEGER,
    consumption_horizon INTEGER, consumption_horizon__ms INTEGER, last_activity_timestamp INTEGER,
    active_invoice_message INTEGER, spawned_from_convo_id INTEGER, pinned_order INTEGER, creator TEXT,
    creation_timestamp INTEGER, my_status INTEGER, opt_joining_enabled INTEGER, opt_moderated INTEGER,
    opt_access_token TEXT, opt_entry_level_rank INTEGER, opt_disclose_history INTEGER, opt_history_limit_in_days
    INTEGER, opt_admin_only_activities INTEGER, passwordhint TEXT, meta_name TEXT, meta_topic TEXT,
    meta_guidelines TEXT, meta_picture BLOB, picture TEXT, is_p2p_migrated INTEGER,
    migration_instructions_posted INTEGER, premium_video_status INTEGER, premium_video_is_grace_period INTEGER,
    guid TEXT, dialog_partner TEXT, meta_description TEXT, premium_video_sponsor_list TEXT, mcr_caller TEXT,
    chat_dbid INTEGER, history_horizon INTEGER, history_sync_state TEXT, thread_version TEXT,
    consumption_horizon_set_at INTEGER, alt_identity TEXT, in_migrated_thread_since INTEGER, awareness_liveState
    TEXT, join_url TEXT, reaction_thread TEXT, parent_thread TEXT, consumption_horizon_rid INTEGER,
    consumption_horizon_crc INTEGER, consumption_horizon_bookmark INTEGER, client_id TEXT,
    last_synced_message_id INTEGER, last_synced_message_version INTEGER, last_synced_days INTEGER, version
    INTEGER, endpoint_details TEXT, extprop_profile_height INTEGER, extprop_chat_width INTEGER,
    extprop_chat_left_margin INTEGER, extprop_chat_right_margin INTEGER, extprop_entry_height INTEGER,
    extprop_windowpos_x INTEGER, extprop_windowpos_y INTEGER, extprop_windowpos_w INTEGER, extprop_windowpos_h
    INTEGER, extprop_window_maximized INTEGER, extprop_window_detached INTEGER, extprop_pinned_order INTEGER,
    extprop_new_in_inbox INTEGER, extprop_tab_order INTEGER, extprop_video_layout INTEGER,
    extprop_video_chat_height INTEGER, extprop_chat_avatar INTEGER, extprop_consumption_timestamp INTEGER,
    extprop_form_visible INTEGER, extprop_recovery_mode INTEGER, extprop_translator_enabled INTEGER,
    extprop_translator_call_my_lang TEXT, extprop_translator_call_other_lang TEXT,
    extprop_translator_chat_my_lang TEXT, extprop_translator_chat_other_lang TEXT,
    extprop_conversation_first_unread_emote INTEGER, datachannel_object_id INTEGER, invite_status INTEGER,
    highlights_follow_pending TEXT, highlights_follow_waiting TEXT, highlights_add_pending TEXT,
    highlights_add_waiting TEXT);
CREATE TABLE Messages (id INTEGER NOT NULL PRIMARY KEY, is_permanent INTEGER, chatname TEXT, timestamp INTEGER,
    author TEXT, from_dispname TEXT, chatmsg_type INTEGER, identities TEXT, leavereason INTEGER, body_xml TEXT,
    chatmsg_status INTEGER, body_is_rawxml INTEGER, edited_by TEXT, edited_timestamp INTEGER, newoptions
    INTEGER, newrole INTEGER, dialog_partner TEXT, oldoptions INTEGER, guid BLOB, convo_id INTEGER, type
    INTEGER, sending_status INTEGER, param_key INTEGER, param_value INTEGER, reason TEXT, error_code INTEGER,
    consumption_status INTEGER, author_was_live INTEGER, participant_count INTEGER, pk_id INTEGER, crc INTEGER,
    remote_id INTEGER, call_guid TEXT, extprop_contact_review_date TEXT, extprop_contact_received_stamp INTEGER,
    extprop_contact_reviewed INTEGER, option_bits INTEGER, server_id INTEGER, annotation_version INTEGER,
    timestamp__ms INTEGER, language TEXT, bots_settings TEXT, reaction_thread TEXT, content_flags INTEGER);
CREATE TABLE Participants (id INTEGER NOT NULL PRIMARY KEY, is_permanent INTEGER, convo_id INTEGER, identity
    TEXT, rank INTEGER, requested_rank INTEGER, text_status INTEGER, voice_status INTEGER, live_identity TEXT,
    live_price_for_me TEXT, live_fwd_identities TEXT, live_start_timestamp INTEGER, sound_level INTEGER,
    debuginfo TEXT, next_redial_time INTEGER, nrof_redials_left INTEGER, last_voice_error TEXT, quality_problems
    TEXT, live_type INTEGER, live_country TEXT, transferred_by TEXT, transferred_to TEXT, adder TEXT, sponsor
    TEXT, last_leavereason INTEGER, is_premium_video_sponsor INTEGER, is_multiparty_video_capable INTEGER,
    live_identity_to_use TEXT, livesession_recovery_in_progress INTEGER, livesession_fallback_in_progress
    INTEGER, is_multiparty_video_updatable INTEGER, live_ip_address TEXT, is_video_codec_compatible INTEGER,
    group_calling_capabilities INTEGER, is_seamlessly_upgraded_call INTEGER, live_voicechannel INTEGER,
    read_horizon INTEGER, is_active_speaker INTEGER, dominant_speaker_rank INTEGER, endpoint_details TEXT,
    messaging_mode INTEGER, real_identity TEXT, adding_in_progress_since INTEGER);
CREATE TABLE SMSes (id INTEGER NOT NULL PRIMARY KEY, is_permanent INTEGER, is_failed_unseen INTEGER,
    price_precision INTEGER, type INTEGER, status INTEGER, failurereason INTEGER, price INTEGER, price_currency
    TEXT, target_numbers TEXT, target_statuses BLOB, body TEXT, timestamp INTEGER, reply_to_number TEXT,
    chatmsg_id INTEGER, extprop_hide_from_history INTEGER, extprop_extended INTEGER, identity TEXT,
    notification_id INTEGER, event_flags INTEGER, reply_id_number TEXT, convo_name TEXT, outgoing_reply_type
    INTEGER, error_category INTEGER);
CREATE TABLE Transfers (id INTEGER NOT NULL PRIMARY KEY, is_permanent INTEGER, type INTEGER, partner_handle
    TEXT, partner_dispname TEXT, status INTEGER, failurereason INTEGER, starttime INTEGER, finishtime INTEGER,
    filepath TEXT, filename TEXT, filesize TEXT, bytestransferred TEXT, bytespersecond INTEGER, chatmsg_guid
    BLOB, chatmsg_index INTEGER, convo_id INTEGER, pk_id INTEGER, nodeid BLOB, last_activity INTEGER, flags
    INTEGER, old_status INTEGER, old_filepath INTEGER, extprop_localfilename TEXT, extprop_hide_from_history
    INTEGER, extprop_window_visible INTEGER, extprop_handled_by_chat INTEGER, accepttime INTEGER, parent_id
    INTEGER, offer_send_list TEXT);
"""
SKYPE7_ROWS = """
INSERT INTO Accounts (id, skypename, fullname, emails, phone_mobile, profile_timestamp)
    VALUES (1, 'owner.one', 'Owner One', 'owner@example.com other@example.com', '+15550101', 1500000000);
INSERT INTO Contacts (id, skypename, fullname, phone_mobile, phone_home, emails, birthday, isblocked)
    VALUES (2, 'buddy.two', 'Buddy Two', '+15550102', '+15550102', 'b@example.com', 19900101, 1);
INSERT INTO Conversations (id, identity, type, displayname) VALUES (5, 'buddy.two', 1, 'Buddy Two');
INSERT INTO Participants (id, convo_id, identity) VALUES (6, 5, 'buddy.two'), (7, 5, 'owner.one');
INSERT INTO Messages (id, convo_id, chatname, author, from_dispname, timestamp, timestamp__ms, type, body_xml)
    VALUES (10, 5, '#owner.one/$buddy.two;1', 'buddy.two', 'Buddy Two', 1600000000, 1600000000123, 61,
            'meet &lt;here&gt; <b>now</b>'),
           (11, 5, '#owner.one/$buddy.two;1', 'owner.one', 'Owner One', 1600000060, NULL, 61, 'ok');
INSERT INTO Messages (id, convo_id, author, timestamp, type, body_xml, edited_timestamp)
    VALUES (12, 5, 'owner.one', 1600000070, 61, '', 1600000080);
INSERT INTO Transfers (id, type, partner_handle, partner_dispname, status, starttime, filepath, filename, filesize,
                       convo_id)
    VALUES (20, 1, 'buddy.two', 'Buddy Two', 12, 1600000100, 'C:\\Users\\o\\Downloads\\list.xlsx', 'list.xlsx',
            '1234', 5);
INSERT INTO Calls (id, begin_timestamp, is_incoming, host_identity, duration)
    VALUES (30, 1600000200, 1, 'buddy.two', NULL), (31, 1600000300, 0, 'owner.one', NULL);
INSERT INTO CallMembers (id, identity, dispname, call_duration, start_timestamp, videostatus, call_db_id)
    VALUES (40, 'buddy.two', 'Buddy Two', 30, 1600000205, 3, 30), (41, 'buddy.two', 'Buddy Two', 0, NULL, 1, 31);
"""
WAL_ROW = ("INSERT INTO Messages (id, convo_id, author, timestamp, type, body_xml) "
           "VALUES (13, 5, 'buddy.two', 1600000400, 61, 'only in the WAL');")


def test_skype7_schema_on_legacy_android_path_with_wal(tmp_path):
    make_db(tmp_path / "src/main.db", SKYPE7_SCHEMA + SKYPE7_ROWS, wal_sql=WAL_ROW)
    files = {LEGACY: tmp_path / "src/main.db", LEGACY + "-wal": tmp_path / "src/main.db-wal"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, LEGACY_PARSERS)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "skype-legacy-messages": ("parsed", 5, 1), "skype-legacy-calls": ("parsed", 2, 0),
        "skype-legacy-contacts": ("parsed", 2, 0)}
    m = rows["messages"]
    assert {x["app"] for x in m} == {"com.skype.raider"}
    assert m[0]["ts"] == "2020-09-13T12:26:40.123000Z" and m[0]["ts_encoding"] == "unix_ms"  # timestamp__ms
    assert m[0]["body"] == "meet <here> now" and m[0]["direction"] == "incoming" and m[0]["recipients"] == ["owner.one"]
    assert m[1]["ts"] == "2020-09-13T12:27:40.000000Z" and m[1]["ts_encoding"] == "unix_s"
    assert m[1]["direction"] == "outgoing" and m[1]["recipients"] == ["buddy.two"] and not m[1]["deleted"]
    assert m[2]["deleted"] and m[2]["extra"]["edited"] == "2020-09-13T12:28:00.000000Z"
    assert m[3]["body"] == "only in the WAL" and m[3]["from_wal"]
    transfer = m[4]
    assert transfer["source_table"] == "Transfers" and transfer["direction"] == "incoming"
    assert transfer["sender"] == "buddy.two" and transfer["recipients"] == ["owner.one"]
    assert transfer["attachments"][0]["name"] == "list.xlsx" and transfer["attachments"][0]["size"] == 1234
    video, missed = rows["calls"]
    assert video["call_type"] == "video" and video["direction"] == "incoming" and video["answered"] is True
    assert video["duration_s"] == 30.0 and video["extra"]["accepted"] == "2020-09-13T12:30:05.000000Z"
    assert missed["call_type"] is None and missed["direction"] == "outgoing" and missed["answered"] is False
    (contact,) = rows["contacts"]
    assert contact["phones"] == ["+15550102"] and contact["emails"] == ["b@example.com"]
    assert contact["extra"] == {"birthday": 19900101, "blocked": True}
    (account,) = rows["accounts"]
    assert account["email"] == "owner@example.com" and account["phone"] == "+15550101"


def test_damaged_main_db_is_recovered(tmp_path):
    filler = "".join(f"INSERT INTO Messages (convo_id, author, timestamp, type, body_xml) "
                     f"VALUES (5, 'buddy.two', {1600000000 + i}, 61, '{'q' * 400}');" for i in range(150))
    good = make_db(tmp_path / "good.db", SKYPE7_SCHEMA + SKYPE7_ROWS + filler)
    bad = damage(good, tmp_path / "bad.db", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "run", {LEGACY: bad}, ["skype-legacy-messages"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered and 100 < outcomes[0].records < 155
    assert all(x["recovered"] for x in rows["messages"])


LIVE_SCHEMA = """
CREATE TABLE chatitem (conversation_link TEXT, time INTEGER, duration INTEGER, content TEXT,
    device_gallery_path TEXT, is_sender_me INTEGER, person_id TEXT, message_type INTEGER);
CREATE TABLE person (entry_id TEXT, first_name TEXT, last_name TEXT);
CREATE TABLE particiapnt (conversation_id TEXT, person_id TEXT);
INSERT INTO person VALUES ('8:live:buddy.two', 'Buddy', 'Two'), ('8:live:owner.one', 'Owner', NULL);
INSERT INTO particiapnt VALUES ('19:group@thread.skype', '8:live:buddy.two'),
                               ('19:group@thread.skype', '8:live:third.three');
INSERT INTO chatitem VALUES ('8:live:buddy.two', 1600000000123, NULL, 'hello', NULL, 0, '8:live:buddy.two', 1),
    ('8:live:buddy.two', 1600000060000, NULL, NULL, '/storage/emulated/0/Pictures/Skype/a.jpg', 1, '8:live:owner.one', 1),
    ('19:group@thread.skype', 1600000120000, NULL, 'to all', NULL, 1, '8:live:owner.one', 1),
    ('8:live:buddy.two', 1600000180000, 75, NULL, NULL, 1, '8:live:owner.one', 3);
"""


def test_live_database_messages_calls_contacts(tmp_path):
    make_db(tmp_path / "src/live", LIVE_SCHEMA,
            wal_sql="INSERT INTO chatitem VALUES ('8:live:buddy.two', 1600000240000, NULL, 'only in the WAL', NULL, "
                    "0, '8:live:buddy.two', 1);")
    files = {LIVE: tmp_path / "src/live", LIVE + "-wal": tmp_path / "src/live-wal"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, ["skype-android-messages", "skype-android-contacts"])
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "skype-android-messages": ("parsed", 5, 1), "skype-android-contacts": ("parsed", 2, 0)}
    m = rows["messages"]
    assert m[0]["body"] == "hello" and m[0]["direction"] == "incoming" and m[0]["sender_name"] == "Buddy Two"
    assert m[0]["ts"] == "2020-09-13T12:26:40.123000Z" and m[0]["source_table"] == "chatitem"
    assert m[1]["direction"] == "outgoing" and m[1]["recipients"] == ["8:live:buddy.two"]
    assert m[1]["attachments"] == [{"path": "/storage/emulated/0/Pictures/Skype/a.jpg"}]
    assert m[2]["recipients"] == ["8:live:buddy.two", "8:live:third.three"]
    assert m[3]["body"] == "only in the WAL" and m[3]["from_wal"]
    (call,) = rows["calls"]
    assert call["direction"] == "outgoing" and call["peers"] == ["8:live:buddy.two"]
    assert call["duration_s"] is None and call["extra"]["duration_raw"] == 75  # unit not established: kept raw
    assert [(c["user_id"], c["name"]) for c in rows["contacts"]] == [("8:live:buddy.two", "Buddy Two"),
                                                                    ("8:live:owner.one", "Owner")]
