"""Reads of the safety app, always starting from the person asking."""

from messagecenter.accounts.models import User
from messagecenter.safety.models import Block


def blocks_of(user: User) -> list[Block]:
    return list(
        Block.objects.filter(blocker=user)
        .select_related("blocked__storefront")
        .order_by("-created_at", "-pk")
    )
