"""Open queue pages follow their team's cases (docs/support.md, "The console"): every
committed change to a team's cases sends `queue.changed` — in nobody's log, no `id` — on
the open streams of the team's agents and of the admins, and of nobody else; a change
that rolls back sends nothing. Driven through the stream's ASGI application in this
process (tests/realtime/test_streams.py's InProcessStream); the browser side is
tests/e2e/test_customer_service.py."""

import asyncio

import pytest
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import Role, User
from messagecenter.errors import Conflict
from messagecenter.support import actions
from tests import factories
from tests.asgi import run_in_own_loop
from tests.realtime.test_streams import InProcessStream, token_headers

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_change_to_a_teams_cases_nudges_its_agents_and_the_admins_only(
    settings: Settings, buyer: User
) -> None:
    settings.REALTIME_AUTH_CHECK_SECONDS = 3600
    settings.REALTIME_HEARTBEAT_SECONDS = 3600
    agent = factories.agent_in_team(username="priya")
    teammate = factories.agent_in_team(username="omar")
    other_team_agent = factories.agent_in_team("trust-and-safety", username="tomas")
    admin = factories.UserFactory(username="root", role=Role.ADMIN)
    team = actions.team_for("request")
    watching = [token_headers(agent), token_headers(admin)]
    not_watching = [token_headers(other_team_agent), token_headers(buyer)]

    async def scenario() -> list[list[str]]:
        opened = [InProcessStream.open(headers) for headers in watching + not_watching]
        for stream in opened:
            await stream.start()
            await stream.text()  # retry
        case = await asyncio.to_thread(
            actions.open_request, buyer, "My parcel is stuck", "UPS lost it."
        )
        phases = [[await stream.everything_within(1.0) for stream in opened]]
        await asyncio.to_thread(actions.take_case, agent, case.pk)
        phases.append([await stream.everything_within(1.0) for stream in opened])
        # Refused after it locked the team: rolled back, nothing is sent.
        with pytest.raises(Conflict):
            await asyncio.to_thread(actions.take_case, teammate, case.pk)
        phases.append([await stream.everything_within(1.0) for stream in opened])
        for stream in opened:
            await stream.disconnect()
        return phases

    opened, taken, refused = run_in_own_loop(scenario)

    nudge = f'event: queue.changed\ndata: {{"team_id":{team.pk}}}\n\n'
    # The agent's and the admin's streams have the nudge (and nothing of the buyer's),
    # the other team's agent and the buyer none.
    assert [set(text.split(nudge)) for text in opened[:2]] == [{""}, {""}]
    assert [nudge in text for text in opened] == [True, True, False, False]
    assert "event: message.created" in opened[3]
    assert [nudge in text for text in taken] == [True, True, False, False]
    assert refused == ["", "", "", ""]
