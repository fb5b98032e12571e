"""Who an alert reaches: every active member, or a narrower audience, plus contact points.

Regions are the network's own grouping of countries (ISO 3166-1 alpha-2 codes).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from forum.i18n import Text
from forum.lazytext import lazy_gettext as _l
from forum.members import services as members_services

if TYPE_CHECKING:
    from forum.members.models import Member

# Keys are stored; the names are shown, each in the reader's language.
REGIONS: dict[str, tuple[Text, tuple[str, ...]]] = {
    "western_europe": (
        _l("Western Europe"),
        ("AT", "BE", "CH", "DE", "FR", "IE", "LI", "LU", "MC", "NL", "GB"),
    ),
    "northern_europe": (_l("Northern Europe"), ("DK", "EE", "FI", "IS", "LT", "LV", "NO", "SE")),
    "southern_europe": (
        _l("Southern Europe"),
        ("AD", "CY", "ES", "GR", "HR", "IT", "MT", "PT", "SI", "SM", "VA"),
    ),
    "central_eastern_europe": (
        _l("Central and Eastern Europe"),
        ("AL", "BA", "BG", "CZ", "HU", "MD", "ME", "MK", "PL", "RO", "RS", "SK", "UA", "XK"),
    ),
    "north_america": (_l("North America"), ("CA", "US", "MX")),
    "latin_america": (_l("Latin America"), ("AR", "BR", "CL", "CO", "PE", "UY")),
    "middle_east_north_africa": (
        _l("Middle East and North Africa"),
        ("DZ", "EG", "IL", "IQ", "JO", "LB", "MA", "PS", "SA", "SY", "TN", "TR"),
    ),
    "sub_saharan_africa": (
        _l("Sub-Saharan Africa"),
        ("BF", "CM", "KE", "ML", "NE", "NG", "SN", "SO", "TZ", "UG", "ZA"),
    ),
    "asia_pacific": (
        _l("Asia and Pacific"),
        ("AU", "BD", "CN", "ID", "IN", "JP", "KR", "LK", "NZ", "PH", "PK", "SG"),
    ),
}


def region_countries(regions: Iterable[str]) -> set[str]:
    """Every country code in the given regions."""
    found: set[str] = set()
    for region in regions:
        if region in REGIONS:
            found.update(REGIONS[region][1])
    return found


def _expertise_tags(text: str) -> set[str]:
    return {part.strip().lower() for part in text.replace(";", ",").split(",") if part.strip()}


@dataclass(frozen=True)
class Audience:
    """An alert's audience: members reached, and which of them are contact points."""

    members: list[Member]
    contact_point_ids: set[str]


def resolve_audience(
    *,
    regions: Sequence[str] = (),
    countries: Sequence[str] = (),
    expertise: Sequence[str] = (),
    nationalities: Sequence[str] = (),
) -> Audience:
    """The active members an alert reaches.

    No narrowing means every active member. Regions and countries together form one set of
    countries (a member based in any of them is in); expertise further keeps only members with
    one of the named areas. Contact points for a named nationality are always included.
    """
    everyone = members_services.active_members()
    wanted_countries = region_countries(regions) | {c.upper() for c in countries}
    wanted_expertise = {e.strip().lower() for e in expertise if e.strip()}
    named = {n.upper() for n in nationalities}
    chosen: list[Member] = []
    contact_points: set[str] = set()
    for member in everyone:
        in_place = not wanted_countries or member.country in wanted_countries
        in_field = not wanted_expertise or bool(
            _expertise_tags(member.expertise) & wanted_expertise
        )
        is_contact_point = bool(named & set(member.contact_points))
        if is_contact_point:
            contact_points.add(member.id)
        if (in_place and in_field) or is_contact_point:
            chosen.append(member)
    return Audience(members=chosen, contact_point_ids=contact_points)
