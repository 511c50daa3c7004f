"""Which database this pass of the suite runs on (`make test` runs it on SQLite, then on
PostgreSQL: DATABASE_URL), known before the tests are collected."""

from django.conf import settings


def on_postgresql() -> bool:
    return bool(settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql")
