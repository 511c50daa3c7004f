from django import template

from messagecenter.marketplace import messages
from messagecenter.marketplace.models import ReturnRequest
from messagecenter.marketplace.presentation import money

register = template.Library()

register.filter(money)


@register.filter
def return_label(return_request: ReturnRequest) -> str:
    return messages.return_label(return_request)
