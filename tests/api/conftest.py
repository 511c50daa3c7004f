from collections.abc import Callable

import pytest

from messagecenter.accounts.models import User
from tests.api.helpers import Caller, with_session, with_token

SignIn = Callable[[User], Caller]


@pytest.fixture(params=["token", "session"])
def sign_in(request: pytest.FixtureRequest) -> SignIn:
    """Each test that takes it runs twice: once as a device with an API token, once as a
    browser with the session cookie and CSRF token."""
    return with_token if request.param == "token" else with_session
