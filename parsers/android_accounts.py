"""Accounts registered with Android's AccountManager: which services (Google, WhatsApp, Telegram, ...) the device
was signed in to, under which names.

Files: ``/data/system_ce/<user>/accounts_ce.db`` (credential-encrypted; its ``accounts`` table holds ``password``),
``/data/system_de/<user>/accounts_de.db`` (device-encrypted, Android 7+; holds ``previous_name`` and
``last_password_entry_time_millis_epoch``) and, before Android 7, ``/data/system/users/<user>/accounts.db``.

Credentials stay where they are: only ``_id``, ``name``, ``type`` and the non-secret DE columns are ever selected;
``password`` and the ``authtokens``/``extras`` tables are never read, so they cannot reach a record.

Times: ``last_password_entry_time_millis_epoch`` is Unix milliseconds (0 = never); it becomes the record's ``ts``.
"""
from __future__ import annotations

import re

from artifacts import timestamps
from artifacts.records import Account
from parsers.framework import columns, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("AOSP AccountsDb (accounts_ce.db/accounts_de.db schema); "
          "ALEAPP scripts/artifacts/accounts_ce.py, accounts_de.py")

APP = "system"

# Account types (and app packages) to the platform a person would name; matched on the longest dotted prefix, so
# "com.google.android.gm.exchange" is not taken for a Google account.
_PLATFORMS = {
    "com.google": "Google",
    "com.google.android.gm.exchange": "Exchange",
    "com.google.android.gm.legacyimap": "Email",
    "com.google.android.gm.pop3": "Email",
    "com.google.android.apps.tachyon": "Google Meet",
    "com.android.exchange": "Exchange",
    "com.android.email": "Email",
    "com.whatsapp": "WhatsApp",
    "com.whatsapp.w4b": "WhatsApp Business",
    "org.telegram.messenger": "Telegram",
    "org.thoughtcrime.securesms": "Signal",
    "com.viber.voip": "Viber",
    "com.facebook.auth.login": "Facebook",
    "com.facebook.messenger": "Messenger",
    "com.skype.contacts.sync": "Skype",
    "com.skype.raider": "Skype",
    "jp.naver.line.android": "LINE",
    "com.tencent.mm": "WeChat",
    "com.imo.android.imoim": "imo",
    "com.microsoft.office.outlook": "Outlook",
    "com.microsoft.teams": "Microsoft Teams",
    "com.twitter.android.auth.login": "Twitter",
    "com.linkedin.android": "LinkedIn",
    "com.osp.app.signin": "Samsung account",
    "com.dropbox.android.account": "Dropbox",
}

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{5,}")


def platform_for(account_type: str | None) -> str | None:
    """The platform behind an account type or app package, None when unknown (the raw type is kept elsewhere)."""
    if not account_type:
        return None
    parts = account_type.split(".")
    for end in range(len(parts), 0, -1):
        platform = _PLATFORMS.get(".".join(parts[:end]))
        if platform:
            return platform
    return None


@parser(name="android-accounts", app=APP, platform=None,
        paths=["*/system_ce/*/accounts_ce.db", "*/system_de/*/accounts_de.db", "*/system/users/*/accounts.db",
               "*/system/accounts.db"],
        requires={"accounts": {"_id", "name", "type"}})
def accounts(db, ctx):
    """AccountManager accounts (name and type only; passwords and auth tokens are never read)."""
    present = columns(db, "accounts")
    previous = "previous_name" if "previous_name" in present else "NULL"
    last_entry = ("last_password_entry_time_millis_epoch" if "last_password_entry_time_millis_epoch" in present
                  else "NULL")
    database = ctx.source.path.rsplit("/", 1)[-1]
    for row in db.execute(f"SELECT _id, name, type, {previous} AS previous_name, {last_entry} AS last_entry "
                          f"FROM accounts ORDER BY _id"):
        name, account_type = row["name"], row["type"]
        extra = {"database": database}
        if row["previous_name"]:
            extra["previous_name"] = row["previous_name"]
        ts = timestamps.unix_ms(row["last_entry"])
        if ts:
            extra["ts_is"] = "last password entry"
        yield Account(
            app=ctx.app, platform=platform_for(account_type), account_type=account_type, username=name,
            email=name if name and _EMAIL.fullmatch(name) else None,
            phone=name if name and _PHONE.fullmatch(name) else None,
            ts=ts, extra=extra, prov=ctx.prov("accounts", row["_id"]),
        )
