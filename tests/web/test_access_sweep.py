"""Access sweep: every route of app.url_map, requested by an anonymous visitor, an active member,
a suspended member and an active coordinator, answers as tests/web/route_inventory.py says —
and never with a 500. GET routes change nothing in the database.

URL arguments are random well-formed values (32-hex ids and the like), so object routes answer
for an object that does not exist: a member must get the same 404 there as for one they may not
read, and nobody may get a 500.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import BuildError

from forum.extensions import db
from forum.members.models import Member
from forum.security import audit
from tests.support.clients import Browser
from tests.support.members import Members
from tests.support.web import World
from tests.web.route_inventory import BEARER, COORDINATOR, MEMBER, PUBLIC, ROUTES, SECRET_URL
from tests.web.sweep import (
    STATE_CHANGING,
    Target,
    differences,
    in_own_context,
    missing_from_inventory,
    snapshot,
    targets,
)

VISITORS = ("anonymous", "member", "suspended", "coordinator")
CATEGORIES = {PUBLIC, MEMBER, COORDINATOR, SECRET_URL, BEARER}
REDIRECTS = (301, 302, 303, 307, 308)


def _sign_in_path(app: Flask) -> str | None:
    try:
        return app.url_map.bind("localhost").build("members.sign_in")
    except BuildError:
        return None


def _suspended_member(members: Members) -> Member:
    """A member who signed in and was then suspended (the session row is left as it was)."""
    member = members.make()
    member.status = "suspended"
    db.session.commit()
    return member


def _visitor_members(members: Members) -> dict[str, Member | None]:
    return {
        "anonymous": None,
        "member": members.make(),
        "suspended": _suspended_member(members),
        "coordinator": members.coordinator(),
    }


def _browser(app: Flask, member: Member | None) -> Browser:
    browser = Browser(app.test_client())
    return browser.sign_in_as(member) if member is not None else browser


def _request(app: Flask, browser: Browser, target: Target) -> Any:
    """One request; state-changing ones carry a valid token."""
    if target.method in STATE_CHANGING:
        token = in_own_context(app, browser.csrf_token)
        return in_own_context(
            app, browser.client.open, target.url, method=target.method, data={"csrf_token": token}
        )
    return in_own_context(app, browser.client.get, target.url)


def _sent_to_sign_in(response: Any, sign_in_path: str | None) -> bool:
    if response.status_code not in REDIRECTS:
        return False
    location = response.headers.get("Location", "")
    return sign_in_path is not None and location.split("?")[0].endswith(sign_in_path)


def _refused(response: Any, sign_in_path: str | None) -> bool:
    """Refused the way an outsider should be: sent to sign in, or 401/404 (or rate limited)."""
    return response.status_code in (401, 404, 429) or _sent_to_sign_in(response, sign_in_path)


def access_problem(
    category: str, visitor: str, response: Any, sign_in_path: str | None
) -> str | None:
    """What is wrong with this answer for this visitor on a route of this category, if anything."""
    status = response.status_code
    if status >= 500:
        return f"answered {status}"
    outsider = visitor in ("anonymous", "suspended")
    if category in (MEMBER, COORDINATOR) and outsider:
        refused = _refused(response, sign_in_path) or (category == COORDINATOR and status == 403)
        if not refused:
            article = "an" if visitor[0] in "aeiou" else "a"
            return f"let {article} {visitor} visitor in ({status}, Location={response.headers.get('Location')})"
    if category == MEMBER and not outsider and status == 403:
        return f"refused an active {visitor} with 403"
    if category == COORDINATOR and visitor == "member" and status not in (403, 404):
        return f"answered {status} to a member (expected 403 or 404)"
    if category == COORDINATOR and visitor == "coordinator" and status == 403:
        return "refused a coordinator with 403"
    if category == BEARER and status != 401:
        return f"answered {status} to a {visitor} browser without a credential (expected 401)"
    if category == SECRET_URL and visitor == "anonymous" and status != 404:
        return f"answered {status} to a wrong secret token (expected 404)"
    return None


def test_every_route_is_in_the_inventory(app: Flask) -> None:
    missing = missing_from_inventory(app)
    assert not missing, (
        "routes missing from tests/web/route_inventory.py (add each with PUBLIC, MEMBER, "
        f"COORDINATOR, SECRET_URL or BEARER): {missing}"
    )


def test_inventory_names_only_routes_that_exist_with_a_known_category(app: Flask) -> None:
    served = {rule.endpoint for rule in app.url_map.iter_rules()}
    stale = sorted(set(ROUTES) - served)
    unknown = sorted(endpoint for endpoint, kind in ROUTES.items() if kind not in CATEGORIES)
    assert not stale, f"route_inventory.py names endpoints the app does not serve: {stale}"
    assert not unknown, f"route_inventory.py gives unknown categories to: {unknown}"


def sweep_access(
    app: Flask, visitor: str, member: Member | None, only: set[str] | None = None
) -> list[str]:
    """Every route (or those of `only` endpoints) requested by this visitor; the answers that
    break the inventory's rule. GETs come first and share one browser; then each state-changing
    request gets a fresh browser (a POST may end the member's sessions, e.g. "sign out others")."""
    sign_in_path = _sign_in_path(app)
    problems = []
    reader = _browser(app, member)
    for target in sorted(targets(app), key=lambda t: t.method != "GET"):
        category = ROUTES.get(target.endpoint)
        if category is None or (only is not None and target.endpoint not in only):
            continue  # a missing one is reported by test_every_route_is_in_the_inventory
        browser = reader if target.method == "GET" else _browser(app, member)
        response = _request(app, browser, target)
        problem = access_problem(category, visitor, response, sign_in_path)
        if problem:
            problems.append(f"{target} [{category}]: {problem}")
    return problems


def get_writers(
    app: Flask,
    member: Member | None,
    only: set[str] | None = None,
    known: dict[str, str] | None = None,
) -> list[str]:
    """GET routes (or those of `only` endpoints) after which the database changed; URL
    arguments named in `known` name real objects."""
    browser = Browser(app.test_client())
    if member is not None:
        browser.sign_in_as(member)
    before = snapshot()
    writers = []
    for target in targets(app, methods=("GET",), known=known):
        if only is not None and target.endpoint not in only:
            continue
        in_own_context(app, browser.client.get, target.url)
        after = snapshot()
        changed = differences(before, after)
        if changed:
            writers.append(f"{target}: {'; '.join(changed)}")
            before = after
    return writers


@pytest.mark.parametrize("visitor", VISITORS)
def test_every_route_answers_each_visitor_as_the_inventory_says(
    app: Flask, members: Members, visitor: str
) -> None:
    problems = sweep_access(app, visitor, _visitor_members(members)[visitor])
    assert not problems, f"{len(problems)} access problems for {visitor}:\n" + "\n".join(problems)


def test_a_suspended_members_existing_session_stops_working_at_once(
    app: Flask, members: Members
) -> None:
    member = members.make()
    browser = Browser(app.test_client()).sign_in_as(member)
    page = in_own_context(app, browser.get, "/__no-such-page__").get_data(as_text=True)
    assert 'data-signed-in="1"' in page
    member.status = "suspended"
    db.session.commit()
    page = in_own_context(app, browser.get, "/__no-such-page__").get_data(as_text=True)
    assert 'data-signed-in="1"' not in page
    if _sign_in_path(app):
        response = in_own_context(app, browser.get, "/")
        assert _sent_to_sign_in(response, _sign_in_path(app))


@pytest.mark.parametrize("visitor", ["anonymous", "member", "coordinator"])
def test_no_get_route_changes_the_database(app: Flask, members: Members, visitor: str) -> None:
    writers = get_writers(app, _visitor_members(members)[visitor])
    assert not writers, "GET routes that wrote to the database:\n" + "\n".join(writers)


@pytest.mark.parametrize("visitor", ["anonymous", "suspended", "member", "coordinator"])
def test_every_page_of_a_real_object_answers_each_visitor_as_the_inventory_says(
    app: Flask, world: World, members: Members, visitor: str
) -> None:
    # The world's objects belong to other members; a member may read them but, on an object
    # page, may be refused an action with 403 (not theirs to edit), so only these hold here:
    # no 500, outsiders refused, members kept out of coordinators' pages.
    member = {
        "anonymous": None,
        "suspended": _suspended_member(members),
        "member": world.readers[2],
        "coordinator": world.readers[0],
    }[visitor]
    browser = _browser(app, member)
    sign_in_path = _sign_in_path(app)
    problems = []
    for target in targets(app, methods=("GET",), known=world.known_ids):
        category = ROUTES.get(target.endpoint)
        if category is None:
            continue
        response = in_own_context(app, browser.client.get, target.url)
        problem = access_problem(category, visitor, response, sign_in_path)
        if problem and not (visitor == "member" and response.status_code == 403):
            problems.append(f"{target} [{category}]: {problem}")
    assert not problems, f"{len(problems)} access problems for {visitor}:\n" + "\n".join(problems)


def test_no_get_route_changes_the_database_when_it_shows_real_objects(
    app: Flask, world: World
) -> None:
    writers = []
    for member in world.readers:
        writers += [
            f"as {member.role}: {w}" for w in get_writers(app, member, known=world.known_ids)
        ]
    assert not writers, "GET routes that wrote to the database:\n" + "\n".join(writers)


def test_the_sweeps_catch_an_open_member_route_and_a_get_that_writes(
    app: Flask, members: Members, monkeypatch: pytest.MonkeyPatch
) -> None:
    def careless(item_id: str) -> str:
        audit.record("test.read_with_a_write", reason="careless")
        db.session.commit()
        return "a page anyone can read"

    app.add_url_rule("/__test__/careless/<item_id>", endpoint="test_careless", view_func=careless)
    monkeypatch.setitem(ROUTES, "test_careless", MEMBER)
    problems = sweep_access(app, "anonymous", None, only={"test_careless"})
    assert len(problems) == 1 and "let an anonymous visitor in (200" in problems[0]
    writers = get_writers(app, members.coordinator(), only={"test_careless"})
    assert writers and "audit_events" in writers[0]
