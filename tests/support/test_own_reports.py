"""Your reports (docs/safety.md#your-reports): the page where a reporter follows each
message or conversation they reported to its outcome — received, under review, action
taken, no action, with its dates — their own only, a page at a time; reached from the
notice after a report and from Your Account."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message
from messagecenter.marketplace.models import Product
from messagecenter.support import actions as support_actions
from messagecenter.support import report_actions
from messagecenter.support.models import Report, ReportFiling
from messagecenter.support.report_queries import OWN_REPORTS_PER_PAGE
from tests import factories
from tests.api.helpers import error_of, with_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def safety_agent(db: None) -> User:
    return factories.agent_in_team("trust-and-safety", username="tess", first_name="Tess")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def scam_to(buyer: User, seller: User, product: Product, body: str = "Pay me by wire") -> Message:
    order = factories.order_with_item(buyer, product)
    return actions.contact_buyer_about_order(seller, order.pk, body)


def stages(page: str) -> list[str]:
    return re.findall(r'data-testid="own-report-stage">([^<]*)<', page)


def own_reports(user: User, query: str = "") -> str:
    response = signed_in(user).get(reverse("own-reports") + query)
    assert response.status_code == 200
    return response.content.decode()


def test_a_report_is_received_then_under_review_then_decided_with_its_dates(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    scam = scam_to(buyer, seller, product)
    report_actions.report_message(buyer, scam.pk, "scam")
    report = Report.objects.get()

    received = own_reports(buyer)
    support_actions.take_case(safety_agent, report.pk)
    under_review = own_reports(buyer)
    report_actions.decide_report(safety_agent, report.pk, "confirmed", "restricted")
    decided = own_reports(buyer)

    assert stages(received) == ["Received"]
    assert "A message <bdi>Acme Kitchen</bdi> sent you on" in received
    assert "Phishing or scam" in received
    assert reverse("conversation", args=[scam.conversation_id]) in received
    assert "Decided" not in received
    assert stages(under_review) == ["Under review"]
    assert stages(decided) == ["Action taken"]
    assert "Decided" in decided
    assert "removed it and acted on the sender&#x27;s account" in decided
    # What was reported is named, never quoted: its text is hidden for the reporter.
    assert "Pay me by wire" not in decided


def test_a_warning_is_action_taken_and_a_dismissal_no_action(
    buyer: User, other_buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    report_actions.report_conversation(
        buyer, scam_to(buyer, seller, product).conversation_id, "spam"
    )
    report_actions.decide_report(safety_agent, Report.objects.get().pk, "dismissed")
    report_actions.report_message(other_buyer, scam_to(other_buyer, seller, product).pk, "spam")
    report_actions.decide_report(safety_agent, Report.objects.get(outcome="pending").pk, "warned")

    dismissed = own_reports(buyer)
    warned = own_reports(other_buyer)

    assert stages(dismissed) == ["No action"]
    assert "Your conversation with <bdi>Acme Kitchen</bdi>" in dismissed
    assert "does not break the marketplace&#x27;s rules" in dismissed
    assert stages(warned) == ["Action taken"]
    assert "warned the sender" in warned


def test_someone_elses_reports_are_never_shown(
    buyer: User, other_buyer: User, seller: User, product: Product
) -> None:
    """Two buyers report the same shop's messages (one case): each page lists its own."""
    mine = scam_to(buyer, seller, product, "Pay me by wire")
    theirs = scam_to(other_buyer, seller, product, "Send a gift card")
    theirs.conversation.subject = "Bob's own order"
    theirs.conversation.save(update_fields=["subject"])
    report_actions.report_message(buyer, mine.pk, "scam")
    report_actions.report_message(other_buyer, theirs.pk, "pay_outside")

    page = own_reports(buyer)

    assert len(re.findall('data-testid="own-report"', page)) == 1
    assert reverse("conversation", args=[mine.conversation_id]) in page
    assert reverse("conversation", args=[theirs.conversation_id]) not in page
    assert "Bob" not in page
    assert "Asks to pay outside the marketplace" not in page
    # Nor does a person who reported nothing see anyone's.
    assert stages(own_reports(seller)) == []
    assert "You have not reported anything" in own_reports(seller)


def test_a_long_list_is_paged_in_a_constant_number_of_statements(
    buyer: User, seller: User, product: Product
) -> None:
    scam = scam_to(buyer, seller, product)
    report_actions.report_message(buyer, scam.pk, "scam")
    first = ReportFiling.objects.get()
    now = timezone.now()
    ReportFiling.objects.bulk_create(
        ReportFiling(
            report=first.report,
            reporter=buyer,
            category="spam",
            conversation=first.conversation,
            created_at=now,
        )
        for _ in range(OWN_REPORTS_PER_PAGE)
    )
    client = signed_in(buyer)
    client.get(reverse("own-reports"))

    with CaptureQueriesContext(connection) as statements:
        newest = client.get(reverse("own-reports")).content.decode()
    older = own_reports(buyer, "?page=2")

    assert len(stages(newest)) == OWN_REPORTS_PER_PAGE
    assert stages(older) == ["Received"]
    assert "A message <bdi>Acme Kitchen</bdi>" in older
    assert 'href="?page=2" rel="next"' in newest
    assert 'href="?page=1" rel="prev"' in older
    # The session, the person, the count and the page (and the header's counters): not
    # one more statement a row.
    assert len(statements) < OWN_REPORTS_PER_PAGE
    # A page past the end, or not a number, shows the last or the first.
    assert stages(own_reports(buyer, "?page=99")) == ["Received"]
    assert len(stages(own_reports(buyer, "?page=x"))) == OWN_REPORTS_PER_PAGE


def test_the_notice_after_a_report_and_your_account_lead_to_your_reports(
    buyer: User, seller: User, product: Product
) -> None:
    scam = scam_to(buyer, seller, product)
    client = signed_in(buyer)

    after = client.post(
        reverse("report-message", args=[scam.pk]), {"category": "scam"}, follow=True
    ).content.decode()
    refused = client.post(
        reverse("report-message", args=[scam.pk]), {"category": "scam"}, follow=True
    ).content.decode()
    account = client.get(reverse("account")).content.decode()

    link = f'href="{reverse("own-reports")}"'
    assert "Report sent" in after
    assert link in after.split('class="notices"')[1].split("</div>")[0]
    # A refused report has nothing to follow.
    assert 'data-testid="own-reports-link"' not in refused
    assert link in account


def test_signed_out_people_are_sent_to_sign_in(db: None) -> None:
    response = Client().get(reverse("own-reports"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_the_api_says_where_each_of_your_reports_is_and_never_anyone_elses(
    buyer: User, other_buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    mine = scam_to(buyer, seller, product)
    made = with_token(buyer).post(f"/messages/{mine.pk}/report", {"category": "scam"}).json()
    report_actions.report_message(other_buyer, scam_to(other_buyer, seller, product).pk, "spam")
    received = with_token(buyer).get("/reports").json()["items"]
    support_actions.take_case(safety_agent, Report.objects.get().pk)
    under_review = with_token(buyer).get("/reports").json()["items"]
    report_actions.decide_report(safety_agent, Report.objects.get().pk, "dismissed")
    decided = with_token(buyer).get("/reports").json()["items"]

    assert (made["stage"], made["stage_label"]) == ("received", "Received")
    assert [(own["id"], own["stage"]) for own in received] == [(made["id"], "received")]
    assert [own["stage"] for own in under_review] == ["under_review"]
    assert [(own["stage"], own["stage_label"]) for own in decided] == [("no_action", "No action")]
    assert decided[0]["decided_at"] is not None


# --- GET /reports, a page at a time (docs/api.md#pagination) ----------------------------------
# It gave the latest 100 and no way to the older ones. Now as GET /conversations: `cursor`
# and `limit`, `{"items", "next_cursor"}`, newest first, keyset on (created_at, id).


def many_filings(buyer: User, seller: User, product: Product, count: int) -> list[int]:
    """`count` filings of the buyer's, newest first as the API lists them; several share a
    time, so a page boundary falls inside a tie."""
    scam = scam_to(buyer, seller, product)
    report_actions.report_message(buyer, scam.pk, "scam")
    first = ReportFiling.objects.get()
    now = timezone.now()
    ReportFiling.objects.bulk_create(
        ReportFiling(
            report=first.report,
            reporter=buyer,
            category="spam",
            conversation=first.conversation,
            created_at=now - timezone.timedelta(minutes=number // 3),
        )
        for number in range(count - 1)
    )
    return list(
        ReportFiling.objects.filter(reporter=buyer)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )


def test_the_api_gives_your_reports_a_page_at_a_time_to_the_last(
    buyer: User, other_buyer: User, seller: User, product: Product
) -> None:
    newest_first = many_filings(buyer, seller, product, 2 * OWN_REPORTS_PER_PAGE + 1)
    report_actions.report_message(other_buyer, scam_to(other_buyer, seller, product).pk, "spam")
    device = with_token(buyer)

    first = device.get("/reports").json()
    second = device.get("/reports", {"cursor": first["next_cursor"]}).json()
    last = device.get("/reports", {"cursor": second["next_cursor"]}).json()

    assert set(first) == {"items", "next_cursor"}
    assert len(first["items"]) == len(second["items"]) == OWN_REPORTS_PER_PAGE
    assert last["next_cursor"] is None
    # Every one of the person's own once, in order; nobody else's.
    pages = first["items"] + second["items"] + last["items"]
    assert [own["id"] for own in pages] == newest_first
    # A cursor needs no escaping in a query string (written in UTC with a Z).
    assert "+" not in first["next_cursor"]


def test_the_api_pages_your_reports_by_the_limit_asked_for(
    buyer: User, seller: User, product: Product
) -> None:
    newest_first = many_filings(buyer, seller, product, 7)
    device = with_token(buyer)

    first = device.get("/reports", {"limit": 5}).json()
    rest = device.get("/reports", {"limit": 5, "cursor": first["next_cursor"]}).json()
    everything = device.get("/reports", {"limit": 7}).json()

    assert [own["id"] for own in first["items"] + rest["items"]] == newest_first
    assert rest["next_cursor"] is None
    assert everything["next_cursor"] is None
    assert device.get("/reports", {"limit": 0}).status_code == 422
    assert device.get("/reports", {"limit": 101}).status_code == 422


@pytest.mark.parametrize("cursor", ["nonsense", "2026-12-05T20:00:00~0", "x~12", "~"])
def test_a_made_up_cursor_for_your_reports_is_refused_changing_nothing(
    buyer: User, seller: User, product: Product, cursor: str
) -> None:
    many_filings(buyer, seller, product, 3)
    before = list(ReportFiling.objects.values_list("pk", "created_at", "report_id"))

    response = with_token(buyer).get("/reports", {"cursor": cursor})

    assert error_of(response) == (400, "invalid_cursor")
    assert list(ReportFiling.objects.values_list("pk", "created_at", "report_id")) == before
