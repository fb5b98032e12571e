"""Drafts: what a member typed into a form and has not posted yet, sealed on the server.

A small platform service the features call (it imports no feature): a feature names its forms
once (`drafts.register(...)`, one line per form) and discards the draft when the post is made;
static/drafts.js saves as the member types and restores the text on the form's page; a POST that
arrives after the session ended keeps its text (forum.members.expired) until the member signs in.
"""

from flask import Flask, url_for

from forum.drafts.service import (
    MAX_DRAFTS,
    MAX_TEXT,
    DraftError,
    DraftForm,
    discard,
    erase_member,
    form_for,
    load,
    register,
    save,
)
from forum.drafts.views import bp

__all__ = [
    "DraftError",
    "MAX_DRAFTS",
    "MAX_TEXT",
    "DraftForm",
    "discard",
    "erase_member",
    "form_for",
    "load",
    "register",
    "init_app",
    "save",
]


def init_app(app: Flask) -> None:
    """Register the drafts routes and the template helper `draft_attrs(key)`."""
    app.register_blueprint(bp)

    def draft_attrs(form_key: str) -> dict[str, str]:
        """The attributes that make a textarea keep its draft (static/drafts.js)."""
        return {
            "data_draft_key": form_key,
            "data_draft_url": url_for("drafts.text"),
            "data_draft_discard_url": url_for("drafts.discard"),
        }

    app.add_template_global(draft_attrs)
