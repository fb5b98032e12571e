"""A member's calendar feed: its settings page, a new secret address, turning it off, the feed."""

from __future__ import annotations

from datetime import datetime

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.calls import ical, policy
from forum.calls.views import Reply, bp, refused
from forum.extensions import limiter
from forum.forms import EmptyForm
from forum.security.headers import own_caching


@bp.get("/feed")
@login_required
def feed_settings() -> Reply:
    """The member's calendar subscription: see, regenerate or revoke the secret address."""
    policy.require_see_calls(current_user)
    return render_template(
        "calls/feed.html", feed=ical.has_feed(current_user), new_url=None, button=EmptyForm()
    )


@bp.post("/feed/regenerate")
@login_required
@limiter.limit("10 per hour")
def regenerate_feed() -> Reply:
    """Make a new secret feed address; the old one stops working at once."""
    policy.require_see_calls(current_user)
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, url_for("calls.feed_settings"))
    url = _feed_url(ical.issue_feed_token(current_user))
    # Shown once, never stored: the database holds only its hash.
    return render_template(
        "calls/feed.html",
        feed=ical.has_feed(current_user),
        new_url=url,
        links=ical.subscribe_links(url),
        button=EmptyForm(),
    )


def _feed_url(token: str) -> str:
    base = str(current_app.config["EXCHANGE"]["app"]["base_url"]).rstrip("/")
    return base + url_for("calls.feed", token=token)


@bp.post("/feed/revoke")
@login_required
def revoke_feed() -> Reply:
    """Turn the calendar feed off."""
    policy.require_see_calls(current_user)
    form = EmptyForm()
    if not form.validate_on_submit():
        return refused(form, url_for("calls.feed_settings"))
    ical.revoke_feed_tokens(current_user)
    flash(_("Your calendar feed address no longer works."), "info")
    return redirect(url_for("calls.feed_settings"))


@bp.get("/feed/<token>.ics")
@limiter.limit("600 per minute")  # 256-bit tokens: this guards CPU, not guessing
def feed(token: str) -> Reply:
    """A member's personal calendar feed at its secret address (404 for any other token)."""
    member = ical.member_for_token(token)
    if member is None:
        abort(404)
    return _calendar(*ical.cached_feed(member))


def _calendar(body: bytes, etag: str, built_at: datetime) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.set_etag(etag.strip('"'))
    response.last_modified = built_at
    # Calendar apps poll: they may keep a private copy but must revalidate it every time.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.make_conditional(request)
    return own_caching(response)
