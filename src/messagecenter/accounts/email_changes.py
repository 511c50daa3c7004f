"""The link that confirms a new e-mail address (docs/accounts.md#e-mail-address): signed,
expiring after EMAIL_CHANGE_LINK_HOURS, saying which account it is for and from which
address to which. It is made when the e-mail is sent and stored nowhere; it stops working
once the account's address is no longer the one it changes from (used, or changed since)."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing

from messagecenter.accounts.models import User

SALT = "messagecenter.accounts.email-change"


@dataclass(frozen=True)
class EmailChange:
    user_id: int
    old_address: str
    new_address: str


def make_link_token(user: User, new_address: str) -> str:
    return signing.dumps(
        {"user": user.pk, "from": user.email, "to": new_address}, salt=SALT, compress=True
    )


def read_link_token(token: str) -> EmailChange | None:
    """The change a token asks for, or None for one that is altered or expired."""
    try:
        found = signing.loads(
            token, salt=SALT, max_age=timedelta(hours=settings.EMAIL_CHANGE_LINK_HOURS)
        )
    except signing.BadSignature:
        return None
    if not isinstance(found, dict):
        return None
    user_id, old_address, new_address = found.get("user"), found.get("from"), found.get("to")
    if not (
        isinstance(user_id, int) and isinstance(old_address, str) and isinstance(new_address, str)
    ):
        return None
    return EmailChange(user_id, old_address, new_address)
