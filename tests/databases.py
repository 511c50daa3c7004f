"""Which database this pass of the suite runs on (`make test` runs it on SQLite, then on
PostgreSQL: DATABASE_URL), known before the tests are collected."""

from django.conf import settings


def on_postgresql() -> bool:
    return bool(settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql")


# The statements around one joined as written (messagecenter/db/plans.py): the planner's
# settings before it and taken back after it, on PostgreSQL only.
PLANNER_SETTINGS_ON_POSTGRESQL = 2
PLANNER_SETTINGS = PLANNER_SETTINGS_ON_POSTGRESQL if on_postgresql() else 0
