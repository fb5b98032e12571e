"""ISO 3166-1 alpha-2 countries by name (from pycountry, the ISO 3166 list kept with Debian's
iso-codes), with the names people search by, and the IANA time zones.

The list is pycountry's 249 officially assigned codes, named by their common English name
(pycountry's `common_name` where ISO's is formal: "South Korea", not "Korea, Republic of"), plus
XK (Kosovo), the user-assigned code the European Union and the network's regions use. Search
terms add ISO's formal and official names, the alpha-3 code and the tz database's short names
(tzdata's iso3166.tab: "Britain (UK)", "Korea (South)").
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources
from typing import Any
from zoneinfo import available_timezones

import pycountry
from babel import Locale
from flask_babel import get_locale
from flask_babel import gettext as _
from wtforms import SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from forum.lazytext import lazy_gettext as _l

# User-assigned codes the network uses besides ISO's own (XK: Kosovo, as the EU writes it).
EXTRA = {"XK": "Kosovo"}
# Everyday names that neither ISO nor the tz database gives.
ALIASES = {
    "GB": ("Great Britain", "UK", "England", "Scotland", "Wales", "Northern Ireland"),
    "US": ("USA", "America"),
    "NL": ("Holland",),
    "CZ": ("Czech Republic",),
    "TR": ("Turkey",),
    "CD": ("DR Congo", "DRC"),
    "MK": ("Macedonia",),
    "CI": ("Ivory Coast",),
    "SZ": ("Swaziland",),
    "VA": ("Vatican",),
}


# Letters Unicode does not decompose into a base letter and a mark ("Łotwa" sorts with L).
_UNDECOMPOSED = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "ø": "o",
        "Ø": "O",
        "đ": "d",
        "Đ": "D",
        "ß": "ss",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "ı": "i",
    }
)


def fold(text: str) -> str:
    """Lower case without accents, for sorting and matching ("Côte" ~ "cote", "Łotwa" ~
    "lotwa")."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _tz_names() -> dict[str, str]:
    text = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text("utf-8")
    names: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            code, _, name = line.partition("\t")
            names[code.strip().upper()] = name.strip()
    return names


@cache
def countries() -> dict[str, str]:
    """Country code -> English name, sorted by name."""
    pairs = [
        (country.alpha_2, getattr(country, "common_name", None) or country.name)
        for country in pycountry.countries
    ]
    pairs += list(EXTRA.items())
    return dict(sorted(pairs, key=lambda pair: fold(pair[1])))


@cache
def _terms() -> dict[str, tuple[str, ...]]:
    tz = _tz_names()
    found: dict[str, tuple[str, ...]] = {}
    for code, name in countries().items():
        country = pycountry.countries.get(alpha_2=code)
        words = [name, code]
        if country is not None:
            words += [country.name, getattr(country, "official_name", ""), country.alpha_3]
        words += [tz.get(code, ""), *ALIASES.get(code, ())]
        unique: list[str] = []
        for word in words:
            if word and word not in unique:
                unique.append(word)
        found[code] = tuple(unique)
    return found


def search_terms(code: str) -> tuple[str, ...]:
    """Every name a country may be found by in the picker (its name first)."""
    return _terms().get(code.upper(), ())


def _language() -> str:
    locale = get_locale()
    return locale.language if locale is not None else "en"


@cache
def names_in(language: str) -> dict[str, str]:
    """Country code -> name in a language (CLDR's, through Babel: "Niemcy", "Allemagne"),
    sorted by that name; English keeps the common names above. A code CLDR does not name
    keeps its English name."""
    english = countries()
    if language == "en":
        return english
    territories = Locale.parse(language).territories
    pairs = [(code, territories.get(code) or name) for code, name in english.items()]
    return dict(sorted(pairs, key=lambda pair: fold(pair[1])))


def select_choices(blank: str | None = None) -> list[SelectChoice]:
    """Options for a country <select> in the reader's language, each with the other names it
    is found by (the picker): the English names too, so "Germany" finds Niemcy."""
    options = [SelectChoice("", blank)] if blank is not None else []
    for code, name in names_in(_language()).items():
        others = [t for t in search_terms(code) if t not in (name, code)]
        options.append(SelectChoice(code, name, render_kw={"data-terms": "|".join(others)}))
    return options


def country_name(code: str) -> str:
    """The name of a country code in the reader's language ("" for none, the code itself when
    unknown)."""
    return names_in(_language()).get(code.upper(), code.upper()) if code else ""


def is_country(code: str) -> bool:
    """True for a known ISO 3166-1 alpha-2 code (exactly two letters, any case)."""
    return code.upper() in countries()


@cache
def time_zones() -> tuple[str, ...]:
    """Every IANA time zone name, sorted (region/city names only, no legacy aliases)."""
    return tuple(
        sorted(
            zone
            for zone in available_timezones()
            if "/" in zone and not zone.startswith(("Etc/", "SystemV/", "US/", "posix/", "right/"))
        )
        + ["UTC"]
    )


def is_time_zone(name: str) -> bool:
    """True for an IANA time zone name that zoneinfo knows."""
    return name in available_timezones()


# --- form fields: a country chosen by name, checked on the server ---------------------------

NOT_A_COUNTRY = _l("Choose the country from the list")


def _split(text: str) -> list[str]:
    return [p.strip().upper() for p in re.split(r"[\s,;]+", text or "") if p.strip()]


class CountryField(SelectField):
    """One country, chosen by name from the ISO 3166-1 list (a searchable picker with JS)."""

    def __init__(self, label: str, *, blank: str = "—", **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"data-picker": "country"})
        super().__init__(label, choices=select_choices(blank), validate_choice=False, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = valuelist[0].strip().upper() if valuelist else ""

    def pre_validate(self, form: Any) -> None:
        code = self.data or ""
        if code and not is_country(code):
            raise ValidationError(
                _("Choose the country from the list (not a country: %(code)s).", code=code[:20])
            )


class CountriesField(SelectMultipleField):
    """Several countries by name; "FR, DE" typed into one value (no JS, API) is split."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"data-picker": "country"})
        super().__init__(label, choices=select_choices(), validate_choice=False, **kwargs)

    def process_formdata(self, valuelist: list[str]) -> None:
        codes: list[str] = []
        for value in valuelist:
            codes += [c for c in _split(value) if c not in codes]
        self.data = codes

    def pre_validate(self, form: Any) -> None:
        bad = [c for c in self.data or [] if not is_country(c)]
        if bad:
            raise ValidationError(
                _(
                    "Choose the country from the list (not a country: %(code)s).",
                    code=", ".join(bad[:3])[:40],
                )
            )
