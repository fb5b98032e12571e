"""Routes for getting in: sign-in (password, then second factor), sign-out, and re-entering
the password before a sensitive change."""

from __future__ import annotations

import time

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum import db as uow
from forum.extensions import db, limiter
from forum.forms import EmptyForm
from forum.i18n import browser_choice
from forum.lazytext import lazy_gettext as _l
from forum.members import account, auth, devices, notices
from forum.members.forms import CodeForm, ReauthForm, SignInForm
from forum.members.models import Member
from forum.members.sessions import mark_reauthenticated, sign_in_browser
from forum.members.views import bp
from forum.members.views.client import (
    authenticator_context,
    form_page,
    ip_prefix,
    label_new_session,
    safe_next,
)
from forum.members.views.limits import (
    PENDING_MEMBER,
    SECOND_FACTOR_LIMITS,
    SIGN_IN_IP_LIMITS,
    SIGN_IN_LIMITS,
    address_key,
    counted_once,
    locked_out,
    second_factor_key,
)
from forum.security.ratelimit import secret_check_limit

PENDING_SINCE = "pending_since"
AFTER_SIGN_IN = "after_sign_in"
# The second factor must follow the password within this many seconds.
PENDING_SECONDS = 300
RECOVERY_CODE_USED = _l(
    "You signed in with a recovery code; it cannot be used again. If you lost your "
    "phone, set up a new authenticator under Profile → Two-factor."
)
REAUTH_FAILURE = {
    True: _l("That password or code is not right."),
    False: _l("That password is not right."),
}
second_factor_limit = counted_once(
    limiter.limit(
        SECOND_FACTOR_LIMITS,
        key_func=second_factor_key,
        methods=["POST"],
        on_breach=locked_out("second_factor"),
    )
)


def open_browser_session(member: Member) -> None:
    """Open the session, name it after the browser, and remember this browser (and the
    language it speaks: what the member is written to in while they follow the browser)."""
    member.seen_locale = browser_choice()
    sign_in_browser(member)
    label_new_session()
    devices.remember_after_request(member)


def _complete_sign_in(member: Member) -> None:
    """Tell the member of a sign-in from a new browser, then open the session."""
    if devices.current_device(member) is None:
        notices.send(member, "new_device")
    open_browser_session(member)


def _begin_second_step(member: Member, next_url: str | None) -> Response:
    session.clear()
    session[PENDING_MEMBER] = member.id
    session[PENDING_SINCE] = int(time.time())
    session[AFTER_SIGN_IN] = safe_next(next_url, url_for("home.index"))
    return redirect(url_for("members.sign_in_code"))


def _next_asked() -> str | None:
    return (request.form if request.method == "POST" else request.args).get("next")


def _pending_member() -> Member | None:
    member_id = session.get(PENDING_MEMBER)
    since = session.get(PENDING_SINCE, 0)
    if not isinstance(member_id, str) or not isinstance(since, int):
        return None
    if time.time() - since > PENDING_SECONDS:
        return None
    member = db.session.get(Member, member_id)
    return member if member is not None and member.status == "active" else None


def _sign_in_again() -> Response:
    session.pop(PENDING_MEMBER, None)
    flash(_("Please sign in again: the second step must follow within five minutes."))
    return redirect(url_for("members.sign_in"))


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    SIGN_IN_LIMITS, key_func=address_key, methods=["POST"], on_breach=locked_out("address")
)
@limiter.limit(SIGN_IN_IP_LIMITS, methods=["POST"], on_breach=locked_out("ip"))
def sign_in() -> Response | str | tuple[str, int]:
    """Step one: e-mail address and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    page = {"form": form, "next": _next_asked()}
    if not form.validate_on_submit():
        return form_page("members/sign_in.html", **page)
    # The limits above were decided before this point; the hash runs without the write lock.
    member = auth.password_step(form.email.data, form.password.data, ip_prefix=ip_prefix())
    if member is None:
        uow.keep_on_refusal()  # the failure is counted and audited
        return render_template("members/sign_in.html", error=str(auth.GENERIC_FAILURE), **page), 422
    return _begin_second_step(member, page["next"])


@bp.route("/sign-in/code", methods=["GET", "POST"])
@second_factor_limit
def sign_in_code() -> Response | str | tuple[str, int]:
    """Step two: a code from the authenticator app, or a recovery code."""
    member = _pending_member()
    if member is None:
        return _sign_in_again()
    if account.needs_enrolment(member):
        return redirect(url_for("members.sign_in_enrol"))
    form = CodeForm()
    if not form.validate_on_submit():
        return form_page("members/sign_in_code.html", form=form)
    method = auth.check_second_factor(member, form.code.data, ip_prefix=ip_prefix())
    if method is None:
        uow.keep_on_refusal()  # the failure is counted and audited
        return render_template(
            "members/sign_in_code.html", form=form, error=str(auth.CODE_FAILURE)
        ), 422
    return _after_second_step(member, used_recovery_code=method == "recovery")


def _after_second_step(member: Member, *, used_recovery_code: bool) -> Response:
    target = session.get(AFTER_SIGN_IN) or url_for("home.index")
    if used_recovery_code:
        notices.send(member, "recovery_code_used")
    _complete_sign_in(member)
    if used_recovery_code:
        flash(str(RECOVERY_CODE_USED), "warning")
    return redirect(safe_next(target, url_for("home.index")))


@bp.route("/sign-in/enrol", methods=["GET", "POST"])
@second_factor_limit
def sign_in_enrol() -> Response | str | tuple[str, int]:
    """Second step for a member whose authenticator a coordinator reset: enrol a new one."""
    member = _pending_member()
    if member is None:
        return _sign_in_again()
    if not account.needs_enrolment(member):
        return redirect(url_for("members.sign_in_code"))
    secret = account.pending_factor(member)
    if secret is None:  # made by the password step; gone only if a coordinator acted since
        return redirect(url_for("members.sign_in"))
    form = CodeForm()
    if not form.validate_on_submit():
        page = authenticator_context(secret, member.email)
        return form_page("members/sign_in_enrol.html", form=form, **page)
    codes = auth.enrol_at_sign_in(member, form.code.data)
    _complete_sign_in(member)
    return render_template("members/recovery_codes.html", codes=codes, first_time=False)


@bp.post("/sign-out")
def sign_out() -> Response:
    """End this browser's session."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("home.index"))
    if current_user.is_authenticated:
        auth.sign_out(current_user._get_current_object())
    session.clear()
    flash(_("You have signed out."))
    return redirect(url_for("members.sign_in"))


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
@counted_once(secret_check_limit())
def reauth() -> Response | str | tuple[str, int]:
    """Re-enter the password (and a code from the authenticator) before a sensitive change."""
    form = ReauthForm()
    member = current_user._get_current_object()
    next_url = safe_next(request.values.get("next"), url_for("members.profile"))
    ask_code = auth.needs_code_to_confirm(member)
    page = {"form": form, "next": next_url, "ask_code": ask_code}
    if not form.validate_on_submit():
        return form_page("members/reauth.html", **page)
    if not auth.reauthenticate(member, form.password.data, form.code.data):
        uow.keep_on_refusal()  # the failure is audited
        return render_template(
            "members/reauth.html", error=str(REAUTH_FAILURE[ask_code]), **page
        ), 422
    mark_reauthenticated()
    return redirect(next_url)
