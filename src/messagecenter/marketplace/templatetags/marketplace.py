from django import template

from messagecenter.marketplace import return_actions
from messagecenter.marketplace.models import ReturnRequest
from messagecenter.marketplace.presentation import money

register = template.Library()

register.filter(money)


@register.filter
def return_label(return_request: ReturnRequest) -> str:
    return return_actions.return_label(return_request)
