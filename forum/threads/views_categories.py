"""Routes for categories (threads bp): the list, and coordinators' create, rename and remove."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.extensions import db
from forum.threads import categories as service
from forum.threads.blueprint import bp
from forum.threads.errors import ThreadError
from forum.threads.forms import CategoryForm, EmptyForm
from forum.threads.models import Category


def _coordinator_category(category_id: str) -> Category:
    if not current_user.is_coordinator:
        abort(403)
    found = db.session.get(Category, category_id)
    if found is None:
        abort(404)
    return found


def _edit_page(category: Category, form: CategoryForm, status: int = 200,
               error: str | None = None) -> tuple[str, int]:  # fmt: skip
    return render_template("threads/category_edit.html", category=category, form=form,
                           threads=service.thread_count(category),
                           error=error), status  # fmt: skip


@bp.route("/threads/categories/<category_id>/edit", methods=["GET", "POST"])
@login_required
def edit_category(category_id: str) -> Response | tuple[str, int]:
    """Rename a category or change its description (coordinators)."""
    category = _coordinator_category(category_id)
    form = CategoryForm(obj=category)
    if not form.is_submitted():
        return _edit_page(category, form)
    if not form.validate():
        return _edit_page(category, form, 422)
    try:
        service.rename_category(actor=current_user, category=category,
                                name=form.name.data or "", description=form.description.data or "")  # fmt: skip
    except ThreadError as error:
        db.session.rollback()
        form.name.errors = [str(error)]
        return _edit_page(category, form, 422)
    db.session.commit()
    flash("The category was saved.")
    return redirect(url_for("threads.categories"))


@bp.post("/threads/categories/<category_id>/remove")
@login_required
def remove_category(category_id: str) -> Response | tuple[str, int]:
    """Remove an empty category (coordinators); one that holds threads is refused in words."""
    category = _coordinator_category(category_id)
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        service.remove_category(actor=current_user, category=category)
    except ThreadError as error:
        db.session.rollback()
        category = _coordinator_category(category_id)
        return _edit_page(category, CategoryForm(obj=category), 409, error=str(error))
    db.session.commit()
    flash("The category was removed.")
    return redirect(url_for("threads.categories"))
