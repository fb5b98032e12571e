"""The seven languages are complete: every message the code and templates mark is in every
catalogue, translated (no empty or fuzzy entry, every plural form), with the same placeholders
as the English; the compiled .mo files say what the .po files say (read back with Python's own
gettext, not Babel); and no user-facing text in a template or a message call is left unmarked.
"""

from __future__ import annotations

import gettext
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from forum.i18n import DEFAULT, LANGUAGES, TRANSLATIONS
from tests.i18n.unmarked import ROOT, unmarked

TRANSLATED = sorted(code for code in LANGUAGES if code != DEFAULT)
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]|%[sdif]")
EXTRACT = [
    sys.executable,
    "-m",
    "babel.messages.frontend",
    "-q",
    "extract",
    "-F",
    "babel.cfg",
    "-k",
    "_l",
    "-k",
    "lazy_gettext",
    "-k",
    "lazy_ngettext:1,2",
    "--no-location",
    "--sort-output",
]


@cache
def extracted(tmp: Path) -> Catalog:
    """What the marked code and templates ask for, extracted afresh (as the README does)."""
    out = tmp / "fresh.pot"
    subprocess.run([*EXTRACT, "-o", str(out), "."], cwd=ROOT, check=True, timeout=300)
    with out.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return extracted(tmp_path_factory.mktemp("pot"))


def _catalogue(code: str) -> Catalog:
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=code)


def _ids(catalog: Catalog) -> set[str | tuple[str, ...]]:
    return {message.id for message in catalog if message.id}


def _key(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


def test_there_is_something_to_translate(fresh):
    assert len(_ids(fresh)) > 500, "extraction found the marked messages"


def test_no_template_or_message_call_has_unmarked_text():
    left = list(unmarked())
    assert not left, "unmarked text (mark it with _() or _l()):\n" + "\n".join(left[:50])


def test_the_committed_template_is_what_extraction_finds_now(fresh):
    with (TRANSLATIONS / "messages.pot").open("rb") as handle:
        committed = read_po(handle)
    new = sorted(map(_key, _ids(fresh) - _ids(committed)))
    gone = sorted(map(_key, _ids(committed) - _ids(fresh)))
    assert not new and not gone, (
        "run the README's pybabel extract/update: "
        f"{len(new)} new (first: {new[:5]}), {len(gone)} gone (first: {gone[:5]})"
    )


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(code, fresh):
    catalog = _catalogue(code)
    assert str(catalog.locale) == code
    missing = sorted(map(_key, _ids(fresh) - _ids(catalog)))
    assert not missing, f"{code}: {len(missing)} messages missing, first: {missing[:5]}"
    plurals = catalog.num_plurals
    untranslated, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            fuzzy.append(_key(message.id))
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.pluralizable and len(strings) != plurals:
            untranslated.append(f"{_key(message.id)} ({len(strings)} of {plurals} forms)")
        elif not all(s and s.strip() for s in strings):
            untranslated.append(_key(message.id))
    assert not fuzzy, f"{code}: {len(fuzzy)} fuzzy, first: {fuzzy[:5]}"
    assert not untranslated, f"{code}: {len(untranslated)} empty, first: {untranslated[:5]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders_of_the_english(code):
    wrong = []
    for message in _catalogue(code):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            found = set(PLACEHOLDER.findall(string))
            # A plural's singular may leave out the number ("une réponse"), nothing else.
            if found - wanted or (wanted - found) - ({"num"} if message.pluralizable else set()):
                wrong.append(f"{_key(message.id)!r} -> {string!r}")
    assert not wrong, f"{code}: placeholders differ:\n" + "\n".join(wrong[:10])


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalogue_says_what_the_po_file_says(code):
    """Python's gettext reads the .mo the app serves; every entry must match the .po."""
    mo = TRANSLATIONS / code / "LC_MESSAGES" / "messages.mo"
    assert mo.exists(), f"{code}: run pybabel compile -d forum/translations"
    with mo.open("rb") as handle:
        served = gettext.GNUTranslations(handle)
    stale = []
    for message in _catalogue(code):
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            forms = message.string
            for n, expected in ((1, forms[0]), (2, forms[min(1, len(forms) - 1)])):
                if served.ngettext(message.id[0], message.id[1], n) not in forms:
                    stale.append(f"{message.id[0]} [{n}] != {expected}")
        elif served.gettext(message.id) != message.string:
            stale.append(message.id)
    assert not stale, f"{code}: the .mo is stale, run pybabel compile: {stale[:5]}"


def test_tlp_labels_stay_as_tlp_2_writes_them():
    for code in TRANSLATED:
        for message in _catalogue(code):
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            for label in re.findall(r"TLP:[A-Z+]+", " ".join(ids)):
                assert all(label in s for s in strings), f"{code}: {label} in {strings}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_add_no_markup_or_straight_quotes(code):
    """Templates trust a translation as HTML (Jinja's newstyle gettext escapes only the
    values), and many sit in attributes: a translation may not bring a tag, an entity or a
    straight quote the English does not have (typographic quotes are the language's own)."""
    wrong = []
    for message in _catalogue(code):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for mark in ('"', "<", ">", "&"):
            allowed = max(i.count(mark) for i in ids)
            if any(s.count(mark) > allowed for s in strings):
                wrong.append(f"{_key(message.id)!r} -> {strings!r} ({mark})")
    assert not wrong, f"{code}:\n" + "\n".join(wrong[:10])
