"""The text-direction filters of every template (built in: settings.TEMPLATES' builtins):
`{{ text|numbers_ltr }}`, what people wrote with its numbers kept in order inside Arabic,
and `{{ text|direction }}`, "rtl" or "ltr" as dir="auto" would find it, for a renderer that
does not (messagecenter/bidi.py)."""

from django import template

from messagecenter.bidi import direction_of, numbers_left_to_right

register = template.Library()

register.filter("numbers_ltr", numbers_left_to_right, is_safe=True)
register.filter("direction", direction_of)
