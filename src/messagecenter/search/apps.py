from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "messagecenter.search"
    label = "search"
    verbose_name = "Full-text search"
