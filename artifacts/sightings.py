"""Sightings: one row per identifier per record that names it, computed for one device inside its shard.

``record_device(store, device_id, facts)`` runs after the parsers, in the process that writes the shard, so a batch
extracts sightings in parallel. It settles the device's default region (``artifacts.phones``), reads every record
table the parsers wrote, and writes ``sightings`` rows that keep the text as written and the record's provenance.

Roles: ``owner`` (the device's own accounts, number and SIM), ``contact`` (an address-book or in-app contact),
``sender``, ``recipient``, ``thread`` (a group chat the message belongs to), ``call_peer``, ``mentioned`` (written
inside a message body or a search) and ``visited`` (a URL visited or downloaded from). Identifiers from one
contact or account record are tied to each other (``tied_to``): a contact card's phone and e-mail, a Telegram
user's id, phone and username. Names are never identifiers and never tie anything.
"""
from __future__ import annotations

import functools
import json

from artifacts import phones
from artifacts.identifiers import Identifier, classify, find_in_text, may_name, url_identifier
from artifacts.platforms import Registry
from artifacts.store import ALL_TABLES, PROVENANCE_COLUMNS, Store

COLUMNS = [c for c in ALL_TABLES["sightings"] if c != "id"]
_PROV = list(PROVENANCE_COLUMNS)
_INSERT = (f"INSERT INTO [sightings] ({', '.join(f'[{c}]' for c in COLUMNS)}) "
           f"VALUES ({', '.join('?' * len(COLUMNS))})")
TIED_ROLES = ("owner", "contact")
_MISSING = object()
# The columns each record table is read for (besides id, provenance, app and ts).
_READ = {"accounts": ("platform", "account_type", "username", "user_id", "phone", "email"),
         "device_facts": ("key", "value"), "contacts": ("platform", "phones", "emails", "handles", "user_id"),
         "messages": ("platform", "body"),
         "web_visits": ("url",), "downloads": ("url",), "searches": ("term",)}
_OWNER_FACTS = {"phone_number": "phone", "iccid": "iccid", "imsi": "imsi"}


@functools.lru_cache(maxsize=1)
def registry():
    """The packaged platform registry (``artifacts.platforms``), loaded once per process. The case overlay is not
    applied here: its flags and watch list are applied when the case is linked, so a new overlay needs no re-ingest."""
    return Registry.load()


@functools.lru_cache(maxsize=1)
def _platforms() -> "_Platforms":
    """One resolver per process: its caches outlive a device, and it holds nothing of any device."""
    return _Platforms(registry())


class _Platforms:
    """Record platform / app id / URL / e-mail domain → registry platform name, cached (a device repeats them)."""

    def __init__(self, reg):
        self.reg = reg
        self.resolver = self._match_url if reg is not None else None

    @functools.lru_cache(maxsize=100_000)
    def _match_url(self, url: str):
        return self.reg.match_url(url)

    @functools.lru_cache(maxsize=10_000)
    def of_record(self, app: str | None, platform: str | None) -> str | None:
        if self.reg is not None:
            for found in (self.reg.match_app(app) if app else None, self.reg.get(platform) if platform else None):
                name = _name(found)
                if name:
                    return name
            return None  # "SMS", "Phone", "Android Contacts": how it was seen, not an online platform
        return platform or None

    @functools.lru_cache(maxsize=100_000)
    def of_identifier(self, kind: str, value: str) -> str | None:
        if self.reg is None:
            return None
        if kind == "url":
            return _name(self._match_url(value))
        if kind == "email":
            return _name(self.reg.match_domain(value.rsplit("@", 1)[1]))
        return None


def _name(found) -> str | None:
    if found is None:
        return None
    platform = getattr(found, "platform", found)
    return getattr(platform, "name", platform) if not isinstance(platform, str) else platform


def device_region(store: Store, facts: dict) -> tuple[str | None, str | None]:
    """The region national numbers on this device are read in, and why (see ``artifacts.phones``)."""
    region, reason = phones.region_from_facts(facts)
    if region:
        return region, reason

    def numbers():
        for (phones_json,) in store.db.execute("SELECT phones FROM contacts"):
            yield from json.loads(phones_json or "[]")

    return phones.region_from_numbers(numbers())


def record_device(store: Store, device_id: str, facts: dict) -> int:
    """Write the device's sightings and its default region into its shard; returns the number of sightings.

    One bad record gives no sightings and is counted; anything worse fails this step only (nothing of it is
    written), never the device: both are recorded as an ``error`` run of the ``sightings`` step in ``parser_runs``.
    """
    try:
        region, reason = device_region(store, facts)
        store.upsert("devices", {"device_id": device_id, "default_region": region, "region_reason": reason})
        extractor = _Extractor(store, region, _platforms())
        with store.transaction():
            extractor.run()
            extractor.flush()
    except Exception as exc:
        _failed_run(store, device_id, ("", "", ""), 0, f"error: sightings not extracted: {type(exc).__name__}: {exc}")
        return 0
    if extractor.failures:
        first = extractor.failures[0]
        _failed_run(store, device_id, first[:3], extractor.count,
                    f"error: {len(extractor.failures)} records gave no sightings; first: {first[3]}")
    return extractor.count


def _failed_run(store: Store, device_id: str, where: tuple, count: int, message: str) -> None:
    evidence_id, partition, source_path = where
    store.insert_rows("parser_runs", [{
        "device_id": device_id, "evidence_id": evidence_id or f"{device_id}:e1", "partition": partition,
        "source_path": source_path, "parser": "sightings", "parser_version": "1", "app": "system",
        "outcome": "error", "records": count, "message": message}])


class _Extractor:
    def __init__(self, store: Store, region: str | None, platforms: _Platforms):
        self.store = store
        self.region = region
        self.platforms = platforms
        self.buffer: list[tuple] = []
        self.count = 0
        self.failures: list[tuple] = []
        self._seen: dict = {}  # this device's values → identifiers (dropped with the extractor)

    # -- reading the record tables ---------------------------------------------------------------------------------
    def run(self) -> None:
        for table, handler in (("accounts", self._account), ("device_facts", self._fact),
                               ("contacts", self._contact), ("messages", self._message),
                               ("web_visits", self._visit), ("downloads", self._visit),
                               ("searches", self._search)):
            columns = ", ".join(f"[{c}]" for c in ("id", *_PROV, "app", "ts", *_READ[table]))
            if table == "messages":
                self.flush()
                self._addressed()
                self._mentioned(columns)
                continue
            cursor = self.store.db.conn.execute(f"SELECT {columns} FROM [{table}] ORDER BY id")
            names = [d[0] for d in cursor.description]
            for values in cursor:
                row = dict(zip(names, values))
                try:
                    found = handler(row)
                except Exception as exc:  # one bad value fails one record, never the device
                    self._failed(table, row, exc)
                    continue
                self._emit(table, row, found)

    def _failed(self, table: str, row: dict, exc: Exception) -> None:
        self.failures.append((row["evidence_id"], row["partition"], row["source_path"],
                              f"{table} {row['id']}: {type(exc).__name__}: {exc}"))

    def _mentioned(self, columns: str) -> None:
        """Identifiers written in message bodies. Only the body is read for every message (most name nothing);
        the whole row only for a message that names something."""
        conn = self.store.db.conn
        for record_id, body in conn.execute("SELECT id, [body] FROM [messages] WHERE [body] IS NOT NULL AND "
                                            "[body] != '' ORDER BY id"):
            if body.__class__ is str and not may_name(body):  # names nothing (a value of another type fails)
                continue
            try:
                found = self._message({"body": body})
                exc = None
            except Exception as error:  # one bad value fails one record, never the device
                found, exc = None, error
            if not found and exc is None:
                continue
            cursor = conn.execute(f"SELECT {columns} FROM [messages] WHERE id = ?", (record_id,))
            row = dict(zip([d[0] for d in cursor.description], cursor.fetchone()))
            if exc is not None:
                self._failed("messages", row, exc)
            else:
                self._emit("messages", row, found)

    def _account(self, row):
        plat = row["platform"]
        found = []
        for field, value in (("handle", row["username"]), ("user_id", row["user_id"]), ("phone", row["phone"]),
                             ("email", row["email"])):
            if value and str(value).strip().lower() not in {(plat or "").lower(), (row["account_type"] or "").lower()}:
                found.append((self._classify(value, plat, field), "owner", value))
        return found

    def _fact(self, row):
        kind = _OWNER_FACTS.get(row["key"])
        value = row["value"]
        if not kind or not value:
            return []
        if kind == "phone":
            text = value if value.startswith(("+", "00")) or len(value) < 10 else "+" + value
            return [(self._classify(text, None, "phone"), "owner", value)]
        return [(Identifier(kind, f"{kind}:{''.join(c for c in value if c.isalnum())}"), "owner", value)]

    def _contact(self, row):
        plat = row["platform"]
        found = []
        for field, column in (("phone", "phones"), ("email", "emails"), ("handle", "handles")):
            for value in json.loads(row[column] or "[]"):
                if isinstance(value, str) and value.strip():
                    found.append((self._classify(value, plat, field), "contact", value))
        if row["user_id"]:
            found.append((self._classify(row["user_id"], plat, "user_id"), "contact", row["user_id"]))
        return found

    def _message(self, row):
        """Identifiers written in a message body (senders, recipients and threads: ``_addressed``)."""
        return [(ident, "mentioned", written) for ident, written in self._text(row["body"])]

    # Senders, recipients, group threads and call peers repeat across thousands of records: each distinct value is
    # classified once in Python, and the sightings are written by SQL joining the records to those values.
    # (table, role, the column of one value per record or of a JSON list of values, which records have a value)
    _ADDRESSED = (
        ("messages", "sender", "sender", False, "m.[sender] IS NOT NULL AND m.[sender] != ''"),
        ("messages", "recipient", "recipients", True, "json_valid(m.[recipients])"),
        ("messages", "thread", "thread_id", False, "instr(m.[thread_id], '@') > 0"),
        ("calls", "call_peer", "peers", True, "json_valid(m.[peers])"),
    )

    def _addressed(self) -> None:
        """One sighting per identifier per record and role, written as its first spelling there (the least value,
        as SQLite compares text), in record order and within a record in the order of those spellings."""
        conn = self.store.db.conn
        for table, role, column, is_list, where in self._ADDRESSED:
            for temp in ("addressed", "lists", "listed"):  # left by nothing but a step that failed: rolled back
                conn.execute(f"DROP TABLE IF EXISTS temp.{temp}")
            conn.execute("CREATE TEMP TABLE addressed (platform TEXT, app TEXT, written TEXT, identifier TEXT, "
                         "kind TEXT, ident_platform TEXT)")
            if is_list:  # the distinct lists: a record's sightings are those of its list, platform and app
                conn.execute(f"CREATE TEMP TABLE lists AS SELECT DISTINCT m.[platform] AS platform, m.[app] AS app, "
                             f"m.[{column}] AS list FROM [{table}] m WHERE {where}")
                values = ("SELECT DISTINCT l.platform, l.app, j.value FROM temp.lists l, json_each(l.list) j "
                          "WHERE j.type = 'text' AND j.value != ''")
            else:
                values = f"SELECT DISTINCT m.[platform], m.[app], m.[{column}] FROM [{table}] m WHERE {where}"
            rows = []
            for platform, app, value in conn.execute(values):
                ident = self._classify(value, platform, "id")
                if ident is None or (role == "thread" and ident.kind != "group"):
                    continue
                rows.append((platform, app, value, ident.value, ident.kind,
                             self._platform(ident, self.platforms.of_record(app, platform))))
            conn.executemany("INSERT INTO temp.addressed VALUES (?, ?, ?, ?, ?, ?)", rows)
            conn.execute("CREATE INDEX temp.addressed_key ON addressed (written, platform, app)")
            if is_list:
                conn.execute(_LISTED)
                conn.execute("CREATE INDEX temp.listed_key ON listed (list, platform, app)")
                insert = _INSERT_LISTED.format(table=table, column=column)
            else:
                insert = _INSERT_ONE.format(table=table, column=column, where=where)
            before = conn.total_changes
            conn.execute(insert, (table, role))
            self.count += conn.total_changes - before
            for temp in ("addressed", "lists", "listed"):
                conn.execute(f"DROP TABLE IF EXISTS temp.{temp}")

    def _visit(self, row):
        url = row["url"]
        if not url:
            return []
        return [(url_identifier(url, self.platforms.resolver), "visited", url)]

    def _search(self, row):
        return [(ident, "mentioned", written) for ident, written in self._text(row["term"])]

    def _classify(self, value, platform, field):
        key = (value, platform, field)
        found = self._seen.get(key, _MISSING)
        if found is _MISSING:
            found = self._seen[key] = classify(str(value), platform, self.region, field)
        return found

    def _text(self, text):
        return find_in_text(text, self.region, self.platforms.resolver)

    def _platform(self, ident: Identifier, record_platform: str | None) -> str | None:
        """The platform a sighting belongs to: the identifier's own (a profile URL's, an e-mail domain's, a JID's),
        else the record's — except for URLs and payments, which belong to no messenger they were pasted in."""
        return self.platforms.of_identifier(ident.kind, ident.value) or \
            (self.platforms.of_record(None, ident.platform) if ident.platform else None) or \
            (record_platform if ident.kind not in ("url", "iban", "wallet") else None)

    # -- writing ---------------------------------------------------------------------------------------------------
    def _emit(self, table: str, row: dict, found) -> None:
        found = [(i, role, str(w)) for i, role, w in found if i is not None]
        if not found:
            return
        prov = [row[c] for c in _PROV]
        record_platform = self.platforms.of_record(row.get("app"), row.get("platform"))
        tied_ids = sorted({i.value for i, role, _w in found if role in TIED_ROLES and i.kind != "raw"}) \
            if len(found) > 1 else ()
        seen = set()
        for ident, role, written in found:
            key = (ident.kind, ident.value, role)
            if key in seen:
                continue
            seen.add(key)
            platform = self._platform(ident, record_platform)
            tied = None
            if role in TIED_ROLES:
                others = [v for v in tied_ids if v != ident.value]
                tied = json.dumps(others, ensure_ascii=False) if others else None
            self.buffer.append((*prov, ident.value, ident.kind, platform, table, row["id"], role, row.get("ts"),
                                written, tied))
        if len(self.buffer) >= 5000:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.store.db.conn.executemany(_INSERT, self.buffer)
            self.count += len(self.buffer)
            self.buffer.clear()


# A role with one value per record gives at most one sighting per record: the records, read in id order, are joined
# to the classified values.
_INSERT_ONE = (f"INSERT INTO [sightings] ({', '.join(f'[{c}]' for c in COLUMNS)}) SELECT "
               f"{', '.join(f'm.[{c}]' for c in _PROV)}, a.identifier, a.kind, a.ident_platform, ?, m.[id], ?, m.[ts], "
               "m.[{column}], NULL FROM [{table}] m JOIN temp.addressed a ON a.written = m.[{column}] AND "
               "a.platform IS m.[platform] AND a.app IS m.[app] WHERE {where} ORDER BY m.[id]")
# A list gives the same sightings to every record of that list, platform and app: each distinct list's are grouped
# by identifier, taking the least spelling, and ordered by spelling once (``temp.listed``: its rows are inserted in
# that order, so their rowids keep it), and each record, read in id order, is joined to its list's rows in that
# order — the rows and order of grouping and sorting every record's rows, without doing so for every record.
_LISTED = ("CREATE TEMP TABLE listed AS SELECT l.platform AS platform, l.app AS app, l.list AS list, "
           "a.identifier AS identifier, a.kind AS kind, a.ident_platform AS ident_platform, min(j.value) AS written "
           "FROM temp.lists l, json_each(l.list) j JOIN temp.addressed a ON a.written = j.value AND "
           "a.platform IS l.platform AND a.app IS l.app WHERE j.type = 'text' AND j.value != '' "
           "GROUP BY l.platform, l.app, l.list, a.kind, a.identifier ORDER BY l.platform, l.app, l.list, min(j.value)")
_INSERT_LISTED = (f"INSERT INTO [sightings] ({', '.join(f'[{c}]' for c in COLUMNS)}) SELECT "
                  f"{', '.join(f'm.[{c}]' for c in _PROV)}, x.identifier, x.kind, x.ident_platform, ?, m.[id], ?, "
                  "m.[ts], x.written, NULL FROM [{table}] m JOIN temp.listed x ON x.list = m.[{column}] AND "
                  "x.platform IS m.[platform] AND x.app IS m.[app] ORDER BY m.[id], x.rowid")
