"""Phone numbers: normalisation to E.164 with Google's libphonenumber (the ``phonenumbers`` port), short codes, and
the default region a device's national numbers are read in.

A number written nationally (``093 111 4562``) means nothing without a country; the country is the device's default
region (``region_for_device``), never the examiner machine's. International forms (``+380…``, ``00380…``) and the
``(0)`` some countries write after the country code are handled by libphonenumber itself. A string that is too short
to be a subscriber number but is a short code or service number of the region (``7494``, ``112``) is a ``shortcode``
scoped to that region; anything else that does not parse stays raw text.

Where the facts come from: country calling codes and numbering plans — libphonenumber's metadata; the ICCID's
country code — ITU-T E.118 (``89`` + the E.164 country code); time zone → country — the IANA time-zone database's
``zone.tab`` as the ``tzdata`` package ships it (with the backward-compatible names of ``tzdata.zi``).
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from importlib import resources

import phonenumbers
from phonenumbers import shortnumberinfo

_POSSIBLE = phonenumbers.ValidationResult.IS_POSSIBLE
_NOT_PHONE = re.compile(r"[^0-9+()\-./ \u00a0\u2011\u2012\u2013\u2014]")
_DIGITS = re.compile(r"\d")
_LOCALE_REGION = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z]{4})?[-_]([A-Z]{2})\b", re.IGNORECASE)


def looks_like_phone(text: str) -> bool:
    """Digits with the punctuation people write numbers with, and at least three digits."""
    return not _NOT_PHONE.search(text) and len(_DIGITS.findall(text)) >= 3


@functools.lru_cache(maxsize=200_000)
def normalise(text: str, region: str | None, international: bool = False) -> tuple[str, str]:
    """(kind, value) of a phone-like string: ``("phone", "+380931114562")``, ``("shortcode", "PL:7494")`` or
    ``("raw", text)``. ``international``: the source stores full international numbers without ``+`` (WhatsApp
    JIDs, Telegram), so bare digits get one."""
    cleaned = text.strip()
    if not looks_like_phone(cleaned):
        return "raw", cleaned
    digits = "".join(_DIGITS.findall(cleaned))
    if international and not cleaned.startswith(("+", "00")):
        cleaned = "+" + digits
    elif cleaned.startswith("00"):
        cleaned = "+" + digits[2:]
    try:
        number = phonenumbers.parse(cleaned, region or None)
    except phonenumbers.NumberParseException:
        number = None
    # IS_POSSIBLE, not IS_POSSIBLE_LOCAL_ONLY: a number dialled without its area code is not a whole number
    if number is not None and phonenumbers.is_possible_number_with_reason(number) == _POSSIBLE:
        return "phone", phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not cleaned.startswith("+") and (len(digits) <= 6 or (
            len(digits) <= 8 and number is not None and region
            and shortnumberinfo.is_possible_short_number_for_region(number, region))):
        return "shortcode", f"{region or 'ZZ'}:{digits}"
    return "raw", text.strip()


def region_of(e164: str) -> str | None:
    """The region an E.164 number belongs to (``+380…`` → ``UA``), None when not one country's."""
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(e164, None))
    except phonenumbers.NumberParseException:
        return None
    return region if region and region != "001" else None


def region_for_iccid(iccid: str) -> str | None:
    """ITU-T E.118: an ICCID is ``89`` + the E.164 country code (1–3 digits, prefix-free) + issuer and account."""
    digits = "".join(_DIGITS.findall(iccid or ""))
    if not digits.startswith("89"):
        return None
    for length in (1, 2, 3):
        code = digits[2:2 + length]
        if code and int(code) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            region = phonenumbers.region_code_for_country_code(int(code))
            return region if region not in ("ZZ", "001") else None
    return None


@functools.lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """IANA zone name → ISO country code, from zone.tab plus the link (alias) lines of tzdata.zi."""
    base = resources.files("tzdata") / "zoneinfo"
    zones: dict[str, str] = {}
    for line in (base / "zone.tab").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            country, _coords, zone = line.split("\t")[:3]
            zones[zone] = country
    for line in (base / "tzdata.zi").read_text(encoding="utf-8").splitlines():
        if line.startswith("L "):
            _l, target, alias = line.split()[:3]
            if target in zones:
                zones.setdefault(alias, zones[target])
    return zones


def region_for_time_zone(zone: str | None) -> str | None:
    return _zone_countries().get((zone or "").strip())


def region_for_locale(locale: str | None) -> str | None:
    """``uk-UA``, ``pl_PL``, ``zh-Hans-CN`` → the country part; a language alone says no country."""
    match = _LOCALE_REGION.match((locale or "").strip())
    region = match.group(1).upper() if match else None
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


# Device facts that name a country, strongest first: the SIM says which network issued the number the phone uses;
# the own number's country code likewise; a time zone is set by the network or the user where the phone lives;
# a locale is a language choice (``en-US`` is the factory default of phones sold everywhere), so it comes last.
_SIM_COUNTRY_FACTS = ("sim_country", "gsm.sim.operator.iso-country", "carrier_country", "network_country",
                      "gsm.operator.iso-country")


def region_from_facts(facts: dict) -> tuple[str | None, str | None]:
    """(region, reason) from a device's facts, or (None, None)."""
    for key in _SIM_COUNTRY_FACTS:
        value = str(facts.get(key) or "").split(",")[0].strip().upper()
        if value in phonenumbers.SUPPORTED_REGIONS:
            return value, f"{key} {facts[key]}"
    if facts.get("iccid"):
        region = region_for_iccid(str(facts["iccid"]))
        if region:
            return region, "iccid country code"
    own = str(facts.get("phone_number") or "").strip()
    if own:
        kind, value = normalise(own if own.startswith(("+", "00")) else "+" + own, None)
        region = region_of(value) if kind == "phone" else None
        if region:
            return region, f"own phone number {value}"
    region = region_for_time_zone(facts.get("time_zone"))
    if region:
        return region, f"time zone {facts['time_zone']}"
    region = region_for_locale(facts.get("locale"))
    if region:
        return region, f"locale {facts['locale']}"
    return None, None


def region_from_numbers(numbers) -> tuple[str | None, str | None]:
    """The majority country of the international numbers (``+…``/``00…``) among ``numbers`` (ties: the
    alphabetically first country), with the counts as the reason."""
    counts: Counter = Counter()
    for text in numbers:
        text = (text or "").strip()
        if text.startswith(("+", "00")):
            kind, value = normalise(text, None)
            region = region_of(value) if kind == "phone" else None
            if region:
                counts[region] += 1
    if not counts:
        return None, None
    region, count = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    return region, f"majority of contacts' international numbers ({count} of {sum(counts.values())})"
