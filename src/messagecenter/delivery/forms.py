from django.http import QueryDict

from messagecenter.delivery.preferences import RULES, Channel, needs_message_center


def parse_choices(data: QueryDict) -> dict[tuple[str, str], bool]:
    """The preferences form: a checkbox per switchable choice, named category:channel,
    and beside each a hidden `shown` field, category:channel:1 or :0, saying how the box
    was when the page was made. Only the boxes the person changed on this form are read:
    a page left open in another tab, or from before a one-click unsubscribe, would
    otherwise write back every box as it showed them then, switching promotions on again.
    A form without them (an older page) is read whole: an unticked box is absent from the
    form, so every switchable choice is."""
    ticked = set(data.getlist("enabled"))
    shown = _shown(data)
    choices = {}
    for (category, channel), rule in RULES.items():
        if not rule.can_change:
            continue
        # An e-mail box shown disabled because its Message Center copy is off is never
        # sent, and one left ticked while unticking the Message Center copy cannot take
        # effect: the e-mail choice is left as stored, for when the Message Center copy is
        # on again.
        if (
            needs_message_center(category, channel)
            and f"{category}:{Channel.MESSAGE_CENTER}" not in ticked
        ):
            continue
        key = f"{category}:{channel}"
        is_enabled = key in ticked
        # Unchanged on this form, or not a box of it (an e-mail choice shown held off).
        if shown is not None and shown.get(key, is_enabled) == is_enabled:
            continue
        choices[(category, channel)] = is_enabled
    return choices


def _shown(data: QueryDict) -> dict[str, bool] | None:
    """category:channel → how its box was shown, or None when the form does not say."""
    values = data.getlist("shown")
    if not values:
        return None
    shown = {}
    for value in values:
        key, _, state = value.rpartition(":")
        if key and state in ("0", "1"):
            shown[key] = state == "1"
    return shown
