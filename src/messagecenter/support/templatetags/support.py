"""How the console writes agents' names and a case's history."""

from django import template

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Message
from messagecenter.support import queries
from messagecenter.support.models import Case

register = template.Library()


@register.filter
def internal_name(agent: User) -> str:
    return queries.internal_name(agent)


@register.simple_tag
def author_in_console(message: Message, case: Case) -> str:
    return queries.author_in_console(message, case)


@register.simple_tag
def person_in_console(person: User | None, case: Case) -> str:
    return queries.person_in_console(person, case)
