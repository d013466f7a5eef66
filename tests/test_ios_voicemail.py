"""iOS voicemail.db: fixtures with the real schema, and the real databases iLEAPP tests on."""
import pytest

from tests import parser_harness
from tests.fixtures import ios_voicemail
from tests.leapp_cases import extract, ileapp_case

NAMES = ["ios-voicemail", "ios-voicemail-accounts", "ios-voicemail-transcripts"]
FOLDER = ios_voicemail.PATH.rsplit("/", 1)[0]


def test_voicemails_deleted_table_iccid_and_wal(tmp_path):
    db = ios_voicemail.build(tmp_path / "src" / "voicemail.db", wal=True)
    outcomes, rows = parser_harness.run(tmp_path / "run", parser_harness.with_wal(ios_voicemail.PATH, db),
                                        NAMES)
    assert {o.spec.name: (o.outcome, o.records, o.from_wal) for o in outcomes} == {
        "ios-voicemail": ("parsed", 4, 1), "ios-voicemail-accounts": ("parsed", 1, 0)}
    first, trashed, wal, deleted = rows["calls"]
    assert (first["peers"], first["direction"], first["status"], first["duration_s"], first["ts"]) == (
        ["+15550100"], "incoming", "voicemail", 42, "2023-11-14T22:13:20.000000Z")
    assert first["extra"] == {"flags": 3, "deleted": False, "trashed_raw": 0, "receiver": "+15550199",
                              "callback_number": "+15550100", "iccid": ios_voicemail.ICCID, "remote_uid": 11,
                              "audio_file": "1.amr"}
    assert trashed["extra"]["deleted"] and trashed["extra"]["trashed_ts"] == "2023-11-18T11:33:20.000000Z"
    assert wal["from_wal"] and wal["peers"] == ["+15550133"]
    assert (deleted["source_table"], deleted["extra"]["deleted_table"], deleted["peers"]) == (
        "deleted", True, ["+15550122"])
    (fact,) = rows["device_facts"]
    assert (fact["key"], fact["value"], fact["extra"]) == ("iccid", ios_voicemail.ICCID,
                                                           {"voicemail_label": ios_voicemail.LABEL})


def test_older_layout_without_map(tmp_path):
    db = ios_voicemail.build_ios12(tmp_path / "voicemail.db")
    outcomes, rows = parser_harness.run(tmp_path / "run", {ios_voicemail.PATH: db}, NAMES)
    assert {o.spec.name: o.outcome for o in outcomes} == {"ios-voicemail": "parsed",
                                                          "ios-voicemail-accounts": "unsupported version"}
    (call,) = rows["calls"]
    assert call["extra"] == {"flags": 67, "deleted": False, "trashed_raw": 0, "callback_number": "+15550144",
                             "audio_file": "1.amr"}


def test_damaged_copy_is_recovered(tmp_path):
    many = ("BEGIN;" + "".join(f"INSERT INTO voicemail (date, sender, duration, trashed_date, flags) VALUES "
                                f"({1700000000 + i}, '+1555{i:06d}', 5, 0, 3);" for i in range(400)) + "COMMIT;")
    sql = ios_voicemail.SCHEMA + ios_voicemail.ROWS + many
    outcome = parser_harness.run_damaged(tmp_path, ios_voicemail.PATH, sql, "ios-voicemail")
    assert outcome.recovered and outcome.outcome == "parsed" and 300 < outcome.records <= 403


@pytest.mark.parametrize("image,iccid", [("josh_ios15_ffs", "8901260971148676693"),
                                         ("mvs_ios_2023", "89148000008588244776"),
                                         ("belkasoft_ctf6_ios_device1", None)])
def test_real_voicemail_databases(tmp_path, image, iccid):
    """Peer parity: iLEAPP's voicemail artifact gives 0 rows on each of these images (their voicemail table is
    empty), and so do we; the ICCID in ``map`` is the only fact they hold."""
    files = extract(ileapp_case("voicemail", "voicemail", image), tmp_path / "case")
    outcomes, rows = parser_harness.run(tmp_path / "run", files, NAMES)
    assert {o.spec.name: o.outcome for o in outcomes} == {
        "ios-voicemail": "no data", "ios-voicemail-accounts": "parsed" if iccid else "no data"}
    assert rows["calls"] == []
    assert [f["value"] for f in rows["device_facts"]] == ([iccid] if iccid else [])


def test_transcripts_join_their_voicemail_and_are_searchable(tmp_path):
    db = ios_voicemail.build(tmp_path / "voicemail.db")
    files = {ios_voicemail.PATH: db,
             FOLDER + "/1.transcript": ios_voicemail.transcript(tmp_path / "1.transcript", "call me about the job"),
             FOLDER + "/9.transcript": b"not a plist"}
    outcomes, rows = parser_harness.run(tmp_path / "run", files, NAMES)
    assert sorted((o.spec.name, o.source.path.rsplit("/", 1)[1], o.outcome) for o in outcomes) == [
        ("ios-voicemail", "voicemail.db", "parsed"), ("ios-voicemail-accounts", "voicemail.db", "parsed"),
        ("ios-voicemail-transcripts", "1.transcript", "parsed"), ("ios-voicemail-transcripts", "9.transcript", "error")]
    first = rows["calls"][0]
    assert first["extra"]["transcript"] == {"text": "call me about the job", "confidence": 0.82}
    assert "transcript" not in rows["calls"][1]["extra"]
    (text,) = rows["messages"]
    assert (text["message_type"], text["body"], text["extra"]) == (
        "voicemail transcript", "call me about the job", {"voicemail_rowid": "1", "confidence": 0.82})
