from django.http import QueryDict

from messagecenter.delivery.preferences import RULES


def parse_choices(data: QueryDict) -> dict[tuple[str, str], bool]:
    """The preferences form: a checkbox per switchable choice, named category:channel.
    An unticked box is absent from the form, so every switchable choice is read."""
    ticked = set(data.getlist("enabled"))
    return {
        (category, channel): f"{category}:{channel}" in ticked
        for (category, channel), rule in RULES.items()
        if rule.can_change
    }
