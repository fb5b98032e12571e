"""Forms of the members feature (Flask-WTF: every POST carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
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
from forum.members.models import ROLES, SECTORS

EMAIL = [DataRequired("Please give an e-mail address."), Length(max=254)]


class EmptyForm(FlaskForm):
    """A button that changes state: only the CSRF token."""


class SignInForm(FlaskForm):
    email = EmailField("E-mail address", validators=EMAIL)
    password = PasswordField(
        "Password", validators=[DataRequired("Please give your password."), Length(max=128)]
    )


class CodeForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired("Please type the code."), Length(max=32)])


class JoinForm(FlaskForm):
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


class PasswordForm(FlaskForm):
    current = PasswordField(
        "Current password", validators=[DataRequired("Please give your current password.")]
    )
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


class ReauthForm(FlaskForm):
    password = PasswordField(
        "Your password", validators=[DataRequired("Please give your password."), Length(max=128)]
    )
    code = StringField("Code from your authenticator app", validators=[Optional(), Length(max=32)])


class ProfileForm(FlaskForm):
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


class NominateForm(FlaskForm):
    email = EmailField("Their e-mail address", validators=EMAIL)
    name = StringField(
        "Their name", validators=[DataRequired("Please give their name."), Length(max=120)]
    )
    organisation = StringField("Their organisation", validators=[Length(max=200)])
    reason = TextAreaField(
        "Why should they join? (only coordinators read this)",
        validators=[DataRequired("Please say why they should join."), Length(max=2000)],
    )


class InviteForm(FlaskForm):
    email = EmailField("E-mail address", validators=EMAIL)
    role = SelectField("Role", choices={r: r.capitalize() for r in ROLES[::-1]})
    organisation = StringField("Organisation (optional)", validators=[Length(max=200)])
    replace = BooleanField("Send a new invitation: the earlier link stops working")


class RoleForm(FlaskForm):
    role = SelectField("Role", choices={r: r.capitalize() for r in ROLES})


class OrganisationForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Please give the organisation's name."), Length(max=200)]
    )
    country = CountryField("Country", validators=[Optional()])
    sector = SelectField("Sector", choices=dict(SECTORS))


class ForgotForm(FlaskForm):
    email = EmailField("Your e-mail address", validators=EMAIL)


class ResetForm(FlaskForm):
    code = StringField(
        "Code from your authenticator app, or a recovery code", validators=[Length(max=32)]
    )
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


class RecoverMemberForm(FlaskForm):
    voucher = EmailField(
        "E-mail address of the member who vouched for this person", validators=EMAIL
    )
    confirmed = BooleanField(
        "I re-checked this person's identity and organisation with that member",
        validators=[DataRequired("Please confirm that you re-checked who this person is.")],
    )
