"""Identifiers: the normalised form of every phone number, e-mail, account, handle, group, URL, bank account and
wallet a record names, so that the same person or channel written differently on different devices is one value.

Kinds and their normalised values (docs/identifiers.md has the full rules):

=========== =============================================== ======================================================
kind        value                                            from
=========== =============================================== ======================================================
phone       ``+380931114562`` (E.164)                        numbers in any national or international spelling,
                                                             WhatsApp ``<digits>@s.whatsapp.net``, ``wa.me/<digits>``
shortcode   ``PL:7494`` (region: digits or sender name)      short codes, service numbers, alphanumeric SMS senders
email       ``user@example.com`` (case-folded)               e-mail addresses, Apple ids
handle      ``telegram:poland_rabota_official``              user names on a platform, profile/channel URLs
user_id     ``telegram:id:6000000200``                       numeric or opaque account ids on a platform
group       ``120363000000000001@g.us``                      WhatsApp groups (``@g.us``), invite links
lid         ``123456789@lid``                                WhatsApp's hidden identities not resolved by its LID
                                                             tables (a LID pair record ties it to the phone)
url         ``https://jobs.example.com/post-ad``             links visited or written (scheme and host lower-case,
                                                             default port dropped, fragment dropped)
iban        ``DE89370400440532013000``                       IBANs passing mod-97 (``artifacts.payments``)
wallet      ``btc:…``, ``eth:0x…``, ``tron:T…``              addresses passing their checksums
iccid, imsi ``iccid:8938…``                                  the device's SIM
raw         the text as written                              anything that looked like an identifier but did not
                                                             parse; kept, never dropped
=========== =============================================== ======================================================

``raw`` and ``shortcode`` are not linked across devices by default: the same short code is texted by every phone of
a country and means nothing about who knows whom.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from artifacts import payments, phones

KINDS = ("phone", "shortcode", "email", "handle", "user_id", "group", "lid", "url", "iban", "wallet", "iccid",
         "imsi", "raw")
UNLINKED_KINDS = ("raw", "shortcode")

# Platforms (as records name them, lower-case) whose people are addressed by phone number: a bare number in their
# records is a phone; on any other platform a bare number is an account id.
PHONE_PLATFORMS = {"", "sms", "mms", "imessage", "phone", "whatsapp", "signal", "viber", "burner", "contacts",
                   "android contacts", "android", "ios", "facetime", "rcs"}
# Platforms whose records keep international numbers as bare digits (no "+"): WhatsApp JIDs, Telegram's user.phone.
INTERNATIONAL_DIGITS = {"whatsapp", "telegram", "viber"}
# One account namespace under two names.
NAMESPACES = {"facebook messenger": "facebook", "messenger": "facebook", "twitter/x": "twitter", "x": "twitter"}

_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                    r"[A-Za-z]{2,}$")
_JID = re.compile(r"^\+?(\d+)(?:[.:]\d+)*@(s\.whatsapp\.net|c\.us|g\.us|lid|broadcast|newsletter)$")
_ALNUM_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 .&_-]{2,11}$")
_HANDLE = re.compile(r"^@?([A-Za-z0-9_.:\-]{1,64})$")

# In free text
TEXT_EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")
TEXT_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'`]+|"
                      r"\b(?:t\.me|telegram\.me|wa\.me|chat\.whatsapp\.com|m\.me|instagram\.com|vk\.com|ok\.ru|"
                      r"tiktok\.com|facebook\.com|fb\.com|x\.com|twitter\.com)/[^\s<>\"'`]+")
TEXT_PHONE_HINT = re.compile(r"\d[\d \-().\u00a0]{5,}\d")
# A written number: optional +, digits with the separators people use, not glued to other digits or letters
TEXT_PHONE = re.compile(r"(?<![\w+])\+?\(?\d[\d \-().\u00a0]{5,}\d(?![\w])")
TEXT_DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
# Quick tests that let most chat text through untouched: a host (a dot glued to letters), three digits in a row
# (every phone number and IBAN has them), the start of a wallet address
_HOST_DOT = re.compile(r"\.[A-Za-z]{2}")
_THREE_DIGITS = re.compile(r"\d\d\d")
_WALLET_START = re.compile(r"\b(?:[13T][1-9A-HJ-NP-Za-km-z]{20}|bc1|BC1|0x[0-9a-fA-F]{20})")


def _worth_a_look(text: str) -> bool:
    return "@" in text or bool(_HOST_DOT.search(text) or _THREE_DIGITS.search(text) or _WALLET_START.search(text))


TEXT_PAYMENT_HINT = re.compile(r"\b(?:[A-Z]{2}\d{2}|[13T][1-9A-HJ-NP-Za-km-z]{20}|bc1|BC1|0x[0-9a-fA-F]{20})")


@dataclass(frozen=True)
class Identifier:
    kind: str
    value: str
    platform: str | None = None  # the platform the identifier belongs to, where it names one


def slug(platform: str | None) -> str:
    """The namespace a platform's handles and ids live in: ``Telegram`` → ``telegram``."""
    name = (platform or "").strip().lower()
    name = NAMESPACES.get(name, name)
    return re.sub(r"[^a-z0-9]+", "", name)


def email(text: str) -> str | None:
    text = text.strip().removeprefix("mailto:")
    return text.casefold() if _EMAIL.match(text) else None


@functools.lru_cache(maxsize=200_000)
def classify(text: str, platform: str | None, region: str | None, field: str = "id") -> Identifier | None:
    """The identifier a value of a record field names.

    ``platform`` is the record's platform (WhatsApp, SMS, Telegram, ...); ``field`` says what the field holds:
    ``phone`` (a phone field: always read as a number), ``email``, ``handle`` (a user name), ``user_id``, or ``id``
    (a sender, recipient or peer: whatever the platform addresses people by). Returns None for empty values.
    """
    text = (text or "").strip()
    if not text or text in ("-1", "-2", "-3", "0"):  # Android's "unknown/private/payphone" caller markers
        return None if not text else Identifier("raw", text)
    plat = (platform or "").strip().lower()
    jid = _JID.match(text)
    if jid:
        return _from_jid(text, jid.group(1), jid.group(2))
    if "@" in text and field != "phone":
        mail = email(text)
        if mail:
            return Identifier("email", mail)
    if field == "url" or text.lower().startswith(("http://", "https://")):
        return url_identifier(text)
    ns = slug(platform)
    if field == "phone" or (field == "id" and plat in PHONE_PLATFORMS):
        if phones.looks_like_phone(text):
            kind, value = phones.normalise(text, region, international=plat in INTERNATIONAL_DIGITS
                                           and text.isdigit())
            return Identifier(kind, value)
        if field == "id" and plat in ("sms", "mms", "phone", "") and _ALNUM_SENDER.match(text):
            return Identifier("shortcode", f"{region or 'ZZ'}:{text.lower()}")
        return Identifier("raw", text)
    if field == "email":
        return Identifier("raw", text)
    if text.startswith("+") and phones.looks_like_phone(text):
        kind, value = phones.normalise(text, region)
        return Identifier(kind, value)
    if not ns:
        return Identifier("raw", text)
    if field in ("id", "user_id") and (text.isdigit() or field == "user_id"):
        return Identifier("user_id", f"{ns}:id:{text.lower()}", platform)
    handle = _HANDLE.match(text)
    if handle:
        return Identifier("handle", f"{ns}:{handle.group(1).lower()}", platform)
    if field == "id" and phones.looks_like_phone(text):
        kind, value = phones.normalise(text, region)
        return Identifier(kind, value)
    return Identifier("raw", text)


def _from_jid(text: str, user: str, server: str) -> Identifier:
    if server in ("s.whatsapp.net", "c.us"):
        kind, value = phones.normalise("+" + user, None)
        return Identifier(kind, value) if kind == "phone" else Identifier("raw", text)
    if server == "g.us":
        return Identifier("group", text.lower(), "WhatsApp")
    if server == "lid":
        return Identifier("lid", f"{user}@lid", "WhatsApp")
    return Identifier("raw", text)


def normalise_url(text: str) -> str | None:
    """Scheme and host lower-case, default port and fragment dropped, an empty path written ``/``; a URL without a
    scheme gets ``https://``. None when there is no host."""
    text = text.strip().rstrip(".,;:!?)]}'\"")
    if not re.match(r"(?i)^[a-z][a-z0-9+.-]*://", text):
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if not host or "." not in host and host != "localhost":
        return None
    scheme = parts.scheme.lower()
    netloc = host.lower()
    if port and not (scheme == "http" and port == 80 or scheme == "https" and port == 443):
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


# Profile, invite and channel URLs resolved to platform + account. The platform registry is the source of the
# rules (``artifacts.platforms``); ``resolver`` is its ``match_url``, given by the caller so this module stays usable
# (URLs kept as URLs) where no registry is loaded.
def url_identifier(text: str, resolver=None) -> Identifier | None:
    value = normalise_url(text)
    if value is None:
        return Identifier("raw", text.strip())
    if resolver is not None:
        account = resolve_profile(value, resolver)
        if account is not None:
            return account
    return Identifier("url", value)


def resolve_profile(url: str, resolver) -> Identifier | None:
    """An account identifier for a profile/invite/channel URL, using ``resolver(url) -> Match | None`` (the
    registry's ``match_url``, whose ``account_kind`` names what the URL's account part is): a phone
    (``wa.me/<digits>``) → that phone; an invite → a group; a channel → ``platform:channel:<id>``; a user id →
    ``platform:id:<id>``; a user name → ``platform:<name>``. Listings, posts and bare domains stay URLs (None)."""
    match = resolver(url)
    account = getattr(match, "account", None) if match is not None else None
    if not account:
        return None
    ns = slug(match.platform)
    what = (getattr(match, "account_kind", None) or "").lower()
    account = str(account).strip().lstrip("@")
    if what == "phone":
        kind, value = phones.normalise("+" + account.lstrip("+"), None)
        return Identifier(kind, value, match.platform) if kind == "phone" else None
    if what == "invite":
        return Identifier("group", f"{ns}:invite:{account}", match.platform)
    if what == "channel":
        return Identifier("handle", f"{ns}:channel:{account.lower()}", match.platform)
    if what == "user_id":
        return Identifier("user_id", f"{ns}:id:{account.lower()}", match.platform)
    if what == "username":
        return Identifier("handle", f"{ns}:{account.lower()}", match.platform)
    return None


@functools.lru_cache(maxsize=100_000)
def _phone_in_text(candidate: str, region: str | None) -> str | None:
    """E.164 of a number written in free text, only when libphonenumber calls it valid (stricter than for a phone
    field: text is full of order numbers, amounts and dates)."""
    import phonenumbers

    digits = re.sub(r"\D", "", candidate)
    if candidate.startswith("00"):
        candidate = "+" + digits[2:]
    try:
        number = phonenumbers.parse(candidate, region or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def may_name(text: str) -> bool:
    """False only for a text ``find_in_text`` finds nothing in: it looks for e-mails only in a text with "@", for
    URLs only in one with ".", for numbers only where ``TEXT_PHONE_HINT`` matches and for IBANs and wallets only
    where ``TEXT_PAYMENT_HINT`` does. Fewer tests than ``find_in_text`` makes before it finds nothing, for a caller
    that skips most texts of a device (message bodies) without calling it."""
    return "@" in text or "." in text or TEXT_PHONE_HINT.search(text) is not None or \
        TEXT_PAYMENT_HINT.search(text) is not None


def find_in_text(text: str, region: str | None, resolver=None):
    """(Identifier, written_as) for every e-mail, URL, phone number, IBAN and wallet written in ``text``, in order
    of appearance, each once. Phone numbers are taken only where libphonenumber calls the written number valid
    when read in the device's region (dates are skipped)."""
    if not text or not _worth_a_look(text):
        return []
    found: list[tuple[int, Identifier, str]] = []
    taken: list[tuple[int, int]] = []
    if "@" in text:
        for m in TEXT_EMAIL.finditer(text):
            mail = email(m.group())
            if mail:
                found.append((m.start(), Identifier("email", mail), m.group()))
                taken.append(m.span())
    if "." in text:
        for m in TEXT_URL.finditer(text):
            if any(a <= m.start() < b for a, b in taken):
                continue
            ident = url_identifier(m.group(), resolver)
            if ident is not None and ident.kind != "raw":
                found.append((m.start(), ident, m.group().rstrip(".,;:!?)]}'\"")))
                taken.append(m.span())
    if TEXT_PHONE_HINT.search(text):
        for m in TEXT_PHONE.finditer(text):
            if any(a <= m.start() < b for a, b in taken) or TEXT_DATE.fullmatch(m.group().strip()):
                continue
            value = _phone_in_text(m.group().strip(), region)
            if value:
                found.append((m.start(), Identifier("phone", value), m.group().strip()))
    if TEXT_PAYMENT_HINT.search(text):
        for kind, value, written in payments.find(text):
            found.append((text.find(written), Identifier(kind, value), written))
    seen, out = set(), []
    for _pos, ident, written in sorted(found, key=lambda f: (f[0], f[1].kind, f[1].value)):
        if (ident.kind, ident.value) not in seen:
            seen.add((ident.kind, ident.value))
            out.append((ident, written))
    return out
