"""How the console writes agents' names and a case's history."""

from django import template

from messagecenter.accounts.models import User
from messagecenter.support import queries

register = template.Library()


@register.filter
def internal_name(agent: User) -> str:
    return queries.internal_name(agent)
