"""Apple's built-in contact labels: the address book stores them wrapped as ``_$!<Mobile>!$_`` (``_$!<Home>!$_``,
``_$!<HomePage>!$_``, ...; see ``ABMultiValueLabel`` in ``AddressBook.sqlitedb``), and apps that copy the address
book (WhatsApp's ``ZPHONENUMBERLABEL``) keep the same strings. A label the user typed is stored as typed."""
from __future__ import annotations


def clean_label(label: str | None) -> str | None:
    """``_$!<Mobile>!$_`` → ``mobile`` (a built-in label, lower-cased); custom labels are returned unchanged."""
    if isinstance(label, str) and label.startswith("_$!<") and label.endswith(">!$_") and len(label) > 8:
        return label[4:-4].lower()
    return label
