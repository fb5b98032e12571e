"""CSRF sweep: every route that accepts POST, PUT, PATCH or DELETE refuses a request without a
valid CSRF token — even from a signed-in coordinator — with the friendly 400 page, and the
database is exactly as it was."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from forum.extensions import csrf, db
from forum.security import audit
from tests.support.clients import Browser
from tests.support.members import Members
from tests.web.route_inventory import BEARER, ROUTES
from tests.web.sweep import (
    STATE_CHANGING,
    differences,
    in_own_context,
    snapshot,
    targets,
)

EXPIRED_FORM = "This form has expired"


def _forged_requests(other_token: str) -> dict[str, Any]:
    """The ways a forged request arrives: no token, an empty one, a made-up one, another's."""
    return {
        "without a token": {},
        "with an empty token": {"csrf_token": ""},
        "with a made-up token": {"csrf_token": "IjAwMDAwMDAwMDAwMDAwMDAi.aaaaaa.bbbbbbbbbbbbbbbb"},
        "with another browser's token": {"csrf_token": other_token},
    }


def _signed_in(app: Flask, members: Members) -> Browser:
    return Browser(app.test_client()).sign_in_as(members.coordinator())


def test_the_app_has_state_changing_routes_to_sweep(app: Flask) -> None:
    # The base layout's sign-out form alone makes one; an empty sweep would prove nothing.
    swept = list(targets(app, methods=STATE_CHANGING))
    assert swept or "members.sign_out" not in app.view_functions


def csrf_problems(app: Flask, browser: Browser, only: set[str] | None = None) -> list[str]:
    """Forged requests to every state-changing route (or those of `only` endpoints) that were
    not refused with the friendly page, or after which the database changed."""
    other = Browser(app.test_client())
    other_token = in_own_context(app, other.csrf_token)
    # A real token of this browser's own session exists (so a refusal is not for want of one).
    assert in_own_context(app, browser.csrf_token)
    before = snapshot()
    problems = []
    for target in targets(app, methods=STATE_CHANGING):
        if only is not None and target.endpoint not in only:
            continue
        for how, data in _forged_requests(other_token).items():
            response = in_own_context(
                app, browser.client.open, target.url, method=target.method, data=data
            )
            page = response.get_data(as_text=True)
            if ROUTES.get(target.endpoint) == BEARER:  # no cookie counts: refused as a stranger
                if response.status_code != 401:
                    problems.append(f"{target} {how}: answered {response.status_code}, not 401")
                continue
            if response.status_code != 400:
                problems.append(f"{target} {how}: answered {response.status_code}, not 400")
            elif EXPIRED_FORM not in page:
                problems.append(f"{target} {how}: 400 without the friendly expired-form page")
        after = snapshot()
        changed = differences(before, after)
        if changed:
            problems.append(f"{target}: the database changed: {'; '.join(changed)}")
            before = after
    return problems


@pytest.mark.parametrize("signed_in", [True, False], ids=["coordinator", "anonymous"])
def test_every_state_changing_route_refuses_a_request_without_a_valid_csrf_token(
    app: Flask, members: Members, signed_in: bool
) -> None:
    browser = _signed_in(app, members) if signed_in else Browser(app.test_client())
    problems = csrf_problems(app, browser)
    assert not problems, f"{len(problems)} CSRF problems:\n" + "\n".join(problems)


def test_the_sweep_catches_a_route_that_skips_the_csrf_check(app: Flask, members: Members) -> None:
    def careless(item_id: str) -> tuple[str, int]:
        audit.record("test.careless_write", reason="forged")
        db.session.commit()
        return "done", 200

    app.add_url_rule(
        "/__test__/careless/<item_id>",
        endpoint="test_careless",
        view_func=csrf.exempt(careless),
        methods=["POST"],
    )
    careless_problems = csrf_problems(app, _signed_in(app, members), only={"test_careless"})
    assert any("answered 200, not 400" in p for p in careless_problems)
    assert any("database changed: audit_events: 0 -> 4 rows" in p for p in careless_problems)


def test_a_forged_sign_out_leaves_the_member_signed_in(app: Flask, members: Members) -> None:
    browser = _signed_in(app, members)
    sign_out = next(t for t in targets(app, STATE_CHANGING) if t.endpoint == "members.sign_out")
    response = in_own_context(app, browser.client.open, sign_out.url, method=sign_out.method)
    assert response.status_code == 400
    page = in_own_context(app, browser.get, "/__no-such-page__").get_data(as_text=True)
    assert 'data-signed-in="1"' in page
