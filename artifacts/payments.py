"""Bank accounts (IBAN) and cryptocurrency wallet addresses, found only when their checksums hold.

A random string of the right shape almost never passes these checks, which is what keeps a message body full of
order numbers from turning into "wallets":

- IBAN: ISO 13616 mod-97 check and the country's BBAN format (``python-stdnum``'s ``stdnum.iban``);
- Bitcoin: Base58Check (double SHA-256) with version byte 0x00 (P2PKH) or 0x05 (P2SH) — ``base58`` —, or a
  segwit address, bech32 for witness version 0 and bech32m for 1–16 (BIP-173, BIP-350) — ``bech32m``;
- Ethereum: ``0x`` + 40 hex digits; a mixed-case address must carry a valid EIP-55 checksum (Keccak-256 of the
  lower-case hex, ``pycryptodome``); an all-lower or all-upper one has none to check;
- TRON (the network USDT-TRC20 runs on): Base58Check of 21 bytes starting 0x41, hence the leading ``T``.
"""
from __future__ import annotations

import re

import base58
import bech32m
from Crypto.Hash import keccak
from stdnum import iban as stdnum_iban

_B58 = "1-9A-HJ-NP-Za-km-z"
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
BTC_RE = re.compile(rf"\b(?:[13][{_B58}]{{25,34}}|(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{{11,87}})\b")
ETH_RE = re.compile(r"\b0x[0-9a-fA-F]{40}\b")
TRON_RE = re.compile(rf"\bT[{_B58}]{{33}}\b")


def iban(text: str) -> str | None:
    """The IBAN in compact upper-case form when ``text`` is a valid one, else None."""
    try:
        return stdnum_iban.validate(text)
    except Exception:  # stdnum raises its own ValidationError subclasses, and KeyError on odd input
        return None


def bitcoin(text: str) -> str | None:
    """A valid Bitcoin address (bech32 ones in lower case), else None."""
    text = text.strip()
    if text[:3].lower() == "bc1":
        if text != text.lower() and text != text.upper():
            return None  # BIP-173: mixed case is invalid
        try:
            bech32m.decode("bc", text.lower())
        except Exception:
            return None
        return text.lower()
    if not text or text[0] not in "13":
        return None
    try:
        payload = base58.b58decode_check(text)
    except ValueError:
        return None
    return text if len(payload) == 21 and payload[0] in (0x00, 0x05) else None


def ethereum(text: str) -> str | None:
    """A valid Ethereum address in lower case, else None (a mixed-case one must pass EIP-55)."""
    if not ETH_RE.fullmatch(text):
        return None
    body = text[2:]
    if body != body.lower() and body != body.upper():
        digest = keccak.new(digest_bits=256, data=body.lower().encode("ascii")).hexdigest()
        for char, nibble in zip(body, digest):
            if char.isalpha() and char.isupper() != (int(nibble, 16) >= 8):
                return None
    return "0x" + body.lower()


def tron(text: str) -> str | None:
    """A valid TRON address, else None."""
    if not text.startswith("T"):
        return None
    try:
        payload = base58.b58decode_check(text)
    except ValueError:
        return None
    return text if len(payload) == 21 and payload[0] == 0x41 else None


def find(text: str):
    """(kind, value, written_as) for every valid IBAN or wallet address in ``text``, in order of appearance."""
    found = []
    for match in IBAN_RE.finditer(text):
        value = iban(match.group())
        if value:
            found.append((match.start(), "iban", value, match.group()))
    for regex, check, prefix in ((BTC_RE, bitcoin, "btc:"), (ETH_RE, ethereum, "eth:"), (TRON_RE, tron, "tron:")):
        for match in regex.finditer(text):
            value = check(match.group())
            if value:
                found.append((match.start(), "wallet", prefix + value, match.group()))
    return [(kind, value, written) for _pos, kind, value, written in sorted(found)]
