"""ISO 3166-1 country codes and names (from the tzdata package's iso3166.tab), and time zones."""

from __future__ import annotations

from functools import cache
from importlib import resources
from zoneinfo import available_timezones


@cache
def countries() -> dict[str, str]:
    """Country code -> English short name, sorted by name."""
    text = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text("utf-8")
    pairs = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, _, name = line.partition("\t")
        pairs.append((code.strip().upper(), name.strip()))
    return dict(sorted(pairs, key=lambda pair: pair[1]))


def country_name(code: str) -> str:
    """The name of a country code ("" for none, the code itself when unknown)."""
    return countries().get(code.upper(), code.upper()) if code else ""


def is_country(code: str) -> bool:
    """True for a known ISO 3166-1 alpha-2 code."""
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
