"""Routes for members: the directory, profiles, one's own account, sessions and nominations."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.countries import country_name
from forum.extensions import db
from forum.members import account, devices, policy, services, totp, vetting
from forum.members.blueprint import bp
from forum.members.forms import CodeForm, EmptyForm, NominateForm, PasswordForm, ProfileForm
from forum.members.models import Member, Nomination
from forum.members.services import MemberError
from forum.members.sessions import current_session, end_all_sessions, live_sessions
from forum.members.web import begin_write, reauth_required, release_write_lock
from forum.security import audit
from forum.security.ratelimit import secret_check_limit


@bp.get("/members")
@login_required
def directory() -> str:
    """The member directory: search by name, filter by country and expertise."""
    query = request.args.get("q", "")[:100]
    country = request.args.get("country", "")[:2]
    expertise = request.args.get("expertise", "")[:100]
    found = services.directory(query=query, country=country, expertise=expertise)
    return render_template(
        "members/directory.html",
        members=found,
        q=query,
        country=country,
        expertise=expertise,
        countries=[(c, country_name(c)) for c in services.member_countries()],
        country_name=country_name,
    )


@bp.get("/members/<member_id>")
@login_required
def show(member_id: str) -> str:
    """Another member's profile."""
    member = db.session.get(Member, member_id)
    if member is None or not policy.can_see_profile(current_user, member):
        abort(404)
    return render_template("members/show.html", member=member, country_name=country_name)


def _profile_form() -> ProfileForm:
    member = current_user
    form = ProfileForm()
    if request.method == "GET":
        form.name.data = member.display_name
        form.country.data = member.country
        form.expertise.data = member.expertise
        form.languages.data = member.languages
        form.timezone.data = member.timezone
        form.contact_points.data = member.contact_points
        form.notifications.data = member.is_email_notifications
    return form


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile() -> Response | str | tuple[str, int]:
    """Your own profile: view and edit it."""
    form = _profile_form()
    context = {
        "form": form,
        "codes_left": totp.recovery_codes_left(current_user),
        "country_name": country_name,
    }
    if request.method == "GET":
        return render_template("members/profile.html", **context)
    if not form.validate_on_submit():
        return render_template("members/profile.html", **context), 422
    change = account.ProfileChange(
        name=form.name.data or "",
        country=form.country.data or "",
        expertise=form.expertise.data or "",
        languages=form.languages.data or "",
        timezone=form.timezone.data or "",
        contact_point_countries=form.contact_points.data or [],
        is_email_notifications=bool(form.notifications.data),
    )
    try:
        account.update_profile(current_user, change)
    except MemberError as error:
        db.session.rollback()
        return render_template("members/profile.html", error=str(error), **context), 422
    db.session.commit()
    flash("Your profile is saved.")
    return redirect(url_for("members.profile"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@secret_check_limit()
def change_password() -> Response | str | tuple[str, int]:
    """Change your password; every other session ends."""
    form = PasswordForm()
    if request.method == "GET":
        return render_template("members/password.html", form=form)
    if not form.validate_on_submit():
        return render_template("members/password.html", form=form), 422
    member = current_user._get_current_object()
    release_write_lock()  # the Argon2id checks and the new hash run without the write lock
    change = account.prepare_password_change(member, current=form.current.data, new=form.new.data)
    begin_write()
    try:
        ended = account.apply_password_change(member, change, keep=current_session())
    except MemberError as error:
        db.session.commit()  # keep the audit of a wrong current password
        field = form.new if change.current_ok else form.current
        field.errors = [str(error)]
        return render_template("members/password.html", form=form), 422
    devices.remember_after_request(member)  # the change revoked the old device cookies
    db.session.commit()
    flash(
        "Your password is changed."
        + (f" {ended} other session(s) were signed out." if ended else "")
    )
    return redirect(url_for("members.profile"))


@bp.get("/account/sessions")
@login_required
def sessions() -> str:
    """Your signed-in browsers."""
    idle, absolute = account.session_timeouts()
    return render_template(
        "members/sessions.html",
        rows=live_sessions(current_user),
        this=current_session(),
        form=EmptyForm(),
        idle=idle,
        absolute=absolute,
    )


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions() -> Response:
    """Sign out every other browser."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = end_all_sessions(current_user, "signed_out_elsewhere", keep=current_session())
    audit.record(
        "sessions.ended",
        actor=current_user,
        target_type="member",
        target_id=current_user.id,
        count=ended,
    )
    db.session.commit()
    flash(f"Signed out {ended} other session(s).")
    return redirect(url_for("members.sessions"))


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
@secret_check_limit()
@reauth_required("members.two_factor")
def two_factor() -> Response | str | tuple[str, int]:
    """Set up a new authenticator app (lost or new phone); confirmed with one code."""
    form = CodeForm()
    if request.method == "POST" and "start" in request.form:
        if not EmptyForm().validate_on_submit():
            abort(400)
        account.begin_factor_reset(current_user)
        db.session.commit()
        return redirect(url_for("members.two_factor"))
    secret = account.pending_factor(current_user)
    context: dict[str, object] = {"form": form, "start_form": EmptyForm()}
    if secret is not None:
        issuer = current_app.config["EXCHANGE"]["app"]["name"]
        uri = totp.provisioning_uri(secret, current_user.email, issuer)
        context.update(
            secret=totp.grouped_secret(secret),
            qr_svg=totp.qr_svg(uri),
            plain_secret=secret,
            uri=uri,
        )
    if request.method == "GET":
        return render_template("members/two_factor.html", **context)
    if secret is None or not form.validate_on_submit():
        return render_template("members/two_factor.html", **context), 422
    try:
        codes = account.confirm_factor_reset(current_user, form.code.data, keep=current_session())
    except MemberError as error:
        db.session.rollback()
        return render_template("members/two_factor.html", error=str(error), **context), 422
    db.session.commit()
    return render_template("members/recovery_codes.html", codes=codes, first_time=False)


@bp.post("/account/recovery-codes")
@login_required
@secret_check_limit()
@reauth_required("members.profile")
def renew_recovery_codes() -> str:
    """Replace your recovery codes; the new ones are shown once."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    codes = account.new_recovery_codes(current_user)
    db.session.commit()
    return render_template("members/recovery_codes.html", codes=codes, first_time=False)


@bp.route("/nominate", methods=["GET", "POST"])
@login_required
def nominate() -> Response | str | tuple[str, int]:
    """Propose someone for membership; coordinators vet the nomination."""
    form = NominateForm()
    mine = list(
        db.session.scalars(
            db.select(Nomination)
            .where(Nomination.nominator_id == current_user.id)
            .order_by(Nomination.created_at.desc())
            .limit(20)
        )
    )
    if request.method == "GET":
        return render_template("members/nominate.html", form=form, mine=mine)
    if not form.validate_on_submit():
        return render_template("members/nominate.html", form=form, mine=mine), 422
    try:
        vetting.nominate(
            current_user,
            email=form.email.data,
            name=form.name.data,
            organisation_name=form.organisation.data or "",
            reason=form.reason.data,
        )
    except MemberError as error:
        db.session.rollback()
        return render_template("members/nominate.html", form=form, mine=mine, error=str(error)), 422
    db.session.commit()
    flash("Thank you. The coordinators will vet your nomination.")
    return redirect(url_for("members.nominate"))
