"""Locations as GeoJSON and KML: photos with real EXIF GPS in a folder extraction, hostile file names escaped,
the output parsed back (geojson's validator, an XML parser that refuses entities)."""
import defusedxml.ElementTree as ET
import geojson
import pytest
from click.testing import CliRunner

from cli import main
from tests.fixtures import images

KML = "{http://www.opengis.net/kml/2.2}"
HOSTILE = 'IMG_<script>alert(1)<!--&"x".jpg'


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("geo")
    photos = root / "phone" / "media" / "0" / "DCIM" / "Camera"
    photos.mkdir(parents=True)
    (photos / "kyiv.jpg").write_bytes(images.jpeg_with_exif(lat=50.4501, lon=30.5234, alt=179.0,
                                                            gps_utc="2024:03:09 18:14:58"))
    (photos / HOSTILE).write_bytes(images.jpeg_with_exif(lat=-33.8688, lon=151.2093, offset_time="+10:00"))
    (photos / "nogps.jpg").write_bytes(images.jpeg_with_exif())
    runner = CliRunner()
    assert runner.invoke(main, ["case", "init", str(root / "case")]).exit_code == 0
    result = runner.invoke(main, ["ingest", str(root / "case"), str(root / "phone"), "--device-id", "p1", "--quiet"])
    assert result.exit_code == 0, result.output
    return root / "case"


def test_geojson_is_valid_and_complete(case):
    result = CliRunner().invoke(main, ["locations", str(case)])
    assert result.exit_code == 0, result.output
    collection = geojson.loads(result.stdout)
    assert collection.is_valid, collection.errors()
    features = collection["features"]
    assert len(features) == 2
    coords = sorted(tuple(f["geometry"]["coordinates"]) for f in features)
    assert coords == [(30.5234, 50.4501, 179.0), (151.2093, -33.8688)]
    kyiv = next(f for f in features if f["geometry"]["coordinates"][0] == 30.5234)["properties"]
    assert kyiv["ts"] == "2024-03-09T18:14:58.000000Z" and kyiv["ts_encoding"] == "exif_gps_utc"
    assert kyiv["device_id"] == "p1" and kyiv["source_path"].endswith("/kyiv.jpg") and kyiv["from_wal"] is False
    assert HOSTILE in [f["properties"]["label"] for f in features]


def test_kml_parses_with_escaped_text(case, tmp_path):
    out = tmp_path / "loc.kml"
    result = CliRunner().invoke(main, ["locations", str(case), "--format", "kml", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text
    root = ET.fromstring(out.read_bytes())
    marks = root.findall(f"{KML}Document/{KML}Placemark")
    assert len(marks) == 2
    names = sorted(m.findtext(f"{KML}name") for m in marks)
    assert HOSTILE in names
    coords = sorted(m.findtext(f"{KML}Point/{KML}coordinates") for m in marks)
    assert coords == ["151.2093,-33.8688", "30.5234,50.4501,179.0"]
    kyiv = next(m for m in marks if m.findtext(f"{KML}Point/{KML}coordinates").startswith("30."))
    assert kyiv.findtext(f"{KML}TimeStamp/{KML}when") == "2024-03-09T18:14:58.000000Z"


def test_same_case_same_bytes(case):
    for fmt in ("geojson", "kml"):
        first = CliRunner().invoke(main, ["locations", str(case), "--format", fmt]).stdout
        assert first == CliRunner().invoke(main, ["locations", str(case), "--format", fmt]).stdout
