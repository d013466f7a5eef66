"""``forensics ingest`` against ALEAPP on the same Android logical extraction, one after the other, in the same run.

Builds (once, cached) a tar of an Android logical extraction with the project's fixture builders, at the scale of
issue 13 by default: ~7,000 JPEG photos with EXIF (``tests.fixtures.images.jpeg_with_exif``, padded to a realistic
size) and ~200,000 messages across SMS/MMS (``tests.fixtures.android_sms``), WhatsApp
(``tests.fixtures.whatsapp_android``), Telegram (``tests.fixtures.telegram_android`` with TL blobs from
``tests.fixtures.telegram_tl``), Tinder and Bumble (the schemas of ``tests/test_tinder_android.py`` and
``tests/test_bumble_badoo_android.py``). Then times

  (a) ALEAPP (``aleapp.py -t tar``) from the source folder given with ``--aleapp DIR``, run with its own
      virtualenv (``DIR/.venv-bench``, created and filled from its ``requirements.txt`` when missing), and
  (b) ``forensics ingest`` of the same tar into a fresh case,

each as its own process timed from start to exit, and prints both times, both message counts (ours: rows of the
``messages`` table; ALEAPP's: rows of its message artifacts in its LAVA database) and ``ratio=`` (b/a) on the last
line as ``name=value`` pairs.

    python benchmarks/vs_aleapp.py --aleapp /path/to/ALEAPP [--workdir DIR] [--photos 7000] [--messages 200000]
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SMS_DB = "data/user_de/0/com.android.providers.telephony/databases/mmssms.db"
WHATSAPP = "data/data/com.whatsapp/databases"
TELEGRAM_DB = "data/data/org.telegram.messenger/files/cache4.db"
TINDER_DB = "data/data/com.tinder/databases/tinder-3.db"
BUMBLE_DB = "data/data/com.bumble.app/databases/ChatComDatabase"
CAMERA = "media/0/DCIM/Camera"
START_S = 1_700_000_000
# share of the messages per app: SMS/MMS, Telegram, Tinder, Bumble; WhatsApp gets the rest
SHARES = {"sms": 0.25, "telegram": 0.075, "tinder": 0.05, "bumble": 0.025}
# ALEAPP artifacts (LAVA table names, lower case) that hold messages, for its message count
ALEAPP_MESSAGE_TABLES = ("get_sms_mms", "get_sms_mms_mms", "get_whatsapp_one_to_one_messages",
                         "get_whatsapp_group_messages", "get_telegrammessages", "tindermessages",
                         "get_bumble_messages")


def _sms(path: Path, n: int, rng: random.Random) -> None:
    from tests.fixtures.android_sms import MMSSMS_SCHEMA

    db = sqlite3.connect(path)
    db.executescript("PRAGMA journal_mode=OFF;" + MMSSMS_SCHEMA)
    n_mms = n // 20
    db.executemany("INSERT INTO sms (_id, thread_id, address, date, date_sent, type, body, read, seen) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, 1, 1)",
                   ((i, 1 + i % 150, f"+1555{2000000 + i % 150:07d}", (START_S + i * 37) * 1000,
                     (START_S + i * 37 - 2) * 1000, 1 + i % 2, f"sms {i} {rng.choice(WORDS)} {rng.choice(WORDS)}")
                    for i in range(1, n - n_mms + 1)))
    for i in range(1, n_mms + 1):
        db.execute("INSERT INTO pdu (_id, thread_id, date, date_sent, msg_box, read, m_type, sub) "
                   "VALUES (?, ?, ?, ?, ?, 1, ?, NULL)", (i, 1 + i % 150, START_S + i * 41, START_S + i * 41,
                                                          1 + i % 2, 132 if i % 2 else 128))
        db.execute("INSERT INTO addr (msg_id, address, type, charset) VALUES (?, ?, 137, 106)",
                   (i, f"+1555{2000000 + i % 150:07d}"))
        db.execute("INSERT INTO addr (msg_id, address, type, charset) VALUES (?, 'insert-address-token', 151, 106)",
                   (i,))
        db.execute("INSERT INTO part (mid, seq, ct, text) VALUES (?, 0, 'text/plain', ?)", (i, f"mms {i}"))
    db.commit()
    db.close()


def _telegram(path: Path, n: int) -> None:
    from tests.fixtures.telegram_android import CACHE4_SCHEMA, insert, message_row, user_row
    from tests.fixtures.telegram_tl import encode_message, encode_user

    me, peers = 111, [5_000_000_000 + k for k in range(1, 41)]
    db = sqlite3.connect(path)
    db.executescript("PRAGMA journal_mode=OFF;" + CACHE4_SCHEMA)
    db.executescript(insert("users", [user_row(uid, f"peer{k}", None, f"peer_{k}", 0,
                                               encode_user(id=uid, first_name=f"peer{k}", username=f"peer_{k}"))
                                      for k, uid in enumerate(peers)]))
    rows = []
    for mid in range(1, n + 1):
        uid, out, date = peers[mid % len(peers)], mid % 3 == 0, START_S + mid * 29
        blob = encode_message(id=mid, peer_id=("user", me if not out else uid), date=date, out=out,
                              from_id=("user", me if out else uid), text=f"telegram {mid} {WORDS[mid % 8]}")
        rows.append(message_row(mid, uid, date, out, blob))
    columns = list(rows[0])
    db.executemany(f"INSERT INTO messages_v2 ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                   ([r[c] for c in columns] for r in rows))
    db.commit()
    db.close()


def _tinder(path: Path, n: int) -> None:
    from tests.test_tinder_android import PHOTOS, SCHEMA

    db = sqlite3.connect(path)
    db.executescript("PRAGMA journal_mode=OFF;" + SCHEMA)
    matches = 100
    db.executemany("INSERT INTO match_person VALUES (?, ?, 'bio', -94694400000, X'0801', ?, X'', X'', X'', NULL, "
                   "NULL)", ((f"P{k}", f"person {k}", PHOTOS) for k in range(matches)))
    db.executemany("INSERT INTO `match` VALUES (?, ?, ?, ?, 0, 0, 'MATCH', NULL)",
                   ((f"P{k}ME", f"P{k}", (START_S + k) * 1000, (START_S + k + 60) * 1000) for k in range(matches)))
    db.executemany("INSERT INTO message VALUES (?, ?, ?, ?, ?, ?, ?, 0, 'UNKNOWN', 'SUCCESS', 1, 0, '')",
                   ((i, f"M{i}", f"P{i % matches}ME", *(("ME", f"P{i % matches}") if i % 2 else
                                                        (f"P{i % matches}", "ME")),
                     f"tinder {i} {WORDS[i % 8]}", (START_S + i * 31) * 1000) for i in range(1, n + 1)))
    db.commit()
    db.close()


def _bumble(path: Path, n: int) -> None:
    from tests.test_bumble_badoo_android import OLD_SCHEMA, message, person

    people = 50
    script = "".join(person(f"{1000 + k}", f"bee {k}", f"enc{k}", gender=1, game_mode=0) for k in range(people))
    script += "".join(message(i, f"{1000 + i % people}", f"enc{i % people}" if i % 2 else "me-enc",
                              "me-enc" if i % 2 else f"enc{i % people}", (START_S + i * 43) * 1000,
                              {"text": f"bumble {i} {WORDS[i % 8]}"}, incoming=i % 2) for i in range(1, n + 1))
    db = sqlite3.connect(path)
    db.executescript("PRAGMA journal_mode=OFF;" + OLD_SCHEMA)
    db.executescript("BEGIN;" + script + "COMMIT;")
    db.close()


def _photo(i: int, rng: random.Random, size: int) -> bytes:
    """A real EXIF JPEG (GPS on every third), padded after its end-of-image marker to ``size`` bytes of random
    data, as a camera's compressed pixels would be (EXIF readers stop at the markers they need)."""
    from tests.fixtures.images import jpeg_with_exif

    when = time.strftime("%Y:%m:%d %H:%M:%S", time.gmtime(START_S + i * 600))
    gps = dict(lat=36.0 + (i % 100) / 1000, lon=-115.0 - (i % 70) / 1000) if i % 3 == 0 else {}
    jpeg = jpeg_with_exif(make="FixtureCam", model=f"FC-{i % 5}", datetime_original=when, **gps)
    return jpeg + rng.randbytes(max(size - len(jpeg), 0))


WORDS = ("invoice", "passport", "meet", "hotel", "transfer", "tonight", "address", "client")


def build(workdir: Path, n_photos: int, n_messages: int, photo_kib: int) -> tuple[Path, dict]:
    """The extraction tar (cached by its parameters) and how many messages of each app it holds."""
    from tests.fixtures.whatsapp_android import generate_msgstore, generate_wa_db

    counts = {app: int(n_messages * share) for app, share in SHARES.items()}
    counts["whatsapp"] = n_messages - sum(counts.values())
    tar_path = workdir / f"android-{n_photos}-{n_messages}-{photo_kib}.tar"
    if tar_path.exists():
        return tar_path, counts
    rng = random.Random(20261207)
    tree = workdir / "extraction-tree"
    shutil.rmtree(tree, ignore_errors=True)
    for rel in (SMS_DB, WHATSAPP + "/x", TELEGRAM_DB, TINDER_DB, BUMBLE_DB, CAMERA + "/x"):
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
    _sms(tree / SMS_DB, counts["sms"], rng)
    generate_msgstore(tree / WHATSAPP / "msgstore.db", counts["whatsapp"])
    generate_wa_db(tree / WHATSAPP / "wa.db")
    _telegram(tree / TELEGRAM_DB, counts["telegram"])
    _tinder(tree / TINDER_DB, counts["tinder"])
    _bumble(tree / BUMBLE_DB, counts["bumble"])
    for i in range(n_photos):
        size = int(photo_kib * 1024 * rng.uniform(0.5, 1.5))
        (tree / CAMERA / f"IMG_{20240101 + i // 100}_{i:06d}.jpg").write_bytes(_photo(i, rng, size))
    partial = tar_path.with_name(tar_path.name + ".partial")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(tree.rglob("*")):
            tar.add(path, arcname=str(path.relative_to(tree)), recursive=False)
    partial.replace(tar_path)
    shutil.rmtree(tree)
    return tar_path, counts


def aleapp_python(aleapp: Path) -> Path:
    """ALEAPP's own virtualenv, made from its requirements.txt the first time; exits with a message when the
    folder is not an ALEAPP source tree or its requirements cannot be installed."""
    if not (aleapp / "aleapp.py").is_file() or not (aleapp / "requirements.txt").is_file():
        raise SystemExit(f"error: {aleapp} is not an ALEAPP source folder (no aleapp.py / requirements.txt); "
                         "give one with --aleapp DIR (e.g. a checkout of github.com/abrignoni/ALEAPP)")
    venv = aleapp / ".venv-bench"
    python = venv / "bin" / "python"
    ready = venv / ".requirements-installed"
    if not ready.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(aleapp / "requirements.txt")],
                             capture_output=True, text=True)
        if pip.returncode != 0:
            raise SystemExit(f"error: installing ALEAPP's requirements into {venv} failed (its git+https "
                             "requirements need network access; install them there by hand, then create "
                             f"{ready}):\n{pip.stderr[-2000:]}")
        ready.touch()
    return python


def run_aleapp(python: Path, aleapp: Path, tar_path: Path, out: Path) -> tuple[float, int, str]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    start = time.perf_counter()
    done = subprocess.run([str(python), str(aleapp / "aleapp.py"), "-t", "tar", "-i", str(tar_path), "-o", str(out)],
                          cwd=aleapp, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"error: ALEAPP failed ({done.returncode}):\n{(done.stderr or done.stdout)[-2000:]}")
    return elapsed, *aleapp_messages(out)


def aleapp_messages(out: Path) -> tuple[int, str]:
    """Rows of ALEAPP's message artifacts in its LAVA database, and the per-table counts."""
    found = sorted(out.rglob("_lava_artifacts.db"))
    if not found:
        return 0, "no LAVA database"
    db = sqlite3.connect(f"file:{found[0]}?mode=ro", uri=True)
    try:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        per = {n: db.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names
               if n.lower() in ALEAPP_MESSAGE_TABLES}
    finally:
        db.close()
    return sum(per.values()), ", ".join(f"{k}={v}" for k, v in sorted(per.items()))


def run_ingest(tar_path: Path, case: Path) -> tuple[float, int, float]:
    shutil.rmtree(case, ignore_errors=True)
    forensics = Path(sys.executable).with_name("forensics")
    subprocess.run([str(forensics), "case", "init", str(case)], check=True, capture_output=True)
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        ingest = subprocess.Popen([str(forensics), "ingest", str(case), str(tar_path), "--device-id", "phone",
                                   "--quiet"], stdout=subprocess.DEVNULL, stderr=errors)
        # this process's own peak (and its worker's): RUSAGE_CHILDREN would report ALEAPP's, run before it
        _pid, status, usage = os.wait4(ingest.pid, 0)
        elapsed = time.perf_counter() - start
        ingest.returncode = os.waitstatus_to_exitcode(status)
        if ingest.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"error: forensics ingest failed:\n{errors.read().decode(errors='replace')[-2000:]}")
    peak = usage.ru_maxrss / 1024
    db = sqlite3.connect(f"file:{case / 'case.sqlite'}?mode=ro", uri=True)
    try:
        messages = db.execute("SELECT count(*) FROM messages").fetchone()[0]
    finally:
        db.close()
    return elapsed, messages, peak


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--aleapp", type=Path, required=True, help="ALEAPP source folder (with aleapp.py)")
    args.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "forensics-bench")
    args.add_argument("--photos", type=int, default=7000)
    args.add_argument("--photo-kib", type=int, default=190, help="mean photo size (the issue's tar: 1.45 GB)")
    args.add_argument("--messages", type=int, default=200_000)
    opts = args.parse_args()
    python = aleapp_python(opts.aleapp.resolve())
    opts.workdir.mkdir(parents=True, exist_ok=True)
    tar_path, counts = build(opts.workdir, opts.photos, opts.messages, opts.photo_kib)
    aleapp_s, aleapp_msgs, aleapp_detail = run_aleapp(python, opts.aleapp.resolve(), tar_path,
                                                      opts.workdir / "aleapp-out")
    ours_s, ours_msgs, peak = run_ingest(tar_path, opts.workdir / "vs-aleapp-case")
    print(f"extraction: {tar_path} ({tar_path.stat().st_size / 1e9:.2f} GB, {opts.photos} photos, "
          f"{sum(counts.values())} messages: {', '.join(f'{k}={v}' for k, v in sorted(counts.items()))})")
    print(f"ALEAPP: {aleapp_s:.1f} s, {aleapp_msgs} messages ({aleapp_detail})")
    print(f"forensics ingest: {ours_s:.1f} s, {ours_msgs} messages, peak RSS {peak:.0f} MiB")
    print(f"ratio={ours_s / aleapp_s:.2f} aleapp_s={aleapp_s:.1f} ingest_s={ours_s:.1f} "
          f"aleapp_messages={aleapp_msgs} ingest_messages={ours_msgs} peak_rss_mib={peak:.0f}")


if __name__ == "__main__":
    main()
