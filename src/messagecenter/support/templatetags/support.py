"""How the console writes agents' names and a case's history: a person's name and part in
the case each an isolate of their own (queries.person_in_console_html)."""

from django import template
from django.utils.safestring import SafeString

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Message
from messagecenter.support import queries
from messagecenter.support.models import Case

register = template.Library()


@register.filter
def internal_name(agent: User) -> str:
    return queries.internal_name(agent)


@register.simple_tag
def author_in_console(message: Message, case: Case) -> SafeString:
    return queries.person_in_console_html(message.sender, case)


@register.simple_tag
def person_in_console(person: User | None, case: Case) -> SafeString:
    return queries.person_in_console_html(person, case)
