"""The operator's own closures on top of each country's public holidays (docs/escalation.md).

Public holidays come from the `holidays` package (offline, national holidays per country);
weekends from the same package unless settings say otherwise. What the package cannot know
(a warehouse closed between Christmas and New Year, a local holiday the operator observes)
is a Closure, added in the settings (BUSINESS_CALENDAR_CLOSURES) or here, in the admin.
"""

import re
from typing import ClassVar

from django.core.exceptions import ValidationError
from django.db import models

COUNTRY_CODE = re.compile(r"[A-Z]{2}")


class Closure(models.Model):
    # ISO 3166-1 alpha-2, as User.country.
    country = models.CharField(max_length=2)
    date = models.DateField()
    name = models.CharField(max_length=120)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["country", "date"], name="closure_one_per_day")
        ]
        ordering: ClassVar = ["country", "date"]

    def __str__(self) -> str:
        return f"{self.country} {self.date:%Y-%m-%d}: {self.name}"

    def clean(self) -> None:
        self.country = (self.country or "").strip().upper()
        if not COUNTRY_CODE.fullmatch(self.country):
            raise ValidationError(
                {"country": "Use a two-letter country code (ISO 3166-1), e.g. US or DE."}
            )
