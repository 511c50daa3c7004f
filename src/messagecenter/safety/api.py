"""The API's blocks (docs/safety.md#blocking, docs/api.md)."""

from datetime import datetime

from ninja import Router, Schema
from ninja.responses import Status

from messagecenter.api_support import ApiRequest, Id
from messagecenter.safety import actions, queries
from messagecenter.safety.models import Block

router = Router(tags=["safety"])


class BlockOut(Schema):
    id: int
    # The person's or the shop's public name.
    name: str
    created_at: datetime


def block_out(block: Block) -> BlockOut:
    return BlockOut(id=block.pk, name=block.blocked.public_name, created_at=block.created_at)


@router.post(
    "/conversations/{conversation_id}/block",
    response={201: BlockOut},
    summary="Block the buyer or the shop on the other side of a conversation",
)
def block_in_conversation(request: ApiRequest, conversation_id: Id) -> Status[BlockOut]:
    """They can no longer message you (their sends answer 403 `blocked`); a shop's messages
    about your own orders still arrive, with a note. 400 `cannot_block_in_claim` in a
    guarantee claim's conversation (block from a Buyer/Seller conversation with them; Report
    a message in the claim); 400 `cannot_block_marketplace` for a conversation with the
    marketplace or customer service; 409 `account_erased` when the
    other side was erased at their request (closed for good: nothing to block). A suspended
    person may be blocked: the suspension may be lifted."""
    return Status(201, block_out(actions.block_counterpart(request.auth, conversation_id)))


@router.get("/blocks", response=list[BlockOut], summary="People and shops you blocked")
def list_blocks(request: ApiRequest) -> list[BlockOut]:
    return [block_out(block) for block in queries.blocks_of(request.auth)]


@router.delete("/blocks/{block_id}", response={204: None}, summary="Unblock")
def unblock(request: ApiRequest, block_id: Id) -> Status[None]:
    actions.unblock(request.auth, block_id)
    return Status(204, None)
