"""The API's account routes: who is signed in, and the API tokens of their devices
(docs/api.md)."""

from datetime import datetime

from ninja import Router, Schema, Status

from messagecenter.accounts import actions, queries
from messagecenter.accounts.authentication import SessionAuth, current_api_token
from messagecenter.accounts.models import ApiToken, Role
from messagecenter.api_support import ApiRequest, Id, Text
from messagecenter.conversations.api import StorefrontOut

router = Router(tags=["account"])


class MeOut(Schema):
    id: int
    username: str
    # The name other people see: a seller's storefront name, else the display name.
    name: str
    role: Role
    storefront: StorefrontOut | None


@router.get("/me", response=MeOut, summary="Who is signed in")
def me(request: ApiRequest) -> MeOut:
    user = request.auth
    storefront = getattr(user, "storefront", None)
    return MeOut(
        id=user.pk,
        username=user.username,
        name=user.public_name,
        role=Role(user.role),
        storefront=StorefrontOut(id=storefront.pk, name=storefront.name) if storefront else None,
    )


class TokenIn(Schema):
    # The device, as the person will recognise it in the list: "Alice's iPhone".
    name: Text


class TokenOut(Schema):
    id: int
    name: str
    # The first characters of the secret, to tell tokens apart.
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    # The token this request was made with (false for a browser session).
    is_current: bool


class NewTokenOut(Schema):
    token: TokenOut
    # Shown once: only a hash is kept.
    secret: str


def _token_out(token: ApiToken, current: ApiToken | None) -> TokenOut:
    return TokenOut(
        id=token.pk,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        is_current=current is not None and current.pk == token.pk,
    )


@router.post(
    "/tokens",
    response={201: NewTokenOut},
    # A token is made from a signed-in browser session (with its CSRF token), never
    # from another token: a leaked token cannot mint itself a successor.
    auth=[SessionAuth()],
    summary="Create an API token for a device",
)
def create_token(request: ApiRequest, payload: TokenIn) -> Status[NewTokenOut]:
    token, secret = actions.create_api_token(request.auth, payload.name)
    return Status(201, NewTokenOut(token=_token_out(token, None), secret=secret))


@router.get("/tokens", response=list[TokenOut], summary="The person's active API tokens")
def list_tokens(request: ApiRequest) -> list[TokenOut]:
    current = current_api_token(request)
    return [_token_out(token, current) for token in queries.active_api_tokens(request.auth)]


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke an API token")
def revoke_token(request: ApiRequest, token_id: Id) -> Status[None]:
    actions.revoke_api_token(request.auth, token_id)
    return Status(204, None)
