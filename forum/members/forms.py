"""Forms of the members feature (every one a `forum.forms.Form`: each POST carries a CSRF token)."""

from __future__ import annotations

from typing import Any

from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from forum.countries import CountriesField, CountryField, time_zones
from forum.forms import Form
from forum.members.models import ROLES, SECTORS

EMAIL = [DataRequired("Please give an e-mail address."), Length(max=254)]


class SignInForm(Form):
    email = EmailField("E-mail address", validators=EMAIL)
    password = PasswordField(
        "Password", validators=[DataRequired("Please give your password."), Length(max=128)]
    )


class CodeForm(Form):
    code = StringField("Code", validators=[DataRequired("Please type the code."), Length(max=32)])


class JoinForm(Form):
    email = EmailField("Your e-mail address (the one the invitation was sent to)", validators=EMAIL)
    name = StringField(
        "Your name", validators=[DataRequired("Please give your name."), Length(max=120)]
    )
    password = PasswordField(
        "Choose a password (12 to 128 characters)",
        validators=[DataRequired("Please choose a password.")],
    )
    confirm = PasswordField(
        "Type the password again", validators=[DataRequired("Please type the password again.")]
    )

    def validate_confirm(self, field: PasswordField) -> None:
        if field.data != self.password.data:
            raise ValidationError("The two passwords are not the same.")

    def payload(self) -> dict[str, Any]:
        return {"email": self.email.data, "name": self.name.data, "password": self.password.data}


class NewPasswordForm(Form):
    """A new password typed twice; the second copy is checked here, never handed on."""

    new = PasswordField(
        "New password (12 to 128 characters)",
        validators=[DataRequired("Please choose a new password.")],
    )
    confirm = PasswordField(
        "Type the new password again",
        validators=[DataRequired("Please type the new password again.")],
    )

    def validate_confirm(self, field: PasswordField) -> None:
        if field.data != self.new.data:
            raise ValidationError("The two new passwords are not the same.")

    def payload(self) -> dict[str, Any]:
        return {k: v for k, v in super().payload().items() if k != "confirm"}


class PasswordForm(NewPasswordForm):
    current = PasswordField(
        "Current password", validators=[DataRequired("Please give your current password.")]
    )


class ReauthForm(Form):
    password = PasswordField(
        "Your password", validators=[DataRequired("Please give your password."), Length(max=128)]
    )
    code = StringField("Code from your authenticator app", validators=[Optional(), Length(max=32)])


class ProfileForm(Form):
    name = StringField("Name", validators=[DataRequired("Please give your name."), Length(max=120)])
    country = CountryField("Country", validators=[Optional()])
    expertise = TextAreaField("Expertise", validators=[Length(max=2000)])
    languages = StringField("Languages", validators=[Length(max=200)])
    timezone = SelectField("Time zone", choices={})
    contact_points = CountriesField("Contact point for countries", validators=[Optional()])
    notifications = BooleanField("Send me e-mail notifications")

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

    def payload(self) -> dict[str, Any]:
        return {
            "name": self.name.data or "",
            "country": self.country.data or "",
            "expertise": self.expertise.data or "",
            "languages": self.languages.data or "",
            "timezone": self.timezone.data or "",
            "contact_point_countries": self.contact_points.data or [],
            "is_email_notifications": bool(self.notifications.data),
        }


class NominateForm(Form):
    email = EmailField("Their e-mail address", validators=EMAIL)
    name = StringField(
        "Their name", validators=[DataRequired("Please give their name."), Length(max=120)]
    )
    organisation = StringField("Their organisation", validators=[Length(max=200)])
    reason = TextAreaField(
        "Why should they join? (only coordinators read this)",
        validators=[DataRequired("Please say why they should join."), Length(max=2000)],
    )

    def payload(self) -> dict[str, Any]:
        return {
            "email": self.email.data,
            "name": self.name.data,
            "organisation_name": self.organisation.data or "",
            "reason": self.reason.data,
        }


class InviteForm(Form):
    email = EmailField("E-mail address", validators=EMAIL)
    role = SelectField("Role", choices={r: r.capitalize() for r in ROLES[::-1]})
    organisation = StringField("Organisation (optional)", validators=[Length(max=200)])
    replace = BooleanField("Send a new invitation: the earlier link stops working")

    def payload(self) -> dict[str, Any]:
        return {
            "email": self.email.data,
            "role": self.role.data,
            "organisation_name": self.organisation.data or None,
            "replace_open": bool(self.replace.data),
        }


class RoleForm(Form):
    role = SelectField("Role", choices={r: r.capitalize() for r in ROLES})


class OrganisationForm(Form):
    name = StringField(
        "Name", validators=[DataRequired("Please give the organisation's name."), Length(max=200)]
    )
    country = CountryField("Country", validators=[Optional()])
    sector = SelectField("Sector", choices=dict(SECTORS))

    def payload(self) -> dict[str, Any]:
        return {
            "name": self.name.data,
            "country": self.country.data or "",
            "sector": self.sector.data,
        }


class ForgotForm(Form):
    email = EmailField("Your e-mail address", validators=EMAIL)


class ResetForm(NewPasswordForm):
    code = StringField(
        "Code from your authenticator app, or a recovery code", validators=[Length(max=32)]
    )


class RecoverMemberForm(Form):
    voucher = EmailField(
        "E-mail address of the member who vouched for this person", validators=EMAIL
    )
    confirmed = BooleanField(
        "I re-checked this person's identity and organisation with that member",
        validators=[DataRequired("Please confirm that you re-checked who this person is.")],
    )
