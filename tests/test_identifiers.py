"""Identifier normalisation: real-world spellings of the same number, JIDs, links and e-mails, read in each device's
region; unparseable text kept raw; IBANs and wallet addresses only when their checksums hold."""
from __future__ import annotations

import pytest

from artifacts import payments, phones
from artifacts.identifiers import Identifier, classify, find_in_text, may_name, normalise_url, url_identifier
from artifacts.platforms import Registry

REGISTRY = Registry.load()

# (region of the device, spelling as found, field, expected E.164). The numbers are in mobile ranges of each
# country's numbering plan; national forms use the trunk prefix each country writes.
PHONES = [
    # Ukraine: trunk 0, 00 international prefix, JIDs and wa.me links without '+'
    ("UA", "+380 93 111 4562", "phone", "+380931114562"),
    ("UA", "093 111 4562", "phone", "+380931114562"),
    ("UA", "(093) 111-45-62", "phone", "+380931114562"),
    ("UA", "0931114562", "id", "+380931114562"),
    ("UA", "00380931114562", "phone", "+380931114562"),
    ("PL", "380931114562@s.whatsapp.net", "id", "+380931114562"),
    ("PL", "380931114562:12@s.whatsapp.net", "id", "+380931114562"),
    ("UA", "380931114562", "phone", "+380931114562"),
    # Poland: no trunk prefix
    ("PL", "601 234 567", "phone", "+48601234567"),
    ("PL", "601-234-567", "id", "+48601234567"),
    ("PL", "+48 601 234 567", "phone", "+48601234567"),
    ("UA", "0048 601 234 567", "phone", "+48601234567"),
    # Romania
    ("RO", "0722 123 456", "phone", "+40722123456"),
    ("RO", "+40 (0)722 123 456", "phone", "+40722123456"),
    ("DE", "0040722123456", "phone", "+40722123456"),
    # Germany: (0) after the country code
    ("DE", "0151 23456789", "phone", "+4915123456789"),
    ("DE", "+49 (0)151 23456789", "phone", "+4915123456789"),
    ("NL", "0049 151-2345 6789", "phone", "+4915123456789"),
    # Netherlands
    ("NL", "06-12345678", "phone", "+31612345678"),
    ("NL", "+31 (0)6 12345678", "phone", "+31612345678"),
    ("DE", "0031 6 12345678", "phone", "+31612345678"),
    # Russia: trunk 8
    ("RU", "8 (916) 123-45-67", "phone", "+79161234567"),
    ("RU", "89161234567", "phone", "+79161234567"),
    ("UA", "+7 916 123-45-67", "phone", "+79161234567"),
    # China
    ("CN", "138 0013 8000", "phone", "+8613800138000"),
    ("TH", "+86 138-0013-8000", "phone", "+8613800138000"),
    ("KH", "0086 13800138000", "phone", "+8613800138000"),
    # Cambodia
    ("KH", "012 345 678", "phone", "+85512345678"),
    ("TH", "+855 12 345 678", "phone", "+85512345678"),
    ("VN", "00855 12345678", "phone", "+85512345678"),
    # Myanmar
    ("MM", "09 251 234 567", "phone", "+959251234567"),
    ("TH", "+95 9 251 234 567", "phone", "+959251234567"),
    ("CN", "0095 9251234567", "phone", "+959251234567"),
    # Thailand
    ("TH", "081 234 5678", "phone", "+66812345678"),
    ("KH", "+66 81 234 5678", "phone", "+66812345678"),
    ("TH", "66812345678@s.whatsapp.net", "id", "+66812345678"),
    # Vietnam
    ("VN", "0912 345 678", "phone", "+84912345678"),
    ("KH", "+84 912 345 678", "phone", "+84912345678"),
    ("VN", "0084912345678", "phone", "+84912345678"),
]


@pytest.mark.parametrize("region, written, field, expected", PHONES)
def test_phone_spellings_normalise_to_e164(region, written, field, expected):
    assert classify(written, "WhatsApp" if "@" in written else "SMS", region, field) == Identifier("phone", expected)


def test_the_same_local_number_in_two_countries_is_two_numbers():
    assert classify("0612345678", "SMS", "NL", "id").value == "+31612345678"
    assert classify("0612345678", "SMS", "DE", "id").value == "+49612345678"


@pytest.mark.parametrize("region, written, expected", [
    ("PL", "7494", Identifier("shortcode", "PL:7494")),
    ("UA", "112", Identifier("shortcode", "UA:112")),
    ("UA", "Kyivstar", Identifier("shortcode", "UA:kyivstar")),
    ("RO", "1234", Identifier("shortcode", "RO:1234")),
    ("UA", "+12", Identifier("raw", "+12")),
    ("UA", "call me maybe", Identifier("raw", "call me maybe")),
    ("DE", "(0)", Identifier("raw", "(0)")),
    ("US", "-2", Identifier("raw", "-2")),
])
def test_short_codes_and_unparseable_text(region, written, expected):
    assert classify(written, "SMS", region, "id") == expected


@pytest.mark.parametrize("written, platform, field, expected", [
    ("120363000000000001@g.us", "WhatsApp", "id", Identifier("group", "120363000000000001@g.us", "WhatsApp")),
    ("98765432109876@lid", "WhatsApp", "id", Identifier("lid", "98765432109876@lid", "WhatsApp")),
    ("Recruiter.Jobs@Example.COM", "iMessage", "id", Identifier("email", "recruiter.jobs@example.com")),
    ("mailto:Praca@WP.pl", None, "email", Identifier("email", "praca@wp.pl")),
    ("6000000200", "Telegram", "id", Identifier("user_id", "telegram:id:6000000200", "Telegram")),
    ("Poland_Rabota_Official", "Telegram", "handle", Identifier("handle", "telegram:poland_rabota_official",
                                                                  "Telegram")),
    ("@Poland_Rabota_Official", "Telegram", "handle", Identifier("handle", "telegram:poland_rabota_official",
                                                                   "Telegram")),
    ("12025550100", "Telegram", "phone", Identifier("phone", "+12025550100")),
    ("live:recruiter.eu", "Skype", "id", Identifier("handle", "skype:live:recruiter.eu", "Skype")),
    ("100004512345678", "Facebook Messenger", "id", Identifier("user_id", "facebook:id:100004512345678",
                                                               "Facebook Messenger")),
])
def test_jids_emails_handles_and_ids(written, platform, field, expected):
    assert classify(written, platform, "UA", field) == expected


@pytest.mark.parametrize("written, expected", [
    ("t.me/poland_rabota_official", Identifier("handle", "telegram:poland_rabota_official", "Telegram")),
    ("https://T.ME/Poland_Rabota_Official", Identifier("handle", "telegram:poland_rabota_official", "Telegram")),
    ("https://telegram.me/poland_rabota_official/", Identifier("handle", "telegram:poland_rabota_official",
                                                                "Telegram")),
    ("https://wa.me/380931114562", Identifier("phone", "+380931114562", "WhatsApp")),
    ("wa.me/66812345678?text=hello", Identifier("phone", "+66812345678", "WhatsApp")),
    ("https://t.me/+AbCdEf12345", Identifier("group", "telegram:invite:AbCdEf12345", "Telegram")),
    ("https://instagram.com/Some.Model_Agency", Identifier("handle", "instagram:some.model_agency", "Instagram")),
    ("https://vk.com/id12345", Identifier("user_id", "vk:id:12345", "VK")),
    ("HTTPS://Jobs.Example.COM:443/post-ad#apply", Identifier("url", "https://jobs.example.com/post-ad")),
])
def test_profile_urls_resolve_to_accounts_through_the_registry(written, expected):
    assert url_identifier(written, REGISTRY.match_url) == expected


def test_urls_without_a_registry_stay_urls():
    assert url_identifier("t.me/poland_rabota_official") == Identifier("url", "https://t.me/poland_rabota_official")
    assert normalise_url("http://Example.com:80") == "http://example.com/"
    assert normalise_url("not a url") is None


def test_identifiers_inside_a_message_body():
    body = ("Praca w Polsce! Pisz +380 93 111 4562 albo 093-111-45-62, CV na HR.Team@Example.PL, kanał "
            "t.me/poland_rabota_official. Wyjazd 12.03.2024 o 10:30, koszt 1500 zł. Wpłata: "
            "PL61 1090 1014 0000 0712 1981 2874.")
    found = [(i.kind, i.value, w) for i, w in find_in_text(body, "UA", REGISTRY.match_url)]
    assert found == [
        ("phone", "+380931114562", "+380 93 111 4562"),
        ("email", "hr.team@example.pl", "HR.Team@Example.PL"),
        ("handle", "telegram:poland_rabota_official", "t.me/poland_rabota_official"),
        ("iban", "PL61109010140000071219812874", "PL61 1090 1014 0000 0712 1981 2874"),
    ]


def test_a_text_may_name_is_false_for_names_nothing():
    """``may_name`` lets the sightings step skip most message bodies without ``find_in_text``: wherever that finds
    something, it must say so — checked on every piece of texts naming each kind (numbers spelled many ways, in
    Arabic-Indic digits and with no-break spaces, e-mails, links, IBANs, wallets)."""
    texts = [
        "Praca w Polsce! Pisz +380 93 111 4562 albo 093-111-45-62, CV na HR.Team@Example.PL, kanał "
        "t.me/poland_rabota_official. Wyjazd 12.03.2024 o 10:30, koszt 1500 zł. Wpłata: "
        "PL61 1090 1014 0000 0712 1981 2874.",
        "call (093)\u00a0111\u00a04562 or \u0660\u0669\u0663\u0661\u0661\u0661\u0664\u0665\u0666\u0662 now",
        "mail me: a_b+c@example.co write wa.me/380931114562 or https://jobs.example.com/x?y=1",
        *(f"pay to {written} today" for _kind, written, _value in VALID),
        *(f"number {written} ok" for _region, written, _field, _e164 in PHONES),
    ]
    checked = found = 0
    for text in texts:
        for start in range(len(text)):
            for end in range(start + 1, min(len(text), start + 48) + 1):
                piece = text[start:end]
                names = find_in_text(piece, "UA", REGISTRY.match_url)
                checked += 1
                found += bool(names)
                assert may_name(piece) or not names, (piece, names)
    assert found > 1000 and checked > 30_000
    assert not may_name("message 70371 at 10:30, ok") and not may_name("")


# --- IBANs and wallets -------------------------------------------------------------------------------------------

VALID = [
    ("iban", "DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    ("iban", "GB82WEST12345698765432", "GB82WEST12345698765432"),
    ("iban", "UA21 3223 1300 0002 6007 2335 6600 1", "UA213223130000026007233566001"),
    ("wallet", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "btc:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"),
    ("wallet", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "btc:3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
    ("wallet", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
    ("wallet", "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ", "btc:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
    ("wallet", "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
     "btc:bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"),
    ("wallet", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "eth:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
    ("wallet", "0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359", "eth:0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"),
    ("wallet", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "tron:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
]
INVALID = [
    "DE89 3704 0044 0532 0130 01",  # mod-97 fails
    "GB82WEST12345698765431",
    "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3",  # Base58Check fails
    "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdx",  # bech32 checksum fails
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj1",  # bech32m checksum fails
    "Bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",  # mixed case
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",  # EIP-55 fails
    "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u",  # Base58Check fails
    "TZJqCCFeCFdJJaGGgNhTbhcLdyjmqUrgFq",  # valid Base58Check of version byte 0x42, not TRON's 0x41
]


@pytest.mark.parametrize("kind, written, value", VALID)
def test_valid_payment_identifiers_are_found(kind, written, value):
    assert payments.find(f"send to {written} today") == [(kind, value, written)]


@pytest.mark.parametrize("written", INVALID)
def test_checksum_failures_are_not_payment_identifiers(written):
    assert payments.find(f"send to {written} today") == []


# --- the region a device's national numbers are read in ---------------------------------------------------------

@pytest.mark.parametrize("facts, region, reason", [
    ({"sim_country": "ua", "time_zone": "Europe/Warsaw"}, "UA", "sim_country ua"),
    ({"iccid": "8938003992000012345", "time_zone": "Europe/Warsaw"}, "UA", "iccid country code"),
    ({"phone_number": "48601234567", "time_zone": "Asia/Bangkok"}, "PL", "own phone number +48601234567"),
    ({"time_zone": "Europe/Kiev", "locale": "en-US"}, "UA", "time zone Europe/Kiev"),
    ({"time_zone": "Asia/Phnom_Penh"}, "KH", "time zone Asia/Phnom_Penh"),
    ({"time_zone": "Asia/Yangon"}, "MM", "time zone Asia/Yangon"),
    ({"locale": "ro-RO"}, "RO", "locale ro-RO"),
    ({"locale": "zh-Hans-CN"}, "CN", "locale zh-Hans-CN"),
    ({"locale": "en"}, None, None),
    ({}, None, None),
])
def test_region_from_device_facts(facts, region, reason):
    assert phones.region_from_facts(facts) == (region, reason)


def test_region_from_the_majority_of_contacts_international_numbers():
    numbers = ["+66 81 234 5678", "0066 81 234 5679", "+855 12 345 678", "081 234 5670", "Mum"]
    assert phones.region_from_numbers(numbers) == (
        "TH", "majority of contacts' international numbers (2 of 3)")
    assert phones.region_from_numbers(["081 234 5670"]) == (None, None)
