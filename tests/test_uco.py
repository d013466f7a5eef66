"""CASE/UCO export of the sample phone, validated by the CASE community's own validator (case-utils' case_validate)."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from tests.fixtures import images, sample_device


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    missing = images.missing_tools("mke2fs", "sfdisk")
    if missing:
        pytest.skip(f"missing tools to build the sample phone: {missing}")
    root = tmp_path_factory.mktemp("uco")
    image = sample_device.build(root / "work")
    runner = CliRunner()
    assert runner.invoke(main, ["case", "init", str(root / "case")]).exit_code == 0
    assert runner.invoke(main, ["ingest", str(root / "case"), str(image), "--device-id", "sample-android",
                                "--quiet"]).exit_code == 0
    out = root / "case.jsonld"
    result = runner.invoke(main, ["uco", str(root / "case"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    return root / "case", out


def _validator() -> str:
    found = shutil.which("case_validate") or str(Path(sys.executable).with_name("case_validate"))
    if not Path(found).exists():
        pytest.skip("case_validate (pip package case-utils, in the test extras) is not installed")
    return found


def test_case_validate_accepts_the_export(exported):
    _, out = exported
    result = subprocess.run([_validator(), str(out)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Conforms: True" in result.stdout


def test_the_graph_holds_the_case(exported):
    case, out = exported
    graph = json.loads(out.read_text(encoding="utf-8"))["@graph"]
    by_type = {}
    for node in graph:
        types = node["@type"] if isinstance(node["@type"], list) else [node["@type"]]
        for t in types:
            by_type.setdefault(t, []).append(node)
    from cases.case import Case

    store = Case.open(case).store()
    try:
        assert len(by_type["observable:Message"]) == store.count("messages")
        assert len(by_type["observable:Call"]) == store.count("calls")
        assert len(by_type["observable:Contact"]) == store.count("contacts")
        files = [n for n in by_type["observable:File"] if n["@id"].startswith("kb:file-")]
        assert len(files) == store.count("files")
        evidence = next(iter(store.rows("evidence")))
    finally:
        store.close()
    assert len(by_type["observable:Device"]) == 1 and len(by_type["tool:Tool"]) == 1
    action = by_type["investigation:InvestigativeAction"][0]
    assert action["action:instrument"] and action["action:startTime"]["@type"] == "xsd:dateTime"
    hashes = json.dumps([n for n in by_type["observable:File"] if n["@id"].startswith("kb:evidence-")])
    assert evidence["sha256"].upper() in hashes
    texts = [f.get("observable:messageText") for n in by_type["observable:Message"] for f in n["core:hasFacet"]]
    assert "Rooms 12 and 14 are paid. Send me a photo when they are inside." in texts
    source = [f for n in by_type["observable:Message"] for f in n["core:hasFacet"]
              if "pf:SourceFacet" in f["@type"]][0]
    assert source["pf:sourcePath"] and source["pf:parser"] and source["pf:deviceId"] == "sample-android"


def test_same_case_same_document(exported, tmp_path):
    case, out = exported
    again = tmp_path / "again.jsonld"
    assert CliRunner().invoke(main, ["uco", str(case), "-o", str(again)]).exit_code == 0
    assert again.read_bytes() == out.read_bytes()
