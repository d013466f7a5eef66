"""Broker URLs of the Celery engine: where the password comes from, how it is shown, when a broker is refused."""
import pytest

from cases.broker import BrokerError, mask, redact, require_auth, resolve

SECRET = "pl4nted/pass word"


def test_mask_hides_password_and_keeps_user_host_port_db():
    assert mask("redis://:s3cret@10.0.0.5:6379/0") == "redis://:***@10.0.0.5:6379/0"
    assert mask("rediss://forensics:s3cret@broker.lab:6380/2") == "rediss://forensics:***@broker.lab:6380/2"
    assert mask("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_password_from_file_replaces_the_urls_and_is_percent_encoded(tmp_path):
    pw = tmp_path / "broker.pw"
    pw.write_text(SECRET + "\nignored second line\n")
    broker = resolve("redis://forensics:old@127.0.0.1:6379/0", str(pw), environ={})
    assert broker.password == SECRET
    assert "pl4nted%2Fpass%20word" in broker.url
    assert str(broker) == repr(broker).split("'")[1] == "redis://forensics:***@127.0.0.1:6379/0"
    assert SECRET not in f"{broker} {broker!r}"


def test_url_and_password_from_the_environment():
    env = {"FORENSICS_BROKER_URL": "redis://127.0.0.1:6379/0", "FORENSICS_BROKER_PASSWORD": SECRET}
    broker = resolve(None, None, environ=env)
    assert broker.password == SECRET and broker.masked == "redis://:***@127.0.0.1:6379/0"


def test_password_file_from_the_environment(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("fromfile\n")
    broker = resolve("redis://127.0.0.1:1/0", None, environ={"FORENSICS_BROKER_PASSWORD_FILE": str(pw)})
    assert broker.password == "fromfile"


@pytest.mark.parametrize("url, message", [
    (None, "no broker given"),
    ("amqp://guest:guest@localhost//", "must be redis://"),
    ("redis:///0", "must be redis://"),
    ("redis://:secret@host:notaport/0", "invalid port"),
])
def test_bad_urls_are_one_line_without_the_password(url, message):
    with pytest.raises(BrokerError, match=message) as info:
        resolve(url, None, environ={})
    assert "secret" not in str(info.value) and "guest:guest" not in str(info.value)


def test_unreadable_password_file_is_named(tmp_path):
    with pytest.raises(BrokerError, match="cannot read a broker password from"):
        resolve("redis://h:1/0", str(tmp_path / "missing"), environ={})


def test_broker_without_password_needs_insecure_flag():
    broker = resolve("redis://127.0.0.1:6379/0", None, environ={})
    with pytest.raises(BrokerError, match="has no password.*--insecure-broker"):
        require_auth(broker, insecure=False)
    require_auth(broker, insecure=True)
    require_auth(resolve("redis://:pw@127.0.0.1:6379/0", None, environ={}), insecure=False)


def test_redact_replaces_clear_and_encoded_forms():
    assert redact(f"AUTH {SECRET} / pl4nted%2Fpass%20word", SECRET) == "AUTH *** / ***"
    assert redact("nothing", None) == "nothing"


@pytest.mark.parametrize("command", [["worker"], ["batch"]])
def test_worker_and_batch_help_name_the_broker_options(command):
    from click.testing import CliRunner

    from cli import main

    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    for option in ("--broker URL", "--broker-password-file", "--broker-ca", "--insecure-broker"):
        assert option in result.output
    assert "FORENSICS_BROKER_URL" in result.output
