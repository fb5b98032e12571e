"""Routes for categories: the list, and coordinators' create, rename and remove."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from forum.errors import refusal
from forum.threads import categories as service
from forum.threads import policy
from forum.threads.forms import CategoryForm, EmptyForm
from forum.threads.models import Category
from forum.threads.views import bp


def _list_page(form: CategoryForm) -> str:
    return render_template(
        "threads/categories.html", form=form, categories=service.list_categories()
    )


def _edit_page(category: Category, form: CategoryForm) -> str:
    refused = refusal()
    return render_template(
        "threads/category_edit.html",
        category=category,
        form=form,
        threads=service.thread_count(category),
        error=refused.message if refused else None,
    )


@bp.get("/threads/categories")
@login_required
def categories() -> str:
    """Every category; coordinators also see the form to create one."""
    return _list_page(CategoryForm())


@bp.post("/threads/categories")
@login_required
def create_category() -> Response | tuple[str, int]:
    """Create a category (coordinators)."""
    policy.require_coordinator(current_user)
    form = CategoryForm()
    if not form.validate_on_submit():
        return _list_page(form), 422
    service.create_category(actor=current_user, **form.payload())
    return redirect(url_for("threads.categories"))


@bp.route("/threads/categories/<category_id>/edit", methods=["GET", "POST"])
@login_required
def edit_category(category_id: str) -> Response | str | tuple[str, int]:
    """Rename a category or change its description (coordinators)."""
    category = service.coordinator_category(current_user, category_id)
    form = CategoryForm(obj=category)
    if not form.validate_on_submit():
        return (
            (_edit_page(category, form), 422) if form.is_submitted() else _edit_page(category, form)
        )
    service.rename_category(actor=current_user, category=category, **form.payload())
    flash(_("The category was saved."))
    return redirect(url_for("threads.categories"))


@bp.post("/threads/categories/<category_id>/remove")
@login_required
def remove_category(category_id: str) -> Response | tuple[str, int]:
    """Remove an empty category (coordinators); one that holds threads is refused in words."""
    category = service.coordinator_category(current_user, category_id)
    if not EmptyForm().validate_on_submit():
        return _edit_page(category, CategoryForm(obj=category)), 409
    service.remove_category(actor=current_user, category=category)
    flash(_("The category was removed."))
    return redirect(url_for("threads.categories"))
