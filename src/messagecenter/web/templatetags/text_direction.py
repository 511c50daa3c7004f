"""The text-direction filters of every template (built in: settings.TEMPLATES' builtins):
`{{ text|numbers_ltr }}`, what people wrote with its numbers kept in order inside Arabic,
`{{ text|direction }}`, "rtl" or "ltr" as dir="auto" would find it, for a renderer that
does not, and `{{ sentence|isolating:name }}`, one of our sentences with a name people chose
in it isolated (messagecenter/bidi.py)."""

from django import template

from messagecenter.bidi import direction_of, isolating, numbers_left_to_right

register = template.Library()

register.filter("numbers_ltr", numbers_left_to_right, is_safe=True)
register.filter("direction", direction_of)
register.filter("isolating", isolating, is_safe=True)
