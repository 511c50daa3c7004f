"""Search in the JSON API, mounted at /api/v1/search (docs/search.md, docs/api.md): the
same filters as the search page, as query parameters, and the same results."""

from datetime import datetime
from typing import Annotated, Literal

import pydantic
from ninja import Query, Router, Schema

from messagecenter.api_support import ApiRequest, Day, QueryBool, QueryNumber, Text
from messagecenter.hub.boxes import Folder
from messagecenter.search import queries
from messagecenter.search.queries import SearchFilters

router = Router(tags=["search"])

PageLimit = Annotated[QueryNumber, pydantic.Field(ge=1, le=queries.MAX_PAGE_SIZE)]


class SearchParams(Schema):
    # Text: a NUL (or a lone surrogate) is 422 invalid_input, as in every other parameter of
    # the API, not a search that quietly finds nothing.
    q: Text = pydantic.Field(
        "",
        description='Words (each matches the beginning of a word: "kett" finds "kettle") '
        'and "quoted phrases" (whole words in that order). Every one must match. There are '
        "no operators: anything but letters and digits only separates words.",
    )
    sender: Text = pydantic.Field(
        "",
        description="Part of the sender's name as people see it (shop name or display name); "
        '"marketplace" for the marketplace\'s own messages.',
    )
    date_from: Day | None = pydantic.Field(
        None, description="From this day on (inclusive), in the site's time zone."
    )
    date_to: Day | None = pydantic.Field(
        None, description="Up to this day (inclusive), in the site's time zone."
    )
    folder: Folder | None = pydantic.Field(None, description="A topical folder, in any box.")
    box: Literal["inbox", "archive", "trash"] | None = pydantic.Field(
        None, description="Only this box; all three when absent."
    )
    unread_only: QueryBool = False
    has_attachment: QueryBool = False
    order_number: Text = pydantic.Field(
        "", description="Only conversations about this order, e.g. 112-4839201-5521937."
    )
    cursor: Text | None = pydantic.Field(
        None, description="The `next_cursor` of the previous page, for the next (older) one."
    )
    limit: PageLimit = queries.PAGE_SIZE


class SearchResultOut(Schema):
    # "message": a message in one of your conversations (message_id, conversation_id);
    # "broadcast": an important notice or a promotion from the marketplace (broadcast_id,
    # GET /broadcasts/{id}).
    kind: Literal["message", "broadcast"]
    message_id: int | None
    conversation_id: int | None
    broadcast_id: int | None
    subject: str
    # The subject and the snippet are HTML: matches in <mark>, everything else escaped.
    subject_html: str
    snippet: str
    sender_name: str
    # From the marketplace or its agents.
    is_official: bool
    is_from_you: bool
    created_at: datetime
    # Where it is for you: "inbox", "archive" or "trash".
    box: str


class SearchPageOut(Schema):
    results: list[SearchResultOut]
    # Pass as `cursor` for the next (older) page; null on the last page.
    next_cursor: str | None
    # The words and phrases searched for, as read from `q`.
    terms: list[str]
    # Nothing to search for (no words, no filter): nothing was looked up.
    needs_input: bool
    # The words of `q` as typed, when they found nothing and `terms` (each misspelt word
    # replaced by a word one edit away) found these results instead: "ketle" → "kettle".
    # For the next page pass `terms` (joined by spaces) as `q`, with `next_cursor`.
    corrected_from: list[str] | None


@router.get("", response=SearchPageOut, summary="Search your messages and announcements")
def search(request: ApiRequest, params: Query[SearchParams]) -> SearchPageOut:
    """Messages in your conversations and the marketplace's notices and promotions meant
    for you (Inbox, Archive and Trash) that match, newest first, the most relevant first
    among those sent at the same moment."""
    filters = SearchFilters(
        text=params.q,
        sender=params.sender,
        date_from=params.date_from,
        date_to=params.date_to,
        folder=params.folder,
        box=params.box,
        unread_only=params.unread_only,
        has_attachment=params.has_attachment,
        order_number=params.order_number,
    )
    page = queries.search_messages(request.auth, filters, cursor=params.cursor, limit=params.limit)
    # Built without validation: the values come typed from the search (as message_out in
    # conversations/api.py, for the same reason).
    return SearchPageOut.model_construct(
        results=[
            SearchResultOut.model_construct(
                kind=result.kind,
                message_id=result.message_id,
                conversation_id=result.conversation_id,
                broadcast_id=result.broadcast_id,
                subject=result.subject,
                subject_html=str(result.subject_html),
                snippet=str(result.snippet),
                sender_name=result.sender_name,
                is_official=result.is_official,
                is_from_you=result.is_from_you,
                created_at=result.created_at,
                box=result.box,
            )
            for result in page.results
        ],
        next_cursor=page.next_cursor,
        terms=[str(term) for term in page.terms],
        needs_input=page.needs_input,
        corrected_from=None
        if page.corrected_from is None
        else [str(term) for term in page.corrected_from],
    )
