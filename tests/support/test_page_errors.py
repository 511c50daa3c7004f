"""What the customer-service pages answer when an action refuses (docs/architecture.md, "The
one error mapping"): something the person may not see is the site's 404 page, from the one
mapping in web/errors.py, and changes nothing; a form's refusal is shown beside the form.
The views name only FORM_ERRORS, so a NotFound raised inside an action must pass them."""

import re

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from messagecenter.accounts.models import User
from messagecenter.marketplace.models import Product
from messagecenter.support import actions
from messagecenter.support.models import CannedResponse, Case, Team
from tests import factories

pytestmark = pytest.mark.django_db


def is_the_sites_404_page(response: HttpResponse) -> bool:
    """The site's 404 page, not the form's page answered with the error's status."""
    return response.status_code == 404 and "We can’t find that page" in response.content.decode()


def signed_in(person: User) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_a_case_action_naming_a_message_outside_the_case_is_a_404(buyer: User) -> None:
    agent = factories.agent_in_team()
    case = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    elsewhere = actions.open_request(buyer, "Other", "Another question.")
    assert elsewhere.conversation is not None
    message_elsewhere = elsewhere.conversation.messages.get(sender=buyer)

    response = signed_in(agent).post(
        reverse("console-case-action", args=[case.pk]),
        {"action": "split", "message_id": message_elsewhere.pk},
    )

    assert is_the_sites_404_page(response)
    assert Case.objects.count() == 2


def test_a_canned_response_for_another_team_is_a_404_and_a_bad_one_is_shown_on_the_form() -> None:
    agent = factories.agent_in_team("customer-service")
    factories.agent_in_team("trust-and-safety")
    own, other = (
        Team.objects.get(slug="customer-service"),
        Team.objects.get(slug="trust-and-safety"),
    )
    page = signed_in(agent)

    not_hers = page.post(
        reverse("console-canned-responses"), {"team_id": other.pk, "title": "Hi", "body": "Hello"}
    )
    untitled = page.post(
        reverse("console-canned-responses"), {"team_id": own.pk, "title": "", "body": "Hello"}
    )

    assert is_the_sites_404_page(not_hers)
    assert untitled.status_code == 400
    assert "A title is 1 to 80 characters." in untitled.content.decode()
    assert not CannedResponse.objects.exists()


@pytest.mark.parametrize("page_name", ["contact-customer-service", "customer-service-chat"])
def test_asking_about_someone_elses_order_is_a_404(
    page_name: str, buyer: User, other_buyer: User, product: Product
) -> None:
    order = factories.order_with_item(other_buyer, product)

    response = signed_in(buyer).post(
        reverse(page_name), {"subject": "Help", "body": "Where is it?", "order": order.number}
    )

    assert is_the_sites_404_page(response)
    assert not Case.objects.exists()


def test_a_form_refusal_on_the_customer_service_page_is_shown_beside_it(buyer: User) -> None:
    response = signed_in(buyer).post(
        reverse("contact-customer-service"), {"subject": "Help", "body": ""}
    )

    assert response.status_code == 400
    assert not Case.objects.exists()


def test_a_subject_too_long_on_the_customer_service_page_is_refused_not_cut(
    buyer: User,
) -> None:
    response = signed_in(buyer).post(
        reverse("contact-customer-service"), {"subject": "x" * 201, "body": "Where is it?"}
    )

    assert response.status_code == 400
    assert "A subject is at most 200 characters." in response.content.decode()
    assert not Case.objects.exists()


def test_a_subject_made_from_a_long_conversation_subject_is_cut_to_fit(buyer: User) -> None:
    # An escalation's subject is "No answer from <shop>: <the conversation's subject>":
    # made here, not typed, so it is cut rather than refused.
    case = actions.open_request(buyer, "No answer from a shop: " + "y" * 200, "Please help.")
    assert len(case.subject) == 200


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("CS-9999", "No case CS-9999."),
        ("9999", "No case CS-9999."),
        ("nonsense", "No case nonsense."),
        ("", "Type the number of the case this one duplicates, like CS-123."),
    ],
)
def test_merging_into_a_case_that_does_not_exist_is_shown_on_the_form(
    buyer: User, typed: str, said: str
) -> None:
    """QA: "Duplicate of" = CS-9999 answered the site's 404 page instead of staying on
    the case."""
    agent = factories.agent_in_team()
    case = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    before = list(Case.objects.values_list("pk", "status", "merged_into_id"))

    response = signed_in(agent).post(
        reverse("console-case-action", args=[case.pk]), {"action": "merge", "into": typed}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert f'<p class="alert alert--error" role="alert" id="case-error">{said}</p>' in page
    assert f"{case.number} · <bdi>Parcel missing</bdi>" in page
    assert list(Case.objects.values_list("pk", "status", "merged_into_id")) == before


@pytest.mark.parametrize("assignee", [None, "", "dana", "0", "1.5"])
def test_assigning_to_a_missing_or_malformed_agent_is_shown_on_the_case(
    buyer: User, assignee: str | None
) -> None:
    """QA: Assign with no `assignee_id`, or one that is not a number, answered the site's
    404 page for a case the agent was looking at."""
    agent = factories.agent_in_team()
    case = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    before = list(Case.objects.values_list("pk", "assignee_id", "status", "queued_at"))
    form = (
        {"action": "assign"} if assignee is None else {"action": "assign", "assignee_id": assignee}
    )

    response = signed_in(agent).post(reverse("console-case-action", args=[case.pk]), form)

    assert response.status_code == 400
    page = response.content.decode()
    assert (
        '<p class="alert alert--error" role="alert" id="case-error">'
        "Choose an agent of the case&#x27;s team.</p>"
    ) in page
    assert f"{case.number} · <bdi>Parcel missing</bdi>" in page
    assert list(Case.objects.values_list("pk", "assignee_id", "status", "queued_at")) == before


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ({"older_than_hours": "0"}, None),
        ({"older_than_hours": "9000"}, "Waiting at least (hours): a whole number of hours"),
        ({"older_than_hours": "soon"}, "Waiting at least (hours): a whole number of hours"),
        ({"priority": "5"}, "Priority: choose Low, Normal, High or Urgent."),
        ({"priority": "high"}, "Priority: choose Low, Normal, High or Urgent."),
        ({"kind": "parcel"}, "Kind: choose one of Customer-service request, Report,"),
    ],
)
def test_a_queue_filter_refused_on_the_console_is_named_by_its_label(
    query: dict[str, str], said: str | None
) -> None:
    """QA: an edited URL answered "older_than_hours is 0 to 8760." and "priority is 1 to
    4." — the API's parameter names, on a page that says "Waiting at least (hours)" and
    "Priority"."""
    agent = factories.agent_in_team()

    response = signed_in(agent).get(reverse("console"), query)

    page = response.content.decode()
    if said is None:
        assert response.status_code == 200
        assert 'role="alert"' not in page
        return
    assert response.status_code == 400
    alert = re.search(r'<p class="alert alert--error" role="alert">([^<]*)</p>', page)
    assert alert is not None
    assert said.replace("'", "&#x27;") in alert.group(1)
    for api_name in ("older_than_hours", "priority is", "kind '"):
        assert api_name not in alert.group(1)


def test_merging_into_another_teams_case_reads_as_no_such_case(buyer: User) -> None:
    agent = factories.agent_in_team("customer-service")
    outsider = factories.agent_in_team("trust-and-safety", username="tess")
    theirs = actions.open_request(buyer, "Other", "Another question.")
    Case.objects.filter(pk=theirs.pk).update(team=Team.objects.get(slug="trust-and-safety"))
    case = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    assert outsider.pk != agent.pk

    response = signed_in(agent).post(
        reverse("console-case-action", args=[case.pk]),
        {"action": "merge", "into": theirs.number},
    )

    assert response.status_code == 400
    assert f"No case {theirs.number}." in response.content.decode()
    assert Case.objects.get(pk=case.pk).merged_into_id is None


@pytest.mark.parametrize("status", ["closed", "solved"])
def test_a_closed_case_offers_no_reply_box_but_says_what_the_agent_can_do(
    buyer: User, status: str
) -> None:
    """A closed case (a claim once its appeal window ends, say) still showed "Reply to the
    customer" and the status form: the answer the agent wrote was refused with 400
    case_closed. The page now says the case is closed for good and what can happen instead;
    a solved case keeps its box (an answer opens it again)."""
    agent = factories.agent_in_team()
    case = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    Case.objects.filter(pk=case.pk).update(status=status)

    page = signed_in(agent).get(reverse("console-case", args=[case.pk])).content.decode()

    if status == "closed":
        assert 'id="reply-body"' not in page
        assert "Send to customer" not in page
        assert 'name="action" value="status"' not in page
        notice = re.search(
            r'<p class="notice notice--info" data-testid="case-closed">(.*?)</p>', page
        )
        assert notice is not None
        assert notice.group(1).startswith("This case is closed: it cannot be answered")
        assert "they can open a new request" in notice.group(1)
    else:
        assert 'id="reply-body"' in page
        assert 'name="action" value="status"' in page
        assert 'data-testid="case-closed"' not in page
