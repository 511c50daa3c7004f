import pytest
from pytest_django.fixtures import Settings

from tests.marketplace.helpers import SECRET


@pytest.fixture(autouse=True)
def _signing_secret(settings: Settings) -> None:
    """The marketplace's backend and the Message Center share this secret."""
    settings.MARKETPLACE_EVENTS_SECRETS = [SECRET]
