"""The date filters of every template (built in: settings.TEMPLATES' builtins), one per
context; what each shows is in web/dates.py."""

from django import template

from messagecenter.web import dates

register = template.Library()

# expects_localtime is left off: each helper converts to the active zone itself.
register.filter("list_time", dates.list_time)
register.filter("full_time", dates.full_time)
register.filter("email_time", dates.email_time)
register.filter("day", dates.day)
