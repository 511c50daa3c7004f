"""Reports (docs/safety.md#reports): a report hides what it is about for its reporter and
opens or joins the sender's case in the trust-and-safety queue with the verdict, reasons and
the sender's history; agents confirm (removed for every recipient, sender restricted or
suspended), dismiss or warn; every reporter is told in a message of their own; a reporter
never learns who else reported."""

import html
import json
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Conversation, HiddenMessage, Kind, Message
from messagecenter.delivery import rendering
from messagecenter.delivery.models import Email
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.marketplace.models import Product
from messagecenter.safety.models import SendingCount
from messagecenter.search.models import MailboxMessage
from messagecenter.support import actions as support_actions
from messagecenter.support import queries, report_actions
from messagecenter.support.models import Case, CaseStatus, Report, ReportFiling
from tests import factories
from tests.api.helpers import error_of, with_token
from tests.conversations.helpers import snapshot
from tests.web.helpers import not_isolated

pytestmark = pytest.mark.django_db

SCAM = (
    "URGENT: Your Marketplace account has been suspended. Verify your account now: "
    "https://rnarketplace-account-verify.example/secure-login — confirm your password."
)


@pytest.fixture
def safety_agent(db: None) -> User:
    return factories.agent_in_team("trust-and-safety", username="tess", first_name="Tess")


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def scam_to(buyer: User, seller: User, product: Product) -> Message:
    order = factories.order_with_item(buyer, product)
    return actions.contact_buyer_about_order(seller, order.pk, SCAM)


def page_of(user: User, conversation_id: int) -> str:
    return signed_in(user).get(reverse("conversation", args=[conversation_id])).content.decode()


def test_a_report_hides_the_message_for_its_reporter_and_opens_a_case_with_the_verdict(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    scam = scam_to(buyer, seller, product)
    assert "rnarketplace" in page_of(buyer, scam.conversation_id)

    filing = report_actions.report_message(buyer, scam.pk, "scam")

    assert "rnarketplace" not in page_of(buyer, scam.conversation_id)
    # Its sender still sees it: nothing was removed yet.
    assert "rnarketplace" in page_of(seller, scam.conversation_id)
    api = with_token(buyer).get(f"/conversations/{scam.conversation_id}/messages").json()
    assert scam.pk not in [item["id"] for item in api["items"]]
    assert not MailboxMessage.objects.filter(message=scam, user=buyer).exists()
    report = filing.report
    case = report.case
    assert (case.kind, case.status, case.team.slug) == ("report", "open", "trust-and-safety")
    assert (case.about_message_id, case.about_conversation_id) == (scam.pk, scam.conversation_id)
    assert report.sender == seller
    assert report.verdict == "warn"
    assert "link_lookalike" in [reason["code"] for reason in report.reasons]
    assert report.safety_version == scam.safety_version
    assert report.sender_history["warned_messages"] == 1
    assert report.sender_history["reports"] == 0
    # The agents' queue has it; the reporter's own list of cases does not.
    assert case not in queries.customer_cases(buyer)
    with pytest.raises(NotFound):
        queries.access_case(buyer, case.pk)


def test_wrong_reports_are_refused_with_a_reason_and_change_nothing(
    buyer: User, seller: User, other_buyer: User, product: Product, agent: User
) -> None:
    scam = scam_to(buyer, seller, product)
    notice = actions.send_marketplace_message(
        buyer, kind=Kind.NOTICE, subject="Terms", body="New terms."
    )
    before = (snapshot(), Case.objects.count(), HiddenMessage.objects.count())

    for reporter, message_id, category, error, code in [
        (buyer, scam.pk, "nonsense", InvalidInput, "invalid_report_category"),
        (buyer, scam.pk, None, InvalidInput, "invalid_report_category"),
        (seller, scam.pk, "spam", InvalidInput, "cannot_report_own"),
        (buyer, notice.pk, "spam", InvalidInput, "cannot_report_marketplace"),
        (other_buyer, scam.pk, "spam", NotFound, "message_not_found"),
        (buyer, 10**20, "spam", NotFound, "message_not_found"),
        (buyer, "x", "spam", NotFound, "message_not_found"),
        (agent, scam.pk, "spam", NotFound, "message_not_found"),
    ]:
        with pytest.raises(error) as refused:
            report_actions.report_message(reporter, message_id, category)
        assert refused.value.code == code, (reporter, message_id, category)
    with pytest.raises(InvalidInput) as refused:
        report_actions.report_conversation(buyer, notice.conversation_id, "spam")
    assert refused.value.code == "cannot_report_marketplace"
    # An agent in a customer's request reviews reports, and does not file them.
    request = support_actions.open_request(buyer, "Help", "Where is my parcel?")
    helper = factories.agent_in_team("customer-service", username="cs")
    support_actions.take_case(helper, request.pk)
    asked = Message.objects.get(conversation_id=request.conversation_id, sender=buyer)
    with pytest.raises(NotAllowed) as refused:
        report_actions.report_message(helper, asked.pk, "spam")
    assert refused.value.code == "customers_only"
    before = (snapshot(), Case.objects.count(), HiddenMessage.objects.count())

    assert (snapshot(), Case.objects.count(), HiddenMessage.objects.count()) == before


def test_reporting_twice_is_refused_and_changes_nothing(
    buyer: User, seller: User, product: Product
) -> None:
    scam = scam_to(buyer, seller, product)
    report_actions.report_message(buyer, scam.pk, "scam")
    report_actions.report_conversation(buyer, scam.conversation_id, "scam")
    before = (ReportFiling.objects.count(), Case.objects.count())

    with pytest.raises(Conflict) as again:
        report_actions.report_message(buyer, scam.pk, "spam")
    assert again.value.code == "already_reported"
    with pytest.raises(Conflict) as again:
        report_actions.report_conversation(buyer, scam.conversation_id, "spam")
    assert again.value.code == "already_reported"

    assert (ReportFiling.objects.count(), Case.objects.count()) == before


def two_reporters(
    buyer: User, other_buyer: User, seller: User, product: Product
) -> tuple[Message, Message, Report]:
    """The same shop sends its scam to two buyers; both report it: one case."""
    first = scam_to(buyer, seller, product)
    second = scam_to(other_buyer, seller, product)
    report_actions.report_message(buyer, first.pk, "scam")
    report_actions.report_message(other_buyer, second.pk, "pay_outside")
    [report] = Report.objects.all()
    return first, second, report


def test_reports_of_one_sender_join_one_case_which_only_agents_see_whole(
    buyer: User, other_buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    first, second, report = two_reporters(buyer, other_buyer, seller, product)

    assert Case.objects.filter(kind="report").count() == 1
    assert sorted(report.filings.values_list("reporter__username", flat=True)) == ["alice", "bob"]
    # The agent sees both reporters, on the console's panel and in the API.
    panel = signed_in(safety_agent).get(reverse("console-case", args=[report.pk]))
    content = panel.content.decode()
    assert 'data-testid="report-panel"' in content
    for trace in ("Alice Buyer", "Bob Buyer", "alice@example.test", "bob@example.test"):
        assert trace in content
    detail = with_token(safety_agent).get(f"/agent/reports/{report.pk}").json()
    assert sorted(reporter["name"] for reporter in detail["reporters"]) == [
        "Alice Buyer",
        "Bob Buyer",
    ]
    assert sorted(message["id"] for message in detail["messages"]) == [first.pk, second.pk]


def test_a_reporter_never_learns_another_reporters_identity(
    buyer: User, other_buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    _, _, report = two_reporters(buyer, other_buyer, seller, product)
    report_actions.decide_report(safety_agent, report.pk, "warned")

    alice = ("Alice Buyer", "alice@example.test", "alice")
    for reporter, other in [(other_buyer, alice), (buyer, ("Bob Buyer", "bob@", "bob"))]:
        caller = with_token(reporter)
        answers = [
            caller.get("/reports"),
            caller.get("/cases"),
            caller.get("/conversations"),
            caller.get(f"/cases/{report.pk}"),
            caller.get(f"/agent/reports/{report.pk}"),
            signed_in(reporter).get(reverse("message-center")),
            signed_in(reporter).get(reverse("own-reports")),
            signed_in(reporter).get(reverse("console-case", args=[report.pk])),
        ]
        for conversation_id in Conversation.objects.filter(participants__user=reporter).values_list(
            "pk", flat=True
        ):
            answers.append(caller.get(f"/conversations/{conversation_id}/messages"))
            answers.append(signed_in(reporter).get(reverse("conversation", args=[conversation_id])))
        for answer in answers:
            text = answer.content.decode()
            for trace in other:
                assert trace not in text, (reporter.username, answer.request["PATH_INFO"], trace)
        assert error_of(caller.get(f"/cases/{report.pk}")) == (404, "case_not_found")
        assert error_of(caller.get(f"/agent/reports/{report.pk}")) == (403, "agents_only")
        [own] = caller.get("/reports").json()["items"]
        assert (own["status"], own["category"]) in {("warned", "scam"), ("warned", "pay_outside")}
    # The warned sender is told what was found, never by whom.
    warning = Message.objects.filter(
        conversation__participants__user=seller, conversation__kind=Kind.CUSTOMER_SERVICE
    ).get()
    assert "This is a warning" in warning.body
    for trace in ("Alice", "alice", "Bob", "bob"):
        assert trace not in warning.body


def test_confirming_removes_the_messages_for_every_recipient_and_restricts_the_sender(
    buyer: User, other_buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    first, second, report = two_reporters(buyer, other_buyer, seller, product)
    # A third buyer got the scam too and did not report it.
    third_buyer = factories.BuyerFactory(username="carol", display_name="Carol Buyer")
    third = scam_to(third_buyer, seller, product)

    report_actions.decide_report(safety_agent, report.pk, "confirmed", "restricted")

    report.refresh_from_db()
    assert (report.outcome, report.sender_action, report.decided_by) == (
        "confirmed",
        "restricted",
        safety_agent,
    )
    assert Case.objects.get(pk=report.pk).status == CaseStatus.SOLVED
    for message in (first, second):
        assert Message.objects.get(pk=message.pk).removed_at is not None
    assert "rnarketplace" not in page_of(other_buyer, second.conversation_id)
    # Not reported, so not removed: the review covers what was reported.
    assert "rnarketplace" in page_of(third_buyer, third.conversation_id)
    # The sender sees their own message, marked.
    own = page_of(seller, first.conversation_id)
    assert "rnarketplace" in own
    assert 'data-testid="message-removed"' in own
    # The sender is told what it was reported as, in words that read (scam, pay_outside).
    [notice] = Message.objects.filter(
        conversation__participants__user=seller, conversation__kind=Kind.CUSTOMER_SERVICE
    )
    assert (
        "was reported as phishing or scam and asking to be paid outside the marketplace, "
        "and our team reviewed it."
    ) in notice.body
    # Restricted: answering is fine, writing first is not.
    assert SendingCount.objects.get(user=seller).restricted_at is not None
    actions.send_message(third_buyer, third.conversation_id, "When does my order ship?")
    actions.send_message(seller, third.conversation_id, "Your order ships tomorrow.")
    fresh_buyer = factories.BuyerFactory(username="dave")
    fresh_order = factories.order_with_item(fresh_buyer, product)
    with pytest.raises(NotAllowed) as refused:
        actions.contact_buyer_about_order(seller, fresh_order.pk, "Hello!")
    assert refused.value.code == "sender_restricted"
    # Each reporter is told in a customer-service message of their own.
    for reporter in (buyer, other_buyer):
        [told] = Message.objects.filter(
            conversation__participants__user=reporter,
            conversation__kind=Kind.CUSTOMER_SERVICE,
        )
        assert "We reviewed it and removed it" in told.body
    # Deciding again is refused and changes nothing.
    with pytest.raises(Conflict) as again:
        report_actions.decide_report(safety_agent, report.pk, "dismissed")
    assert again.value.code == "report_already_decided"


@pytest.mark.parametrize("sender_action", ["restricted", "suspended"])
def test_the_notice_to_a_reported_sender_quotes_their_link_defanged_never_as_a_link(
    sender_action: str, buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """The notice is Official: its page links up addresses, and mail apps do in its e-mail.
    It quoted the reported phishing link as written, so the one page and e-mail that vouch
    for the marketplace carried the scammer's live link."""
    scam = scam_to(buyer, seller, product)
    report_actions.report_message(buyer, scam.pk, "scam")
    case = Case.objects.get(kind="report")

    report_actions.decide_report(safety_agent, case.pk, "confirmed", sender_action)

    [notice] = Message.objects.filter(
        conversation__participants__user=seller, conversation__kind=Kind.CUSTOMER_SERVICE
    )
    # Defanged before it is cut to the excerpt's length: no half address left to link.
    quoted = (
        "(“URGENT: Your Marketplace account has been suspended. Verify your account now: "
        "hxxps://rnarketplace-account-verify[.]exa…”)"
    )
    assert quoted in notice.body
    if sender_action == "restricted":
        # (A suspended seller cannot sign in: they read it by e-mail.)
        page = page_of(seller, notice.conversation_id)
        assert "hxxps://rnarketplace-account-verify[.]exa…" in page
        assert "rnarketplace-account-verify.example" not in page
        assert 'href="hxxp' not in page
    [email] = Email.objects.filter(user=seller, message=notice)
    built = rendering.build(email, seller, {})
    html = str(built.alternatives[0][0])
    for part in (str(built.body), html):
        assert "hxxps://rnarketplace-account-verify[.]exa…" in part
        assert "rnarketplace-account-verify.example" not in part
        assert "https://rnarketplace" not in part


def test_confirming_with_suspension_signs_the_sender_out(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    scam = scam_to(buyer, seller, product)
    report = report_actions.report_message(buyer, scam.pk, "scam").report
    browser = signed_in(seller)
    token = with_token(seller)

    report_actions.decide_report(safety_agent, report.pk, "confirmed", "suspended")

    seller.refresh_from_db()
    assert seller.is_active is False
    assert browser.get(reverse("message-center")).status_code == 302
    assert token.get("/conversations").status_code == 401


def test_dismissing_tells_the_reporter_and_not_the_sender(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    scam = scam_to(buyer, seller, product)
    report = report_actions.report_message(buyer, scam.pk, "spam").report

    report_actions.decide_report(safety_agent, report.pk, "dismissed")

    assert Message.objects.get(pk=scam.pk).removed_at is None
    assert not Message.objects.filter(
        conversation__participants__user=seller, conversation__kind=Kind.CUSTOMER_SERVICE
    ).exists()
    [told] = Message.objects.filter(
        conversation__participants__user=buyer, conversation__kind=Kind.CUSTOMER_SERVICE
    )
    assert "does not break the marketplace's rules" in told.body
    # The reporter reads it: no reply box (nobody would read a reply there).
    assert 'id="reply-body"' not in page_of(buyer, told.conversation_id)


@pytest.mark.parametrize("outcome", ["confirmed", "warned", "dismissed"])
def test_the_reporter_is_thanked_for_the_message_as_it_was_sent_in_their_own_time_zone(
    outcome: str, buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """The thank-you named when the report was filed ("a message from Shop on <filed>"),
    which the reporter cannot find in the conversation; and it was written in the deciding
    agent's time zone."""
    scam = scam_to(buyer, seller, product)
    Message.objects.filter(pk=scam.pk).update(created_at=datetime(2025, 11, 3, 5, 5, tzinfo=UTC))
    buyer.time_zone = "Asia/Tokyo"
    buyer.save(update_fields=["time_zone"])
    report = report_actions.report_message(buyer, scam.pk, "scam").report

    with timezone.override(ZoneInfo("America/New_York")):
        report_actions.decide_report(
            safety_agent, report.pk, outcome, "restricted" if outcome == "confirmed" else None
        )

    [told] = Message.objects.filter(
        conversation__participants__user=buyer, conversation__kind=Kind.CUSTOMER_SERVICE
    )
    assert told.body.startswith(
        f"Thank you for reporting a message {seller.public_name} sent you on "
        "Mon 3 Nov 2025, 2:05 PM JST. We reviewed it"
    )


def test_a_decided_report_stays_solved(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """Opened again, it could never be closed by a decision (a report is decided once):
    it sat in the open queues until someone solved it by hand."""
    scam = scam_to(buyer, seller, product)
    report = report_actions.report_message(buyer, scam.pk, "scam").report
    report_actions.decide_report(safety_agent, report.pk, "dismissed")

    # ("pending" is refused for any report: test_a_report_cannot_wait_on_the_customer.)
    with pytest.raises(Conflict) as refused:
        support_actions.set_case_status(safety_agent, report.pk, "open")
    assert refused.value.code == "report_already_decided"
    assert Case.objects.get(pk=report.pk).status == CaseStatus.SOLVED
    # Solved again is what it is: nothing to refuse.
    support_actions.set_case_status(safety_agent, report.pk, "solved")


def test_a_report_cannot_wait_on_the_customer(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """A report has no conversation with the customer: "Waiting on customer" was offered
    in its Status menu, and set, it left the report waiting on an answer nobody could
    give. Its menu offers open and solved only; the action and the API refuse pending."""
    scam = scam_to(buyer, seller, product)
    report = report_actions.report_message(buyer, scam.pk, "scam").report

    page = signed_in(safety_agent).get(reverse("console-case", args=[report.pk]))
    status_menu = page.content.decode().split('<select name="status" id="status">')[1]
    status_menu = status_menu.split("</select>")[0]
    assert 'value="open"' in status_menu
    assert 'value="solved"' in status_menu
    assert 'value="pending"' not in status_menu
    with pytest.raises(InvalidInput) as refused:
        support_actions.set_case_status(safety_agent, report.pk, "pending")
    assert refused.value.code == "no_customer_to_wait_on"
    by_api = with_token(safety_agent).post(
        f"/agent/cases/{report.pk}/status", {"status": "pending"}
    )
    assert error_of(by_api) == (400, "no_customer_to_wait_on")
    assert Case.objects.get(pk=report.pk).status == CaseStatus.OPEN
    # Solved it may be.
    support_actions.set_case_status(safety_agent, report.pk, "solved")
    assert Case.objects.get(pk=report.pk).status == CaseStatus.SOLVED


def test_the_report_panel_writes_since_when_the_sender_is_a_member_as_the_site_writes_a_day(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """It read "Seller since 2026-12-05", the ISO date of the UTC day stored in the report's
    snapshot: now the site's day (web/dates.py `day`) in the agent's own time zone."""
    User.objects.filter(pk=seller.pk).update(date_joined=datetime(2026, 12, 5, 3, 0, tzinfo=UTC))
    safety_agent.time_zone = "America/Los_Angeles"
    safety_agent.save(update_fields=["time_zone"])
    scam = scam_to(buyer, seller, product)
    report = report_actions.report_message(buyer, scam.pk, "scam").report

    page = signed_in(safety_agent).get(reverse("console-case", args=[report.pk])).content.decode()

    assert "Seller since 4 Dec 2026" in page
    assert "since 2026-12-05" not in page


def test_a_seller_who_reported_is_named_a_seller_and_shown_with_their_shop(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """A seller's report read "Acme (customer)" in the case's history, and the panel beside
    it "Orders: No orders." (a seller buys nothing): their part is their role, and the
    panel shows their shop."""
    order = factories.order_with_item(buyer, product)
    rude = actions.contact_seller_about_order(
        buyer, order.pk, seller.storefront.pk, "You are a fraud, I will ruin your shop."
    )
    report = report_actions.report_message(seller, rude.pk, "offensive").report
    shop = seller.storefront.name

    page = signed_in(safety_agent).get(reverse("console-case", args=[report.pk])).content.decode()

    history = page.split('id="history-title"')[1].split("</section>")[0]
    assert f"<bdi>{html.escape(shop)}</bdi> <bdi>(seller)</bdi>" in history
    assert "(customer)" not in history
    assert "No orders." not in page
    panel = page.split('data-testid="customer-shop"')[1].split("</section>")[0]
    assert html.escape(shop) in panel
    api_history = with_token(safety_agent).get(f"/agent/cases/{report.pk}").json()
    assert "(customer)" not in json.dumps(api_history)


def test_wrong_decisions_are_refused_and_change_nothing(
    buyer: User, seller: User, product: Product, safety_agent: User, agent: User
) -> None:
    scam = scam_to(buyer, seller, product)
    report = report_actions.report_message(buyer, scam.pk, "scam").report
    before = (snapshot(), Report.objects.values_list("outcome", flat=True).get())

    for who, outcome, action, error, code in [
        (safety_agent, "maybe", None, InvalidInput, "invalid_outcome"),
        (safety_agent, "confirmed", None, InvalidInput, "sender_action_required"),
        # A wrong action is named, not asked for ("choose which").
        (safety_agent, "confirmed", "banished", InvalidInput, "invalid_sender_action"),
        (safety_agent, "dismissed", "suspended", InvalidInput, "sender_action_not_allowed"),
        # Another team's agent and customers: the same 404 as a missing report.
        (agent, "dismissed", None, NotFound, "report_not_found"),
        (buyer, "dismissed", None, NotFound, "report_not_found"),
        (seller, "dismissed", None, NotFound, "report_not_found"),
    ]:
        with pytest.raises(error) as refused:
            report_actions.decide_report(who, report.pk, outcome, action)
        assert refused.value.code == code

    assert (snapshot(), Report.objects.values_list("outcome", flat=True).get()) == before


def test_the_pages_report_and_decide(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    scam = scam_to(buyer, seller, product)
    page = page_of(buyer, scam.conversation_id)
    assert reverse("report-message", args=[scam.pk]) in page
    assert reverse("report-conversation", args=[scam.conversation_id]) in page
    # No "Report" on one's own message.
    assert reverse("report-message", args=[scam.pk]) not in page_of(seller, scam.conversation_id)

    wrong = signed_in(buyer).post(reverse("report-message", args=[scam.pk]), {})
    assert wrong.status_code == 302
    assert not Report.objects.exists()
    done = signed_in(buyer).post(
        reverse("report-message", args=[scam.pk]), {"category": "scam"}, follow=True
    )
    assert "customer service will review it" in done.content.decode()
    report = Report.objects.get()

    refused = signed_in(safety_agent).post(
        reverse("console-report-decide", args=[report.pk]), {"outcome": "confirmed"}
    )
    assert refused.status_code == 400
    assert "restricts or suspends the sender" in refused.content.decode()
    decided = signed_in(safety_agent).post(
        reverse("console-report-decide", args=[report.pk]),
        {"outcome": "confirmed", "sender_action": "restricted"},
    )
    assert decided.status_code == 302
    assert Report.objects.get().outcome == "confirmed"


NOTICE = re.compile(r'<div class="notice notice--(\w+)">\s*<p>(.*?)</p>')


def test_each_report_from_a_page_says_on_the_page_what_became_of_it(
    buyer: User, seller: User, product: Product
) -> None:
    scam = scam_to(buyer, seller, product)
    own = actions.send_message(buyer, scam.conversation_id, "Is this really you?")
    official = actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Shipped", body="On its way."
    )
    client = signed_in(buyer)

    def notice_after(message: Message, category: str) -> str:
        page = client.post(
            reverse("report-message", args=[message.pk]), {"category": category}, follow=True
        )
        assert page.redirect_chain == [
            (reverse("conversation", args=[message.conversation_id]), 302)
        ]
        found = re.search(NOTICE, page.content.decode())
        assert found is not None
        return f"{found[1]}: {html.unescape(found[2])}"

    assert notice_after(own, "scam") == "error: You cannot report your own message."
    assert notice_after(official, "scam").startswith("error: ")
    assert notice_after(scam, "xxx") == (
        "error: Choose what is wrong: phishing or scam, asks to pay outside the marketplace, "
        "offensive, or spam."
    )
    assert not Report.objects.exists()
    assert notice_after(scam, "scam") == (
        "success: Report sent — this message is hidden for you and customer service will "
        "review it. The sender is not told who reported it; the decision comes to your "
        "Customer service folder."
    )
    assert Report.objects.count() == 1


def test_the_api_reports_and_decides(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    scam = scam_to(buyer, seller, product)

    wrong = with_token(buyer).post(f"/messages/{scam.pk}/report", {"category": "rude"})
    assert error_of(wrong) == (422, "invalid_input")
    # Named as the client sent it (it said "data.category", after the view's parameter).
    assert [field["field"] for field in wrong.json()["error"]["fields"]] == ["category"]
    assert not Report.objects.exists()
    made = with_token(buyer).post(f"/messages/{scam.pk}/report", {"category": "scam"})
    assert made.status_code == 201
    assert made.json()["status"] == "pending"
    again = with_token(buyer).post(f"/messages/{scam.pk}/report", {"category": "scam"})
    assert error_of(again) == (409, "already_reported")
    case_id = Report.objects.get().pk

    decided = with_token(safety_agent).post(
        f"/agent/reports/{case_id}/decision", {"outcome": "warned"}
    )
    assert decided.status_code == 200
    assert decided.json()["status"] == "warned"
    assert with_token(buyer).get("/reports").json()["items"][0]["status"] == "warned"


def test_the_decision_api_lists_its_values_and_names_a_wrong_one(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """`outcome` and `sender_action` were free strings: the schema listed no values, and
    "banned" answered 400 sender_action_required ("choose which")."""
    filing = report_actions.report_message(buyer, scam_to(buyer, seller, product).pk, "scam")
    case_id = filing.report.pk
    before = snapshot()

    for body, field in (
        ({"outcome": "confirmed", "sender_action": "banned"}, "sender_action"),
        ({"outcome": "pending"}, "outcome"),
    ):
        wrong = with_token(safety_agent).post(f"/agent/reports/{case_id}/decision", body)
        assert error_of(wrong) == (422, "invalid_input")
        assert [f["field"] for f in wrong.json()["error"]["fields"]] == [field]
    assert snapshot() == before

    schema = with_token(safety_agent).get("/openapi.json").json()["components"]["schemas"]
    decision = schema["DecisionIn"]["properties"]
    assert decision["outcome"]["enum"] == ["confirmed", "dismissed", "warned"]
    assert "SenderAction" in json.dumps(decision["sender_action"])
    assert schema["SenderAction"]["enum"] == ["restricted", "suspended"]


def test_the_report_api_takes_the_report_s_case_id_and_says_report_not_found(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """The path's id is the report's case (`case_id` of the answer): its name said
    `report_id`, which read like the `id` GET /reports gives a reporter (their filing), and
    a number no case has answered case_not_found."""
    filing = report_actions.report_message(buyer, scam_to(buyer, seller, product).pk, "scam")
    case_id = filing.report.pk
    other_case = support_actions.open_request(buyer, "Help", "Where is it?").pk

    shown = with_token(safety_agent).get(f"/agent/reports/{case_id}").json()
    assert shown["case_id"] == case_id
    operation = (
        with_token(safety_agent)
        .get("/openapi.json")
        .json()["paths"]["/api/v1/agent/reports/{case_id}/decision"]["post"]
    )
    assert [p["name"] for p in operation["parameters"]] == ["case_id"]
    for missing in (999_999, other_case):
        for call in (
            lambda number: with_token(safety_agent).get(f"/agent/reports/{number}"),
            lambda number: with_token(safety_agent).post(
                f"/agent/reports/{number}/decision", {"outcome": "warned"}
            ),
        ):
            assert error_of(call(missing)) == (404, "report_not_found")


def test_a_reports_case_page_offers_no_reply_and_no_customer_status(
    buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """A report's case has no conversation: QA found "The customer sees: 'Solved'", a
    "Reply to the customer" form whose sending answered 400 "This case has no
    conversation to answer in.", and a transcript of no messages."""
    filing = report_actions.report_message(buyer, scam_to(buyer, seller, product).pk, "scam")
    request = support_actions.open_request(buyer, "Help", "Where is my parcel?")
    helper = factories.agent_in_team("customer-service", username="cs")

    report_page = signed_in(safety_agent).get(reverse("console-case", args=[filing.report.case_id]))
    request_page = signed_in(helper).get(reverse("console-case", args=[request.pk]))

    assert report_page.status_code == 200
    assert "Reply to the customer" not in report_page.content.decode()
    assert "The customer sees" not in report_page.content.decode()
    assert 'data-testid="no-conversation"' in report_page.content.decode()
    # Nor a transcript of no messages (it offered one, "0 messages").
    assert 'data-testid="case-transcript"' not in report_page.content.decode()
    assert 'data-testid="case-transcript"' in request_page.content.decode()
    assert "Reply to the customer" in request_page.content.decode()
    assert "The customer sees: “Waiting for an agent”" in request_page.content.decode()


def test_the_report_panel_shows_each_right_to_left_name_apart_from_what_follows_it(
    buyer: User, other_buyer: User, seller: User, product: Product, safety_agent: User
) -> None:
    """The report's panel wrote its people as runs of text: "Report of חנות הקומקומים",
    "نور الهدى (alice@example.test) — Scam, …" took the "(alice@…)" after an Arabic name
    into its right-to-left run, the address shown on the name's wrong side; the reported
    messages' sender, who decided and a note's author the same. Each name is now an
    isolate of its own, as the console's other places are (person_in_console_html), and
    a teammate's name in the "Assign to" list has its own direction (dir="auto": an
    <option> holds no markup, and every page leaves without the Unicode isolates)."""
    reporter, other_reporter, shop = "نور الهدى", "שרה כהן", "חנות הקומקומים"
    agent_name, teammate_name = "رانيا", "יעל"
    User.objects.filter(pk=buyer.pk).update(display_name=reporter)
    User.objects.filter(pk=other_buyer.pk).update(display_name=other_reporter)
    User.objects.filter(pk=safety_agent.pk).update(first_name=agent_name)
    seller.storefront.name = shop
    seller.storefront.save(update_fields=["name"])
    factories.agent_in_team("trust-and-safety", username="yael", first_name=teammate_name)
    _, _, report = two_reporters(buyer, other_buyer, seller, product)
    support_actions.add_note(safety_agent, report.pk, "Same wording as last week's.")
    console = signed_in(safety_agent)
    pending = console.get(reverse("console-case", args=[report.pk])).content.decode()
    report_actions.decide_report(safety_agent, report.pk, "warned")
    page = console.get(reverse("console-case", args=[report.pk])).content.decode()

    for shown in (pending, page):
        for name in (reporter, other_reporter, agent_name, teammate_name):
            assert not_isolated(shown, name) == [], name
        # The shop's name as a name; in the case's subject it is in the subject's isolate.
        assert [
            place
            for place in not_isolated(shown, shop)
            if not place.startswith(("<bdi {}>", "<h1 {'dir': 'auto'}>"))
        ] == []
    # The "Assign to" list of a case still open.
    assert f'<option value="{safety_agent.pk}" dir="auto">{agent_name}</option>' in pending
    panel = page.split('data-testid="report-panel"', 1)[1].split("</section>", 1)[0]
    assert f"Report of <bdi>{shop}</bdi>" in panel
    assert f"<li><bdi>{reporter}</bdi> <bdi>(alice@example.test)</bdi> — " in panel
    assert f"<li><bdi>{other_reporter}</bdi> <bdi>(bob@example.test)</bdi> — " in panel
    assert f"by <bdi>{agent_name}</bdi>, " in panel
    assert f'<span class="message__sender"><bdi>{shop}</bdi></span>' in panel
    notes = page.split('id="notes-title"', 1)[1].split("</section>", 1)[0]
    assert f'<p class="muted"><bdi>{agent_name}</bdi> · <time' in notes
