"""Accounts configured on an iPhone (Apple ID, iCloud, Game Center, mail/calendar/contacts accounts, ...) from the
Accounts framework's Core Data store ``/private/var/mobile/Library/Accounts/Accounts3.sqlite``.

``ZACCOUNT`` joined to ``ZACCOUNTTYPE`` (type identifier such as ``com.apple.account.Google`` and its description).
``ZDATE`` is Cocoa seconds. Credentials are kept in the keychain, not here; ``ZACCOUNTPROPERTY`` and
``ZDATACLASSPROPERTIES`` (opaque archived settings) are never read.
"""
from __future__ import annotations

import re

from artifacts import timestamps
from artifacts.records import Account
from parsers.framework import optional_columns, parser

# where this module's schema facts come from (shown by `forensics parsers`)
SOURCE = ("iLEAPP scripts/artifacts/accountData.py; plaso plaso/parsers/sqlite_plugins/ios_accounts.py; "
          "plaso test_data/ios/Accounts3.sqlite (real file)")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_FLAGS = {"ZACTIVE": "active", "ZAUTHENTICATED": "authenticated", "ZVISIBLE": "visible"}


@parser(name="ios-accounts", app="system", paths=["*/mobile/Library/Accounts/Accounts3.sqlite"],
        requires={"ZACCOUNT": {"Z_PK", "ZACCOUNTTYPE", "ZUSERNAME", "ZDATE"},
                  "ZACCOUNTTYPE": {"Z_PK", "ZIDENTIFIER", "ZACCOUNTTYPEDESCRIPTION"}})
def accounts(db, ctx):
    """One record per account, with its type, username, description and owning app."""
    optional = optional_columns(db, "ZACCOUNT", ("ZACCOUNTDESCRIPTION", "ZIDENTIFIER", "ZOWNINGBUNDLEID",
                                                 "ZPARENTACCOUNT", *_FLAGS), alias="a")
    for row in db.execute(f"SELECT a.Z_PK, a.ZUSERNAME, a.ZDATE, {optional}, t.ZIDENTIFIER AS type_id, "
                          f"t.ZACCOUNTTYPEDESCRIPTION AS type_name FROM ZACCOUNT a "
                          f"LEFT JOIN ZACCOUNTTYPE t ON t.Z_PK = a.ZACCOUNTTYPE ORDER BY a.Z_PK"):
        username = row["ZUSERNAME"]
        extra = {"identifier": row["ZIDENTIFIER"], "owning_bundle": row["ZOWNINGBUNDLEID"]}
        if row["ZPARENTACCOUNT"] is not None:
            extra["parent_account"] = row["ZPARENTACCOUNT"]
        extra.update({name: bool(row[col]) for col, name in _FLAGS.items() if row[col] is not None})
        yield Account(
            app=ctx.app, platform=row["type_name"], account_type=row["type_id"], username=username,
            display_name=row["ZACCOUNTDESCRIPTION"],
            email=username if username and _EMAIL.fullmatch(username) else None,
            ts=timestamps.cocoa_s(row["ZDATE"]), extra=extra, prov=ctx.prov("ZACCOUNT", row["Z_PK"]),
        )
