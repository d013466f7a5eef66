"""Cross-device linking against the ingest of the same devices, measured in the same run.

Generates N synthetic Android devices (default 325), each a folder extraction holding a real ``mmssms.db`` (the
SMS provider's schema, ``--messages`` texts, default 20,000) and a real ``contacts2.db`` (``--contacts`` contacts,
default 2,000), with phone numbers in the national spelling of the device's country (UA, PL, TH by time zone) and,
in some bodies, numbers, e-mails and ``t.me`` links. A pool of "recruiter" numbers recurs across devices, so links
exist. Each device then goes through the real pipeline — ``cases.ingest.process_device`` (inventory, parsers,
sightings) and the merge into the case store — and the case is linked with ``cases.links.build``.

Prints the time to extract sightings per million records (the ``record_device`` step inside each device's
processing), the ingest time of all devices, the time to build the case-wide links, the ratio linking / ingest
(target < 0.2), the ingest process's own peak memory, and the peak memory of two fresh linking processes — one on the first quarter of the devices, one
on all of them — to show memory is flat in the number of devices. The last line is ``name=value`` pairs.

    python benchmarks/links.py [--devices 325] [--contacts 2000] [--messages 20000] [--workdir DIR]
"""
from __future__ import annotations

import argparse
import multiprocessing
import random
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from artifacts import sightings  # noqa: E402
from artifacts.store import Store  # noqa: E402
from cases import ingest as ingest_mod  # noqa: E402
from cases import links  # noqa: E402
from tests.fixtures.android_contacts import MIMETYPES, SCHEMA_1603  # noqa: E402
from tests.fixtures.android_sms import MMSSMS_SCHEMA  # noqa: E402
from tests.fixtures.sample_device import persistent_properties  # noqa: E402

COUNTRIES = [("Europe/Kyiv", "0{}{} {}{}{} {}{}{}{}", "9{}"), ("Europe/Warsaw", "{}{}{} {}{}{} {}{}{}", "5{}"),
             ("Asia/Bangkok", "0{}{}-{}{}{}-{}{}{}{}", "8{}")]
PREFIX = {"Europe/Kyiv": "+38093", "Europe/Warsaw": "+48601", "Asia/Bangkok": "+6681"}
RECRUITERS = [f"+38093{n:07d}" for n in range(1, 41)]


def _number(rng: random.Random, zone: str, device: int) -> str:
    """A national spelling of a mobile number of the device's country, unique to the device."""
    tail = f"{device:03d}{rng.randrange(10_000):04d}"
    if zone == "Europe/Kyiv":
        return f"093 {tail[:3]} {tail[3:]}"
    if zone == "Europe/Warsaw":
        return f"601 {tail[:3]} {tail[3:6]}{tail[6]}"[:11]
    return f"081-{tail[:3]}-{tail[3:]}"


def make_device(folder: Path, device: int, n_contacts: int, n_messages: int) -> None:
    rng = random.Random(device)
    zone = COUNTRIES[device % 3][0]
    base = folder / "data"
    sms = base / "user_de/0/com.android.providers.telephony/databases/mmssms.db"
    contacts = base / "data/com.android.providers.contacts/databases/contacts2.db"
    props = base / "property/persistent_properties"
    for path in (sms, contacts, props):
        path.parent.mkdir(parents=True, exist_ok=True)
    props.write_bytes(persistent_properties({"persist.sys.timezone": zone}))
    peers = [_number(rng, zone, device) for _ in range(200)] + rng.sample(RECRUITERS, 4)
    db = sqlite3.connect(sms)
    db.executescript(MMSSMS_SCHEMA)
    rows = []
    for i in range(1, n_messages + 1):
        peer = peers[i % len(peers)]
        body = f"message {i} about the job, meet at {i % 24}:00"
        if i % 10 == 0:
            body += f" call {rng.choice(RECRUITERS)} or write hr{i % 50}@example.com, t.me/rabota_{i % 30}"
        rows.append((i, i % 200, peer, 1_700_000_000_000 + i * 1000, 0, 1 + i % 2, body, 1, 1))
    db.executemany("INSERT INTO sms (_id, thread_id, address, date, date_sent, type, body, read, seen) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    db = sqlite3.connect(contacts)
    db.create_collation("PHONEBOOK", lambda a, b: (a > b) - (a < b))
    db.executescript(SCHEMA_1603 + MIMETYPES)
    db.execute("INSERT INTO accounts (_id, account_name, account_type, data_set) VALUES (1, NULL, NULL, NULL)")
    data, data_id = [], 0
    for c in range(1, n_contacts + 1):
        db.execute("INSERT INTO contacts (_id, name_raw_contact_id) VALUES (?, ?)", (c, c))
        db.execute("INSERT INTO raw_contacts (_id, account_id, deleted, contact_id, display_name, sort_key) "
                   "VALUES (?, 1, 0, ?, ?, ?)", (c, c, f"Contact {c}", f"Contact {c}"))
        number = peers[c % len(peers)] if c <= len(peers) else _number(rng, zone, device)
        data_id += 1
        data.append((data_id, 5, c, number))
        if c % 5 == 0:
            data_id += 1
            data.append((data_id, 1, c, f"person{device}.{c}@example.com"))
    db.executemany("INSERT INTO data (_id, mimetype_id, raw_contact_id, data1) VALUES (?, ?, ?, ?)", data)
    db.commit()
    db.close()


def _link_in_child(store_path: str, queue) -> None:
    store = Store(store_path)
    start = time.perf_counter()
    run = links.build(store, None, force=True)
    store.close()
    queue.put((time.perf_counter() - start, run["identifiers"], run["sightings"], _peak_mib()))


def _peak_mib() -> float:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: Linux carries that over fork and exec, so a child
    started by a big parent would report the parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def link_fresh(store_path: Path) -> tuple[float, int, int, float]:
    """Link in a fresh process: (seconds, identifiers, sightings, that process's peak RSS in MiB)."""
    queue = multiprocessing.get_context("spawn").Queue()
    child = multiprocessing.get_context("spawn").Process(target=_link_in_child, args=(str(store_path), queue))
    child.start()
    result = queue.get()
    child.join()
    return result


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--devices", type=int, default=325)
    args.add_argument("--contacts", type=int, default=2000)
    args.add_argument("--messages", type=int, default=20_000)
    args.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "forensics-bench-links")
    opts = args.parse_args()
    shutil.rmtree(opts.workdir, ignore_errors=True)
    opts.workdir.mkdir(parents=True)
    case_store = opts.workdir / "case.sqlite"
    Store(case_store).close()

    extract_s = [0.0]
    original = sightings.record_device

    def timed(*a, **k):
        start = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            extract_s[0] += time.perf_counter() - start

    ingest_mod.sightings.record_device = timed
    ingest_s = generate_s = 0.0
    records = 0
    quarter = None
    for device in range(opts.devices):
        folder = opts.workdir / f"dev{device:03d}"
        start = time.perf_counter()
        make_device(folder, device, opts.contacts, opts.messages)
        generate_s += time.perf_counter() - start
        shard = opts.workdir / f"dev{device:03d}.sqlite"
        start = time.perf_counter()
        result = ingest_mod.process_device(f"dev{device:03d}", [folder], shard, opts.workdir / "work")
        store = Store(case_store)
        store.merge_shard(shard, f"dev{device:03d}")
        store.close()
        ingest_s += time.perf_counter() - start
        assert result.status == "ok", result.error
        records += result.records
        shard.unlink()
        shutil.rmtree(folder)
        if device + 1 == max(1, opts.devices // 4):
            quarter = link_fresh(case_store)
        if (device + 1) % 25 == 0:
            print(f"  {device + 1} devices ingested, {ingest_s:.0f} s", file=sys.stderr)
    link_s, identifiers, n_sightings, peak_mib = link_fresh(case_store)
    q_link_s, _q_ids, q_sightings, q_peak = quarter
    print(f"devices {opts.devices} x ({opts.contacts} contacts + {opts.messages} messages): {records} records, "
          f"{n_sightings} sightings, {identifiers} identifiers (generating the databases: {generate_s:.0f} s)")
    print(f"ingest (process_device + merge, sequential): {ingest_s:.1f} s, of which sightings {extract_s[0]:.1f} s "
          f"= {extract_s[0] / records * 1e6:.1f} s per million records")
    print(f"linking the case: {link_s:.1f} s ({n_sightings} sightings); peak RSS {peak_mib:.0f} MiB; "
          f"first quarter: {q_link_s:.1f} s ({q_sightings} sightings), peak RSS {q_peak:.0f} MiB")
    print(f"ingest process peak RSS {_peak_mib():.0f} MiB")
    print(f"ratio={link_s / ingest_s:.3f} link_s={link_s:.1f} ingest_s={ingest_s:.1f} "
          f"extract_s_per_million={extract_s[0] / records * 1e6:.1f} peak_rss_mib={peak_mib:.0f} "
          f"peak_rss_quarter_mib={q_peak:.0f} devices={opts.devices} records={records} sightings={n_sightings} "
          f"case_mib={case_store.stat().st_size / (1 << 20):.0f}")


if __name__ == "__main__":
    main()
