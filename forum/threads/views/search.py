"""The search route: titles and posts of the threads the member may read."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from forum.members import services as members_services
from forum.threads import pages, services
from forum.threads import search as search_service
from forum.threads.forms import SearchForm, choices
from forum.threads.views import bp


@bp.get("/threads/search")
@login_required
def search() -> str:
    """Search titles and posts of the threads the member may read."""
    form = SearchForm(request.args)
    categories = [(c.id, c.name) for c in services.list_categories()]
    form.category.choices = choices([("", _("Any category")), *categories])
    form.author.choices = choices([("", _("Anyone")), *pages.member_choices()])
    page = max(request.args.get("page", type=int) or 1, 1)
    query = search_service.Query(**form.payload()) if form.validate() else search_service.Query()
    offset = (page - 1) * 20
    results = None if query.is_empty else search_service.search(current_user, query, offset=offset)
    authors = members_services.display_names(
        {r.author_id for r in results.items} if results else ()
    )
    shown = {"form": form, "results": results, "page": page, "authors": authors}
    return render_template("threads/search.html", **shown)
