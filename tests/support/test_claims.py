"""Guarantee claims: who may file and when, the lifecycle with its deadlines, the messages
both parties get, the refund (docs/support.md#guarantee-claims)."""

import importlib
from datetime import date, timedelta

import pytest
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client, TestCase
from django.urls import reverse

from messagecenter.accounts import closed_accounts
from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.models import Attachment, Message, Participant, ResponseTime
from messagecenter.conversations.send_checks import MessageHeld
from messagecenter.delivery.models import Email
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.marketplace.models import (
    Order,
    Product,
    Refund,
    ReturnRequest,
    Shipment,
)
from messagecenter.privacy.erasure import erase_person
from messagecenter.realtime.models import UserEvent
from messagecenter.safety import actions as safety_actions
from messagecenter.safety.models import HeldMessage
from messagecenter.support import actions, claim_actions, claim_queries, queries, report_actions
from messagecenter.support.models import Case, CaseEvent, Claim
from tests import factories
from tests.conversations.helpers import maintained_unread, recounted_unread, snapshot
from tests.support.claims import Clock, claimable_order, clock, refunded_in_full
from tests.test_admin import change_form_data
from tests.web.helpers import pdf_bytes

__all__ = ["clock"]

pytestmark = pytest.mark.django_db

PDF = pdf_bytes()


@pytest.fixture
def claims_agent(db: None) -> User:
    return factories.agent_in_team("claims", username="dana", first_name="Dana")


def counts_are_true(*people: User) -> None:
    assert queries.stored_counts() == queries.recount()
    for person in people:
        assert maintained_unread(person) == recounted_unread(person)


def file(buyer: User, order: Order, reason: str = "not_received", **options: object) -> Claim:
    return claim_actions.file_claim(
        buyer, order.number, reason, "The parcel never came.", **options
    )


def two_shop_order(buyer: User, product: Product, other_seller: User, clock: Clock) -> Order:
    """A claimable order of `product` with an item of another seller's too."""
    order = claimable_order(buyer, product, clock)
    other = factories.ProductFactory(storefront=other_seller.storefront)
    order.items.create(
        product=other, storefront=other.storefront, title=other.title, unit_price_cents=100
    )
    return order


def texts(claim: Claim) -> list[str]:
    return list(
        Message.objects.filter(conversation_id=claim.case.conversation_id)
        .order_by("id")
        .values_list("body", flat=True)
    )


# --- filing ----------------------------------------------------------------------------------


def test_filing_opens_a_claim_in_both_claims_folders_waiting_on_the_seller(
    buyer: User, seller: User, product: Product, clock: Clock, claims_agent: User
) -> None:
    order = claimable_order(buyer, product, clock)
    photo = SimpleUploadedFile("receipt.pdf", PDF, content_type="application/pdf")

    claim = file(buyer, order, attachments=[photo])

    case = claim.case
    assert (claim.stage, claim.reason, claim.storefront_id) == (
        "seller_response",
        "not_received",
        product.storefront_id,
    )
    assert (case.kind, case.status, case.team.slug, case.customer_id) == (
        "claim",
        "pending",
        "claims",
        buyer.pk,
    )
    assert case.due_at == clock.now + timedelta(hours=48)
    # The agent reading the claim sees the buyer's conversation with the seller beside it.
    assert case.about_conversation is not None
    assert (
        case.about_conversation.topic_key == f"order:{order.pk}:storefront:{product.storefront_id}"
    )
    folders = dict(
        Participant.objects.filter(conversation_id=case.conversation_id).values_list(
            "user_id", "folder"
        )
    )
    assert folders == {buyer.pk: "claims", seller.pk: "claims"}
    bodies = texts(claim)
    assert bodies[0] == "The parcel never came."
    assert bodies[1].startswith(f"Claim {claim.number} is filed: item not received")
    assert "The seller has until" in bodies[1]
    assert Attachment.objects.filter(message__conversation_id=case.conversation_id).count() == 1
    assert maintained_unread(seller)["claims"] == 1
    # E-mail per preferences: claims are customer-service mail, always on.
    assert Email.objects.filter(user=seller, category="customer_service").count() == 2
    assert Email.objects.filter(user=buyer, category="customer_service").count() == 1
    assert UserEvent.objects.filter(user=buyer, kind="case.updated").count() == 1
    assert [found.pk for found in queries.queue_page(claims_agent, "waiting").cases] == [case.pk]
    counts_are_true(buyer, seller)


def test_a_claims_seller_has_the_claims_window_not_the_business_day_one(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The buyer's description (and later messages) in the claim's conversation start no
    business-day deadline for the seller: the claim's own window applies, and the
    response-deadline sweep never posts "No answer yet" in a claim (docs/escalation.md)."""
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    conversation_actions.send_message(buyer, claim.case.conversation_id, "Any news?")
    clock.advance(days=10)

    swept = conversation_actions.pass_response_deadlines()

    row = Participant.objects.get(user=seller, conversation_id=claim.case.conversation_id)
    assert (row.response_due_at, row.is_response_overdue) == (None, False)
    assert swept == 1  # the buyer's question about the order, in its own conversation
    assert not any(text.startswith("No answer yet") for text in texts(claim))


def test_a_retry_with_the_same_key_is_the_same_claim(
    buyer: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)

    first = file(buyer, order, idempotency_key="claim-1")
    again = file(buyer, order, idempotency_key="claim-1")

    assert again.pk == first.pk
    assert again.found_by_idempotency_key
    assert Claim.objects.count() == 1


def test_the_buyer_who_never_wrote_to_the_seller_is_told_to_do_so_first(
    buyer: User, product: Product, clock: Clock
) -> None:
    order = factories.order_with_item(buyer, product, placed_at=clock.now - timedelta(days=20))

    with pytest.raises(NotAllowed) as refused:
        file(buyer, order)

    assert refused.value.code == "contact_seller_first"
    assert "you have not written to Acme Kitchen about this order yet" in refused.value.message
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("reason", "code"),
    [("not_as_described", "claim_not_delivered"), ("returned_not_refunded", "claim_no_return")],
)
def test_a_reason_that_can_never_apply_yet_says_so_before_contact_the_seller_first(
    buyer: User, product: Product, clock: Clock, reason: str, code: str
) -> None:
    """Alice's tent had not arrived and she had no return, yet "Not as described" and
    "Returned but not refunded" both told her to contact the seller first and wait their
    48 hours — after which the same reasons were refused for what no wait could change."""
    order = factories.order_with_item(buyer, product, placed_at=clock.now - timedelta(days=20))

    with pytest.raises(NotAllowed) as refused:
        file(buyer, order, reason)

    assert refused.value.code == code
    assert not Case.objects.exists()


def test_the_seller_keeps_48_hours_from_the_buyers_first_message(
    buyer: User, product: Product, clock: Clock
) -> None:
    order = factories.order_with_item(buyer, product, placed_at=clock.now - timedelta(days=20))
    from messagecenter.conversations import actions as conversation_actions

    conversation_actions.contact_seller_about_order(buyer, order.pk, product.storefront_id, "Hi?")
    until = clock.now + timedelta(hours=48)
    clock.advance(hours=48, seconds=-1)

    with pytest.raises(NotAllowed) as refused:
        file(buyer, order)

    assert refused.value.code == "contact_seller_first"
    assert f"has until {claim_queries.when(until)}" in refused.value.message
    clock.advance(seconds=1)
    assert file(buyer, order).stage == "seller_response"


def test_item_not_received_can_be_filed_from_days_after_the_estimated_delivery(
    buyer: User, product: Product, clock: Clock, settings: object
) -> None:
    order = claimable_order(buyer, product, clock)
    Shipment.objects.create(
        order=order,
        carrier="UPS",
        tracking_number="1Z",
        shipped_at=clock.now - timedelta(days=5),
        estimated_delivery=date.today() + timedelta(days=1),
    )

    with pytest.raises(NotAllowed) as refused:
        file(buyer, order)

    assert refused.value.code == "claim_too_early"
    assert refused.value.message.startswith("You can file from ")


def test_a_delivered_order_that_never_reached_the_buyer_may_be_claimed_at_once(
    buyer: User, product: Product, clock: Clock
) -> None:
    """After order.delivered (the order delivered, its shipment's delivered_at set) there is
    nothing to wait for: "item not received" follows the delivered path, not the estimate's
    "the order may still arrive"."""
    order = claimable_order(buyer, product, clock)
    shipment = Shipment.objects.create(
        order=order,
        carrier="UPS",
        tracking_number="1Z",
        shipped_at=clock.now - timedelta(days=2),
        estimated_delivery=date.today() + timedelta(days=3),
    )
    Order.objects.filter(pk=order.pk).update(status="delivered")
    Shipment.objects.filter(pk=shipment.pk).update(delivered_at=clock.now)
    order.refresh_from_db()
    storefront = product.storefront

    answers = {one.reason: one for one in claim_queries.eligibility(buyer, order, storefront)}

    assert answers["not_received"].may_file, answers["not_received"].refusal
    assert file(buyer, order, "not_received").stage == "seller_response"


@pytest.mark.parametrize("erased", [False, True], ids=["suspended", "erased"])
def test_a_suspended_or_closed_seller_need_not_be_contacted_first(
    buyer: User,
    seller: User,
    product: Product,
    clock: Clock,
    erased: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Writing to a suspended or closed shop is refused (recipient_closed), so "contact the
    seller first" could never be met: the rule is waived and the claim may be filed."""
    order = factories.order_with_item(buyer, product, placed_at=clock.now - timedelta(days=20))
    User.objects.filter(pk=seller.pk).update(is_active=False)
    if erased:
        # The privacy app's lookup of an erasure (accounts/closed_accounts.py).
        monkeypatch.setattr(closed_accounts, "_erased", lambda person_id: person_id == seller.pk)
    with pytest.raises(Conflict) as refused:
        conversation_actions.contact_seller_about_order(
            buyer, order.pk, product.storefront_id, "Where is my parcel?"
        )
    assert refused.value.code == "recipient_closed"
    storefront = claim_queries.storefronts_of(order)[0]

    answers = claim_queries.eligibility(buyer, order, storefront)

    assert [one.reason for one in answers if one.may_file] == ["not_received"]
    assert not any(
        one.refusal is not None and one.refusal.code == "contact_seller_first" for one in answers
    )
    claim = file(buyer, order)
    # Nobody is waited for: the claim is customer service's at once (the next test).
    assert (claim.stage, claim.storefront_id) == ("decision", product.storefront_id)


@pytest.mark.parametrize(
    ("erased", "said"),
    [(False, "account is suspended"), (True, "account is closed")],
    ids=["suspended", "erased"],
)
def test_a_claim_against_a_suspended_or_closed_seller_goes_straight_to_customer_service(
    buyer: User,
    seller: User,
    product: Product,
    clock: Clock,
    claims_agent: User,
    erased: bool,
    said: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Filing against a shop that cannot answer was allowed, yet the claim gave the seller
    48 hours to respond — a response they could not give — and told both so. It goes to
    an agent of the claims team at once: no seller window, no deadline for the sweep, no
    wait in the seller's Response needed, and the filing message says why. A suspension
    lifted later leaves it with customer service."""
    order = factories.order_with_item(buyer, product, placed_at=clock.now - timedelta(days=20))
    User.objects.filter(pk=seller.pk).update(is_active=False)
    if erased:
        monkeypatch.setattr(closed_accounts, "_erased", lambda person_id: person_id == seller.pk)

    claim = file(buyer, order)

    case = Case.objects.get(pk=claim.pk)
    assert (claim.stage, case.status, case.due_at) == ("decision", "open", None)
    assert [found.pk for found in queries.queue_page(claims_agent, "unassigned").cases] == [case.pk]
    filed = texts(claim)[1]
    assert filed.startswith(f"Claim {claim.number} is filed: item not received")
    assert said in filed
    assert "straight to an agent of the claims team" in filed
    assert "The seller has until" not in filed
    assert "Respond to the claim" not in filed
    assert not Participant.objects.filter(
        conversation_id=case.conversation_id, awaiting_response_since__isnull=False
    ).exists()
    assert claim_queries.stage_detail(claim) == "An agent of the claims team is deciding."
    # 48 hours on, the sweep has nothing to move and says nothing.
    clock.advance(hours=49)
    assert claim_actions.sweep_claim_deadlines() == 0
    assert len(texts(claim)) == 2
    # The suspension is lifted: the claim stays with customer service.
    User.objects.filter(pk=seller.pk).update(is_active=True)
    monkeypatch.setattr(closed_accounts, "_erased", lambda person_id: False)
    seller.refresh_from_db()
    with pytest.raises(Conflict) as refused:
        claim_actions.respond_to_claim(seller, claim.pk, "I can explain.")
    assert refused.value.code == "claim_not_awaiting_seller"
    assert Claim.objects.get(pk=claim.pk).stage == "decision"
    counts_are_true(buyer, seller)


def suspend_seller(way: str, seller: User, buyer: User, order: Order) -> None:
    """The seller's account suspended by customer service's decision on a report of their
    message, or made inactive in the admin (its "active" box)."""
    if way == "report":
        scam = conversation_actions.contact_buyer_about_order(
            seller, order.pk, "Pay me outside: https://pay-me-here.example/now"
        )
        report = report_actions.report_message(buyer, scam.pk, "scam").report
        agent = factories.agent_in_team("trust-and-safety", username="tess")
        report_actions.decide_report(agent, report.pk, "confirmed", "suspended")
    else:
        operator = factories.UserFactory(
            username="opsadmin", role=Role.ADMIN, is_staff=True, is_superuser=True
        )
        staff = Client()
        staff.force_login(operator)
        url = reverse("admin:accounts_user_change", args=[seller.pk])
        data = change_form_data(staff.get(url))
        data.pop("is_active", None)
        assert staff.post(url, data).status_code == 302
    seller.refresh_from_db()
    assert seller.is_active is False


@pytest.mark.parametrize("way", ["report", "admin"])
def test_a_seller_suspended_during_the_window_hands_the_claim_to_customer_service(
    buyer: User,
    seller: User,
    product: Product,
    clock: Clock,
    claims_agent: User,
    way: str,
) -> None:
    """A seller suspended while a claim waited for their response kept the claim's 48
    hours: the buyer waited for someone who could not sign in, and only the sweep, at the
    deadline, handed it to an agent. The suspension hands it over at once, as a claim filed
    against a suspended seller goes: to an agent's decision, no deadline, out of the
    seller's Response needed, and the buyer is told why. Lifting the suspension leaves it
    with customer service."""
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    assert claim.stage == "seller_response"
    clock.advance(hours=3)

    suspend_seller(way, seller, buyer, order)

    claim.refresh_from_db()
    case = Case.objects.get(pk=claim.pk)
    assert (claim.stage, case.status, case.due_at) == ("decision", "open", None)
    assert [found.pk for found in queries.queue_page(claims_agent, "unassigned").cases] == [case.pk]
    handed = texts(claim)[-1]
    assert handed.startswith(
        f"The seller's account is suspended, so they cannot respond to claim {claim.number}"
    )
    assert "an agent of the claims team" in handed
    assert not Participant.objects.filter(
        conversation_id=case.conversation_id, awaiting_response_since__isnull=False
    ).exists()
    # Nothing answered: the seller's response times record no response.
    assert not ResponseTime.objects.filter(conversation_id=case.conversation_id).exists()
    moved = CaseEvent.objects.filter(case=case, kind="claim_stage").latest("pk")
    assert (moved.detail["moved_by"], moved.detail["seller_account"]) == (
        "seller_account",
        "suspended",
    )
    # The deadline passing has nothing left to move.
    clock.advance(hours=48)
    assert claim_actions.sweep_claim_deadlines() == 0
    assert texts(claim)[-1] == handed
    # The suspension lifted: the claim stays with customer service.
    safety_actions.reinstate(seller)
    with pytest.raises(Conflict) as refused:
        claim_actions.respond_to_claim(seller, claim.pk, "I can explain.")
    assert refused.value.code == "claim_not_awaiting_seller"
    assert Claim.objects.get(pk=claim.pk).stage == "decision"
    counts_are_true(buyer, seller)


def test_a_seller_erased_during_the_window_hands_the_claim_to_customer_service(
    buyer: User, seller: User, product: Product, clock: Clock, claims_agent: User
) -> None:
    """Erased while a claim waited for their response, the seller kept the claim's 48
    hours though their shop can never answer again: it goes to an agent at once, and the
    buyer reads that the account is closed."""
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    operator = factories.UserFactory(
        username="opsadmin", role=Role.ADMIN, is_staff=True, is_superuser=True
    )

    erase_person(operator, seller)

    claim.refresh_from_db()
    case = Case.objects.get(pk=claim.pk)
    assert (claim.stage, case.status, case.due_at) == ("decision", "open", None)
    # (The erasure writes the seller's pseudonym for their username, "seller", here too.)
    assert (
        f"'s account is closed, so they cannot respond to claim {claim.number}: it goes to"
        in (texts(claim)[-1])
    )
    assert not Participant.objects.filter(
        conversation_id=case.conversation_id, awaiting_response_since__isnull=False
    ).exists()
    counts_are_true(buyer)


def test_a_fully_refunded_order_says_so_rather_than_contact_the_seller(
    buyer: User, product: Product, clock: Clock
) -> None:
    order = factories.order_with_item(buyer, product, placed_at=clock.now - timedelta(days=20))
    refunded_in_full(order, clock)

    with pytest.raises(NotAllowed) as refused:
        file(buyer, order)

    assert refused.value.code == "claim_order_refunded"
    assert refused.value.message == (
        f"Order {order.number} was refunded in full already "
        f"(${order.total_cents / 100:,.2f}): there is nothing left to claim."
    )
    assert not Case.objects.exists()


def test_not_as_described_needs_a_delivered_order(
    buyer: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)

    with pytest.raises(NotAllowed) as refused:
        file(buyer, order, "not_as_described")
    assert refused.value.code == "claim_not_delivered"

    Order.objects.filter(pk=order.pk).update(status="delivered")
    assert file(buyer, order, "not_as_described").reason == "not_as_described"


def test_returned_but_not_refunded_needs_a_return_waiting_past_its_refund_time(
    buyer: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)
    with pytest.raises(NotAllowed) as refused:
        file(buyer, order, "returned_not_refunded")
    assert refused.value.code == "claim_no_return"

    ReturnRequest.objects.create(
        order=order, status="received", reason="Broken", requested_at=clock.now
    )
    with pytest.raises(NotAllowed) as refused:
        file(buyer, order, "returned_not_refunded")
    assert refused.value.code == "claim_too_early"
    assert "the seller has until then to refund your return" in refused.value.message

    clock.advance(days=14)
    assert file(buyer, order, "returned_not_refunded").stage == "seller_response"


def test_returned_but_not_refunded_counts_only_the_sellers_own_returns(
    buyer: User, product: Product, other_seller: User, clock: Clock
) -> None:
    # One order from two shops; the buyer returns the other shop's item only.
    order = two_shop_order(buyer, product, other_seller, clock)
    ReturnRequest.objects.create(
        order=order,
        storefront=other_seller.storefront,
        status="approved",
        reason="Broken",
        requested_at=clock.now - timedelta(days=20),
    )

    # Nothing of the first shop's was returned: a claim that it did not refund a return
    # would be against a seller who never received one.
    with pytest.raises(NotAllowed) as refused:
        file(buyer, order, "returned_not_refunded", storefront_id=product.storefront_id)
    assert refused.value.code == "claim_no_return"
    eligibility = {
        one.reason: one.refusal
        for one in claim_queries.eligibility(buyer, order, product.storefront)
    }
    said = eligibility["returned_not_refunded"]
    assert said is not None
    assert said.code == "claim_no_return"

    # A return the marketplace announced names no shop: it may be either's.
    ReturnRequest.objects.create(
        order=order, status="received", reason="Broken", requested_at=clock.now
    )
    with pytest.raises(NotAllowed) as refused:
        file(buyer, order, "returned_not_refunded", storefront_id=product.storefront_id)
    assert refused.value.code == "claim_too_early"


def test_a_second_claim_on_an_order_is_refused_while_one_is_open(
    buyer: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)
    first = file(buyer, order)

    with pytest.raises(Conflict) as refused:
        file(buyer, order, "not_as_described")

    assert refused.value.code == "claim_already_open"
    assert first.number in refused.value.message


def test_the_database_refuses_a_second_open_claim_on_an_order_whatever_python_checks(
    buyer: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)
    first = file(buyer, order)
    other_case = actions.open_case("claim", buyer, "Forced", order=order)

    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(
            case=other_case,
            order=order,
            storefront=first.storefront,
            reason="not_received",
            stage="decision",
            filed_at=clock.now,
        )
    Claim.objects.filter(pk=first.pk).update(stage="closed")
    Claim.objects.create(
        case=other_case,
        order=order,
        storefront=first.storefront,
        reason="not_received",
        stage="decision",
        filed_at=clock.now,
    )


def test_filing_is_for_the_orders_buyer(
    buyer: User, other_buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)

    with pytest.raises(NotFound):
        file(other_buyer, order)
    with pytest.raises(NotAllowed):
        file(seller, order)
    assert not Claim.objects.exists()


def test_a_multi_seller_order_asks_which_seller(
    buyer: User, product: Product, other_seller: User, clock: Clock
) -> None:
    order = two_shop_order(buyer, product, other_seller, clock)

    with pytest.raises(InvalidInput) as refused:
        file(buyer, order)

    assert refused.value.code == "choose_seller"
    assert file(buyer, order, storefront_id=product.storefront_id).storefront_id == (
        product.storefront_id
    )


def test_a_claim_filed_from_a_case_remembers_it(
    buyer: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)
    request = actions.open_request(buyer, "Lost parcel", "Help", order_number=order.number)

    claim = file(buyer, order, from_case_id=request.pk)

    opened = CaseEvent.objects.get(case=claim.case, kind="opened")
    assert opened.detail == {"reason": "not_received", "from_case": request.pk}


# --- the lifecycle ---------------------------------------------------------------------------


def test_the_seller_responds_within_the_window_and_an_agent_decides(
    buyer: User, seller: User, product: Product, clock: Clock, claims_agent: User
) -> None:
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    clock.advance(hours=47, minutes=59, seconds=59)

    responded = claim_actions.respond_to_claim(seller, claim.pk, "Tracking shows it arrived.")

    assert responded.stage == "decision"
    case = Case.objects.get(pk=claim.pk)
    assert (case.status, case.due_at) == ("open", None)
    assert [found.pk for found in queries.queue_page(claims_agent, "unassigned").cases] == [
        claim.pk
    ]
    assert texts(claim)[-2:] == [
        "Tracking shows it arrived.",
        f"The seller has responded to claim {claim.number}. An agent of the claims team now "
        "reads both sides and decides; you will both hear the decision here.",
    ]
    counts_are_true(buyer, seller, claims_agent)


def test_people_in_a_claims_conversation_get_the_buyer_seller_safety_check(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """A claim's conversation is buyer and seller writing to each other (and the claims
    team): what the check masks, warns about or holds between them elsewhere, it does here
    too — it let a seller's payment link and phone number through before."""
    claim = file(buyer, claimable_order(buyer, product, clock))
    conversation_id = claim.case.conversation_id
    before = texts(claim)

    with pytest.raises(MessageHeld):
        conversation_actions.send_message(
            seller, conversation_id, "Pay me directly to avoid fees: paypal.me/brightside"
        )
    assert texts(claim) == before
    assert HeldMessage.objects.filter(sender=seller).count() == 1

    masked = conversation_actions.send_message(
        seller, conversation_id, "Text me at 415 555 0142 and we sort it out."
    )
    assert masked.is_masked
    assert "415 555 0142" not in masked.body


def test_a_claims_step_whose_text_would_be_held_is_refused_before_anything_changes(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The response, the appeal and the filing write the person's message inside the step's
    own transaction: a held text would be rolled back with it, never reviewed. So it is
    refused at once, with the reasons."""
    order = claimable_order(buyer, product, clock)
    with pytest.raises(InvalidInput) as refused_filing:
        claim_actions.file_claim(
            buyer, order.number, "not_received", "Refund me at paypal.me/alicebuyer instead."
        )
    assert refused_filing.value.code == "text_refused"
    assert not Claim.objects.exists()

    claim = file(buyer, order)
    before = texts(claim)
    with pytest.raises(InvalidInput) as refused:
        claim_actions.respond_to_claim(
            seller, claim.pk, "Pay the difference directly: paypal.me/brightside"
        )
    assert refused.value.code == "text_refused"
    assert str(refused.value).startswith("This was not sent:")
    claim.refresh_from_db()
    assert claim.stage == "seller_response"
    assert texts(claim) == before
    assert not HeldMessage.objects.exists()


def test_granting_records_the_refund_and_tells_both_parties(
    buyer: User, seller: User, product: Product, clock: Clock, claims_agent: User
) -> None:
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    claim_actions.respond_to_claim(seller, claim.pk, "Sorry.")
    Email.objects.all().delete()

    decided = claim_actions.decide_claim(
        claims_agent, claim.pk, "granted", "The carrier lost it.", refund_cents=order.total_cents
    )

    refund = Refund.objects.get(order=order)
    assert (refund.amount_cents, refund.status) == (order.total_cents, "issued")
    assert (decided.stage, decided.outcome, decided.refunded_cents) == (
        "appeal_window",
        "granted",
        order.total_cents,
    )
    case = Case.objects.get(pk=claim.pk)
    assert (case.status, case.assignee_id) == ("solved", claims_agent.pk)
    assert case.due_at == clock.now + timedelta(days=30)
    decision = Message.objects.filter(conversation_id=case.conversation_id).latest("id")
    assert decision.sender_id == claims_agent.pk
    assert f"A refund of ${order.total_cents / 100:,.2f} to the buyer is recorded" in (
        decision.body
    )
    for person in (buyer, seller):
        assert (
            Participant.objects.get(user=person, conversation_id=case.conversation_id).unread_count
            >= 1
        )
        assert Email.objects.filter(user=person, message=decision).count() == 1
    counts_are_true(buyer, seller, claims_agent)


def _grant_refused(
    buyer: User, seller: User, order: Order, agent: User, refund_cents: object
) -> tuple[InvalidInput, Claim]:
    """A claims agent's grant of a claim the seller answered, with `refund_cents`, which
    must be refused: the refusal and the claim."""
    claim = file(buyer, order)
    claim_actions.respond_to_claim(seller, claim.pk, "Sorry.")
    with pytest.raises(InvalidInput) as refused:
        claim_actions.decide_claim(
            agent,
            claim.pk,
            "granted",
            "Yes.",
            refund_cents=refund_cents,  # type: ignore[arg-type]
        )
    return refused.value, claim


def test_a_refund_above_the_order_total_is_refused(
    buyer: User, seller: User, product: Product, clock: Clock, claims_agent: User
) -> None:
    order = claimable_order(buyer, product, clock)
    refused, claim = _grant_refused(buyer, seller, order, claims_agent, order.total_cents + 1)

    assert refused.code == "invalid_refund_amount"
    assert refused.message == (
        f"Enter a refund amount of at most the order's total, ${order.total_cents / 100:,.2f}."
    )
    assert not Refund.objects.exists()
    assert Claim.objects.get(pk=claim.pk).stage == "decision"


@pytest.mark.parametrize("refund_cents", [12.99, "1_299", True])
def test_a_refund_other_than_whole_cents_is_refused_not_truncated(
    buyer: User,
    seller: User,
    product: Product,
    clock: Clock,
    claims_agent: User,
    refund_cents: object,
) -> None:
    order = claimable_order(buyer, product, clock)
    refused, _ = _grant_refused(buyer, seller, order, claims_agent, refund_cents)

    assert refused.code == "invalid_refund_amount"
    assert "whole number of cents" in refused.message
    assert not Refund.objects.exists()


@pytest.mark.parametrize("refund_cents", [None, 0, -100])
def test_a_grant_without_a_refund_is_refused_saying_what_is_needed(
    buyer: User,
    seller: User,
    product: Product,
    clock: Clock,
    claims_agent: User,
    refund_cents: int | None,
) -> None:
    order = claimable_order(buyer, product, clock)
    refused, _ = _grant_refused(buyer, seller, order, claims_agent, refund_cents)

    assert refused.code == "invalid_refund_amount"
    assert refused.message == (
        "Enter a refund amount above $0.00, at most the order's total, "
        f"${order.total_cents / 100:,.2f}: a granted claim refunds the buyer."
    )
    assert not Refund.objects.exists()


def test_a_silent_seller_sends_the_claim_to_a_decision_at_the_deadline_to_the_second(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    deadline = clock.now + timedelta(hours=48)

    assert claim_actions.sweep_claim_deadlines(now=deadline - timedelta(seconds=1)) == 0
    clock.now = deadline
    with pytest.raises(Conflict) as late:
        claim_actions.respond_to_claim(seller, claim.pk, "Here I am.")
    assert late.value.code == "claim_response_window_closed"
    assert claim_actions.sweep_claim_deadlines(now=deadline) == 1

    assert Claim.objects.get(pk=claim.pk).stage == "decision"
    assert Case.objects.get(pk=claim.pk).status == "open"
    assert texts(claim)[-1].startswith(f"The seller did not respond to claim {claim.number} by")
    counts_are_true(buyer, seller)


def test_the_buyer_appeals_once_and_the_second_decision_closes_it(
    buyer: User, seller: User, product: Product, clock: Clock, claims_agent: User
) -> None:
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    claim_actions.sweep_claim_deadlines(now=clock.advance(hours=48))
    claim_actions.decide_claim(claims_agent, claim.pk, "denied", "Delivered with a photo.")
    clock.advance(days=29)

    appealed = claim_actions.appeal_claim(buyer, claim.pk, "The photo shows another door.")

    assert appealed.stage == "decision"
    assert Case.objects.get(pk=claim.pk).status == "open"
    claim_actions.decide_claim(
        claims_agent, claim.pk, "granted", "Wrong address.", refund_cents=500
    )
    closed = Claim.objects.get(pk=claim.pk)
    assert (closed.stage, closed.refunded_cents) == ("closed", 500)
    assert Case.objects.get(pk=claim.pk).status == "closed"
    with pytest.raises(Conflict) as again:
        claim_actions.appeal_claim(buyer, claim.pk, "Once more.")
    assert again.value.code == "claim_already_appealed"
    counts_are_true(buyer, seller, claims_agent)


def test_the_appeal_window_closes_the_claim_at_its_deadline(
    buyer: User, seller: User, product: Product, clock: Clock, claims_agent: User
) -> None:
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    claim_actions.respond_to_claim(seller, claim.pk, "Sorry.")
    claim_actions.decide_claim(claims_agent, claim.pk, "denied", "No evidence.")
    deadline = clock.now + timedelta(days=30)

    assert claim_actions.sweep_claim_deadlines(now=deadline - timedelta(seconds=1)) == 0
    clock.now = deadline
    with pytest.raises(Conflict) as late:
        claim_actions.appeal_claim(buyer, claim.pk, "Wait.")
    assert late.value.code == "claim_appeal_window_closed"
    assert claim_actions.sweep_claim_deadlines() == 1

    assert Claim.objects.get(pk=claim.pk).stage == "closed"
    assert texts(claim)[-1].startswith(f"The appeal window of claim {claim.number} ended")
    # Closed: the order may have a claim again (the open marker is gone) — not against
    # the same seller, though: a claim is decided once.
    with pytest.raises(Conflict) as refused:
        file(buyer, order)
    assert refused.value.code == "claim_already_filed"
    counts_are_true(buyer, seller, claims_agent)


def in_response_needed(seller: User, claim: Claim) -> bool:
    page = conversation_queries.response_needed_page(seller)
    return claim.case.conversation_id in [row.conversation_id for row in page.participants]


def test_a_sellers_reply_in_the_claims_conversation_is_not_a_response(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """A seller who answered in the claim's conversation (the Reply box, or a reply to its
    e-mail: the same send) had "responded" nowhere — the claim stayed at seller_response —
    yet the conversation left their Response needed, so at the deadline the sweep took
    them for silent. The claim now waits, visibly, for its formal response: the reply is
    a message, the conversation stays in Response needed until the response."""
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    conversation_id = claim.case.conversation_id
    assert conversation_id is not None
    assert in_response_needed(seller, claim)
    filed = texts(claim)[1]
    assert claim_actions.respond_url(claim) in filed
    assert claim_actions.respond_url(claim).endswith(f"/claims/{claim.pk}/#respond-title")
    assert "is not a response to the claim" in filed

    conversation_actions.send_message(seller, conversation_id, "We shipped it, look again.")
    conversation_actions.send_message(buyer, conversation_id, "It is not here.")
    conversation_actions.send_message(seller, conversation_id, "Wait a day, please.")

    claim.refresh_from_db()
    assert (claim.stage, claim.seller_responded_at) == ("seller_response", None)
    assert in_response_needed(seller, claim)
    assert not ResponseTime.objects.filter(conversation_id=conversation_id).exists()

    claim_actions.respond_to_claim(seller, claim.pk, "Tracking shows it was delivered.")

    assert not in_response_needed(seller, claim)
    answered = ResponseTime.objects.get(conversation_id=conversation_id)
    assert (answered.seller_id, answered.answered_at) == (seller.pk, clock.now)
    # The buyer writing on while an agent decides asks nothing more of the seller.
    conversation_actions.send_message(buyer, conversation_id, "The photo shows my porch empty.")
    assert not in_response_needed(seller, claim)


def test_a_silent_sellers_claim_leaves_response_needed_at_the_deadline(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    assert claim.case.conversation_id is not None
    conversation_actions.send_message(seller, claim.case.conversation_id, "Looking into it.")

    claim_actions.sweep_claim_deadlines(now=clock.advance(hours=48))

    assert Claim.objects.get(pk=claim.pk).stage == "decision"
    assert texts(claim)[-1].startswith(f"The seller did not respond to claim {claim.number}")
    assert not in_response_needed(seller, claim)
    assert not ResponseTime.objects.filter(conversation_id=claim.case.conversation_id).exists()


def test_no_response_needed_cannot_end_a_claims_wait_while_its_response_is_due(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The seller's "No response needed" took the claim's conversation out of their
    Response needed although the claim still waited for its formal response (and the
    deadline ran on, out of sight). It is refused, with why, for the whole selection —
    an ordinary question beside it included: nothing changes."""
    order = claimable_order(buyer, product, clock)
    question = Participant.objects.get(
        user=seller, conversation__topic_key=f"order:{order.pk}:storefront:{product.storefront_id}"
    )
    claim = file(buyer, order)
    before = snapshot()

    for chosen in (
        [claim.case.conversation_id],
        [question.conversation_id, claim.case.conversation_id],
    ):
        with pytest.raises(Conflict) as refused:
            conversation_actions.mark_no_response_needed(seller, chosen)
        assert refused.value.code == "claim_response_due"
        assert "respond to the claim on its page" in refused.value.message
        assert snapshot() == before
    assert in_response_needed(seller, claim)

    claim_actions.respond_to_claim(seller, claim.pk, "Tracking shows it was delivered.")
    # Once responded there is no wait left to end: nothing to refuse.
    assert conversation_actions.mark_no_response_needed(seller, [claim.case.conversation_id]) == 0


def test_the_migration_sets_existing_claims_waits_as_the_claim_would_have(
    buyer: User, seller: User, other_seller: User, clock: Clock
) -> None:
    """Before, a plain reply ended a claim's wait and a buyer's message started one at any
    stage: a claim still waiting for the seller is put back in their Response needed, and
    a decided claim's stray wait (which no reply would end now) is cleared."""
    migration = importlib.import_module(
        "messagecenter.support.migrations.0007_claim_waits_follow_the_claim"
    )
    first = claimable_order(buyer, factories.ProductFactory(storefront=seller.storefront), clock)
    second = claimable_order(
        buyer, factories.ProductFactory(storefront=other_seller.storefront), clock
    )
    waiting, decided = file(buyer, first), file(buyer, second)
    Claim.objects.filter(pk=decided.pk).update(stage="decision")
    rows = Participant.objects.filter(role="seller")
    rows.filter(conversation_id=waiting.case.conversation_id).update(awaiting_response_since=None)
    rows.filter(conversation_id=decided.case.conversation_id).update(
        awaiting_response_since=clock.now
    )

    migration.claim_waits_follow_the_claim(django_apps, None)

    assert in_response_needed(seller, waiting)
    assert rows.get(conversation_id=waiting.case.conversation_id).awaiting_response_since == (
        waiting.filed_at
    )
    assert not in_response_needed(other_seller, decided)


def test_a_buyers_message_does_not_move_a_claim_out_of_the_sellers_window(
    buyer: User, product: Product, clock: Clock
) -> None:
    from messagecenter.conversations import actions as conversation_actions

    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    assert claim.case.conversation_id is not None

    conversation_actions.send_message(buyer, claim.case.conversation_id, "Any news?")

    assert Case.objects.get(pk=claim.pk).status == "pending"


def test_agents_cannot_set_a_claims_status_by_hand(
    buyer: User, product: Product, clock: Clock, claims_agent: User
) -> None:
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)

    with pytest.raises(InvalidInput) as refused:
        actions.set_case_status(claims_agent, claim.pk, "solved")

    assert refused.value.code == "claim_status_follows_stage"


def test_only_the_right_people_move_a_claim(
    buyer: User,
    other_buyer: User,
    seller: User,
    other_seller: User,
    product: Product,
    clock: Clock,
    claims_agent: User,
) -> None:
    order = claimable_order(buyer, product, clock)
    claim = file(buyer, order)
    other_agent = factories.agent_in_team("customer-service")

    for person in (other_buyer, other_seller):
        with pytest.raises(NotFound):
            claim_actions.respond_to_claim(person, claim.pk, "Me?")
    with pytest.raises(NotAllowed):
        claim_actions.respond_to_claim(buyer, claim.pk, "Me?")
    with pytest.raises(NotFound):
        claim_actions.decide_claim(other_agent, claim.pk, "denied", "No.")
    with pytest.raises(NotFound):
        claim_actions.decide_claim(seller, claim.pk, "denied", "No.")
    with pytest.raises(Conflict):
        claim_actions.decide_claim(claims_agent, claim.pk, "denied", "Too early.")
    assert Claim.objects.get(pk=claim.pk).stage == "seller_response"


class TestNothingChangesOnRefusal(TestCase):
    def test_a_refused_filing_leaves_no_conversation(self) -> None:
        buyer = factories.BuyerFactory()
        product = factories.ProductFactory()
        order = factories.order_with_item(buyer, product)
        before = Message.objects.count()
        with pytest.raises(NotAllowed):
            file(buyer, order)
        assert Message.objects.count() == before


def test_the_claims_messages_give_each_party_the_time_in_their_own_zone(
    buyer: User, seller: User, product: Product, clock: Clock, claims_agent: User
) -> None:
    """alice in Tokyo and the seller in New York read the same claim conversation: its
    deadlines are written in both zones, named — never the site's (UTC), whoever or
    whatever (the sweep) caused the step."""
    User.objects.filter(pk=buyer.pk).update(time_zone="Asia/Tokyo")
    User.objects.filter(pk=seller.pk).update(time_zone="America/New_York")
    buyer.refresh_from_db()
    clock.now = clock.now.replace(year=2026, month=12, day=1, hour=18, minute=5, second=0)
    order = claimable_order(buyer, product, clock)  # two days later: 3 Dec, 18:05 UTC

    claim = file(buyer, order)  # the seller has until 5 Dec, 18:05 UTC
    clock.advance(hours=48, seconds=1)
    claim_actions.sweep_claim_deadlines()

    filed, silent = texts(claim)[1:3]
    both = "Sun 6 Dec 2026, 3:05 AM JST (Sat 5 Dec 2026, 1:05 PM EST)"
    assert f"The seller has until {both} to respond to the claim" in filed
    assert f"did not respond to claim {claim.number} by {both}." in silent
    assert "UTC" not in filed + silent
