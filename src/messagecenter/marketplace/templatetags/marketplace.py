from django import template

from messagecenter.marketplace.presentation import money

register = template.Library()

register.filter(money)
