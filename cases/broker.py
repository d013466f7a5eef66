"""The Redis broker of the Celery engine: where its URL comes from, whether it authenticates, how it is shown.

A case on a network is a case others can reach, so the rules are strict (issue 14):

- The URL is ``redis://[USER:]PASSWORD@HOST:PORT/DB`` or, with TLS, ``rediss://...``. Redis authenticates with
  ``requirepass`` (empty user name) or an ACL user and its password (``AUTH user pass``); redis-py sends what the
  URL carries (https://redis.readthedocs.io/en/stable/connections.html, ``from_url``).
- A URL without a password is refused unless the examiner says ``--insecure-broker`` (:func:`require_auth`).
- The password never has to be on the command line: the URL can come from ``FORENSICS_BROKER_URL`` and the
  password alone from a file (``--broker-password-file`` / ``FORENSICS_BROKER_PASSWORD_FILE``) or from
  ``FORENSICS_BROKER_PASSWORD`` (:func:`resolve`).
- Whatever is printed, logged or stored shows the URL masked, ``redis://:***@host:port/0`` (:func:`mask`), and any
  text that might quote it (an exception from a client library) goes through :func:`redact` first.

Nothing here imports Celery: the checks run before any connection is made.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

SCHEMES = ("redis", "rediss")
URL_ENV = "FORENSICS_BROKER_URL"
PASSWORD_ENV = "FORENSICS_BROKER_PASSWORD"
PASSWORD_FILE_ENV = "FORENSICS_BROKER_PASSWORD_FILE"
CA_ENV = "FORENSICS_BROKER_CA"
MASK = "***"


class BrokerError(Exception):
    """A broker URL that is malformed, unauthenticated, unreachable or refuses us: one line, password masked."""


@dataclass(frozen=True)
class Broker:
    """A broker URL with its password; ``str()`` and ``repr()`` show it masked, only ``url`` holds it in clear."""

    url: str
    ca_file: str | None = None     # CA certificate(s) that sign a rediss:// broker's certificate (a lab's own CA)

    @property
    def password(self) -> str | None:
        return _password(self.url)

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "rediss"

    @property
    def masked(self) -> str:
        return mask(self.url)

    def redact(self, text: str) -> str:
        return redact(text, self.password)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Broker({self.masked!r})"


def resolve(url: str | None, password_file: str | None = None, environ=None, ca_file: str | None = None) -> Broker:
    """The broker to use: ``url`` (or ``$FORENSICS_BROKER_URL``), its password replaced by the one in
    ``password_file`` (or ``$FORENSICS_BROKER_PASSWORD_FILE``) or ``$FORENSICS_BROKER_PASSWORD`` when given;
    ``ca_file`` (or ``$FORENSICS_BROKER_CA``) verifies a TLS broker's certificate."""
    environ = os.environ if environ is None else environ
    url = url or environ.get(URL_ENV)
    if not url:
        raise BrokerError(f"no broker given: use --broker redis://:PASSWORD@HOST:PORT/0 or set {URL_ENV}")
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise BrokerError(f"broker URL must be redis://[USER:PASSWORD@]HOST:PORT/DB or rediss://... "
                          f"(TLS), not {mask(url)}")
    try:
        parts.port
    except ValueError:
        raise BrokerError(f"broker URL has an invalid port: {mask(url)}") from None
    password_file = password_file or environ.get(PASSWORD_FILE_ENV)
    password = None
    if password_file:
        try:
            password = Path(password_file).read_text(encoding="utf-8").splitlines()[0].strip()
        except (OSError, UnicodeDecodeError, IndexError):
            raise BrokerError(f"cannot read a broker password from {password_file}") from None
    elif environ.get(PASSWORD_ENV):
        password = environ[PASSWORD_ENV]
    if password:
        url = with_password(url, password)
    ca_file = ca_file or environ.get(CA_ENV)
    if ca_file and not os.access(ca_file, os.R_OK):
        raise BrokerError(f"cannot read the broker CA file {ca_file}")
    return Broker(url, ca_file)


def with_password(url: str, password: str) -> str:
    """``url`` with its password set to ``password`` (percent-encoded), keeping any ACL user name."""
    parts = urlsplit(url)
    user = quote(unquote(parts.username), safe="") if parts.username else ""
    netloc = f"{user}:{quote(password, safe='')}@{_hostport(parts)}"
    return urlunsplit(parts._replace(netloc=netloc))


def require_auth(broker: Broker, insecure: bool) -> None:
    """Refuse a broker without a password unless the examiner explicitly accepted it with ``--insecure-broker``."""
    if not broker.password and not insecure:
        raise BrokerError(f"broker {broker.masked} has no password: anyone who can reach it could read the queue "
                          f"and send work to the workers; give one (redis://:PASSWORD@host:port/0, "
                          f"--broker-password-file or {PASSWORD_ENV}) or pass --insecure-broker")


def mask(url: str) -> str:
    """``url`` with its password replaced by ``***``: ``redis://:***@host:6379/0``, ``redis://user:***@...``."""
    parts = urlsplit(url)
    if parts.password is None and not parts.username:
        return url
    user = parts.username or ""
    secret = f":{MASK}" if parts.password is not None else ""
    return urlunsplit(parts._replace(netloc=f"{user}{secret}@{_hostport(parts)}"))


def redact(text: str, password: str | None) -> str:
    """``text`` with every occurrence of ``password`` (clear or percent-encoded) replaced by ``***``."""
    if not password:
        return text
    for form in sorted({password, quote(password, safe=""), quote(password)}, key=len, reverse=True):
        text = text.replace(form, MASK)
    return text


def ping(broker: Broker, timeout: float = 5.0) -> None:
    """Connect, authenticate and PING once, so a wrong password or an unreachable broker is one clear line before
    Celery starts (Celery itself would retry forever). Raises :class:`BrokerError`."""
    import redis

    client = redis.Redis.from_url(broker.url, socket_connect_timeout=timeout, socket_timeout=timeout,
                                  **ssl_options(broker))
    try:
        client.ping()
    except redis.AuthenticationError as exc:
        if not broker.password:
            raise BrokerError(f"broker {broker.masked} requires a password and none was given") from None
        raise BrokerError(f"broker {broker.masked} refused the credentials: {broker.redact(str(exc))}") from None
    except redis.ResponseError as exc:
        # "NOAUTH Authentication required." when we sent no password to a server that wants one
        raise BrokerError(f"broker {broker.masked} refused us: {broker.redact(str(exc))}") from None
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise BrokerError(f"cannot reach broker {broker.masked}: {broker.redact(str(exc))}") from None
    finally:
        client.close()


def ssl_options(broker: Broker) -> dict:
    """TLS settings for a ``rediss://`` broker, as redis-py, kombu and Celery's Redis backend all name them: the
    server certificate is always verified, against ``broker.ca_file`` when given, else the system's trust store."""
    if not broker.tls:
        return {}
    import ssl

    options = {"ssl_cert_reqs": ssl.CERT_REQUIRED}
    if broker.ca_file:
        options["ssl_ca_certs"] = broker.ca_file
    return options


def _password(url: str) -> str | None:
    password = urlsplit(url).password
    return unquote(password) if password else None


def _hostport(parts) -> str:
    return parts.netloc.rpartition("@")[2]
