"""Forms of the members feature (every one a `forum.forms.Form`: each POST carries a CSRF token)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from forum.countries import CountriesField, CountryField, time_zones
from forum.forms import Form
from forum.i18n import LANGUAGES
from forum.lazytext import lazy_gettext as _l
from forum.members.models import ROLE_LABELS, ROLES, SECTORS


def _choices(labels: Mapping[str, Any]) -> list[SelectChoice]:
    """Options from {stored value: label} (labels may be lazy texts, translated when shown)."""
    return [SelectChoice(value, label) for value, label in labels.items()]


def language_choices() -> list[SelectChoice]:
    """The interface languages, each named in itself, after "Follow my browser" (no choice)."""
    return _choices({"": _l("Follow my browser"), **LANGUAGES})


EMAIL = [DataRequired(_l("Please give an e-mail address.")), Length(max=254)]


class SignInForm(Form):
    email = EmailField(_l("E-mail address"), validators=EMAIL)
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Please give your password.")), Length(max=128)]
    )


class CodeForm(Form):
    code = StringField(
        _l("Code"), validators=[DataRequired(_l("Please type the code.")), Length(max=32)]
    )


class JoinForm(Form):
    email = EmailField(
        _l("Your e-mail address (the one the invitation was sent to)"), validators=EMAIL
    )
    name = StringField(
        _l("Your name"), validators=[DataRequired(_l("Please give your name.")), Length(max=120)]
    )
    password = PasswordField(
        _l("Choose a password (12 to 128 characters)"),
        validators=[DataRequired(_l("Please choose a password."))],
    )
    confirm = PasswordField(
        _l("Type the password again"),
        validators=[DataRequired(_l("Please type the password again."))],
    )
    locale = SelectField(_l("Language"), choices=language_choices(), default="")
    # Filled in by the browser's own zone (static/exchange.js, data-zone-from-browser) when the
    # page opens; quiet hours, calls and deadlines follow it. UTC until she picks one.
    timezone = SelectField(_l("Time zone"), choices={}, default="UTC")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = {"UTC": "UTC", **{z: z for z in time_zones()}}

    def validate_confirm(self, field: PasswordField) -> None:
        if field.data != self.password.data:
            raise ValidationError(_l("The two passwords are not the same."))

    def payload(self) -> dict[str, Any]:
        return {"email": self.email.data, "name": self.name.data, "password": self.password.data}


class NewPasswordForm(Form):
    """A new password typed twice; the second copy is checked here, never handed on."""

    new = PasswordField(
        _l("New password (12 to 128 characters)"),
        validators=[DataRequired(_l("Please choose a new password."))],
    )
    confirm = PasswordField(
        _l("Type the new password again"),
        validators=[DataRequired(_l("Please type the new password again."))],
    )

    def validate_confirm(self, field: PasswordField) -> None:
        if field.data != self.new.data:
            raise ValidationError(_l("The two new passwords are not the same."))

    def payload(self) -> dict[str, Any]:
        return {k: v for k, v in super().payload().items() if k != "confirm"}


class PasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Please give your current password."))]
    )


class ReauthForm(Form):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(_l("Please give your password.")), Length(max=128)],
    )
    code = StringField(
        _l("Code from your authenticator app"), validators=[Optional(), Length(max=32)]
    )


class ProfileForm(Form):
    name = StringField(
        _l("Name"), validators=[DataRequired(_l("Please give your name.")), Length(max=120)]
    )
    country = CountryField(_l("Country"), validators=[Optional()])
    expertise = TextAreaField(_l("Expertise"), validators=[Length(max=2000)])
    languages = StringField(_l("Languages"), validators=[Length(max=200)])
    timezone = SelectField(_l("Time zone"), choices={})
    contact_points = CountriesField(_l("Contact point for countries"), validators=[Optional()])
    notifications = BooleanField(_l("Send me e-mail notifications"))
    locale = SelectField(_l("Language"), choices=language_choices(), default="")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.timezone.choices = {z: z for z in time_zones()}

    def fill(self, member: Any) -> None:
        """Show the member's current profile."""
        self.name.data = member.display_name
        self.country.data = member.country
        self.expertise.data = member.expertise
        self.languages.data = member.languages
        self.timezone.data = member.timezone
        self.contact_points.data = member.contact_points
        self.notifications.data = member.is_email_notifications
        self.locale.data = member.locale or ""

    def payload(self) -> dict[str, Any]:
        return {
            "name": self.name.data or "",
            "country": self.country.data or "",
            "expertise": self.expertise.data or "",
            "languages": self.languages.data or "",
            "timezone": self.timezone.data or "",
            "contact_point_countries": self.contact_points.data or [],
            "is_email_notifications": bool(self.notifications.data),
            "locale": self.locale.data or "",
        }


class NominateForm(Form):
    email = EmailField(_l("Their e-mail address"), validators=EMAIL)
    name = StringField(
        _l("Their name"), validators=[DataRequired(_l("Please give their name.")), Length(max=120)]
    )
    organisation = StringField(_l("Their organisation"), validators=[Length(max=200)])
    reason = TextAreaField(
        _l("Why should they join? (only coordinators read this)"),
        validators=[DataRequired(_l("Please say why they should join.")), Length(max=2000)],
    )

    def payload(self) -> dict[str, Any]:
        return {
            "email": self.email.data,
            "name": self.name.data,
            "organisation_name": self.organisation.data or "",
            "reason": self.reason.data,
        }


class InviteForm(Form):
    email = EmailField(_l("E-mail address"), validators=EMAIL)
    role = SelectField(_l("Role"), choices=_choices({r: ROLE_LABELS[r] for r in ROLES[::-1]}))
    organisation = StringField(_l("Organisation (optional)"), validators=[Length(max=200)])
    replace = BooleanField(_l("Send a new invitation: the earlier link stops working"))

    def payload(self) -> dict[str, Any]:
        return {
            "email": self.email.data,
            "role": self.role.data,
            "organisation_name": self.organisation.data or None,
            "replace_open": bool(self.replace.data),
        }


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=_choices({r: ROLE_LABELS[r] for r in ROLES}))


class OrganisationForm(Form):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(_l("Please give the organisation's name.")), Length(max=200)],
    )
    country = CountryField(_l("Country"), validators=[Optional()])
    sector = SelectField(_l("Sector"), choices=_choices(SECTORS))

    def payload(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "country": self.country.data or "",
            "sector": self.sector.data,
        }


class ForgotForm(Form):
    email = EmailField(_l("Your e-mail address"), validators=EMAIL)


class ResetForm(NewPasswordForm):
    code = StringField(
        _l("Code from your authenticator app, or a recovery code"), validators=[Length(max=32)]
    )


class RecoverMemberForm(Form):
    voucher = EmailField(
        _l("E-mail address of the member who vouched for this person"), validators=EMAIL
    )
    confirmed = BooleanField(
        _l("I re-checked this person's identity and organisation with that member"),
        validators=[DataRequired(_l("Please confirm that you re-checked who this person is."))],
    )
