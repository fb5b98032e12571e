"""Routes for joining by invitation: the link, the details, and the authenticator app."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from forum.extensions import limiter

# The language chosen on the join form, kept until the member exists (step two).
from forum.i18n import JOIN_LOCALE, browser_choice, known
from forum.members import invites, registration, totp
from forum.members.forms import CodeForm, JoinForm
from forum.members.models import Invite
from forum.members.views import bp
from forum.members.views.auth import open_browser_session
from forum.members.views.client import form_page, set_problems
from forum.members.views.limits import INVITE_TOKEN, SECOND_FACTOR_LIMITS, counted_once, invite_key


@bp.get("/invite/<token>")
def redeem_invite(token: str) -> Response:
    """Take the token out of the address bar at once: keep it in the session, show a clean URL."""
    session[INVITE_TOKEN] = token
    return redirect(url_for("members.join"), code=303)


def _session_invite() -> tuple[Invite | None, str | None]:
    token = session.get(INVITE_TOKEN)
    invite = invites.find_invite(token) if isinstance(token, str) else None
    return invite, invites.invite_problem(invite)


def _invite_problem_page(problem: str | None, invite: Invite | None) -> tuple[str, int]:
    status = 404 if invite is None else 410
    problem = problem or invites.REASONS["unknown"]
    return render_template("members/invite_problem.html", problem=problem), status


def _details_ok(form: JoinForm, invite: Invite) -> bool:
    """Every problem at once, each at its field (the form's own and the invite's rules)."""
    form.validate_on_submit()
    return set_problems(form, registration.registration_problems(invite, **_typed(form)))


def _typed(form: JoinForm) -> dict[str, str]:
    return {name: value or "" for name, value in form.payload().items()}


# The time zone chosen on the join form, kept for the second step (as the language is).
JOIN_ZONE = "join-zone"


@bp.route("/join", methods=["GET", "POST"])
def join() -> Response | str | tuple[str, int]:
    """Registration, step one: the invited address, a name and a password."""
    invite, problem = _session_invite()
    if problem or invite is None:
        return _invite_problem_page(problem, invite)
    form = JoinForm()
    if request.method == "GET":
        # The language this browser asks for (or the one chosen before going back a step).
        form.locale.data = session.get(JOIN_LOCALE, browser_choice())
        form.timezone.data = session.get(JOIN_ZONE, "")  # "": the page asks the browser
    if request.method == "GET" or not _details_ok(form, invite):
        return form_page("members/join.html", form=form, invite=invite)
    if registration.register_details(invite.id, **form.payload()) is None:
        return _invite_problem_page(None, None)
    session[JOIN_LOCALE] = known(form.locale.data) or ""
    session[JOIN_ZONE] = form.timezone.data or "UTC"
    return redirect(url_for("members.join_two_factor"))


def _enrolment_page(form: CodeForm, invite: Invite) -> dict[str, object]:
    enrolment = registration.enrolment(invite)
    return {"form": form, "enrolment": enrolment, "grouped": totp.grouped_secret(enrolment.secret)}


@bp.route("/join/two-factor", methods=["GET", "POST"])
@counted_once(limiter.limit(SECOND_FACTOR_LIMITS, key_func=invite_key, methods=["POST"]))
def join_two_factor() -> Response | str | tuple[str, int]:
    """Registration, step two: enrol an authenticator app and confirm one code."""
    invite, problem = _session_invite()
    if problem or invite is None:
        return _invite_problem_page(problem, invite)
    if not registration.has_pending_details(invite):
        return redirect(url_for("members.join"))
    form = CodeForm()
    if not form.validate_on_submit():
        return form_page("members/join_two_factor.html", **_enrolment_page(form, invite))
    member, codes = registration.complete_registration(
        invite,
        form.code.data,
        # Read, not taken: a mistyped code shows the page again and they are still needed.
        locale=session.get(JOIN_LOCALE, ""),
        timezone=session.get(JOIN_ZONE, "UTC"),
    )
    session.pop(JOIN_LOCALE, None)
    session.pop(JOIN_ZONE, None)
    open_browser_session(member)
    # Shown once, in this response only: nothing keeps them but their hashes.
    return render_template("members/recovery_codes.html", codes=codes, first_time=True)
