"""Which list of the Message Center a page shows, as its query string says."""

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlencode

from django.http import QueryDict
from django.urls import reverse

from messagecenter.hub.boxes import Box, Folder


class Placed(Protocol):
    """Anything the Message Center lists: in a box, and in a folder of the inbox."""

    @property
    def box(self) -> str: ...

    @property
    def folder(self) -> str: ...


# The seller's list of conversations where a buyer waits for an answer (?view=…).
RESPONSE_NEEDED = "response-needed"


@dataclass(frozen=True)
class ListSelection:
    """Which list of the Message Center: the inbox (All or one folder), Archive or Trash,
    or a seller's Response needed (`view`), from a page cursor on. Read from the query
    string, echoed in the bulk-action form."""

    box: str = Box.INBOX
    folder: str | None = None
    cursor: str | None = None
    view: str | None = None

    @classmethod
    def from_data(cls, data: QueryDict) -> "ListSelection":
        return cls(
            box=data.get("box") or Box.INBOX,
            folder=data.get("folder") or None,
            cursor=data.get("cursor") or None,
            view=data.get("view") or None,
        )

    @classmethod
    def of(cls, placed: Placed) -> "ListSelection":
        """The list a conversation or broadcast is found in: its folder in the inbox, else
        its box."""
        if placed.box == Box.INBOX:
            return cls(folder=placed.folder)
        return cls(box=placed.box)

    def url(self, *, cursor: str | None = None) -> str:
        params = {}
        if self.view:
            params["view"] = self.view
        if self.box != Box.INBOX:
            params["box"] = self.box
        if self.folder:
            params["folder"] = self.folder
        if cursor:
            params["cursor"] = cursor
        base = reverse("message-center")
        return f"{base}?{urlencode(params)}" if params else base

    @property
    def is_response_needed(self) -> bool:
        return self.view == RESPONSE_NEEDED

    @property
    def title(self) -> str:
        if self.is_response_needed:
            return "Response needed"
        if self.box == Box.ARCHIVE:
            return "Archive"
        if self.box == Box.TRASH:
            return "Trash"
        if self.folder:
            return dict(Folder.choices).get(self.folder, "Messages")
        return "All messages"
