"""The errors actions raise. Each has a stable code; the web pages and the API render them
in one shape ({"error": {"code", "message"}}) and nothing is changed when one is raised."""


class MessageCenterError(Exception):
    code = "error"
    status = 400
    # The request field the error is about, named as the API names it ("away_from"), when
    # it is about one that a code shared by several fields cannot tell apart: the API
    # gives it as `field`, a form marks that input.
    field: str | None = None

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if field is not None:
            self.field = field


class NotAuthenticated(MessageCenterError):
    """No signed-in session and no valid API token (a revoked one included)."""

    code = "not_authenticated"
    status = 401


class NotFound(MessageCenterError):
    """Missing and not-yours look the same, so ids cannot be probed."""

    code = "not_found"
    status = 404


class InvalidInput(MessageCenterError):
    code = "invalid_input"
    status = 400


class AttachmentRefused(InvalidInput):
    """An attachment of an allowed type whose content is not accepted (docs/safety.md#
    attachments): a PDF with JavaScript or embedded files, an image that cannot be decoded,
    a file a virus scanner flags. 422: the request was well formed, the file is not."""

    code = "attachment_refused"
    status = 422


class NotAllowed(MessageCenterError):
    """The person may see the thing but not do this to it (a seller asking itself)."""

    code = "not_allowed"
    status = 403


class Conflict(MessageCenterError):
    code = "conflict"
    status = 409


class TooLarge(MessageCenterError):
    """A request body over the documented limit, refused before it is used."""

    code = "request_too_large"
    status = 413


class TooManyRequests(MessageCenterError):
    """A sending limit reached (docs/safety.md#sending-limits): 429, and when to try again
    (the API's Retry-After header, in seconds)."""

    code = "too_many_messages"
    status = 429

    def __init__(self, message: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, retry_after)


class HeldForReview(MessageCenterError):
    """Accepted but not delivered: the message waits for an agent's review
    (docs/safety.md#hold; raised as conversations.send_checks.MessageHeld). Nothing was
    added to the conversation, so a page tells the sender beside the form, as for a refusal,
    and the API answers 202."""

    code = "message_held"
    status = 202


# The errors a page shows beside the form that caused them. NotFound is the site's 404 page
# instead (web/errors.py), whatever the page: a view names these, and lets NotFound through.
FORM_ERRORS: tuple[type[MessageCenterError], ...] = (
    InvalidInput,
    NotAllowed,
    Conflict,
    TooLarge,
    TooManyRequests,
    HeldForReview,
)
