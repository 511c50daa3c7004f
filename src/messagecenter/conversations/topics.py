"""The topic keys of conversations, built here and nowhere else.

A topic key names what a conversation is about ("buyer 7's questions about product 12"),
unique among conversations, so that every message about one topic joins one conversation
and "find or start" is race-free (Conversation.topic_key). The marketplace's messages,
buyers' and sellers' first messages, the demo and the benchmarks' generator all build them
with these functions; stored keys keep this shape, so a change here needs a migration."""


def product_question(product_id: int, buyer_id: int) -> str:
    """A buyer's questions to the seller about one product."""
    return f"product:{product_id}:buyer:{buyer_id}"


def order_with_seller(order_id: int, storefront_id: int) -> str:
    """The buyer and one seller (storefront) of an order, writing to each other."""
    return f"order:{order_id}:storefront:{storefront_id}"


def order_updates(order_id: int) -> str:
    """The marketplace's updates to the buyer about an order: placed, shipped, delivered…"""
    return f"order:{order_id}:updates"


def order_returns(order_id: int) -> str:
    """The marketplace's messages to the buyer about an order's returns and refunds."""
    return f"order:{order_id}:returns"


def order_notice_to_seller(order_id: int, storefront_id: int, topic: str) -> str:
    """The marketplace's messages to one seller about an order (`topic`: "sale", "return"…)."""
    return f"order:{order_id}:storefront:{storefront_id}:{topic}"


def membership(user_id: int) -> str:
    """The marketplace's messages to one member about their membership."""
    return f"membership:{user_id}"


def account_suspension(user_id: int) -> str:
    """Customer service's messages to one person about their account's suspension: the
    notice, their appeal and its answers — the only conversation an inactive account's
    e-mail still reaches (docs/safety.md#appeals)."""
    return f"suspension:{user_id}"
