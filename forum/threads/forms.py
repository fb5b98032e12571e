"""Forms of the threads feature (every POST goes through a FlaskForm, so it carries CSRF)."""

from __future__ import annotations

from collections.abc import Iterable

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from forum.markup import tlp
from forum.security.pii import PII_CONFIRM
from forum.threads.services import BODY_TOO_LONG, MAX_BODY, MAX_TITLE, TITLE_TOO_LONG

__all__ = ["PII_CONFIRM", "choices"]


def choices(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class EmptyForm(FlaskForm):
    """A button that posts: only the CSRF token."""


class ThreadForm(FlaskForm):
    """Start a thread."""

    title = StringField("Title", validators=[DataRequired("Please give the thread a title."),
                                             Length(max=MAX_TITLE, message=TITLE_TOO_LONG)])  # fmt: skip
    category = SelectField("Category", validators=[DataRequired("Choose a category.")])
    label = SelectField("TLP label", choices=choices(tlp.CHOICES), default=tlp.AMBER)
    tags = StringField("Tags (comma-separated)",
                       validators=[Optional(), Length(max=400, message="Please use fewer tags.")])  # fmt: skip
    participants = SelectMultipleField("Participants (TLP:RED only)", choices=[])
    body = TextAreaField("First post (Markdown)",
                         validators=[DataRequired("Please write something."),
                                     Length(max=MAX_BODY, message=BODY_TOO_LONG)])  # fmt: skip
    attachment = FileField("Attach a file (optional)")
    pending_attachment = HiddenField()
    drop_attachment = BooleanField("Do not attach it")
    confirm_pii = BooleanField(PII_CONFIRM)

    def tag_list(self) -> list[str]:
        return [t for t in (self.tags.data or "").split(",") if t.strip()]


class ReplyForm(FlaskForm):
    """Reply in a thread."""

    body = TextAreaField("Your reply (Markdown)",
                         validators=[DataRequired("Please write something."),
                                     Length(max=MAX_BODY, message=BODY_TOO_LONG)])  # fmt: skip
    quote_of = HiddenField()
    attachment = FileField("Attach a file (optional)")
    pending_attachment = HiddenField()
    drop_attachment = BooleanField("Do not attach it")
    confirm_pii = BooleanField(PII_CONFIRM)


class EditForm(FlaskForm):
    """Edit a post."""

    body = TextAreaField("Post (Markdown)",
                         validators=[DataRequired("Please write something."),
                                     Length(max=MAX_BODY, message=BODY_TOO_LONG)])  # fmt: skip
    confirm_pii = BooleanField(PII_CONFIRM)


class FlagForm(FlaskForm):
    """Flag a post to the coordinators."""

    reason = TextAreaField("Why should a coordinator look at this post?",
                           validators=[DataRequired("Please give a reason."),
                                       Length(max=1000)])  # fmt: skip


class LabelForm(FlaskForm):
    """Change a thread's TLP label."""

    label = SelectField("New TLP label", choices=choices(tlp.CHOICES))
    confirm_lowering = BooleanField("I confirm lowering the label, so more people may read "
                                    "and share this thread")  # fmt: skip


class ParticipantForm(FlaskForm):
    """Add or remove a participant of a RED thread."""

    member_id = SelectField("Member", choices=[])
    action = HiddenField(default="add")


class WatchForm(FlaskForm):
    """Follow, mute or reset a thread or category."""

    level = HiddenField()


class MoveForm(FlaskForm):
    """Move a thread to another category."""

    category = SelectField("Move to category", choices=[])


class CategoryForm(FlaskForm):
    """Create a category."""

    name = StringField("Name", validators=[DataRequired("Please give a name."), Length(max=120)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=1000)])


class SearchForm(FlaskForm):
    """Search (a GET form: no CSRF token needed)."""

    class Meta:
        csrf = False

    q = StringField('Words or "a phrase"', validators=[Optional(), Length(max=300)])
    author = SelectField("Author", choices=[], validators=[Optional()])
    category = SelectField("Category", choices=[], validators=[Optional()])
    tag = StringField("Tag", validators=[Optional(), Length(max=40)])
    label = SelectField("Label", choices=choices([("", "Any label"), *tlp.CHOICES]),
                        validators=[Optional()])  # fmt: skip
    date_from = DateField("From", validators=[Optional()])
    date_to = DateField("To", validators=[Optional()])
