from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from messagecenter.business_days import calendar
from messagecenter.business_days.models import Closure


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin[Closure]):
    """The operator's extra closed days per country, on top of public holidays and
    weekends (docs/escalation.md). A change applies to deadlines computed after it; those
    already running keep the date buyers were shown."""

    list_display = ("country", "date", "name")
    list_filter = ("country",)
    search_fields = ("name",)
    date_hierarchy = "date"

    def save_model(self, request: HttpRequest, obj: Closure, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # This process forgets its copy after commit; others within CLOSURES_CACHE_SECONDS.
        transaction.on_commit(calendar.forget_closures)

    def delete_model(self, request: HttpRequest, obj: Closure) -> None:
        super().delete_model(request, obj)
        transaction.on_commit(calendar.forget_closures)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        super().delete_queryset(request, queryset)
        transaction.on_commit(calendar.forget_closures)
