"""Tabular admin inlines whose fields have an accessible name.

Django's tabular inline shows each field's label once, in the column header, and renders the
fields of every row without a ``<label>``: a screen reader announces an unnamed select or check
box. Each field (and the row's delete box) carries its label as ``aria-label`` instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Field
from django.forms import Form
from django.http import HttpRequest


class LabelledTabularInline(admin.TabularInline):
    def formfield_for_dbfield(self, db_field: Field, request: HttpRequest, **kwargs: Any) -> Any:
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None:
            label = str(formfield.label or db_field.verbose_name)
            formfield.widget.attrs.setdefault("aria-label", label[:1].upper() + label[1:])
        return formfield

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)

        class LabelledFormSet(formset):  # type: ignore[valid-type,misc]
            def add_fields(self, form: Form, index: int | None) -> None:
                super().add_fields(form, index)
                if "DELETE" in form.fields:
                    form.fields["DELETE"].widget.attrs.setdefault("aria-label", "Delete")

        return LabelledFormSet
