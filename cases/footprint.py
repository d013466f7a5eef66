"""A device user's footprint: the online platforms the records put them on, and the evidence for each.

Evidence kinds, each counted per device with SQL and matched to platforms through the case registry (the packaged
registry plus the case overlay) on the few distinct values only:

- ``installed_app``: packages in ``apps`` (``Registry.match_app``);
- ``account``: accounts configured on the device (account type, app or platform name);
- ``messages``: messages of the platform's apps;
- ``visits``: URLs visited or downloaded from, by the platform their host belongs to (the sightings' platform);
- ``links``: identifiers of the platform written inside messages (profile, invite and channel links received or
  sent, e-mail addresses of its domains).

Platforms flagged in the case overlay come first (``confirmed``, then ``suspected``), then by name.
"""
from __future__ import annotations

from artifacts.store import Store

_FLAG_ORDER = {"confirmed": 0, "suspected": 1}


def _name(match) -> str | None:
    return getattr(match, "platform", None) if match is not None else None


def footprint(store: Store, registry, device_id: str | None = None) -> list[dict]:
    """Per device (sorted), its platforms with their evidence."""
    conn = store.db.conn
    devices = [device_id] if device_id else [r[0] for r in conn.execute(
        "SELECT device_id FROM devices ORDER BY device_id")]
    out = []
    for dev in devices:
        found: dict[str, dict] = {}

        def add(platform, key, value):
            if not platform:
                return
            entry = found.setdefault(platform, {"installed_app": [], "account": [], "messages": 0, "visits": 0,
                                                "links": 0})
            if isinstance(entry[key], list):
                if value not in entry[key]:
                    entry[key].append(value)
            else:
                entry[key] += value

        def record_platform(app, platform):
            if registry is None:
                return platform
            return _name(registry.match_app(app) if app else None) or \
                (registry.get(platform).name if platform and registry.get(platform) else None)

        for (package,) in conn.execute("SELECT DISTINCT package FROM apps WHERE device_id = ?", (dev,)):
            add(_name(registry.match_app(package)) if registry else None, "installed_app", package)
        for app, platform, account_type, username, user_id in conn.execute(
                "SELECT DISTINCT app, platform, account_type, username, user_id FROM accounts WHERE device_id = ?",
                (dev,)):
            name = (_name(registry.match_account_type(account_type)) if registry and account_type else None) or \
                record_platform(app, platform)
            add(name, "account", username or user_id or account_type or "")
        for app, platform, n in conn.execute(
                "SELECT app, platform, count(*) FROM messages WHERE device_id = ? GROUP BY app, platform", (dev,)):
            add(record_platform(app, platform), "messages", n)
        for platform, n in conn.execute(
                "SELECT platform, count(*) FROM sightings WHERE device_id = ? AND role = 'visited' "
                "AND platform IS NOT NULL GROUP BY platform", (dev,)):
            add(platform, "visits", n)
        for platform, n in conn.execute(
                "SELECT platform, count(*) FROM sightings WHERE device_id = ? AND role = 'mentioned' "
                "AND artifact = 'messages' AND platform IS NOT NULL GROUP BY platform", (dev,)):
            add(platform, "links", n)
        platforms = []
        for name, evidence in found.items():
            known = registry.get(name) if registry is not None else None
            flag = getattr(known, "flag", None)
            evidence["installed_app"].sort()
            evidence["account"].sort()
            platforms.append({"platform": name, "category": getattr(known, "category", None), "flag": flag,
                              "flag_note": getattr(known, "flag_note", None), "evidence": evidence})
        platforms.sort(key=lambda p: (_FLAG_ORDER.get(p["flag"] or "", 2), p["platform"].casefold()))
        out.append({"device_id": dev, "platforms": platforms})
    return out
