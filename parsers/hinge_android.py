"""Hinge for Android: the profiles the app cached and the account holder's own profile, from ``databases/db``.

Hinge keeps no chat text on the device in the releases examined (ALEAPP's hinge.py found its ``matches``,
``chat_messages`` and ``match_messages`` tables empty), so this reads people, not conversations:

- ``profiles`` (one row per cached profile, key ``userId``) becomes a Contact; the app's attribute codes (gender,
  religion, ...) are kept as stored because the app's own display column repeats the code instead of a label;
- ``metrics`` events that name a profile (``subjectId``) are listed on that profile's Contact, so it shows what the
  user did with it (viewed, liked, ...): the event name and its time;
- ``basic_choices`` rows marked ``selected`` describe the account holder (name, email, birthday, home town and the
  geocoded place the account is set to) and become one Account.

Times: ``profiles.created``/``updated`` and the ``birthday`` choice are Unix milliseconds; ``metrics.ts`` is ISO-8601
text in UTC (``...Z``). ``created``/``updated`` date the app's caching of the row, not the profile itself.
"""
from __future__ import annotations

from artifacts import timestamps
from artifacts.records import Account, Contact
from parsers.framework import parser, tables

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = "ALEAPP scripts/artifacts/hinge.py"

APP = "co.hinge.app"
_PROFILE_FIELDS = ("age", "height", "hometown", "location", "jobTitleText", "jobTitle", "educationHistoryText",
                   "educationHistory", "employmentHistory", "gender", "genderIdentity", "pronouns",
                   "sexualOrientations", "ethnicitiesText", "religionText", "politicsText", "datingIntentionText",
                   "relationshipTypeText", "kids", "familyPlans", "drinking", "smoking", "drugs", "marijuana",
                   "languagesSpokenText", "selfieVerified", "lastActiveStatusId", "state")


@parser(name="hinge-android", app=APP, platform="Hinge", paths=["*/co.hinge.app/databases/db"],
        requires={"profiles": {"userId", "firstName"}})
def hinge(db, ctx):
    """Hinge cached profiles (with the user's events on each) and the account holder's own profile."""
    present = tables(db)
    events = _events(db) if "metrics" in present else {}
    for row in db.execute("SELECT rowid AS row_id, * FROM profiles ORDER BY rowid"):
        keys = row.keys()
        extra = {k: row[k] for k in _PROFILE_FIELDS if k in keys and row[k] not in (None, "")}
        if (created := timestamps.unix_ms(row["created"] if "created" in keys else None)):
            extra["row_created"] = created.iso
        if row["userId"] in events:
            extra["events"] = events[row["userId"]]
        updated = row["updated"] if "updated" in keys else None
        yield Contact(app=ctx.app, platform=ctx.platform, user_id=row["userId"],
                      name=" ".join(n for n in (row["firstName"], row["lastName"] if "lastName" in keys else None)
                                    if n) or None,
                      ts=timestamps.unix_ms(updated) or created, extra=extra, prov=ctx.prov("profiles", row["row_id"]))
    if "basic_choices" in present:
        account = _account(db, ctx)
        if account is not None:
            yield account


def _events(db) -> dict[str, list[dict]]:
    """subjectId -> [{"ts": UTC ISO time, "event": name}] in stored order."""
    found: dict[str, list[dict]] = {}
    for row in db.execute("SELECT ts, eventType, subjectId FROM metrics WHERE subjectId IS NOT NULL ORDER BY rowid"):
        moment = timestamps.iso8601(row["ts"])
        found.setdefault(row["subjectId"], []).append({"ts": moment.iso if moment else row["ts"],
                                                       "event": row["eventType"]})
    return found


def _account(db, ctx) -> Account | None:
    chosen, first_row = {}, None
    for row in db.execute("SELECT rowid AS row_id, attribute, apiId, display FROM basic_choices "
                          "WHERE selected = 1 ORDER BY rowid"):
        chosen.setdefault((row["attribute"], row["apiId"]), row["display"])
        first_row = first_row if first_row is not None else row["row_id"]
    if not chosen:
        return None
    name = " ".join(str(v) for k in ("firstName", "lastName") if (v := chosen.get(("name", k)))) or None
    extra = {label: chosen[key] for label, key in (
        ("location", ("location", "name")), ("latitude", ("location", "latitude")),
        ("longitude", ("location", "longitude")), ("location_source", ("location", "source")),
        ("hometown", ("hometown", "name")), ("job_title", ("jobTitle", "name"))) if chosen.get(key) is not None}
    if (birthday := timestamps.unix_ms(chosen.get(("age", "birthday")))):
        extra["birthday"] = birthday.iso
    return Account(app=ctx.app, platform=ctx.platform, display_name=name, email=chosen.get(("email", "name")),
                   extra=extra, prov=ctx.prov("basic_choices", first_row))
