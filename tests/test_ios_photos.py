"""iOS Photos.sqlite: ZASSET (iOS 14+) and ZGENERICASSET (iOS 12) libraries built with Photos' columns, a WAL-only
asset and a damaged copy."""
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

PATH = "/filesystem1/private/var/mobile/Media/PhotoData/Photos.sqlite"
MEDIA = "/filesystem1/private/var/mobile/Media"

# ZASSET and ZADDITIONALASSETATTRIBUTES with the columns Photos gives them on iOS 16 (those read and those beside).
SCHEMA = """
CREATE TABLE ZASSET ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZACTIVELIBRARYSCOPEPARTICIPATIONSTATE
  INTEGER, ZADJUSTMENTSSTATE INTEGER, ZAVALANCHEPICKTYPE INTEGER, ZBUNDLESCOPE INTEGER, ZCAMERAPROCESSINGADJUSTMENTSTATE
  INTEGER, ZCLOUDDELETESTATE INTEGER, ZCLOUDLOCALSTATE INTEGER, ZDEPTHTYPE INTEGER, ZFAVORITE INTEGER,
  ZHASADJUSTMENTS INTEGER, ZHDRTYPE INTEGER, ZHEIGHT INTEGER, ZHIDDEN INTEGER, ZKIND INTEGER, ZKINDSUBTYPE INTEGER,
  ZLIBRARYSCOPESHARESTATE INTEGER, ZORIENTATION INTEGER, ZPLAYBACKSTYLE INTEGER, ZSAVEDASSETTYPE INTEGER,
  ZSYNDICATIONSTATE INTEGER, ZTRASHEDSTATE INTEGER, ZVISIBILITYSTATE INTEGER, ZWIDTH INTEGER,
  ZADDITIONALATTRIBUTES INTEGER, ZCOMPUTEDATTRIBUTES INTEGER, ZDAYGROUPHIGHLIGHTBEINGASSETS INTEGER,
  ZEXTENDEDATTRIBUTES INTEGER, ZIMPORTSESSION INTEGER, ZLIBRARYSCOPE INTEGER, ZMASTER INTEGER, ZMEDIAANALYSISATTRIBUTES
  INTEGER, ZMOMENT INTEGER, ZMOMENTSHARE INTEGER, ZPHOTOANALYSISATTRIBUTES INTEGER, ZADDEDDATE TIMESTAMP,
  ZADJUSTMENTTIMESTAMP TIMESTAMP, ZCLOUDBATCHPUBLISHDATE TIMESTAMP, ZDATECREATED TIMESTAMP, ZDURATION FLOAT,
  ZLASTSHAREDDATE TIMESTAMP, ZLATITUDE FLOAT, ZLONGITUDE FLOAT, ZMODIFICATIONDATE TIMESTAMP, ZSORTTOKEN FLOAT,
  ZTRASHEDDATE TIMESTAMP, ZAVALANCHEUUID VARCHAR, ZCLOUDASSETGUID VARCHAR, ZCLOUDCOLLECTIONGUID VARCHAR,
  ZDIRECTORY VARCHAR, ZFILENAME VARCHAR, ZMEDIAGROUPUUID VARCHAR, ZORIGINALCOLORSPACE VARCHAR,
  ZUNIFORMTYPEIDENTIFIER VARCHAR, ZUUID VARCHAR, ZIMAGEREQUESTHINTS BLOB, ZLOCATIONDATA BLOB );
CREATE TABLE ZADDITIONALASSETATTRIBUTES ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZALLOWEDFORANALYSIS INTEGER, ZCAMERACAPTUREDEVICE INTEGER, ZCLOUDAVALANCHEPICKTYPE INTEGER, ZCLOUDKINDSUBTYPE INTEGER,
  ZCLOUDRECOVERYSTATE INTEGER, ZDESTINATIONASSETCOPYSTATE INTEGER, ZGPSHORIZONTALACCURACY FLOAT,
  ZIMPORTEDBY INTEGER, ZORIGINALFILESIZE INTEGER, ZORIGINALHEIGHT INTEGER, ZORIGINALORIENTATION INTEGER,
  ZORIGINALWIDTH INTEGER, ZSHIFTEDLOCATIONISVALID INTEGER, ZTIMEZONEOFFSET INTEGER, ZASSET INTEGER,
  ZASSETDESCRIPTION INTEGER, ZMEDIAMETADATA INTEGER, ZUNMANAGEDADJUSTMENT INTEGER, ZLASTVIEWEDDATE TIMESTAMP,
  ZCREATORBUNDLEID VARCHAR, ZEDITORBUNDLEID VARCHAR, ZEXIFTIMESTAMPSTRING VARCHAR, ZIMPORTEDBYBUNDLEIDENTIFIER VARCHAR,
  ZIMPORTEDBYDISPLAYNAME VARCHAR, ZMASTERFINGERPRINT VARCHAR, ZORIGINALFILENAME VARCHAR, ZORIGINALSTABLEHASH VARCHAR,
  ZTIMEZONENAME VARCHAR, ZTITLE VARCHAR, ZREVERSELOCATIONDATA BLOB, ZSHIFTEDLOCATIONDATA BLOB );
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
"""
ROWS = """
INSERT INTO ZASSET (Z_PK, Z_ENT, Z_OPT, ZKIND, ZFAVORITE, ZHIDDEN, ZTRASHEDSTATE, ZADDITIONALATTRIBUTES, ZADDEDDATE,
  ZDATECREATED, ZLATITUDE, ZLONGITUDE, ZTRASHEDDATE, ZDIRECTORY, ZFILENAME, ZUNIFORMTYPEIDENTIFIER, ZUUID) VALUES
  (1, 3, 5, 0, 1, 0, 0, 11, 700000010, 700000000.5, 40.7128, -74.006, NULL, 'DCIM/100APPLE', 'IMG_0001.HEIC',
   'public.heic', 'UUID-1'),
  (2, 3, 5, 1, 0, 0, 1, 12, 700000110, 700000100, -180.0, -180.0, 700000900, 'DCIM/100APPLE', 'IMG_0002.MOV',
   'com.apple.quicktime-movie', 'UUID-2'),
  (3, 3, 5, 0, 0, 1, 0, NULL, 700000210, 700000200, NULL, NULL, NULL, 'DCIM/100APPLE', 'IMG_0003.JPG',
   'public.jpeg', 'UUID-3');
INSERT INTO ZADDITIONALASSETATTRIBUTES (Z_PK, Z_ENT, Z_OPT, ZASSET, ZORIGINALFILENAME, ZTIMEZONENAME,
  ZTIMEZONEOFFSET, ZIMPORTEDBYBUNDLEIDENTIFIER, ZORIGINALFILESIZE) VALUES
  (11, 1, 1, 1, 'IMG_0001.HEIC', 'America/New_York', -18000, NULL, 2048000),
  (12, 1, 1, 2, 'clip.mov', 'GMT+0100', 3600, 'net.whatsapp.WhatsApp', 99000);
"""
WAL = ("INSERT INTO ZASSET (Z_PK, ZKIND, ZDATECREATED, ZLATITUDE, ZLONGITUDE, ZDIRECTORY, ZFILENAME) VALUES "
       "(4, 0, 700000300, -33.8688, 151.2093, 'DCIM/101APPLE', 'IMG_0004.JPG')")


def test_assets_locations_and_wal(tmp_path):
    db = make_db(tmp_path / "src" / "Photos.sqlite", SCHEMA + ROWS, wal_sql=WAL)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db, PATH + "-wal": str(db) + "-wal"},
                                        ["ios-photos", "ios-photos-ios13"])
    by_name = {o.spec.name: o for o in outcomes}
    assert by_name["ios-photos"].outcome == "parsed" and by_name["ios-photos"].records == 6
    assert by_name["ios-photos"].from_wal == 2  # the WAL-only asset's Media and Location records
    assert by_name["ios-photos-ios13"].outcome == "unsupported version"
    media = rows["media"]
    assert [m["media_path"] for m in media] == [f"{MEDIA}/DCIM/100APPLE/IMG_0001.HEIC",
                                                f"{MEDIA}/DCIM/100APPLE/IMG_0002.MOV",
                                                f"{MEDIA}/DCIM/100APPLE/IMG_0003.JPG",
                                                f"{MEDIA}/DCIM/101APPLE/IMG_0004.JPG"]
    first, video, hidden, wal = media
    assert first["ts"] == "2023-03-08T20:26:40.500000Z" and first["ts_encoding"] == "cocoa_s"
    assert (first["latitude"], first["longitude"], first["mime_type"]) == (40.7128, -74.006, "image/heic")
    assert first["extra"] == {"original_filename": "IMG_0001.HEIC", "timezone_name": "America/New_York",
                              "timezone_offset_s": -18000, "original_size": 2048000, "uti": "public.heic",
                              "kind": "photo", "favorite": True, "uuid": "UUID-1",
                              "added_ts": {"iso": "2023-03-08T20:26:50.000000Z", "raw": "700000010",
                                           "encoding": "cocoa_s"}}
    assert video["latitude"] is None and video["mime_type"] == "video/quicktime"
    assert video["extra"]["imported_by_bundle"] == "net.whatsapp.WhatsApp" and video["extra"]["trashed"] is True
    assert video["extra"]["trashed_ts"]["iso"] == "2023-03-08T20:41:40.000000Z"
    assert hidden["extra"]["hidden"] is True and hidden["latitude"] is None
    assert wal["from_wal"] and not any(m["from_wal"] for m in media[:3])
    assert [m["source_row"] for m in media] == ["1", "2", "3", "4"] and media[0]["source_table"] == "ZASSET"
    locations = rows["locations"]
    assert [(loc["latitude"], loc["longitude"], loc["label"]) for loc in locations] == [
        (40.7128, -74.006, "IMG_0001.HEIC"), (-33.8688, 151.2093, "IMG_0004.JPG")]
    assert locations[0]["source_kind"] == "photos library" and locations[0]["ts"] == first["ts"]
    assert locations[1]["from_wal"] is True and locations[0]["source_row"] == "1"


def test_ios12_generic_asset_library(tmp_path):
    db = make_db(tmp_path / "Photos.sqlite", """
        CREATE TABLE ZGENERICASSET ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZAVALANCHEPICKTYPE
          INTEGER, ZCLOUDLOCALSTATE INTEGER, ZFAVORITE INTEGER, ZHASADJUSTMENTS INTEGER, ZHIDDEN INTEGER,
          ZKIND INTEGER, ZKINDSUBTYPE INTEGER, ZSAVEDASSETTYPE INTEGER, ZTRASHEDSTATE INTEGER,
          ZVISIBILITYSTATE INTEGER, ZADDITIONALATTRIBUTES INTEGER, ZMASTER INTEGER, ZMOMENT INTEGER,
          ZADDEDDATE TIMESTAMP, ZDATECREATED TIMESTAMP, ZDURATION FLOAT, ZLATITUDE FLOAT, ZLONGITUDE FLOAT,
          ZMODIFICATIONDATE TIMESTAMP, ZTRASHEDDATE TIMESTAMP, ZDIRECTORY VARCHAR, ZFILENAME VARCHAR,
          ZUNIFORMTYPEIDENTIFIER VARCHAR, ZUUID VARCHAR, ZLOCATIONDATA BLOB );
        CREATE TABLE ZADDITIONALASSETATTRIBUTES ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
          ZORIGINALFILESIZE INTEGER, ZTIMEZONEOFFSET INTEGER, ZASSET INTEGER, ZEXIFTIMESTAMPSTRING VARCHAR,
          ZORIGINALFILENAME VARCHAR, ZTIMEZONENAME VARCHAR );
        INSERT INTO ZGENERICASSET (Z_PK, ZKIND, ZADDITIONALATTRIBUTES, ZDATECREATED, ZLATITUDE, ZLONGITUDE,
          ZDIRECTORY, ZFILENAME, ZUNIFORMTYPEIDENTIFIER) VALUES
          (7, 0, 1, 560000000, 51.5074, -0.1278, 'DCIM/100APPLE', 'IMG_0007.JPG', 'public.jpeg');
        INSERT INTO ZADDITIONALASSETATTRIBUTES (Z_PK, ZASSET, ZORIGINALFILENAME, ZTIMEZONEOFFSET)
          VALUES (1, 7, 'IMG_0007.JPG', 0);""")
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db}, ["ios-photos", "ios-photos-ios13"])
    assert {o.spec.name: o.outcome for o in outcomes} == {"ios-photos": "unsupported version",
                                                          "ios-photos-ios13": "parsed"}
    (media,) = rows["media"]
    assert media["source_table"] == "ZGENERICASSET" and media["ts"] == "2018-09-30T11:33:20.000000Z"
    assert media["extra"]["original_filename"] == "IMG_0007.JPG" and media["extra"]["timezone_offset_s"] == 0
    (location,) = rows["locations"]
    assert (location["latitude"], location["longitude"]) == (51.5074, -0.1278)


def test_damaged_photos_library_is_recovered(tmp_path):
    many = "".join(f"INSERT INTO ZASSET (Z_PK, ZDATECREATED, ZLATITUDE, ZLONGITUDE, ZDIRECTORY, ZFILENAME) VALUES "
                   f"({i}, {700000000 + i}, -180.0, -180.0, 'DCIM/{'d' * 300} {i}', 'IMG_{i:04d}.JPG');"
                   for i in range(1, 201))
    good = make_db(tmp_path / "good.sqlite", SCHEMA + many)
    page = good.read_bytes().find(b"d" * 300 + b" 100") // 4096 + 1
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: damage(good, tmp_path / "bad.sqlite", page)},
                                        ["ios-photos"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered
    assert 150 < outcomes[0].records < 200 and rows["locations"] == []
    assert all(m["recovered"] for m in rows["media"])
