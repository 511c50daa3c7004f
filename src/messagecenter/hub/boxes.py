"""The words every part of the Message Center shares: where something sits for one person
(a box), which topical folder it is in, and the keys of the unread counts."""

from django.db import models


class Folder(models.TextChoices):
    """The topical folders of the Message Center. Archive and Trash are boxes, not folders:
    an archived order update is still an order update."""

    BUYER_SELLER = "buyer_seller", "Buyer/Seller messages"
    ORDERS = "orders", "Orders & shipping"
    RETURNS = "returns", "Returns & refunds"
    CUSTOMER_SERVICE = "customer_service", "Customer service"
    CLAIMS = "claims", "Claims"
    PROMOTIONS = "promotions", "Promotions"
    NOTICES = "notices", "Notices"


class Box(models.TextChoices):
    """Where a conversation or broadcast sits for one person. DELETED is gone from every
    list (deleted for ever, or purged from Trash) until a new message brings it back."""

    INBOX = "inbox", "Inbox"
    ARCHIVE = "archive", "Archive"
    TRASH = "trash", "Trash"
    DELETED = "deleted", "Deleted"


# The boxes a person can find something in; DELETED is gone for ever.
VISIBLE_BOXES = (Box.INBOX, Box.ARCHIVE, Box.TRASH)

# Unread counts are kept per person for each topical folder (in the inbox) and for Archive
# and Trash; "All" is the sum of the topical folders. UNSEEN counts what has news since the
# person last opened the Message Center: the header badge, cleared by opening the Message
# Center, while each conversation stays unread until it is opened.
UNSEEN = "unseen"
COUNTER_KEYS: tuple[str, ...] = (*Folder.values, Box.ARCHIVE, Box.TRASH, UNSEEN)


def counter_key(box: str, folder: str) -> str | None:
    """Which unread count something unread in this box and folder adds to."""
    if box == Box.INBOX:
        return folder
    if box in (Box.ARCHIVE, Box.TRASH):
        return box
    return None
