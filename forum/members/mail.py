"""The members' e-mail texts, written as templates under templates/email/.

A template's first paragraph is the subject, the rest the body (plain text, never escaped).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, render_template


def email_text(name: str, **context: Any) -> tuple[str, str]:
    """The subject and body of the e-mail `templates/email/<name>.txt`, the app's name given."""
    app_name = current_app.config["EXCHANGE"]["app"]["name"]
    text = render_template(f"email/{name}.txt", app_name=app_name, **context)
    subject, _, body = text.partition("\n\n")
    return subject.strip(), body.strip()
