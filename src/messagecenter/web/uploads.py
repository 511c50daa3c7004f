"""Files sent with a page's form are read from the one field the form names, and refused
under any other (the API's `uploaded_files` does the same, api_support.py).

Read by their field only, files under another name were dropped without a word: a reply
posted with `files=` instead of `attachments=` was sent without them and the page said
it was sent. Now:

- a form that takes files (its view marked `@takes_files("attachments")`) reads them with
  `form_files`, which refuses a file under any other field with an error shown beside the
  form (`unexpected_file`, 400), before anything is sent;
- a form that takes none refuses any file (`refuses_files`, which ErrorPagesMiddleware asks
  before the view runs): the 400 page, saying so, and nothing is done.

Every page of the site — Django's sign-out button's too —, but not Django's admin and
anymail's webhooks, which read their files by their own rules, nor the API, which reads
them by its own (api_support.uploaded_files)."""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest
from django.http.request import RawPostDataException

from messagecenter.errors import InvalidInput

# Django's admin (a broadcast's list of recipients is a file) and anymail's webhooks (an
# inbound e-mail's attachments) read files as their forms say.
_READ_BY_THEIR_OWN_RULES = frozenset({"admin", "anymail"})

# The attribute takes_files puts on a view: the field its form's files come in.
_FILE_FIELD = "form_file_field"


def takes_files[V: Callable[..., Any]](field: str) -> Callable[[V], V]:
    """Marks a view whose form takes files, in `field`. Put above the other decorators."""

    def mark(view: V) -> V:
        setattr(view, _FILE_FIELD, field)
        return view

    return mark


def form_files(request: HttpRequest, field: str) -> list[UploadedFile[Any]]:
    """The files of the form under `field`; a file under any other field is InvalidInput
    `unexpected_file` (a FORM_ERROR: shown beside the form's file field), so that nothing
    is sent without the files the person meant to send."""
    elsewhere = sorted(name for name in request.FILES if name != field)
    if elsewhere:
        names = ", ".join(f"“{name}”" for name in elsewhere)
        raise InvalidInput(
            f"Files came in a field this form does not read ({names}), so nothing was sent. "
            "Attach them with the form's own file button.",
            code="unexpected_file",
        )
    return request.FILES.getlist(field)


def refuses_files(request: HttpRequest, view: Callable[..., Any]) -> bool:
    """Whether this request brings files to one of the Message Center's pages whose form
    takes none. Only a multipart POST is looked at: reading another body's files would
    read it for nothing."""
    if request.method != "POST" or request.content_type != "multipart/form-data":
        return False
    match = request.resolver_match
    if match is not None and _READ_BY_THEIR_OWN_RULES.intersection(match.namespaces):
        return False
    if getattr(view, _FILE_FIELD, None) is not None:
        return False
    try:
        # The body kept whole first, so that a view reading `request.body` itself (the
        # passkey pages' JSON) still can once the files were looked at: Django then reads
        # the form from the kept body instead of the stream.
        request.body  # noqa: B018
    except RawPostDataException:
        # The form was read from the stream already (CSRF's check reads it): its files
        # with it.
        pass
    except RequestDataTooBig:
        # More than a form without files ever sends (DATA_UPLOAD_MAX_MEMORY_SIZE).
        return True
    return bool(request.FILES)
