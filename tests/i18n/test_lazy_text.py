"""A lazy text is escaped in a page like any string: Flask-Babel's own LazyString tells Jinja
it is HTML already, so a value in it (a name, a title) or a quote in an attribute went in as it
was. forum.lazytext is what every lazy text of the Exchange is made with."""

from __future__ import annotations

import ast
from pathlib import Path

from flask import render_template_string

from forum.lazytext import lazy_gettext, lazy_ngettext

ROOT = Path(__file__).resolve().parents[2]


def test_a_lazy_text_and_its_values_are_escaped_in_a_page(app):
    with app.test_request_context("/"):
        text = lazy_gettext("Reply from %(name)s", name='<script>alert("x")</script>')
        page = render_template_string('<a title="{{ t }}">{{ t }}</a>', t=text)
        assert "<script>" not in page and "&lt;script&gt;" in page
        assert 'title="Reply from &lt;script&gt;alert(&#34;x&#34;)' in page
        plural = lazy_ngettext("%(num)d reply", "%(num)d replies", 2)
        assert render_template_string("{{ t }}", t=plural) == "2 replies"


def test_no_module_makes_flask_babels_unescaped_lazy_strings():
    offenders = []
    for path in (ROOT / "forum").rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "flask_babel":
                names = {alias.name for alias in node.names}
                if names & {"lazy_gettext", "lazy_ngettext", "lazy_pgettext"}:
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
