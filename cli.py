"""Command-line interface: Click commands only; the work is done in ``cases``."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from artifacts.identifiers import KINDS as IDENTIFIER_KINDS
from artifacts.store import SCHEMA
from cases import exports, status, verify as verify_mod
from cases.batch import ingest_device
from cases.case import TOOL_VERSION, Case, CaseError
from cases.ingest import IngestError
from cases.manifest import ManifestError
from forensics import confidential
from forensics.evidence import EvidenceError, open_evidence
from parsers.framework import load_parsers

EXPECTED = (CaseError, IngestError, EvidenceError, ManifestError, OSError)


class InputError(click.ClickException):
    """Bad input: one line on stderr, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        from cases.problems import printable  # names from evidence may carry terminal escape sequences

        click.echo(f"error: {printable(self.message)}", err=True)


def _guard(func):
    """Turn expected failures into one clear line; nothing else reaches the examiner as a traceback either."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (click.ClickException, BrokenPipeError):
            raise
        except EXPECTED as exc:
            raise InputError(str(exc)) from None
        except Exception as exc:  # last line of defence: report, do not dump a traceback
            raise InputError(f"internal error: {type(exc).__name__}: {exc}") from None

    return wrapper


def _open_case(path: str) -> Case:
    return Case.open(Path(path))


def _check_devices(store, devices) -> None:
    """A device id the case does not have is a typo, not an empty result: say so (exit 2) before writing."""
    for device in devices:
        if device and not store.db.execute("SELECT 1 FROM devices WHERE device_id = ?", [device]).fetchone():
            raise InputError(f"no device {device!r} in this case")


class _FileMode(click.ParamType):
    name = "mode"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return confidential.parse_mode(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


_mode_option = click.option(
    "--mode", type=_FileMode(), default="600", show_default=True,
    help="Octal permissions of the file written with -o (the default keeps it to your account).")


def _write_output(output: str, mode: int, binary: bool = False):
    """The one way a command writes its output file: through OUTPUT.partial, renamed when complete, with ``mode``
    exactly (not widened or narrowed by the umask)."""
    return confidential.write_atomically(output, binary=binary, mode=mode)


@click.group()
@click.version_option(TOOL_VERSION, prog_name="forensics")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Turn seized-device evidence into one normalized, provenance-carrying artifact store.

    Evidence is only ever read. Every artifact row says which device, evidence layer, file, table and row it came
    from, and every time is UTC with its raw value and encoding beside it. Everything written runs under umask 077:
    case folders are 0700 and their files 0600 (docs/security.md).
    """
    previous = confidential.private_umask()  # for this command, its workers and the programs it runs
    ctx.call_on_close(lambda: os.umask(previous))


@main.group()
def case() -> None:
    """Create and manage case folders."""


@case.command("init")
@click.argument("case_dir", type=click.Path(file_okay=False))
@click.option("--name", help="Case name (default: the folder name).")
@_guard
def case_init(case_dir: str, name: str | None) -> None:
    """Create an empty case folder CASE_DIR with its store and audit log."""
    created = Case.init(Path(case_dir), name)
    if created.exposed_root is not None:
        click.echo(f"warning: folder {created.root} is readable by other accounts (mode {created.exposed_root:04o}); "
                   f"the case files in it are private (0600), but their names are visible: chmod 700 "
                   f"{created.root}", err=True)
    click.echo(f"case created: {created.root}")


@main.command()
@click.argument("case_dir", type=click.Path())
@click.argument("evidence", nargs=-1, required=True, type=click.Path())
@click.option("--device-id", help="Identifier of the device (default: derived from the evidence name).")
@click.option("--password", envvar="FORENSICS_BACKUP_PASSWORD",
              help="Password of an encrypted iTunes backup (or set FORENSICS_BACKUP_PASSWORD; prompted without echo "
                   "when the backup needs one and neither is given). Never stored or logged.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--replace", is_flag=True,
              help="Replace the device's earlier rows even when this run fails (default: only when it succeeds).")
@click.option("--record-keys", is_flag=True,
              help="Store the SQLCipher keys found or derived (Signal, WeChat) in the case's database_keys table. "
                   "Without it only how each key was obtained is recorded, never the key.")
@_guard
def ingest(case_dir: str, evidence: tuple[str, ...], device_id: str | None, password: str | None,
           quiet: bool, replace: bool, record_keys: bool) -> None:
    """Add one device to the case: open EVIDENCE read-only, inventory every file, run the parsers.

    Several EVIDENCE paths for one device are allowed (a split raw set, or several items of the same phone).
    Ingesting a device again replaces its rows when the new run succeeds; a failed run keeps the earlier rows and
    is recorded beside them (see `forensics status`).
    """
    target = _open_case(case_dir)
    paths = [Path(p) for p in evidence]
    given = click.get_current_context().get_parameter_source("password")
    password_from = None if password is None else \
        "environment" if given == click.core.ParameterSource.ENVIRONMENT else "option"
    password = password or _password_if_needed(paths)
    if password is not None and password_from is None:
        password_from = "prompt"
    # recorded without the password: only where it came from
    command = confidential.masked_command(
        ["forensics", "ingest", case_dir, *evidence] + (["--device-id", device_id] if device_id else []) +
        (["--replace"] if replace else []) + (["--record-keys"] if record_keys else []) +
        (["--password", password] if password_from == "option" else []) +
        ([f"(backup password from the {password_from})"] if password_from in ("environment", "prompt") else []))
    if quiet or not sys.stderr.isatty():
        result = ingest_device(target, paths, device_id, password, command=command, replace=replace,
                               record_keys=record_keys)
    else:
        total = sum(p.stat().st_size for p in paths if p.is_file()) or None
        with click.progressbar(length=total, label="ingesting", file=sys.stderr) as bar:
            result = ingest_device(target, paths, device_id, password, on_bytes=bar.update, command=command,
                                   replace=replace, record_keys=record_keys)
    if result["status"] != "ok":
        kept = "; its earlier results are kept" if result["earlier_results_kept"] else ""
        raise InputError(f"device {result['device_id']} failed: {result['error']}{kept}")
    outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(result["outcomes"].items())) or "no parser matched"
    click.echo(f"device {result['device_id']}: {result['files']} files, {result['records']} records ({outcomes})")
    for e in result["evidence_hashes"]:
        verified = {True: ", stored hash verified", False: ", STORED HASH MISMATCH", None: ""}[e["hash_verified"]]
        if e["sha256"]:
            click.echo(f"  {e['evidence_id']} {e['container']} sha256={e['sha256']} md5={e['md5']}{verified}")
    if result.get("problems"):
        store = target.store()
        try:
            _show_problems(store, result["device_id"], result["problems"], 10)
        finally:
            store.close()
        click.echo(f"  done with problems: `{_command_line('status', case_dir)}` lists them all", err=True)
        sys.exit(EXIT_PROBLEMS)


def _command_line(command: str, case_dir: str) -> str:
    """A ``forensics`` command line the examiner can paste into a shell: the case folder quoted (``op#7 ?``), after
    ``--`` when it begins with ``-``, control characters shown escaped."""
    import shlex

    from cases.problems import printable

    return printable(f"forensics {command} {'-- ' if case_dir.startswith('-') else ''}{shlex.quote(case_dir)}")


EXIT_PROBLEMS = 3  # the device was processed, but something in it could not be read (docs/problems.md)


def _show_problems(store, device_id: str, counts: dict, limit: int | None) -> None:
    """The device's problem counts per kind, then each problem (up to ``limit``), names escaped for a terminal."""
    from cases.problems import printable

    if not counts:
        return
    click.echo(f"  problems: {sum(counts.values())} (" + ", ".join(f"{k} {n}" for k, n in counts.items()) + ")")
    for number, row in enumerate(store.rows("problems", device_id)):
        if limit is not None and number >= limit:
            click.echo(f"    ... and {sum(counts.values()) - limit} more")
            break
        click.echo(f"    {row['kind']} {printable(row['where'])}: {printable(row['what'])}")


def _password_if_needed(paths: list[Path]) -> str | None:
    from forensics import backups

    for p in paths:
        if p.is_dir() and backups.is_backup(p) and backups.device_facts(p).get("encrypted"):
            if not sys.stdin.isatty():
                return None
            return click.prompt("backup password", hide_input=True)
    return None


@main.command()
@click.argument("case_dir", type=click.Path())
@click.argument("artifact", type=click.Choice(sorted(SCHEMA)))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (default: stdout).")
@click.option("--device-id", help="Only this device's rows.")
@_mode_option
@_guard
def export(case_dir: str, artifact: str, fmt: str, output: str | None, device_id: str | None, mode: int) -> None:
    """Export one ARTIFACT table of the case as JSON lines or CSV (keys are the store's column names)."""
    target = _open_case(case_dir)
    store = target.store()
    try:
        _check_devices(store, [device_id])
        if output:
            with _write_output(output, mode) as out:
                count = exports.export(store, artifact, fmt, out, device_id)
            click.echo(f"{count} {artifact} rows written to {output}", err=True)
        else:
            exports.export(store, artifact, fmt, sys.stdout, device_id)
    finally:
        store.close()
    target.audit.write("export", artifact=artifact, format=fmt, output=output, device_id=device_id)


@main.command()
@click.argument("case_dir", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv", "l2tcsv", "xlsx"]), default="jsonl",
              show_default=True, help="jsonl/csv: Timesketch's import format; l2tcsv: plaso's 17 columns; xlsx: one "
                                      "sheet per artifact type.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (default: stdout; xlsx "
                                                                       "needs a file).")
@click.option("--files", "with_files", is_flag=True, help="Add file-system MACB times (they are many).")
@click.option("--since", help="Only events at or after this UTC time (or one with an explicit offset).")
@click.option("--until", help="Only events at or before this time (a bare date means the end of that day).")
@click.option("--device", "devices", multiple=True, help="Only this device (repeatable).")
@click.option("--app", "apps", multiple=True, help="Only this app: Android package or iOS bundle id (repeatable).")
@click.option("--platform", "platforms", multiple=True, help="Only this platform, e.g. WhatsApp (repeatable).")
@click.option("--artifact", "artifacts", multiple=True, help="Only this artifact table, e.g. messages (repeatable).")
@click.option("--search", help="Only events whose summary contains this text (case-insensitive).")
@click.option("--identifier", "identifiers", multiple=True,
              help="Only events of records naming this phone, e-mail, handle, URL... in any spelling (repeatable).")
@click.option("--flagged", is_flag=True,
              help="Only events of records naming an identifier the case overlay flags or watch-lists.")
@click.option("--display-tz", help="Add a labelled local-time column in this IANA zone (csv, xlsx); UTC stays.")
@click.option("--device-local", is_flag=True, help="Add a labelled local-time column in each device's own zone.")
@_mode_option
@_guard
def timeline(case_dir: str, fmt: str, output: str | None, with_files: bool, since: str | None, until: str | None,
             devices: tuple[str, ...], apps: tuple[str, ...], platforms: tuple[str, ...],
             artifacts: tuple[str, ...], search: str | None, identifiers: tuple[str, ...], flagged: bool,
             display_tz: str | None, device_local: bool, mode: int) -> None:
    """Every timestamped record of every device as one time-ordered stream of events (times in UTC).

    One event per record and time meaning: a message's sent, received and read times are three events. The xlsx
    workbook also has a links sheet: every sighting of the identifiers seen on several devices.
    """
    from cases import timeline_formats as formats
    from cases.timeline import Filters, Timeline, TimelineError, parse_time_bound

    if fmt == "xlsx" and not output:
        raise InputError("xlsx needs an output file: -o FILE.xlsx")
    if display_tz and device_local:
        raise InputError("choose --display-tz or --device-local, not both")
    if (display_tz or device_local) and fmt in ("jsonl", "l2tcsv"):
        click.echo(f"note: {'--display-tz' if display_tz else '--device-local'} adds a local-time column to csv and "
                   f"xlsx only; {fmt} stays in UTC", err=True)
    from cases import links as links_mod

    linked = bool(identifiers or flagged or fmt == "xlsx")  # these need the case's identifiers up to date
    target, store, registry = _linked_store(case_dir) if linked else (_open_case(case_dir), None, None)
    store = store or target.store()
    try:
        _check_devices(store, devices)
        try:
            regions = links_mod.case_regions(store.db.conn) if identifiers else []
            keys = tuple(sorted({k for value in identifiers for k in links_mod.watch_keys({"value": value}, regions)
                                 if k[0] != "raw"}))
            filters = Filters(since=parse_time_bound(since) if since else None,
                              until=parse_time_bound(until, end=True) if until else None,
                              devices=devices, apps=apps, platforms=platforms, artifacts=artifacts, search=search,
                              files=with_files, identifiers=keys, spellings=tuple(v.strip() for v in identifiers),
                              flagged=flagged)
            local = formats.LocalTime.fixed(display_tz) if display_tz else None
            if device_local:
                local = formats.LocalTime(device_zones={d["device_id"]: d["time_zone"] for d in store.rows("devices")
                                                        if d.get("time_zone")})
            events = Timeline(store, filters)
            events.parts()  # a bad --artifact is reported before anything is written
        except TimelineError as exc:
            raise InputError(str(exc)) from None
        writers = {"jsonl": lambda out: formats.write_jsonl(events, out),
                   "csv": lambda out: formats.write_csv(events, out, local),
                   "l2tcsv": lambda out: formats.write_l2tcsv(events, out),
                   "xlsx": lambda out: formats.write_xlsx(events, out, local, [_links_sheet(store, registry)])}
        if output:
            with _write_output(output, mode, binary=fmt == "xlsx") as out:
                count = writers[fmt](out)
            click.echo(f"{count} events written to {output}", err=True)
        else:
            count = writers[fmt](sys.stdout)
        for where, n in sorted(events.left_out.items()):
            click.echo(f"note: {n} {where} times have no known zone and are not on the UTC timeline", err=True)
    finally:
        store.close()
    target.audit.write("timeline", format=fmt, output=output, events=count, filters={
        "since": since, "until": until, "devices": list(devices), "apps": list(apps), "platforms": list(platforms),
        "artifacts": list(artifacts), "search": search, "files": with_files, "identifiers": list(identifiers),
        "flagged": flagged})


def _links_sheet(store, registry) -> tuple[str, list[str], list[tuple]]:
    """The xlsx ``links`` sheet: one row per sighting of every identifier seen on two or more devices."""
    from cases import links as links_mod

    header = ["identifier", "kind", "platforms", "devices", "also_known_as", "flagged", "watchlist",
              *links_mod.SIGHTING_FIELDS]
    rows = []
    for f in links_mod.links(store, registry):
        head = (f["identifier"], f["kind"], ", ".join(f["platforms"]), ", ".join(f["devices"]),
                ", ".join(f["also_known_as"]), ", ".join(f["flagged"]),
                "; ".join(str(w.get("note") or w.get("value")) for w in f["watchlist"]))
        rows += [head + tuple(s[k] for k in links_mod.SIGHTING_FIELDS) for s in f["sightings"]]
    return "links", header, rows


@main.command()
@click.argument("case_dir", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["geojson", "kml"]), default="geojson", show_default=True,
              help="GeoJSON for QGIS and web maps, KML for Google Earth.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (default: stdout).")
@click.option("--device-id", help="Only this device's locations.")
@_mode_option
@_guard
def locations(case_dir: str, fmt: str, output: str | None, device_id: str | None, mode: int) -> None:
    """Every location of the case (app locations, photo GPS) as GeoJSON or KML, with time and provenance."""
    from cases import geo

    target = _open_case(case_dir)
    store = target.store()
    try:
        _check_devices(store, [device_id])
        write = geo.write_geojson if fmt == "geojson" else \
            (lambda s, out, d: geo.write_kml(s, out, target.root.name, d))
        if output:
            with _write_output(output, mode) as out:
                written, skipped = write(store, out, device_id)
            click.echo(f"{written} locations written to {output}", err=True)
        else:
            written, skipped = write(store, sys.stdout, device_id)
        if skipped:
            click.echo(f"note: {skipped} locations with coordinates out of range left out", err=True)
    finally:
        store.close()
    target.audit.write("locations", format=fmt, output=output, device_id=device_id, written=written)


@main.command()
@click.argument("case_dir", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The JSON-LD file to write.")
@_mode_option
@_guard
def uco(case_dir: str, output: str, mode: int) -> None:
    """The case as CASE/UCO JSON-LD: devices, evidence and files with hashes, messages, calls, contacts, accounts,
    and the ingest runs as investigative actions with the tool and its version."""
    from cases import uco as uco_mod

    target = _open_case(case_dir)
    store = target.store()
    try:
        name = json.loads(target.config_path.read_text(encoding="utf-8")).get("name") or target.root.name
        with _write_output(output, mode) as out:
            nodes = uco_mod.write(store, out, name, target.root / "audit.log", TOOL_VERSION)
    finally:
        store.close()
    click.echo(f"{nodes} graph nodes written to {output}", err=True)
    target.audit.write("uco", output=output, nodes=nodes)


@main.command()
@click.argument("case_dir", type=click.Path())
@_guard
def verify(case_dir: str) -> None:
    """Re-hash every evidence item against the hashes recorded at ingest, check the audit log's hash chain, and list
    what in the case folder other accounts could read (any group or other permission bit: a warning, recorded in
    the audit log; the exit code is about the evidence and the log)."""
    target = _open_case(case_dir)
    chain = target.audit.verify_chain()
    checks = verify_mod.verify(target)  # evidence hashes, and what others could read
    for check in checks:
        click.echo(f"{'OK  ' if check.ok else 'FAIL'} {check.evidence_id}: {check.detail}")
    click.echo(f"{'OK  ' if chain.ok else 'FAIL'} {chain.describe()}")
    shared = checks.exposed
    click.echo(f"{'WARN' if shared else 'OK  '} permissions: " +
               (f"{len(shared)} item(s) in the case readable by other accounts (chmod go= them):"
                if shared else "nothing in the case is readable by other accounts"))
    for path, mode in shared:
        click.echo(f"       {mode:04o} {path}")
    if not chain.ok:
        raise InputError(f"audit log verification failed at line {chain.broken_line}")
    if not all(c.ok for c in checks):
        raise InputError("evidence verification failed")


@main.command()
@click.argument("evidence", nargs=-1, required=True, type=click.Path())
@click.option("--password", envvar="FORENSICS_BACKUP_PASSWORD",
              help="Password of an encrypted iTunes backup (or set FORENSICS_BACKUP_PASSWORD).")
@_guard
def info(evidence: tuple[str, ...], password: str | None) -> None:
    """Show the container, volumes and file systems found in EVIDENCE, without ingesting anything."""
    opened = open_evidence([Path(p) for p in evidence], password=password)
    try:
        click.echo(f"container: {opened.container}")
        if opened.media_size:
            click.echo(f"size: {opened.media_size} bytes")
        for segment in opened.paths:
            click.echo(f"file: {segment}")
        stored = opened.stored_hashes()
        for name, value in sorted(stored.items()):
            click.echo(f"stored {name}: {value}")
        for layer in opened.layers:
            if layer.kind in ("partition", "volume"):
                click.echo(f"layer {layer.address}: {layer.kind} at offset {layer.offset}, {layer.length} bytes "
                           f"({layer.description}) -> {layer.fs_type or layer.error}")
            else:
                click.echo(f"layer {layer.address}: {layer.description}")
        for key, value in sorted(opened.facts.items()):
            click.echo(f"device {key}: {value}")
        from cases.problems import printable

        for problem in opened.problems:  # what opening already shows: a truncated image, a partition unreadable
            click.echo(f"problem {problem['kind']} {printable(problem['where'])}: {printable(problem['what'])}")
    finally:
        opened.close()


@main.command("status")
@click.argument("case_dir", type=click.Path())
@click.option("--all-runs", is_flag=True, help="List every parser run, not only the problems.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: per device state, error, counts, records by source, problems per "
                   "kind, seconds; and the case totals.")
@_guard
def status_cmd(case_dir: str, all_runs: bool, as_json: bool) -> None:
    """Per device: state (queued, running, done, failed, interrupted), files, records per type and by source (live,
    WAL, carved), seconds taken, its problems (counts per kind, then each; see docs/problems.md) and every parser
    run that did not parse."""
    from cases.problems import printable

    target = _open_case(case_dir)
    overview = status.case_status(target)
    if as_json:
        import json

        click.echo(json.dumps(overview, indent=2, sort_keys=True, ensure_ascii=False))
        return
    totals = overview["totals"]
    click.echo(f"case {target.root}: {totals['devices']} devices: {totals['done']} done, {totals['failed']} failed"
               + (f" ({totals['interrupted']} interrupted)" if totals["interrupted"] else "")
               + f", {totals['running']} running, {totals['queued']} queued")
    by_id = {d["device_id"]: d for d in overview["devices"]}
    store = target.store()
    try:
        summaries = {s["device"]["device_id"]: s for s in status.device_summaries(store)}
        for device_id, state in by_id.items():
            name = "interrupted" if state["interrupted"] else state["state"]
            seconds = f", {state['seconds']:.1f} s" if state["seconds"] is not None else ""
            error = f" ({printable(state['error'])})" if state["error"] else ""
            click.echo(f"device {device_id}: {name}{error}, {state['counts'].get('files', 0)} files{seconds}")
            if state["earlier_results_kept"]:
                click.echo("  the last attempt failed; the results of the earlier successful run are kept")
            if state["problem"]:
                click.echo(f"  problem: {printable(state['problem'])}")
            _show_problems(store, device_id, state["problems"], None if all_runs else 20)
            summary = summaries.get(device_id)
            if summary is None:
                continue
            d = summary["device"]
            facts = ", ".join(f"{k} {d[k]}" for k in ("platform", "model", "os_version", "device_name",
                                                        "phone_number", "time_zone") if d.get(k))
            if facts:
                click.echo(f"  device: {facts}")
            if summary["records"]:
                click.echo("  records: " + ", ".join(f"{t} {n}" for t, n in sorted(summary["records"].items())))
            if summary["outcomes"]:
                click.echo("  parser runs: " + ", ".join(f"{k} {v}" for k, v in summary["outcomes"].items()))
            if any(summary["sources"].values()):
                click.echo("  records from: " + ", ".join(f"{k} {v}" for k, v in summary["sources"].items()))
            runs = store.rows("parser_runs", device_id) if all_runs else status.problem_runs(store, device_id)
            for run in runs:
                detail = run["message"] or f"{run['outcome']}: {run['records']} records"
                detail += f" ({status.run_sources(run)})" if status.run_sources(run) else ""
                if not detail.startswith(run["outcome"]):
                    detail = f"{run['outcome']}: {detail}"
                click.echo(f"  {run['parser']} {printable(run['source_path'])}: {printable(detail)}")
    finally:
        store.close()


# ---- Celery engine: broker options, forensics worker (cases.broker, cases.celery_engine) ----------------------------

def _broker_options(func):
    """The broker options of ``forensics worker`` and ``forensics batch --engine celery``."""
    func = click.option("--insecure-broker", is_flag=True,
                        help="Accept a broker URL without a password (only on a network nobody else can reach).")(func)
    func = click.option("--broker-ca", type=click.Path(dir_okay=False), envvar="FORENSICS_BROKER_CA",
                        help="CA certificate that signed a rediss:// broker's certificate (or set "
                             "FORENSICS_BROKER_CA; default: the system's trust store).")(func)
    func = click.option("--broker-password-file", type=click.Path(dir_okay=False),
                        envvar="FORENSICS_BROKER_PASSWORD_FILE",
                        help="File whose first line is the broker password (or set "
                             "FORENSICS_BROKER_PASSWORD_FILE; FORENSICS_BROKER_PASSWORD also works).")(func)
    func = click.option("--broker", "broker_url", metavar="URL", envvar="FORENSICS_BROKER_URL",
                        help="Redis broker: redis://[USER]:PASSWORD@HOST:PORT/0, or rediss://... for TLS "
                             "(or set FORENSICS_BROKER_URL). Shown masked everywhere.")(func)
    return func


def _broker(broker_url: str | None, password_file: str | None, ca_file: str | None, insecure: bool):
    """The broker, refused in one line (exit 2) when it has no password and ``--insecure-broker`` is not given."""
    from cases.broker import BrokerError, require_auth, resolve

    try:
        broker = resolve(broker_url, password_file, ca_file=ca_file)
        require_auth(broker, insecure)
    except BrokerError as exc:
        raise InputError(str(exc)) from None
    return broker


@main.command()
@_broker_options
@click.option("--concurrency", type=click.IntRange(1, 1), default=1, show_default=True,
              help="Devices processed at once (one: start one worker per core you want to use).")
@click.option("--name", help="Worker name as Celery shows it (default: forensics-PID@HOSTNAME).")
@click.option("--time-limit", type=click.IntRange(1), default=None,
              help="Seconds one device may take when the batch does not say (batch --time-limit does); beyond it "
                   "the device stops and fails, and its process is killed a grace period later if it must be.")
@click.option("--loglevel", type=click.Choice(["INFO", "WARNING", "ERROR"]), default="INFO",
              show_default=True)
@_guard
def worker(broker_url: str | None, broker_password_file: str | None, broker_ca: str | None, insecure_broker: bool,
           concurrency: int, name: str | None, time_limit: int | None, loglevel: str) -> None:
    """Process devices queued by 'forensics batch --engine celery' (needs pip install .[distributed]).

    One device at a time, in a fresh process per device. Evidence and case folders must be on storage this machine
    mounts at the same paths as the batch machine; only device ids, paths and status go through the broker.
    """
    from cases.broker import BrokerError, ping

    broker = _broker(broker_url, broker_password_file, broker_ca, insecure_broker)
    try:
        ping(broker)
    except BrokerError as exc:
        raise InputError(str(exc)) from None
    from cases.celery_engine import run_worker

    click.echo(f"worker connecting to {broker.masked}", err=True)
    run_worker(broker, name=name, concurrency=concurrency, time_limit=time_limit, loglevel=loglevel)


def _celery_engine(case: Case, manifest: str, broker_url: str | None, password_file: str | None,
                   ca_file: str | None, insecure: bool):
    """The Celery engine for ``forensics batch --engine celery``, after checking the broker and that every worker
    that answers can read every evidence path of the manifest and write into the case."""
    from cases.broker import BrokerError, ping
    from cases.celery_engine import CeleryEngine, EngineError, check_workers, configure
    from cases.manifest import read_manifest

    broker = _broker(broker_url, password_file, ca_file, insecure)
    jobs = read_manifest(manifest)
    paths = sorted({p for job in jobs for p in job.paths} | {job.password_file for job in jobs if job.password_file})
    try:
        ping(broker)
        configure(broker)
        workers = check_workers(case.root.absolute(), paths, broker)
    except (BrokerError, EngineError) as exc:
        raise InputError(str(exc)) from None
    click.echo(f"celery: {len(workers)} worker(s) on {broker.masked}: {', '.join(workers)}", err=True)
    return CeleryEngine(broker, workers)


# ---- end of the Celery engine block ---------------------------------------------------------------------------------


@main.command()
@click.argument("case_dir", type=click.Path())
@click.argument("manifest", type=click.Path())
@click.option("--workers", type=click.IntRange(min=1), help="Devices processed at once (default: the number of "
              "cores).")
@click.option("--time-limit", type=click.IntRange(min=0), default=21600, show_default=True,
              help="Seconds one device may take before its worker is stopped and the device fails (0: none).")
@click.option("--memory-limit", type=click.IntRange(min=0), default=4096, show_default=True,
              help="MB of address space one worker may use (RLIMIT_AS); beyond it the device fails (0: none).")
@click.option("--replace", is_flag=True, help="Process every device again, done ones too, and let a failed run "
              "replace earlier results.")
@click.option("--debug", is_flag=True, help="Print each device's log live on stderr (it is always written to "
              "CASE/logs/<device>.log).")
@click.option("--engine", type=click.Choice(["local", "celery"]), default="local", show_default=True,
              help="Where devices run: local worker processes, or Celery workers ('forensics worker') reached "
                   "through --broker (see docs/distributed.md).")
@_broker_options
@_guard
def batch(case_dir: str, manifest: str, workers: int | None, time_limit: int, memory_limit: int, replace: bool,
          debug: bool, engine: str, broker_url: str | None, broker_password_file: str | None, broker_ca: str | None,
          insecure_broker: bool) -> None:
    """Process every device of MANIFEST (CSV: device id, evidence path(s), optional columns) into the case.

    Each device runs in a worker process of its own and writes its own shard; this process alone merges them.
    Rerunning the same command skips devices that are done, retries failed and interrupted ones, and reports
    devices whose evidence changed since they were done. Exit code 0: every device done; 1: some device failed or
    has changed evidence (listed); 2: bad input (manifest problems, not a case, case busy).
    """
    from cases.batch import Progress, run_batch
    from cases.local_engine import LocalEngine

    target = _open_case(case_dir)
    runner = LocalEngine(workers) if engine == "local" else _celery_engine(
        target, manifest, broker_url, broker_password_file, broker_ca, insecure_broker)
    limits = {"time_limit": time_limit, "memory_mb": memory_limit, "debug": debug}
    command = " ".join(["forensics", "batch", case_dir, manifest, f"--workers={runner.workers}",
                        f"--time-limit={time_limit}", f"--memory-limit={memory_limit}"] +
                       (["--replace"] if replace else []) + [f"--engine={engine}"] +
                       ([f"--broker={runner.broker.masked}"] if engine == "celery" else []))
    outcome = run_batch(target, manifest, runner, limits, replace=replace,
                        progress=None if debug else Progress(sys.stderr), command=command)
    click.echo(f"batch: {outcome.total} devices: {len(outcome.done)} done now, {len(outcome.skipped)} already done, "
               f"{len(outcome.failed)} failed, {len(outcome.changed)} with changed evidence")
    for device_id, error in sorted(outcome.failed.items()):
        kept = "; earlier results kept" if device_id in outcome.kept_earlier else ""
        click.echo(f"  failed {device_id}: {error}{kept}")
    for device_id, reason in sorted(outcome.changed.items()):
        click.echo(f"  evidence changed {device_id}: {reason} (not redone; --replace to process it again)")
    if not outcome.ok:
        sys.exit(1)


@main.command("parsers")
def parsers_cmd() -> None:
    """List the parsers, the apps they cover, the paths they read and where their schema facts come from."""
    for spec in load_parsers():
        click.echo(f"{spec.name} (v{spec.version}) app={spec.app}" +
                   (f" platform={spec.platform}" if spec.platform else ""))
        if spec.description:
            click.echo(f"    {spec.description}")
        click.echo(f"    schema facts from: {spec.source}")
        for pattern in spec.paths:
            click.echo(f"    {pattern}")


# --- platform registry: forensics platforms list/match, forensics case overlay --------------------------------------

def _registry(case_dir: str | None):
    from artifacts.platforms import Registry
    from cases.overlay import load_case_registry

    return load_case_registry(_open_case(case_dir)) if case_dir else Registry.load()


@main.group()
def platforms() -> None:
    """The registry of online platforms: categories, domains, profile-URL patterns, app ids, their sources."""


@platforms.command("list")
@click.option("--category", help="Only this category (e.g. 'dating', 'jobs/recruitment', 'escort/adult ads').")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--case", "case_dir", type=click.Path(), help="Include this case's overlay (extra platforms, flags).")
@_guard
def platforms_list(category: str | None, fmt: str, case_dir: str | None) -> None:
    """List the platforms (sorted by name), flagged ones marked; JSON gives every fact with its source."""
    from artifacts.platforms import CATEGORIES

    if category and category not in CATEGORIES:
        raise InputError(f"unknown category '{category}' (choose from {', '.join(CATEGORIES)})")
    chosen = [p for p in _registry(case_dir).platforms if not category or p.category == category]
    if fmt == "json":
        click.echo(json.dumps([p.as_dict() for p in chosen], indent=1, ensure_ascii=False, sort_keys=True))
        return
    for p in chosen:
        flag = f"  [{p.flag.upper()}]" if p.flag else ""
        apps = len(p.android) + len(p.ios)
        click.echo(f"{p.name}\t{p.category}\t{','.join(p.domains[:3]) + (',...' if len(p.domains) > 3 else '')}\t"
                   f"{','.join(p.regions)}\t{apps} app id(s)\t{'+'.join(p.sources)}{flag}")
    click.echo(f"{len(chosen)} platform(s)", err=True)


@platforms.command("match")
@click.argument("value")
@click.option("--case", "case_dir", type=click.Path(), help="Use this case's overlay (flags, watch list).")
@_guard
def platforms_match(value: str, case_dir: str | None) -> None:
    """Which platform VALUE belongs to (a URL, a host, an Android package, an iOS bundle id), and which rule matched.

    Exit code 1 when nothing matches.
    """
    registry = _registry(case_dir)
    matches = registry.match(value)
    hits = registry.watchlisted(value)
    for m in matches:
        account = f" account={m.account}" + (f" ({m.account_kind})" if m.account_kind else "") if m.account else ""
        click.echo(f"{m.platform} [{m.category}]: {m.kind}{account}")
        click.echo(f"  rule: {m.rule}")
        click.echo(f"  source: {m.source or 'unknown'}")
        platform = registry.get(m.platform)
        if platform is not None and platform.notes:
            click.echo(f"  notes: {platform.notes}")
        if platform is not None and platform.flag:
            click.echo(f"  FLAGGED {platform.flag}: {platform.flag_note} (source: {platform.flag_source})")
    for hit in hits:
        click.echo(f"WATCH-LISTED{' ' + hit['kind'] if hit.get('kind') else ''}: {hit['note']} "
                   f"(source: {hit['source']})")
    if not matches and not hits:
        click.echo(f"no platform matches {value!r}", err=True)
        sys.exit(1)


@case.command("overlay")
@click.argument("case_dir", type=click.Path())
@click.argument("overlay_file", type=click.Path())
@_guard
def case_overlay(case_dir: str, overlay_file: str) -> None:
    """Validate OVERLAY_FILE (YAML or JSON) and install it as the case's platform overlay.

    The overlay adds platforms, flags platforms 'suspected' or 'confirmed' (with a note and a source) and lists
    watch-listed identifiers; see docs/platforms.md. A bad file is reported one problem per line and changes nothing.
    """
    from artifacts.platforms import OverlayError
    from cases.overlay import install_overlay

    target = _open_case(case_dir)
    try:
        overlay = install_overlay(target, Path(overlay_file))
    except OverlayError as exc:
        for problem in exc.problems:
            click.echo(f"{overlay_file}: {problem}", err=True)
        raise InputError(f"{overlay_file}: {len(exc.problems)} problem(s); overlay not installed") from None
    click.echo(f"overlay installed: {len(overlay['platforms'])} platform(s), {len(overlay['flags'])} flag(s), "
               f"{len(overlay['watchlist'])} watch-listed identifier(s)")
# -- identifiers: cross-device links and platform footprints ------------------------------------------------------
def _linked_store(case_dir: str):
    """The case store with its identifiers table up to date, and the case registry (shipped + overlay)."""
    from cases import links as links_mod

    target = _open_case(case_dir)
    registry = links_mod.case_registry(target)
    store = target.store()
    run = links_mod.build(store, registry)
    if run["rebuilt"]:
        target.audit.write("links built", sightings=run["sightings"], identifiers=run["identifiers"],
                           seconds=run["seconds"])
    return target, store, registry


@main.command("links")
@click.argument("case_dir", type=click.Path())
@click.option("--min-devices", type=click.IntRange(1), default=2, show_default=True,
              help="Only identifiers seen on at least this many devices.")
@click.option("--kind", type=click.Choice(sorted(IDENTIFIER_KINDS)),
              help="Only this kind (raw text and short codes are listed only when asked for here).")
@click.option("--platform", help="Only identifiers seen on this platform (registry name, e.g. Telegram).")
@click.option("--category", help="Only identifiers of platforms of this category (e.g. 'jobs/recruitment').")
@click.option("--flagged", is_flag=True, help="Only identifiers of platforms the case overlay flags.")
@click.option("--watchlist", is_flag=True, help="Every watch-listed identifier seen, on one device too.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True,
              help="json: a list of objects with their sightings; csv: one line per sighting.")
@_guard
def links_cmd(case_dir: str, min_devices: int, kind: str | None, platform: str | None, category: str | None,
              flagged: bool, watchlist: bool, fmt: str) -> None:
    """Identifiers (phones, e-mails, handles, groups, URLs, IBANs, wallets...) seen on several devices of the case,
    most devices first, each with every sighting traced to its source row."""
    import csv
    import json

    from cases import links as links_mod

    _target, store, registry = _linked_store(case_dir)
    try:
        found = links_mod.links(store, registry, min_devices, kind, platform, category, flagged, watchlist)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        head = ["identifier", "kind", "platforms", "devices", "also_known_as", *links_mod.SIGHTING_FIELDS]
        writer.writerow(head)
        for f in found:
            for s in f["sightings"]:
                writer.writerow([exports.csv_cell(v) for v in (
                    f["identifier"], f["kind"], f["platforms"], f["devices"], f["also_known_as"],
                    *(s[k] for k in links_mod.SIGHTING_FIELDS))])
    else:
        if not found:
            click.echo("no identifier matches", err=True)
        for row in links_mod.as_table_rows(found):
            click.echo(f"{row[0]}  [{row[1]}]  devices {row[2]}  sightings {row[3]}" +
                       (f"  platforms {row[4]}" if row[4] else "") + (f"  aka {row[5]}" if row[5] else ""))


@main.command("footprint")
@click.argument("case_dir", type=click.Path())
@click.argument("device", required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_guard
def footprint_cmd(case_dir: str, device: str | None, fmt: str) -> None:
    """Per device (or only DEVICE): the platforms its user is on and the evidence for each (installed app,
    logged-in account, messages, visits, links in messages), flagged platforms first."""
    import json

    from cases import footprint as footprint_mod

    _target, store, registry = _linked_store(case_dir)
    try:
        _check_devices(store, [device])
        result = footprint_mod.footprint(store, registry, device)
    finally:
        store.close()
    if fmt == "json":
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
        return
    for entry in result:
        click.echo(f"device {entry['device_id']}: {len(entry['platforms'])} platforms")
        for p in entry["platforms"]:
            e = p["evidence"]
            parts = [f"installed {','.join(e['installed_app'])}" if e["installed_app"] else "",
                     f"accounts {','.join(e['account'])}" if e["account"] else "",
                     f"messages {e['messages']}" if e["messages"] else "",
                     f"visits {e['visits']}" if e["visits"] else "", f"links {e['links']}" if e["links"] else ""]
            flag = f" [{p['flag'].upper()}]" if p["flag"] else ""
            click.echo(f"  {p['platform']}{flag} ({p['category'] or 'unknown category'}): " +
                       "; ".join(x for x in parts if x))


# -- report, browse, graph: handing the case over ----------------------------------------------------------------
@main.command("report")
@click.argument("case_dir", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="A new folder to write the report into (it must not exist).")
@click.option("--display-tz", help="Add a labelled local-time column in this IANA zone to the timeline; UTC stays.")
@click.option("--device-local", is_flag=True, help="Add a labelled local-time column in each device's own zone.")
@click.option("--files", "with_files", is_flag=True, help="Put file-system MACB times on the timeline (they are many).")
@_guard
def report_cmd(case_dir: str, output: str, display_tz: str | None, device_local: bool, with_files: bool) -> None:
    """A static, offline HTML report of the case in a new folder: summary and evidence hashes, every device
    (identity, platform footprint, record counts, parser outcomes and problems, conversations as chats), the
    cross-device links and watch-list hits, the timeline (paged, sortable, searchable) and media with locations.

    Open index.html in a browser; the report loads nothing from the network and runs no script but its own file.
    """
    from cases import report as report_mod
    from cases import timeline_formats as formats
    from cases.timeline import TimelineError

    if display_tz and device_local:
        raise InputError("choose --display-tz or --device-local, not both")
    target, store, registry = _linked_store(case_dir)
    try:
        try:
            local = formats.LocalTime.fixed(display_tz) if display_tz else None
        except TimelineError as exc:
            raise InputError(str(exc)) from None
        if device_local:
            local = formats.LocalTime(device_zones={d["device_id"]: d["time_zone"] for d in store.rows("devices")
                                                    if d.get("time_zone")})
        name = json.loads(target.config_path.read_text(encoding="utf-8")).get("name") or target.root.name
        try:
            counts = report_mod.write(store, Path(output), name, registry, local, with_files)
        except report_mod.ReportError as exc:
            raise InputError(str(exc)) from None
    finally:
        store.close()
    click.echo(f"report written to {Path(output) / 'index.html'}: {counts['devices']} devices, "
               f"{counts['conversations']} conversations, {counts['events']} timeline events, "
               f"{counts['media']} located media", err=True)
    target.audit.write("report", output=output, **counts)


@main.command("browse")
@click.argument("case_dir", type=click.Path())
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True,
              help="TCP port (0: any free port).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but the loopback address exposes the case to the network.")
@_guard
def browse_cmd(case_dir: str, port: int, host: str) -> None:
    """The case store in Datasette (read-only, immutable, labelled columns) until Ctrl-C.

    Needs the optional extra: pip install 'phone-forensics[browse]'. Listens on 127.0.0.1 unless --host says
    otherwise.
    """
    from cases import browse as browse_mod

    target, store, _registry = _linked_store(case_dir)
    try:
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # immutable readers do not see the -wal
    finally:
        store.close()
    if host not in browse_mod.LOOPBACK:
        click.echo(f"warning: listening on {host}: anyone who can reach this address can read the case", err=True)
    if port == 0:
        port = browse_mod.free_port(host)
    click.echo(f"browsing {target.root} at http://{'[' + host + ']' if ':' in host else host}:{port}/ "
               f"(read-only; Ctrl-C stops)", err=True)
    target.audit.write("browse", host=host, port=port)
    try:
        status = browse_mod.serve(target.store_path, host, port)
    except browse_mod.BrowseError as exc:
        raise InputError(str(exc)) from None
    if status not in (0, -15):
        raise InputError(f"Datasette stopped with status {status}")


@main.command("graph")
@click.argument("case_dir", type=click.Path())
@click.option("--format", "fmt", type=click.Choice(["graphml", "gexf"]), default="graphml", show_default=True,
              help="GraphML (yEd, Cytoscape, networkx) or GEXF (Gephi).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The graph file to write.")
@click.option("--min-devices", type=click.IntRange(1), default=2, show_default=True,
              help="Only identifiers seen on at least this many devices.")
@_mode_option
@_guard
def graph_cmd(case_dir: str, fmt: str, output: str, min_devices: int, mode: int) -> None:
    """The link graph: devices, identifiers and platforms as nodes; sightings as edges weighted by their count."""
    from cases import graph as graph_mod

    target, store, _registry = _linked_store(case_dir)
    try:
        with _write_output(output, mode, binary=True) as out:
            nodes, edges = graph_mod.write(store, out, fmt, min_devices)
    finally:
        store.close()
    click.echo(f"{nodes} nodes and {edges} edges written to {output}", err=True)
    target.audit.write("graph", format=fmt, output=output, nodes=nodes, edges=edges)


def run() -> None:
    """Console entry point: a reader that closes the pipe early (``| head``) ends the export quietly."""
    try:
        main()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # as the Python docs advise for SIGPIPE
        sys.exit(0)


if __name__ == "__main__":
    run()
