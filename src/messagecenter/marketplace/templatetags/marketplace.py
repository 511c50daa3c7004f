from django import template

from messagecenter.marketplace import messages, queries
from messagecenter.marketplace.models import ReturnRequest
from messagecenter.marketplace.presentation import money

register = template.Library()

register.filter(money)


@register.filter
def return_label(return_request: ReturnRequest) -> str:
    return messages.return_label(return_request)


@register.filter
def refund_on_receipt(
    return_request: ReturnRequest, details: queries.OrderDetails
) -> queries.ReceiptRefund:
    return queries.refund_on_receipt(return_request, details)
