from django.apps import AppConfig


class MarketplaceConfig(AppConfig):
    name = "messagecenter.marketplace"
    label = "marketplace"
    verbose_name = "Marketplace"
