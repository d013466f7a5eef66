"""iOS visual voicemail: ``/private/var/mobile/Library/Voicemail/voicemail.db``.

Layout from iLEAPP ``scripts/artifacts/voicemail.py`` (its query names ``voicemail.date``, ``sender``, ``receiver``,
``callback_num``, ``duration``, ``trashed_date``, ``flags``, ``label``, ``ROWID`` and ``map.account``/``map.label``)
and confirmed by the real databases iLEAPP tests on (``admin/test/cases/data/voicemail``: josh_ios15_ffs,
mvs_ios_2023, belkasoft_ctf6_ios_device1), whose schema also has a ``deleted`` table with the same columns.

``date`` is Unix seconds, ``trashed_date`` Cocoa seconds (0 = not in the trash), ``duration`` seconds. ``flags`` 75
marks a deleted voicemail (Hoog & Strzempka, cited by iLEAPP). ``map`` ties a voicemail ``label`` to the SIM's ICCID
(``account``), recorded as an ``iccid`` device fact. The audio sits beside the database as ``<ROWID>.amr``; its name
is kept in ``extra``; the transcript beside it, ``<ROWID>.transcript``, is a plist whose ``transcriptionString`` and
``confidence`` iLEAPP reads: it is added to the voicemail's ``extra`` and is also a Message of type
``voicemail transcript`` of its own, so its words are searchable with the other texts. iLEAPP reads the
``voicemail`` table only; rows of ``deleted`` are read as well and marked ``deleted_table``.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Call, DeviceFact, Message
from parsers.framework import columns, optional_columns, parser, tables
from parsers.ios_device import read_plist

APP = "com.apple.mobilephone"
PATHS = ["*/mobile/Library/Voicemail/voicemail.db"]
TRANSCRIPTS = "*/mobile/Library/Voicemail/*.transcript"
SOURCE = "iLEAPP scripts/artifacts/voicemail.py; iLEAPP admin/test/cases/data/voicemail (real voicemail.db files)"
DELETED_FLAGS = 75
_REQUIRED = {"date", "sender", "duration", "trashed_date", "flags"}


@parser(name="ios-voicemail", app=APP, platform="Phone", paths=PATHS, source=SOURCE,
        requires={"voicemail": _REQUIRED})
def voicemail(db, ctx):
    """Voicemails (``voicemail``, and ``deleted`` where present) as calls with status ``voicemail``."""
    accounts = {}
    if "map" in tables(db):
        accounts = {label: account for label, account in db.execute("SELECT label, account FROM map")}
    transcripts = _transcripts(ctx)
    for table in ("voicemail", "deleted"):
        if table not in tables(db) or not _REQUIRED <= columns(db, table):
            continue
        optional = optional_columns(db, table, ("receiver", "callback_num", "label", "remote_uid", "expiration"))
        for row in db.execute(f"SELECT ROWID, date, sender, duration, trashed_date, flags, {optional} "
                              f"FROM [{table}] ORDER BY ROWID"):
            trashed = timestamps.cocoa_s(row["trashed_date"])
            extra = {"flags": row["flags"], "deleted": row["flags"] == DELETED_FLAGS or table == "deleted",
                     "trashed_ts": trashed.iso if trashed else None, "trashed_raw": row["trashed_date"],
                     "receiver": row["receiver"], "callback_number": row["callback_num"],
                     "iccid": accounts.get(row["label"]), "remote_uid": row["remote_uid"],
                     "audio_file": f"{row['ROWID']}.amr", "deleted_table": table == "deleted" or None,
                     "transcript": transcripts.get(str(row["ROWID"])) if table == "voicemail" else None}
            yield Call(app=ctx.app, platform=ctx.platform, peers=[row["sender"]] if row["sender"] else [],
                       direction="incoming", call_type="audio", duration_s=row["duration"], status="voicemail",
                       ts=timestamps.unix_s(row["date"]), extra={k: v for k, v in extra.items() if v is not None},
                       prov=ctx.prov(table, row["ROWID"]))


@parser(name="ios-voicemail-accounts", app="system", paths=PATHS, source=SOURCE,
        requires={"map": {"account", "label"}})
def accounts(db, ctx):
    """The SIM ICCID each voicemail account label belongs to (``map``)."""
    for row in db.execute("SELECT ROWID, account, label FROM map ORDER BY ROWID"):
        if row["account"]:
            yield DeviceFact(app=ctx.app, key="iccid", value=str(row["account"]),
                             extra={"voicemail_label": row["label"]}, prov=ctx.prov("map", row["ROWID"]))



@parser(name="ios-voicemail-transcripts", app=APP, platform="Phone", paths=[TRANSCRIPTS], source=SOURCE)
def transcript(_db, ctx):
    """A voicemail's transcript (``<ROWID>.transcript`` plist) as a searchable text."""
    text, confidence = _transcript(read_plist(ctx.local))
    if text:
        rowid = ctx.source.path.rsplit("/", 1)[-1].removesuffix(".transcript")
        yield Message(app=ctx.app, platform=ctx.platform, message_type="voicemail transcript", body=text,
                      direction="incoming", extra={"voicemail_rowid": rowid, "confidence": confidence},
                      prov=ctx.prov())


def _transcripts(ctx) -> dict[str, dict]:
    """ROWID → {text, confidence} from the transcript plists beside this database; an unreadable one is skipped
    here (its own parser run reports it)."""
    folder = ctx.source.path.rsplit("/", 1)[0]
    found = {}
    for spooled in ctx.find(TRANSCRIPTS):
        head, name = spooled.path.rsplit("/", 1)
        if head != folder:
            continue
        try:
            text, confidence = _transcript(read_plist(spooled.local))
        except ValueError:
            continue
        if text:
            found[name.removesuffix(".transcript")] = {"text": text, "confidence": confidence}
    return found


def _transcript(plist: dict) -> tuple[str | None, object]:
    text = plist.get("transcriptionString")
    confidence = plist.get("confidence")
    return (text if isinstance(text, str) and text else None,
            confidence if isinstance(confidence, (int, float)) and not isinstance(confidence, bool) else None)
