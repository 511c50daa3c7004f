"""The text-direction filter of every template (built in: settings.TEMPLATES' builtins):
`{{ text|numbers_ltr }}`, what people wrote with its numbers kept in order inside Arabic
(messagecenter/bidi.py)."""

from django import template

from messagecenter.bidi import numbers_left_to_right

register = template.Library()

register.filter("numbers_ltr", numbers_left_to_right, is_safe=True)
