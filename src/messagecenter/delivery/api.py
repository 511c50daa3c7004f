"""The API's e-mail preferences (docs/email.md, docs/api.md): what reaches the person by
e-mail and in the Message Center, for the settings screen of a mobile app."""

from ninja import Router, Schema

from messagecenter.api_support import ApiRequest
from messagecenter.delivery import actions
from messagecenter.delivery.models import Category, Channel
from messagecenter.delivery.preferences import choices_for

router = Router(tags=["preferences"])


class PreferenceOut(Schema):
    category: Category
    channel: Channel
    label: str
    is_enabled: bool
    # False for transactional messages and important notices: always on.
    can_change: bool
    # Why it cannot be changed (empty when it can).
    why_fixed: str


class PreferenceIn(Schema):
    category: Category
    channel: Channel
    is_enabled: bool


class PreferencesIn(Schema):
    choices: list[PreferenceIn]


def _table(request: ApiRequest) -> list[PreferenceOut]:
    return [
        PreferenceOut(
            category=Category(choice.category),
            channel=Channel(choice.channel),
            label=choice.label,
            is_enabled=choice.is_enabled,
            can_change=choice.can_change,
            why_fixed=choice.why_fixed,
        )
        for row in choices_for(request.auth)
        for choice in row
    ]


@router.get(
    "/preferences", response=list[PreferenceOut], summary="E-mail and Message Center preferences"
)
def get_preferences(request: ApiRequest) -> list[PreferenceOut]:
    return _table(request)


@router.put(
    "/preferences",
    response=list[PreferenceOut],
    summary="Change preferences",
    description=(
        "Only the choices given change. Switching off one that cannot be switched off "
        "(transactional messages, important notices) is refused with 400 "
        "`preference_fixed`, and nothing changes."
    ),
)
def put_preferences(request: ApiRequest, payload: PreferencesIn) -> list[PreferenceOut]:
    actions.set_preferences(
        request.auth,
        {(choice.category, choice.channel): choice.is_enabled for choice in payload.choices},
    )
    return _table(request)
