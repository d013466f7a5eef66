"""Hinge for Android databases/db: cached profiles with the user's events on them, and the account holder.

The tables carry the columns ALEAPP's hinge.py reads from a real device database (the full Room schema is not
public).
"""
from tests import parser_harness
from tests.fixtures.sqlite_db import damage, make_db

PATH = "/data/data/co.hinge.app/databases/db"
PROFILE_COLUMNS = ("created INTEGER, updated INTEGER, firstName TEXT, lastName TEXT, age INTEGER, height INTEGER, "
                   "hometown TEXT, location TEXT, jobTitle TEXT, jobTitleText TEXT, educationHistory TEXT, "
                   "educationHistoryText TEXT, employmentHistory TEXT, gender INTEGER, genderIdentity TEXT, "
                   "genderIdentityId INTEGER, pronouns TEXT, sexualOrientations TEXT, ethnicity TEXT, "
                   "ethnicitiesText TEXT, religion TEXT, religionText TEXT, politics INTEGER, politicsText TEXT, "
                   "datingIntention INTEGER, datingIntentionText TEXT, relationshipType TEXT, "
                   "relationshipTypeText TEXT, kids INTEGER, familyPlans INTEGER, smoking INTEGER, drinking INTEGER, "
                   "drugs INTEGER, marijuana INTEGER, pet TEXT, zodiacSign INTEGER, covidVax INTEGER, "
                   "languagesSpoken TEXT, languagesSpokenText TEXT, educationAttained INTEGER, selfieVerified INTEGER, "
                   "compatibility TEXT, lastActiveStatusId INTEGER, didJustJoin INTEGER, state INTEGER, "
                   "userId TEXT NOT NULL PRIMARY KEY")
SCHEMA = f"""
CREATE TABLE profiles ({PROFILE_COLUMNS});
CREATE TABLE metrics (id INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, eventType TEXT NOT NULL,
  subjectId TEXT, referrerId TEXT, data TEXT, sessionId TEXT);
CREATE TABLE basic_choices (attribute TEXT NOT NULL, apiId TEXT NOT NULL, display TEXT, selected INTEGER NOT NULL,
  sortOrder INTEGER, PRIMARY KEY (attribute, apiId));
INSERT INTO profiles (created, updated, firstName, lastName, age, hometown, jobTitleText, gender, religionText,
  selfieVerified, state, userId) VALUES (1710000000000, 1710000065000, 'Riley', NULL, 31, 'Leeds', 'Chef', 1,
  'Agnostic', 1, 2, 'u-100');
INSERT INTO metrics (ts, eventType, subjectId, sessionId) VALUES
  ('2024-03-09T16:01:10.123456789Z', 'profile_viewed', 'u-100', 's1'),
  ('2024-03-09T16:02:00Z', 'app_opened', NULL, 's1'),
  ('2024-03-09T16:03:30.5Z', 'like_sent', 'u-100', 's1');
INSERT INTO basic_choices VALUES ('name', 'firstName', 'Alex', 1, 0), ('name', 'lastName', 'Doe', 1, 1),
  ('email', 'name', 'alex@example.org', 1, 0), ('age', 'birthday', '631152000000', 1, 0),
  ('location', 'name', 'Manchester', 1, 0), ('location', 'latitude', '53.48', 1, 1),
  ('location', 'longitude', '-2.24', 1, 2), ('religion', '3', '3', 0, 0);
"""
WAL_ROW = "INSERT INTO profiles (created, updated, firstName, age, userId) VALUES (1710000070000, 1710000070000, " \
          "'Kai', 27, 'u-200');"


def test_profiles_events_account_and_wal_row(tmp_path):
    db = make_db(tmp_path / "src" / "db", SCHEMA, wal_sql=WAL_ROW)
    outcomes, rows = parser_harness.run(tmp_path / "run", {PATH: db, PATH + "-wal": db.with_name("db-wal")},
                                        ["hinge-android"])
    (outcome,) = outcomes
    assert (outcome.outcome, outcome.records, outcome.from_wal) == ("parsed", 3, 1)
    riley, kai = rows["contacts"]
    assert (riley["platform"], riley["user_id"], riley["name"]) == ("Hinge", "u-100", "Riley")
    assert (riley["ts"], riley["ts_raw"]) == ("2024-03-09T16:01:05.000000Z", "1710000065000")
    assert riley["extra"] == {"age": 31, "hometown": "Leeds", "jobTitleText": "Chef", "gender": 1,
                              "religionText": "Agnostic", "selfieVerified": 1, "state": 2,
                              "row_created": "2024-03-09T16:00:00.000000Z",
                              "events": [{"ts": "2024-03-09T16:01:10.123456Z", "event": "profile_viewed"},
                                         {"ts": "2024-03-09T16:03:30.500000Z", "event": "like_sent"}]}
    assert (riley["source_table"], riley["source_row"], riley["from_wal"]) == ("profiles", "1", False)
    assert (kai["name"], kai["from_wal"]) == ("Kai", True)
    (account,) = rows["accounts"]
    assert (account["display_name"], account["email"]) == ("Alex Doe", "alex@example.org")
    assert account["extra"] == {"location": "Manchester", "latitude": "53.48", "longitude": "-2.24",
                                "birthday": "1990-01-01T00:00:00.000000Z"}


def test_minimal_schema_and_damaged_copy(tmp_path):
    db = make_db(tmp_path / "min.db", "CREATE TABLE profiles (userId TEXT PRIMARY KEY, firstName TEXT);"
                                      "INSERT INTO profiles VALUES ('u-1', NULL);")
    outcomes, rows = parser_harness.run(tmp_path / "a", {PATH: db}, ["hinge-android"])
    assert outcomes[0].outcome == "parsed"
    assert (rows["contacts"][0]["name"], rows["contacts"][0]["ts"]) == (None, None) and rows["accounts"] == []

    many = "".join(f"INSERT INTO profiles (created, firstName, userId) VALUES ({1710000000000 + i}, "
                   f"'{'n' * 400}', 'u-{i}');" for i in range(1000, 1200))
    good = make_db(tmp_path / "good.db", SCHEMA + many)
    bad = damage(good, tmp_path / "bad.db", page=good.stat().st_size // 4096 // 2)
    outcomes, rows = parser_harness.run(tmp_path / "b", {PATH: bad}, ["hinge-android"])
    assert outcomes[0].outcome == "parsed" and outcomes[0].recovered
    assert 100 < len(rows["contacts"]) < 202
