"""Routes for getting in: sign-in (password, then second factor), sign-out, invite redemption,
registration, and re-entering the password before a sensitive change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.crypto import blind_index
from forum.db import utcnow
from forum.extensions import db, limiter
from forum.members import account, auth, devices, invites, notices, registration, totp
from forum.members.blueprint import bp
from forum.members.forms import CodeForm, EmptyForm, JoinForm, ReauthForm, SignInForm
from forum.members.models import Invite, Member
from forum.members.passwords import hash_password
from forum.members.services import MemberError
from forum.members.sessions import end_current_session, mark_reauthenticated, sign_in_browser
from forum.members.web import (
    begin_write,
    ip_prefix,
    label_new_session,
    release_write_lock,
    safe_next,
)
from forum.security import audit
from forum.security.ratelimit import secret_check_limit

PENDING_MEMBER = "pending_member"
PENDING_SINCE = "pending_since"
AFTER_SIGN_IN = "after_sign_in"
INVITE_TOKEN = "invite_token"  # noqa: S105 - a session key name, not a secret
# The second factor must follow the password within this many seconds.
PENDING_SECONDS = 300

SIGN_IN_LIMITS = "6 per minute;30 per hour"
SIGN_IN_IP_LIMITS = "30 per minute;300 per hour"
SECOND_FACTOR_LIMITS = "5 per 5 minutes"


def _address_key() -> str:
    # A browser with a valid device cookie for this address counts on its own (OWASP device
    # cookies): strangers guessing at the address cannot lock its owner out of that browser.
    address = request.form.get("email", "")
    device = devices.device_for_address(address)
    if device is not None:
        return "sign-in-device:" + device.nonce
    # The normalised address's blind index: the limiter's storage never holds an address.
    return "sign-in-address:" + blind_index("ratelimit.sign-in", address, length=16).hex()


def _invite_key() -> str:
    token = session.get(INVITE_TOKEN)
    if isinstance(token, str):
        return "join-code:" + blind_index("ratelimit.join", token, length=16).hex()
    return "join-code-ip:" + get_remote_address()


def _complete_sign_in(member: Member) -> None:
    """Open the session; remember this browser; tell the member of a sign-in from a new one."""
    if devices.current_device(member) is None:
        notices.send(member, "new_device")
    sign_in_browser(member)
    label_new_session()
    devices.remember_after_request(member)


def _second_factor_key() -> str:
    pending = session.get(PENDING_MEMBER)
    return "second-factor:" + (pending if isinstance(pending, str) else get_remote_address())


class _Once:
    """Remembers, per process, which lockouts were audited lately: a flood of refused attempts
    writes one audit event a minute per key, not one per request (the log stays readable and
    the flood cannot grow it without bound)."""

    def __init__(self, seconds: float = 60.0, size: int = 10_000) -> None:
        self.seconds, self.size = seconds, size
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()

    def first(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            if now - self.seen.get(key, -self.seconds) < self.seconds:
                return False
            if len(self.seen) >= self.size:
                self.seen = {k: t for k, t in self.seen.items() if now - t < self.seconds}
            self.seen[key] = now
            return True


def _lockouts() -> _Once:
    once: _Once = current_app.extensions.setdefault("exchange.members.lockouts", _Once())
    return once


def _locked_out(scope: str) -> Callable[[RequestLimit], None]:
    def on_breach(limit: RequestLimit) -> None:
        if not _lockouts().first(f"{scope}:{'/'.join(map(str, limit.request_args))}"):
            return
        member_id = session.get(PENDING_MEMBER) if scope == "second_factor" else None
        auth.record_rate_limited(scope, member_id=member_id, ip_prefix=ip_prefix())
        db.session.commit()

    return on_breach


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    SIGN_IN_LIMITS, key_func=_address_key, methods=["POST"], on_breach=_locked_out("address")
)
@limiter.limit(SIGN_IN_IP_LIMITS, methods=["POST"], on_breach=_locked_out("ip"))
def sign_in() -> Response | str | tuple[str, int]:
    """Step one: e-mail address and password."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    if request.method == "GET":
        return render_template("members/sign_in.html", form=form, next=request.args.get("next"))
    next_url = request.form.get("next")
    if not form.validate_on_submit():
        return render_template("members/sign_in.html", form=form, next=next_url), 422
    # The limits above were decided before this point; the hash runs without the write lock.
    release_write_lock()
    check = auth.verify_credentials(form.email.data, form.password.data)
    begin_write()
    member = auth.record_password_step(check, ip_prefix=ip_prefix())
    if member is None:
        db.session.commit()  # the failure is audited
        return render_template(
            "members/sign_in.html", form=form, next=next_url, error=auth.GENERIC_FAILURE
        ), 422
    if account.needs_enrolment(member):
        account.begin_factor_reset(member)  # the secret to enrol, sealed, shown on the next page
    db.session.commit()
    session.clear()
    session[PENDING_MEMBER] = member.id
    session[PENDING_SINCE] = int(time.time())
    session[AFTER_SIGN_IN] = safe_next(next_url, url_for("home.index"))
    return redirect(url_for("members.sign_in_code"))


def _pending_member() -> Member | None:
    member_id = session.get(PENDING_MEMBER)
    since = session.get(PENDING_SINCE, 0)
    if not isinstance(member_id, str) or not isinstance(since, int):
        return None
    if time.time() - since > PENDING_SECONDS:
        return None
    member = db.session.get(Member, member_id)
    return member if member is not None and member.status == "active" else None


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(
    SECOND_FACTOR_LIMITS,
    key_func=_second_factor_key,
    methods=["POST"],
    on_breach=_locked_out("second_factor"),
)
def sign_in_code() -> Response | str | tuple[str, int]:
    """Step two: a code from the authenticator app, or a recovery code."""
    member = _pending_member()
    if member is None:
        session.pop(PENDING_MEMBER, None)
        flash("Please sign in again: the second step must follow within five minutes.")
        return redirect(url_for("members.sign_in"))
    if account.needs_enrolment(member):
        return redirect(url_for("members.sign_in_enrol"))
    form = CodeForm()
    if request.method == "GET":
        return render_template("members/sign_in_code.html", form=form)
    if not form.validate_on_submit():
        return render_template("members/sign_in_code.html", form=form), 422
    method = auth.check_second_factor(member, form.code.data, ip_prefix=ip_prefix())
    if method is None:
        db.session.commit()
        return render_template("members/sign_in_code.html", form=form, error=auth.CODE_FAILURE), 422
    target = session.get(AFTER_SIGN_IN) or url_for("home.index")
    if method == "recovery":
        notices.send(member, "recovery_code_used")
    _complete_sign_in(member)
    db.session.commit()
    if method == "recovery":
        flash(
            "You signed in with a recovery code; it cannot be used again. If you lost your "
            "phone, set up a new authenticator under Profile → Two-factor.",
            "warning",
        )
    return redirect(safe_next(target, url_for("home.index")))


@bp.route("/sign-in/enrol", methods=["GET", "POST"])
@limiter.limit(
    SECOND_FACTOR_LIMITS,
    key_func=_second_factor_key,
    methods=["POST"],
    on_breach=_locked_out("second_factor"),
)
def sign_in_enrol() -> Response | str | tuple[str, int]:
    """Second step for a member whose authenticator a coordinator reset: enrol a new one."""
    member = _pending_member()
    if member is None:
        session.pop(PENDING_MEMBER, None)
        flash("Please sign in again: the second step must follow within five minutes.")
        return redirect(url_for("members.sign_in"))
    if not account.needs_enrolment(member):
        return redirect(url_for("members.sign_in_code"))
    secret = account.pending_factor(member)
    if secret is None:  # made by the password step; gone only if a coordinator acted since
        return redirect(url_for("members.sign_in"))
    form = CodeForm()
    issuer = current_app.config["EXCHANGE"]["app"]["name"]
    uri = totp.provisioning_uri(secret, member.email, issuer)
    context = {
        "form": form,
        "secret": totp.grouped_secret(secret),
        "plain_secret": secret,
        "qr_svg": totp.qr_svg(uri),
        "uri": uri,
    }
    if request.method == "GET":
        return render_template("members/sign_in_enrol.html", **context)
    if not form.validate_on_submit():
        return render_template("members/sign_in_enrol.html", **context), 422
    try:
        codes = account.confirm_factor_reset(member, form.code.data, keep=None)
    except MemberError as error:
        db.session.rollback()
        return render_template("members/sign_in_enrol.html", error=str(error), **context), 422
    member.last_sign_in_at = utcnow()
    audit.record(
        "sign_in", actor=member, target_type="member", target_id=member.id, method="enrolment"
    )
    notices.send(member, "factor_reset")
    _complete_sign_in(member)
    db.session.commit()
    return render_template("members/recovery_codes.html", codes=codes, first_time=False)


@bp.post("/sign-out")
def sign_out() -> Response:
    """End this browser's session."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("home.index"))
    if current_user.is_authenticated:
        member = current_user._get_current_object()
        end_current_session("logout")
        audit.record("sign_out", actor=member, target_type="member", target_id=member.id)
        db.session.commit()
    session.clear()
    flash("You have signed out.")
    return redirect(url_for("members.sign_in"))


@bp.get("/invite/<token>")
def redeem_invite(token: str) -> Response:
    """Take the token out of the address bar at once: keep it in the session, show a clean URL."""
    session[INVITE_TOKEN] = token
    return redirect(url_for("members.join"), code=303)


def _session_invite() -> tuple[Invite | None, str | None]:
    token = session.get(INVITE_TOKEN)
    invite = invites.find_invite(token) if isinstance(token, str) else None
    return invite, invites.invite_problem(invite)


def _invite_problem_page(problem: str, invite: Invite | None) -> tuple[str, int]:
    status = 404 if invite is None else 410
    return render_template("members/invite_problem.html", problem=problem), status


@bp.route("/join", methods=["GET", "POST"])
def join() -> Response | str | tuple[str, int]:
    """Registration, step one: the invited address, a name and a password."""
    invite, problem = _session_invite()
    if problem or invite is None:
        return _invite_problem_page(problem or invites.REASONS["unknown"], invite)
    form = JoinForm()
    if request.method == "GET":
        return render_template("members/join.html", form=form, invite=invite)
    form.validate_on_submit()
    # Every problem at once, each at its field (the form's own and the invite's rules).
    problems = registration.registration_problems(
        invite,
        email=form.email.data or "",
        name=form.name.data or "",
        password=form.password.data or "",
    )
    for name, problem in problems.items():
        field = getattr(form, name)
        if not field.errors:
            field.errors = [*field.errors, problem]
    if any(f.errors for f in form):
        return render_template("members/join.html", form=form, invite=invite), 422
    invite_id = invite.id
    release_write_lock()  # Argon2id without the write lock
    password_hash = hash_password(form.password.data)
    begin_write()
    invite = db.session.get(Invite, invite_id)
    if invite is None:
        return _invite_problem_page(invites.REASONS["unknown"], None)
    try:
        registration.start_registration(
            invite, email=form.email.data, name=form.name.data, password_hash=password_hash
        )
    except MemberError as error:
        db.session.rollback()
        return render_template("members/join.html", form=form, invite=invite, error=str(error)), 422
    db.session.commit()
    return redirect(url_for("members.join_two_factor"))


@bp.route("/join/two-factor", methods=["GET", "POST"])
@limiter.limit(SECOND_FACTOR_LIMITS, key_func=_invite_key, methods=["POST"])
def join_two_factor() -> Response | str | tuple[str, int]:
    """Registration, step two: enrol an authenticator app and confirm one code."""
    invite, problem = _session_invite()
    if problem or invite is None:
        return _invite_problem_page(problem or invites.REASONS["unknown"], invite)
    if not registration.has_pending_details(invite):
        return redirect(url_for("members.join"))
    form = CodeForm()
    enrolment = registration.enrolment(invite)
    grouped = totp.grouped_secret(enrolment.secret)
    if request.method == "GET":
        return render_template(
            "members/join_two_factor.html", form=form, enrolment=enrolment, grouped=grouped
        )
    error = None
    if form.validate_on_submit():
        try:
            member, codes = registration.complete_registration(invite, form.code.data)
        except MemberError as failure:
            db.session.rollback()
            error = str(failure)
        else:
            sign_in_browser(member)
            label_new_session()
            devices.remember_after_request(member)
            db.session.commit()
            # Shown once, in this response only: nothing keeps them but their hashes.
            return render_template("members/recovery_codes.html", codes=codes, first_time=True)
    enrolment = registration.enrolment(invite)
    return render_template(
        "members/join_two_factor.html",
        form=form,
        enrolment=enrolment,
        grouped=totp.grouped_secret(enrolment.secret),
        error=error,
    ), 422


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
@secret_check_limit()
def reauth() -> Response | str | tuple[str, int]:
    """Re-enter the password (and a code from the authenticator) before a sensitive change."""
    form = ReauthForm()
    member = current_user._get_current_object()
    next_url = safe_next(request.values.get("next"), url_for("members.profile"))
    page = {"form": form, "next": next_url, "ask_code": auth.needs_code_to_confirm(member)}
    if request.method == "GET":
        return render_template("members/reauth.html", **page)
    if form.validate_on_submit():
        release_write_lock()  # Argon2id without the write lock
        ok = auth.password_matches(member, form.password.data)
        begin_write()
        ok = ok and auth.code_confirms(member, form.code.data)
        auth.record_reauth(member, ok)
        if ok:
            mark_reauthenticated()
            db.session.commit()
            return redirect(next_url)
        db.session.commit()
        error = (
            "That password or code is not right."
            if page["ask_code"]
            else "That password is not right."
        )
        return render_template("members/reauth.html", error=error, **page), 422
    return render_template("members/reauth.html", **page), 422
