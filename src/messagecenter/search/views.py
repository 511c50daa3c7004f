"""The search page: the filters come from the query string (so a search can be bookmarked
and shared between a person's devices), search_messages finds, the page lists."""

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from messagecenter import moments
from messagecenter.api_support import QUERY_FALSE, QUERY_TRUE
from messagecenter.errors import InvalidInput
from messagecenter.hub.boxes import Box, Folder
from messagecenter.search import queries
from messagecenter.search.queries import SearchFilters
from messagecenter.web.shortcuts import AuthenticatedHttpRequest

# The query-string names of the filters, also the API's (search/api.py).
FILTER_FIELDS = (
    "q",
    "sender",
    "date_from",
    "date_to",
    "folder",
    "box",
    "unread_only",
    "has_attachment",
    "order_number",
)
BOX_CHOICES = [
    ("", "Inbox, Archive and Trash"),
    *((box, label) for box, label in Box.choices if box != Box.DELETED),
]


@dataclass(frozen=True)
class SearchForm:
    """The filters as typed (echoed in the form, even when one is not valid)."""

    values: dict[str, str]

    @classmethod
    def from_data(cls, data: QueryDict) -> "SearchForm":
        return cls({name: data.get(name, "").strip() for name in FILTER_FIELDS})

    def filters(self) -> SearchFilters:
        values = self.values
        return SearchFilters(
            text=values["q"],
            sender=values["sender"],
            date_from=_date(values["date_from"], "From"),
            date_to=_date(values["date_to"], "To"),
            folder=values["folder"] or None,
            box=values["box"] or None,
            unread_only=_yes_or_no(values["unread_only"], "Unread only"),
            has_attachment=_yes_or_no(values["has_attachment"], "Has attachment"),
            order_number=values["order_number"],
        )

    def url(self, *, cursor: str | None = None, text: str | None = None) -> str:
        params = {name: value for name, value in self.values.items() if value}
        if text is not None:
            params["q"] = text
        if cursor:
            params["cursor"] = cursor
        return f"{reverse('message-search')}?{urlencode(params)}"

    @property
    def ticked(self) -> dict[str, bool]:
        """The checkboxes to show ticked: a filter that applies ("0" does not)."""
        return {name: self.values[name] in QUERY_TRUE for name in ("unread_only", "has_attachment")}

    @property
    def has_filters(self) -> bool:
        return any(value for name, value in self.values.items() if name != "q")


@login_required
@require_safe
def search(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SearchForm.from_data(request.GET)
    cursor = request.GET.get("cursor") or None
    page: queries.SearchPage | None = None
    error: InvalidInput | None = None
    try:
        page = queries.search_messages(request.user, form.filters(), cursor=cursor)
    except InvalidInput as invalid:
        error = invalid
    return render(
        request,
        "search/search.html",
        {
            "form": form.values,
            "ticked": form.ticked,
            "has_filters": form.has_filters,
            "page": page,
            "error": error,
            "folder_choices": Folder.choices,
            "box_choices": BOX_CHOICES,
            # After a correction the next pages search for what was found, not what was typed.
            "older_url": form.url(cursor=page.next_cursor, text=_searched_for(page))
            if page and page.next_cursor
            else "",
            "newest_url": form.url() if cursor else "",
        },
        status=error.status if error else 200,
    )


def _date(value: str, label: str) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{label}: enter a date as YYYY-MM-DD, e.g. 2026-03-31.", code="invalid_date"
        ) from None
    moments.check(day, what=label, code="invalid_date")
    return day


def _yes_or_no(value: str, label: str) -> bool:
    """A checkbox's filter, read as the API reads it (`QueryBool`): the box sends 1, and a
    search's address works in both. Anything else is refused, as a folder or a date that
    cannot be read is: "banana" used to read as no and "yes" as yes, without a word."""
    if not value or value in QUERY_FALSE:
        return False
    if value in QUERY_TRUE:
        return True
    raise InvalidInput(f"{label}: give 1 or 0 (or true or false).", code="invalid_filter")


def _searched_for(page: queries.SearchPage) -> str | None:
    if page.corrected_from is None:
        return None
    return " ".join(str(term) for term in page.terms)
