from django.apps import AppConfig


class BusinessDaysConfig(AppConfig):
    name = "messagecenter.business_days"
    label = "business_days"
    verbose_name = "Business-day calendar"
