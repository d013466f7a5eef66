"""Command-line interface: Click commands only; the work is done in ``cases``."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from artifacts.store import ALL_TABLES
from cases import exports, status, verify as verify_mod
from cases.batch import ingest_device
from cases.case import TOOL_VERSION, Case, CaseError
from cases.ingest import IngestError
from cases.manifest import ManifestError
from forensics.evidence import EvidenceError, open_evidence
from parsers.framework import load_parsers

EXPECTED = (CaseError, IngestError, EvidenceError, ManifestError, OSError)


class InputError(click.ClickException):
    """Bad input: one line on stderr, exit code 2, no traceback."""

    exit_code = 2

    def show(self, file=None) -> None:
        click.echo(f"error: {self.message}", err=True)


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


@click.group()
@click.version_option(TOOL_VERSION, prog_name="forensics")
def main() -> None:
    """Turn seized-device evidence into one normalized, provenance-carrying artifact store.

    Evidence is only ever read. Every artifact row says which device, evidence layer, file, table and row it came
    from, and every time is UTC with its raw value and encoding beside it.
    """


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
@_guard
def ingest(case_dir: str, evidence: tuple[str, ...], device_id: str | None, password: str | None,
           quiet: bool, replace: bool) -> None:
    """Add one device to the case: open EVIDENCE read-only, inventory every file, run the parsers.

    Several EVIDENCE paths for one device are allowed (a split raw set, or several items of the same phone).
    Ingesting a device again replaces its rows when the new run succeeds; a failed run keeps the earlier rows and
    is recorded beside them (see `forensics status`).
    """
    target = _open_case(case_dir)
    paths = [Path(p) for p in evidence]
    password = password or _password_if_needed(paths)
    command = " ".join(["forensics", "ingest", case_dir, *evidence] + (["--device-id", device_id] if device_id else []))
    if quiet or not sys.stderr.isatty():
        result = ingest_device(target, paths, device_id, password, command=command, replace=replace)
    else:
        total = sum(p.stat().st_size for p in paths if p.is_file()) or None
        with click.progressbar(length=total, label="ingesting", file=sys.stderr) as bar:
            result = ingest_device(target, paths, device_id, password, on_bytes=bar.update, command=command,
                                   replace=replace)
    if result["status"] != "ok":
        kept = "; its earlier results are kept" if result["earlier_results_kept"] else ""
        raise InputError(f"device {result['device_id']} failed: {result['error']}{kept}")
    outcomes = ", ".join(f"{k}: {v}" for k, v in sorted(result["outcomes"].items())) or "no parser matched"
    click.echo(f"device {result['device_id']}: {result['files']} files, {result['records']} records ({outcomes})")
    for e in result["evidence_hashes"]:
        verified = {True: ", stored hash verified", False: ", STORED HASH MISMATCH", None: ""}[e["hash_verified"]]
        if e["sha256"]:
            click.echo(f"  {e['evidence_id']} {e['container']} sha256={e['sha256']} md5={e['md5']}{verified}")


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
@click.argument("artifact", type=click.Choice(sorted(ALL_TABLES)))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file (default: stdout).")
@click.option("--device-id", help="Only this device's rows.")
@_guard
def export(case_dir: str, artifact: str, fmt: str, output: str | None, device_id: str | None) -> None:
    """Export one ARTIFACT table of the case as JSON lines or CSV (keys are the store's column names)."""
    target = _open_case(case_dir)
    store = target.store()
    try:
        if output:
            partial = Path(output + ".partial")
            with open(partial, "w", encoding="utf-8", newline="") as out:
                count = exports.export(store, artifact, fmt, out, device_id)
            partial.replace(output)
            click.echo(f"{count} {artifact} rows written to {output}", err=True)
        else:
            exports.export(store, artifact, fmt, sys.stdout, device_id)
    finally:
        store.close()
    target.audit.write("export", artifact=artifact, format=fmt, output=output, device_id=device_id)


@main.command()
@click.argument("case_dir", type=click.Path())
@_guard
def verify(case_dir: str) -> None:
    """Re-hash every evidence item against the hashes recorded at ingest, and check the audit log's hash chain."""
    target = _open_case(case_dir)
    chain = target.audit.verify_chain()
    checks = verify_mod.verify(target)
    for check in checks:
        click.echo(f"{'OK  ' if check.ok else 'FAIL'} {check.evidence_id}: {check.detail}")
    click.echo(f"{'OK  ' if chain.ok else 'FAIL'} {chain.describe()}")
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
    finally:
        opened.close()


@main.command("status")
@click.argument("case_dir", type=click.Path())
@click.option("--all-runs", is_flag=True, help="List every parser run, not only the problems.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: per device state, error, counts, seconds; and the case totals.")
@_guard
def status_cmd(case_dir: str, all_runs: bool, as_json: bool) -> None:
    """Per device: state (queued, running, done, failed, interrupted), files, records per type, seconds taken and
    the outcome of every parser run that did not parse."""
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
            click.echo(f"device {device_id}: {name}" + (f" ({state['error']})" if state["error"] else "") +
                       f", {state['counts'].get('files', 0)} files{seconds}")
            if state["earlier_results_kept"]:
                click.echo("  the last attempt failed; the results of the earlier successful run are kept")
            if state["problem"]:
                click.echo(f"  problem: {state['problem']}")
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
            runs = store.rows("parser_runs", device_id) if all_runs else status.problem_runs(store, device_id)
            for run in runs:
                detail = run["message"] or f"{run['outcome']}: {run['records']} records"
                if not detail.startswith(run["outcome"]):
                    detail = f"{run['outcome']}: {detail}"
                click.echo(f"  {run['parser']} {run['source_path']}: {detail}")
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


def run() -> None:
    """Console entry point: a reader that closes the pipe early (``| head``) ends the export quietly."""
    try:
        main()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # as the Python docs advise for SIGPIPE
        sys.exit(0)


if __name__ == "__main__":
    run()
