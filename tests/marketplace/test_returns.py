"""Returns started from the order page, decided and received by the seller, and the same
steps arriving as the marketplace's signed events (docs/returns.md)."""

import html
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.test import Client, TestCase
from django.utils import timezone
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Kind, Message, Participant
from messagecenter.delivery.models import Email
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.hub.boxes import Folder
from messagecenter.marketplace import queries, return_actions
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    Refund,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
    Shipment,
)
from messagecenter.marketplace.return_actions import ReturnLine
from tests import factories
from tests.api.helpers import error_of, with_token
from tests.conversations.helpers import maintained_unread, recounted_unread
from tests.marketplace.helpers import deliver, event
from tests.web.helpers import PNG_BYTES

pytestmark = pytest.mark.django_db

PNG = PNG_BYTES


@pytest.fixture(autouse=True)
def _rules(settings: Settings) -> None:
    settings.RETURNS_WINDOW_DAYS = 30
    settings.RETURNS_AUTO_APPROVE_REASONS = ["damaged"]
    settings.RETURNS_AUTO_APPROVE_MAX_CENTS = 5000


@pytest.fixture
def buyer() -> User:
    return factories.BuyerFactory(username="alice", first_name="Alice")


@pytest.fixture
def seller() -> User:
    return factories.SellerFactory(username="kettles")


@pytest.fixture
def order(buyer: User, seller: User) -> Order:
    """Two kettles at $129.99, delivered a day ago."""
    product = factories.ProductFactory(storefront=seller.storefront, title="Kettle")
    order = factories.order_with_item(buyer, product)
    OrderItem.objects.filter(order=order).update(quantity=2)
    Order.objects.filter(pk=order.pk).update(total_cents=2 * 12999)
    order.refresh_from_db()
    Shipment.objects.create(
        order=order,
        carrier="UPS",
        tracking_number="1Z1",
        shipped_at=timezone.now() - timedelta(days=3),
        delivered_at=timezone.now() - timedelta(days=1),
    )
    return order


def item_of(order: Order) -> OrderItem:
    return OrderItem.objects.get(order=order)


def start(buyer: User, order: Order, quantity: int = 1, **options: object) -> ReturnRequest:
    fields: dict[str, object] = {"resolution": "refund", "reason_code": "no_longer_needed"}
    fields.update(options)
    started = return_actions.request_return(
        buyer,
        order.number,
        [ReturnLine(item_of(order).pk, quantity)],
        **fields,
    )
    return started.return_request


def return_form(order: Order, seller: User, **fields: object) -> dict[str, object]:
    """The order page's return form for one unit of the order's item, changed by
    `fields`."""
    form: dict[str, object] = {
        "item": str(item_of(order).pk),
        "quantity": "1",
        "storefront_id": str(seller.storefront.pk),
        "resolution": "refund",
        "reason": "damaged",
    }
    return {**form, **fields}


def return_body(order: Order, **fields: object) -> dict[str, object]:
    """POST /orders/{number}/returns for one unit of the order's item, changed by
    `fields`."""
    body: dict[str, object] = {
        "items": [{"order_item_id": item_of(order).pk, "quantity": 1}],
        "resolution": "refund",
        "reason": "damaged",
    }
    return {**body, **fields}


def returns_messages(user: User) -> list[str]:
    return list(
        Message.objects.filter(
            conversation__participants__user=user, conversation__kind=Kind.RETURNS
        )
        .order_by("id")
        .values_list("body", flat=True)
    )


def test_a_return_started_here_reaches_both_message_centers(
    buyer: User, seller: User, order: Order
) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return_request = start(buyer, order, note="The lid does not close.")

    assert return_request.status == ReturnStatus.REQUESTED
    assert return_request.storefront == seller.storefront
    assert return_request.reference.startswith("RET-")
    assert list(return_request.items.values_list("quantity", flat=True)) == [1]
    [to_buyer] = returns_messages(buyer)
    [to_seller] = returns_messages(seller)
    assert f"return {return_request.reference}" in to_buyer
    assert "1 × Kettle" in to_seller
    # The buyer's own words stay out of the Official message.
    assert "lid" not in to_seller
    assert "The buyer added a note." in to_seller
    for person in (buyer, seller):
        participant = Participant.objects.get(user=person, conversation__kind=Kind.RETURNS)
        assert participant.folder == Folder.RETURNS
        assert maintained_unread(person) == recounted_unread(person)
    assert Email.objects.filter(user__in=[buyer, seller], category="returns").count() == 2


def test_the_seller_approves_and_the_buyer_gets_instructions_and_a_label(
    buyer: User, seller: User, order: Order
) -> None:
    return_request = start(buyer, order)

    approved = return_actions.decide_return(seller, return_request.pk, approve=True)

    assert approved.status == ReturnStatus.APPROVED
    assert approved.reference in approved.instructions
    last = returns_messages(buyer)[-1]
    assert "was approved" in last
    assert f"RETURN {approved.reference}" in last
    assert "How to send it back:" in last


def test_a_decline_needs_a_reason_and_quotes_it_as_the_sellers(
    buyer: User, seller: User, order: Order
) -> None:
    return_request = start(buyer, order)

    with pytest.raises(InvalidInput) as refused:
        return_actions.decide_return(seller, return_request.pk, approve=False)
    assert refused.value.code == "reason_required"
    return_actions.decide_return(
        seller, return_request.pk, approve=False, reason="Opened and used."
    )

    return_request.refresh_from_db()
    assert (return_request.status, return_request.decline_reason) == (
        ReturnStatus.REJECTED,
        "Opened and used.",
    )
    assert "in their words: “Opened and used.”" in returns_messages(buyer)[-1]
    # Declined items can be asked for again.
    entry = queries.returnability(order, [item_of(order)], timezone.now()).items[0]
    assert (entry.quantity, entry.refusal) == (2, None)


def test_a_refused_decision_puts_the_keyboard_back_in_the_field_that_was_refused(
    buyer: User, seller: User, order: Order
) -> None:
    """The page came back with the error at the top of the returns and the focus on the
    page itself: a keyboard or screen-reader user had to find the form again, among every
    return of the order. The refused field now takes the focus and names the error."""
    return_request = start(buyer, order)
    page = factories.signed_in(seller)
    url = f"/returns/{return_request.pk}/decision/"

    def field_of(response: HttpResponse, field_id: str) -> str:
        found = re.search(rf"<textarea[^>]*id=\"{field_id}\"[^>]*>", response.content.decode())
        assert found is not None
        return found.group(0)

    declined = page.post(url, {"decision": "decline", "reason": "   "})
    assert declined.status_code == 400
    assert 'id="return-error"' in declined.content.decode()
    reason = field_of(declined, f"decline-reason-{return_request.pk}")
    assert "autofocus" in reason
    assert 'aria-invalid="true"' in reason
    assert 'aria-describedby="return-error"' in reason
    assert "autofocus" not in field_of(declined, f"instructions-{return_request.pk}")

    approved = page.post(url, {"decision": "approve", "instructions": PHISHING_REASON})
    assert approved.status_code == 400
    instructions = field_of(approved, f"instructions-{return_request.pk}")
    assert "autofocus" in instructions
    assert 'aria-describedby="return-error"' in instructions
    assert "autofocus" not in field_of(approved, f"decline-reason-{return_request.pk}")


PHISHING_REASON = (
    "URGENT: Marketplace Security Team here. Your marketplace account has been suspended. "
    "Verify your password and card at https://rnarketplace-account-verify.example/login "
    "within 24 hours."
)


def test_a_sellers_words_that_fail_the_safety_check_are_refused_and_nothing_changes(
    buyer: User, seller: User, order: Order
) -> None:
    """A decline reason or instructions travel inside the marketplace's Official message:
    what the check would warn about or hold there is refused with the reasons."""
    return_request = start(buyer, order)
    before = returns_messages(buyer)

    for decision in (
        {"approve": False, "reason": PHISHING_REASON},
        {"approve": True, "instructions": PHISHING_REASON},
    ):
        with pytest.raises(InvalidInput) as refused:
            return_actions.decide_return(seller, return_request.pk, **decision)  # type: ignore[arg-type]
        assert refused.value.code == "text_refused"
        assert "quoted to the buyer in a message from the marketplace" in str(refused.value)

    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.REQUESTED
    assert returns_messages(buyer) == before


def test_a_seller_cannot_ask_to_be_paid_outside_the_marketplace_in_the_official_message(
    buyer: User, seller: User, order: Order
) -> None:
    """A tester's report: instructions asking for the return shipping by Zelle were quoted
    in the marketplace's Official message ("written by …", e-mailed with a reference "Is
    this e-mail from us?" confirms), because the check found nothing in them. Refused now,
    through the API as on the page; a decline reason the same."""
    return_request = start(buyer, order)
    before = returns_messages(buyer)
    emails = Email.objects.count()

    approved = with_token(seller).post(
        f"/returns/{return_request.pk}/decision",
        {"decision": "approve", "instructions": "Pay the return shipping via Zelle to me first"},
    )
    declined = with_token(seller).post(
        f"/returns/{return_request.pk}/decision",
        {"decision": "decline", "reason": "Cancel the order and I will refund you directly"},
    )

    for refused in (approved, declined):
        assert error_of(refused) == (400, "text_refused")
        assert "It asks for payment outside the marketplace" in refused.json()["error"]["message"]
    return_request.refresh_from_db()
    assert (return_request.status, return_request.instructions) == (ReturnStatus.REQUESTED, "")
    assert returns_messages(buyer) == before
    assert Email.objects.count() == emails


def test_the_same_request_respelled_is_refused_as_well(
    buyer: User, seller: User, order: Order
) -> None:
    """An exploratory test: "Z e l l e", letters apart, went through where "Zelle" was
    refused — the payment rule read the words as written (detector version 4 reads them
    with the respelling undone)."""
    return_request = start(buyer, order)
    before = returns_messages(buyer)
    emails = Email.objects.count()

    approved = with_token(seller).post(
        f"/returns/{return_request.pk}/decision",
        {
            "decision": "approve",
            "instructions": "Pay the return shipping via Z e l l e to me first",
        },
    )

    assert error_of(approved) == (400, "text_refused")
    assert "It asks for payment outside the marketplace" in approved.json()["error"]["message"]
    return_request.refresh_from_db()
    assert (return_request.status, return_request.instructions) == (ReturnStatus.REQUESTED, "")
    assert returns_messages(buyer) == before
    assert Email.objects.count() == emails


def test_links_and_contact_details_a_seller_writes_are_never_live_in_the_official_message(
    buyer: User, seller: User, order: Order
) -> None:
    """Checked like a message to the buyer: contact details masked, and every link written
    so that neither the page (which links up an Official message) nor a mail client makes
    it clickable."""
    return_request = start(buyer, order)

    approved = return_actions.decide_return(
        seller,
        return_request.pk,
        approve=True,
        instructions="Drop it at any UPS store (https://www.ups.com/dropoff) or call 415 555 0142.",
    )

    assert "hxxps://www[.]ups[.]com/dropoff" in approved.instructions
    assert "ups.com" not in approved.instructions
    assert "415 555 0142" not in approved.instructions
    last = returns_messages(buyer)[-1]
    assert "hxxps://www[.]ups[.]com/dropoff" in last
    assert "415 555 0142" not in last
    message = Message.objects.filter(conversation__participants__user=buyer).latest("id")
    client = Client()
    client.force_login(buyer)
    page = client.get(f"/message-center/conversations/{message.conversation_id}/")
    assert page.status_code == 200
    shown = page.content.decode()
    assert "hxxps://www[.]ups[.]com/dropoff" in shown
    assert "ups.com" not in shown
    assert "[contact details removed]" in shown


def test_a_buyers_note_is_checked_as_their_words_to_the_seller_are(
    client: Client, buyer: User, seller: User, order: Order
) -> None:
    """The seller reads the note beside the request (the order page, the API), where no
    warning can go with it: contact details are masked and links defanged, and what the
    check would warn about or hold is refused on the page and through the API."""
    note = "Crushed in transit (https://www.ups.com/track says so). Call 415 555 0142."
    started = start(buyer, order, note=note)

    assert "hxxps://www[.]ups[.]com/track" in started.note
    assert "415 555 0142" not in started.note
    client.force_login(seller)
    shown = client.get(f"/orders/{order.number}/").content.decode()
    assert "hxxps://www[.]ups[.]com/track" in shown
    assert "415 555 0142" not in shown

    ReturnRequest.objects.all().delete()
    client.force_login(buyer)
    posted = client.post(
        f"/orders/{order.number}/returns/", return_form(order, seller, note=PHISHING_REASON)
    )
    refused = with_token(buyer).post(
        f"/orders/{order.number}/returns", return_body(order, note=PHISHING_REASON)
    )

    assert posted.status_code == 400
    assert "Your note is shown to the seller, so it must pass our safety checks" in (
        posted.content.decode()
    )
    assert error_of(refused) == (400, "text_refused")
    assert ReturnRequest.objects.count() == 0


def test_a_note_over_its_limit_is_refused_in_characters(buyer: User, order: Order) -> None:
    """The limit is on the text, so the answer counts characters (it said "at most 2000
    items after validation" when the limit came after the text's own check)."""
    refused = with_token(buyer).post(
        f"/orders/{order.number}/returns",
        return_body(order, note="x" * (return_actions.NOTE_MAX_CHARS + 1)),
    )

    assert error_of(refused)[0] == 422
    [field] = refused.json()["error"]["fields"]
    assert (field["field"], field["message"]) == (
        "note",
        f"String should have at most {return_actions.NOTE_MAX_CHARS} characters",
    )
    assert ReturnRequest.objects.count() == 0


def test_a_form_whose_items_and_quantities_do_not_pair_up_is_refused_for_that(
    client: Client, buyer: User, seller: User, order: Order
) -> None:
    """Each row of the page sends both fields; a form sent otherwise is told so, not that
    "quantities are whole numbers"."""
    client.force_login(buyer)

    posted = client.post(
        f"/orders/{order.number}/returns/",
        return_form(order, seller, item=[str(item_of(order).pk)] * 2, quantity=["1"]),
    )

    assert posted.status_code == 400
    assert "The form&#x27;s items and quantities do not match" in posted.content.decode()
    assert ReturnRequest.objects.count() == 0


def test_marking_received_refunds_what_was_paid_for_the_items_once(
    buyer: User, seller: User, order: Order
) -> None:
    return_request = start(buyer, order)
    return_actions.decide_return(seller, return_request.pk, approve=True)

    received = return_actions.mark_return_received(seller, return_request.pk)

    assert received.status == ReturnStatus.REFUNDED
    assert list(Refund.objects.values_list("amount_cents", "status")) == [
        (12999, RefundStatus.ISSUED)
    ]
    assert "refund of $129.99" in returns_messages(buyer)[-1]
    with pytest.raises(Conflict) as again:
        return_actions.mark_return_received(seller, return_request.pk)
    assert again.value.code == "return_state_changed"
    assert Refund.objects.count() == 1


def test_the_seller_reads_how_much_marking_received_refunds_before_clicking(
    buyer: User, seller: User, order: Order
) -> None:
    """The button said "refund the buyer" and no amount: a seller whose return is capped by
    an earlier refund (a granted claim) learnt only afterwards that it refunded less than
    the items' price."""
    page = factories.signed_in(seller)
    one = start(buyer, order)
    return_actions.decide_return(seller, one.pk, approve=True)

    whole = html.unescape(page.get(f"/orders/{order.number}/").content.decode())
    assert "Mark received and refund the buyer $129.99" in whole
    assert "earlier refunds" not in whole

    return_actions.issue_order_refund(order.pk, 1000)  # a granted claim, say: not a cap yet
    small = html.unescape(page.get(f"/orders/{order.number}/").content.decode())
    assert "Mark received and refund the buyer $129.99" in small
    assert "earlier refunds" not in small

    return_actions.issue_order_refund(order.pk, 19000)
    capped = html.unescape(page.get(f"/orders/{order.number}/").content.decode())
    assert "Mark received and refund the buyer $59.98" in capped
    assert (
        "The order's earlier refunds leave $59.98 of what the buyer paid: that is what they "
        "get back, not the $129.99 the items cost." in capped
    )
    # Nor the order's total nor its other refunds: another shop's items may be on it.
    assert "$259.98" not in capped
    assert "$200.00" not in capped

    return_actions.mark_return_received(seller, one.pk)
    assert Refund.objects.get(return_request=one).amount_cents == 5998


def test_a_replacement_is_shipped_instead_of_a_refund(
    buyer: User, seller: User, order: Order
) -> None:
    return_request = start(buyer, order, resolution="replacement")
    return_actions.decide_return(seller, return_request.pk, approve=True)

    received = return_actions.mark_return_received(seller, return_request.pk)

    assert received.status == ReturnStatus.REPLACED
    assert Refund.objects.count() == 0
    assert "shipped your replacement" in returns_messages(buyer)[-1]


def test_damaged_items_under_the_limit_are_approved_at_once(buyer: User, order: Order) -> None:
    OrderItem.objects.filter(order=order).update(unit_price_cents=4000)

    return_request = start(buyer, order, reason_code="damaged")

    assert (return_request.status, return_request.is_auto_approved) == (
        ReturnStatus.APPROVED,
        True,
    )
    assert "approved automatically" in returns_messages(buyer)[-1]


def test_damaged_items_over_the_limit_wait_for_the_seller(buyer: User, order: Order) -> None:
    return_request = start(buyer, order, reason_code="damaged")

    assert return_request.status == ReturnStatus.REQUESTED


def test_the_window_closes_to_the_second_and_says_when(buyer: User, order: Order) -> None:
    delivered = Shipment.objects.get(order=order).delivered_at
    assert delivered is not None
    closes = delivered + timedelta(days=30)
    item = item_of(order)

    before = queries.returnability(order, [item], closes - timedelta(seconds=1)).items[0]
    at = queries.returnability(order, [item], closes).items[0]

    assert before.refusal is None
    assert at.refusal is not None
    assert at.refusal.startswith("The return window closed on ")
    with pytest.raises(NotAllowed) as refused:
        start(buyer, order, now=closes)
    assert refused.value.code == "not_returnable"
    assert ReturnRequest.objects.count() == 0


def test_items_not_yet_delivered_cannot_be_returned(buyer: User, order: Order) -> None:
    Shipment.objects.update(delivered_at=None)

    entry = queries.returnability(order, [item_of(order)], timezone.now()).items[0]

    assert entry.refusal == "You can return items once they are delivered."


def test_items_already_fully_returned_are_excluded(buyer: User, order: Order) -> None:
    start(buyer, order, quantity=2)

    entry = queries.returnability(order, [item_of(order)], timezone.now()).items[0]

    assert (entry.quantity, entry.refusal) == (0, "Already returned.")
    with pytest.raises(NotAllowed):
        start(buyer, order)


def refund_in_full_by_the_marketplace(order: Order) -> None:
    """A return the marketplace announced (it names no items) and refunded in full, as the
    demo's cutting boards were."""
    data = {"order_number": order.number, "return_reference": "RMA-7"}
    deliver(event("return.requested", {**data, "reason": "Arrived damaged"}, "rr"))
    refunded = {**data, "amount_cents": order.total_cents, "currency": "USD", "reason": "Return"}
    assert deliver(event("refund.issued", refunded, "ri")).status_code == 201


def test_an_order_refunded_in_full_cannot_be_returned_again(buyer: User, order: Order) -> None:
    """Its earlier return names no items, so no unit is taken by it: the full refund is
    what covers them (docs/returns.md). Before, the buyer could return both kettles again,
    auto-approved, and the seller's "mark received" answered 409 for ever."""
    refund_in_full_by_the_marketplace(order)

    entry = queries.returnability(order, [item_of(order)], timezone.now()).items[0]

    assert (entry.quantity, entry.refusal) == (0, "This order was refunded in full.")
    for resolution in ("refund", "replacement"):
        with pytest.raises(NotAllowed) as refused:
            start(buyer, order, resolution=resolution, reason_code="damaged")
        assert refused.value.code == "not_returnable"
        assert refused.value.message == "Kettle: This order was refunded in full."
    assert ReturnRequest.objects.filter(storefront__isnull=False).count() == 0


def test_refunds_that_reach_the_total_together_cover_every_unit(buyer: User, order: Order) -> None:
    """A claim's refund of part of the order names no unit: both kettles can still be
    returned (the refund is capped at what is left). Once the refunds reach what was
    paid, nothing can."""
    return_actions.issue_order_refund(order.pk, 12999)
    entry = queries.returnability(order, [item_of(order)], timezone.now()).items[0]
    assert (entry.quantity, entry.refusal) == (2, None)

    return_actions.issue_order_refund(order.pk, 12999)

    entry = queries.returnability(order, [item_of(order)], timezone.now()).items[0]
    assert (entry.quantity, entry.refusal) == (0, "This order was refunded in full.")


def test_the_page_and_the_api_refuse_a_return_of_an_order_refunded_in_full(
    client: Client, buyer: User, seller: User, order: Order
) -> None:
    refund_in_full_by_the_marketplace(order)
    client.force_login(buyer)

    page = client.get(f"/orders/{order.number}/").content.decode()
    posted = client.post(f"/orders/{order.number}/returns/", return_form(order, seller))
    device = with_token(buyer)
    returnable = device.get(f"/orders/{order.number}/returnable").json()
    started = device.post(f"/orders/{order.number}/returns", return_body(order))

    assert 'Kettle <span class="muted">— This order was refunded in full.</span>' in page
    assert "(up to 2)" not in page
    assert "Request return" not in page
    assert posted.status_code == 403
    assert "Kettle: This order was refunded in full." in posted.content.decode()
    assert [(item["quantity"], item["refusal"]) for item in returnable["items"]] == [
        (0, "This order was refunded in full.")
    ]
    assert error_of(started) == (403, "not_returnable")
    assert started.json()["error"]["message"] == "Kettle: This order was refunded in full."
    assert ReturnRequest.objects.filter(storefront__isnull=False).count() == 0


@pytest.mark.parametrize("quantity", ["1", "1_0", 1.0, True], ids=repr)
def test_a_quantity_that_is_not_a_json_integer_is_422_and_starts_no_return(
    buyer: User, order: Order, quantity: object
) -> None:
    """pydantic's lax integers read "1_0" as 10 units and true as 1."""
    body = return_body(order, items=[{"order_item_id": item_of(order).pk, "quantity": quantity}])

    started = with_token(buyer).post(f"/orders/{order.number}/returns", body)

    assert error_of(started) == (422, "invalid_input")
    assert [(item["field"], item["type"]) for item in started.json()["error"]["fields"]] == [
        ("items.0.quantity", "int_type")
    ]
    assert not ReturnRequest.objects.exists()


def test_more_than_was_bought_is_refused(buyer: User, order: Order) -> None:
    with pytest.raises(InvalidInput) as refused:
        start(buyer, order, quantity=3)

    assert refused.value.code == "too_many_returned"
    assert ReturnRequest.objects.count() == 0


def test_the_same_form_sent_twice_makes_one_return(buyer: User, order: Order) -> None:
    first = start(buyer, order, idempotency_key="form-1")
    again = start(buyer, order, idempotency_key="form-1")

    assert first.pk == again.pk
    assert ReturnRequest.objects.count() == 1


def test_photos_follow_the_attachment_policy(buyer: User, order: Order) -> None:
    photo = SimpleUploadedFile("lid.png", PNG, content_type="image/png")
    script = SimpleUploadedFile("lid.png", b"<script>alert(1)</script>", content_type="image/png")

    with pytest.raises(InvalidInput) as refused:
        start(buyer, order, photos=[script])
    return_request = start(buyer, order, photos=[photo])

    assert refused.value.code == "attachment_type_not_allowed"
    assert list(return_request.photos.values_list("filename", "content_type")) == [
        ("lid.png", "image/png")
    ]


def photo_names(return_request: ReturnRequest, person: User) -> list[str]:
    """Every name a return's photo is served under: the API's return, its download (the
    API's and the page's), the order page's list."""
    photo = return_request.photos.get()
    device, browser = with_token(person), Client()
    browser.force_login(person)
    page = browser.get(f"/orders/{return_request.order.number}/").content.decode()
    listed = device.get(f"/returns/{return_request.pk}").json()["photos"]
    return [
        *(each["filename"] for each in listed),
        device.get(f"/returns/{return_request.pk}/photos/{photo.pk}")["Content-Disposition"],
        browser.get(f"/returns/{return_request.pk}/photos/{photo.pk}/")["Content-Disposition"],
        *re.findall(rf'/photos/{photo.pk}/">([^<]*)</a>', page),
    ]


# A photo's name in the API, its downloads (the page's opens it in the browser) and the list.
SERVED_AS = [
    "lidfdp.png",
    'attachment; filename="lidfdp.png"',
    'inline; filename="lidfdp.png"',
    "lidfdp.png",
]


def test_a_photos_name_is_stored_and_served_without_bidirectional_controls(
    buyer: User, seller: User, order: Order
) -> None:
    """An override in a photo's name disguised it wherever it was listed or saved:
    "lid\u202efdp.png" reads "lidgnp.pdf". The name is stored without the embeddings,
    overrides and isolates (conversations' store_attachments), and one stored before is
    served without them."""
    photo = SimpleUploadedFile("lid\u202efdp.png", PNG, content_type="image/png")
    return_request = start(buyer, order, photos=[photo])

    assert return_request.photos.get().filename == "lidfdp.png"
    for person in (buyer, seller):
        assert photo_names(return_request, person) == SERVED_AS

    return_request.photos.update(filename="lid\u202efdp.png")
    assert photo_names(return_request, buyer) == SERVED_AS


def test_another_buyer_and_another_seller_cannot_reach_a_return(
    buyer: User, seller: User, order: Order
) -> None:
    return_request = start(buyer, order)
    other_seller = factories.SellerFactory()

    with pytest.raises(NotFound):
        return_actions.request_return(
            factories.BuyerFactory(),
            order.number,
            [ReturnLine(item_of(order).pk, 1)],
            resolution="refund",
            reason_code="other",
        )
    with pytest.raises(NotFound):
        return_actions.decide_return(other_seller, return_request.pk, approve=True)
    with pytest.raises(NotFound):
        return_actions.decide_return(buyer, return_request.pk, approve=True)
    assert queries.access_return(seller, return_request.pk) == return_request


# --- the same return from both paths -----------------------------------------------------


def test_events_about_a_return_started_here_move_it_on(
    buyer: User, seller: User, order: Order
) -> None:
    return_request = start(buyer, order)
    reference = return_request.reference
    data = {"order_number": order.number, "return_reference": reference}

    assert deliver(event("return.requested", {**data, "reason": "Broken"}, "e1")).status_code == 201
    assert deliver(event("return.approved", data, "e2")).status_code == 201
    assert deliver(event("return.approved", data, "e3")).status_code == 201

    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.APPROVED
    assert ReturnRequest.objects.count() == 1
    # The echo of its request and the second approval changed nothing and said nothing.
    assert len(returns_messages(buyer)) == 2
    assert len(returns_messages(seller)) == 2


@pytest.mark.parametrize("first", ["seller", "marketplace"])
def test_a_return_is_refunded_once_whichever_side_is_first(
    buyer: User, seller: User, order: Order, first: str
) -> None:
    return_request = start(buyer, order)
    return_actions.decide_return(seller, return_request.pk, approve=True)
    refund = event(
        "refund.issued",
        {
            "order_number": order.number,
            "amount_cents": 12999,
            "currency": "USD",
            "reason": "Returned",
            "return_reference": return_request.reference,
        },
        "refund-1",
    )

    if first == "seller":
        return_actions.mark_return_received(seller, return_request.pk)
        response = deliver(refund)
        assert (response.status_code, response.json()["messages"]) == (201, [])
    else:
        assert deliver(refund).status_code == 201
        with pytest.raises(Conflict):
            return_actions.mark_return_received(seller, return_request.pk)

    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.REFUNDED
    assert list(Refund.objects.values_list("amount_cents", "status")) == [
        (12999, RefundStatus.ISSUED)
    ]


def test_the_database_refuses_a_second_issued_refund_for_a_return(
    buyer: User, order: Order
) -> None:
    return_request = start(buyer, order)
    fields = {
        "order": order,
        "return_request": return_request,
        "amount_cents": 100,
        "created_at": timezone.now(),
    }
    Refund.objects.create(status=RefundStatus.ISSUED, **fields)
    Refund.objects.create(status=RefundStatus.FAILED, **fields)

    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(status=RefundStatus.ISSUED, **fields)


def test_a_refund_event_past_what_was_paid_is_refused(buyer: User, order: Order) -> None:
    data = {"order_number": order.number, "currency": "USD", "reason": "Goodwill"}
    assert deliver(event("refund.issued", {**data, "amount_cents": 20000}, "r1")).status_code == 201

    response = deliver(event("refund.issued", {**data, "amount_cents": 6000}, "r2"))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "refund_exceeds_order_total"
    assert Refund.objects.count() == 1


def test_received_before_approved_skips_ahead_and_the_late_approval_is_harmless(
    buyer: User, order: Order
) -> None:
    data = {"order_number": order.number, "return_reference": "RMA-9"}
    deliver(event("return.requested", {**data, "reason": "Too loud"}, "a"))

    deliver(event("return.received", data, "b"))
    late = deliver(event("return.approved", data, "c"))

    assert late.json()["messages"] == []
    assert ReturnRequest.objects.get().status == ReturnStatus.RECEIVED


# --- the pages ---------------------------------------------------------------------------


def test_the_buyer_returns_from_the_order_page_and_the_seller_approves_from_theirs(
    client: Client, buyer: User, seller: User, order: Order
) -> None:
    client.force_login(buyer)
    page = client.get(f"/orders/{order.number}/")
    assert "Return or replace items" in page.content.decode()
    assert "(up to 2)" in page.content.decode()

    response = client.post(
        f"/orders/{order.number}/returns/",
        {
            "item": str(item_of(order).pk),
            "quantity": "1",
            "storefront_id": str(seller.storefront.pk),
            "resolution": "refund",
            "reason": "defective",
            "note": "It leaks.",
            "idempotency_key": "page-1",
            "photos": SimpleUploadedFile("leak.png", PNG, content_type="image/png"),
        },
    )
    assert response.status_code == 302
    return_request = ReturnRequest.objects.get()
    photo = return_request.photos.get()

    client.force_login(seller)
    seller_page = client.get(f"/orders/{order.number}/").content.decode()
    assert "The buyer's note" in seller_page
    assert "It leaks." in seller_page
    assert client.get(f"/returns/{return_request.pk}/photos/{photo.pk}/").status_code == 200
    decided = client.post(
        f"/returns/{return_request.pk}/decision/", {"decision": "approve", "instructions": ""}
    )
    assert decided.status_code == 302

    client.force_login(buyer)
    buyer_page = client.get(f"/orders/{order.number}/").content.decode()
    assert "How to send it back" in buyer_page
    assert f"RETURN {return_request.reference}" in buyer_page


def test_a_refused_return_says_why_on_the_page_and_changes_nothing(
    client: Client, buyer: User, seller: User, order: Order
) -> None:
    client.force_login(buyer)

    response = client.post(
        f"/orders/{order.number}/returns/",
        return_form(order, seller, quantity="5", reason="defective"),
    )

    assert response.status_code == 400
    assert "Kettle: at most 2 can be returned." in response.content.decode()
    assert ReturnRequest.objects.count() == 0


def test_the_page_explains_a_closed_window(client: Client, buyer: User, order: Order) -> None:
    delivered = timezone.now() - timedelta(days=40)
    Shipment.objects.update(delivered_at=delivered)
    client.force_login(buyer)

    page = client.get(f"/orders/{order.number}/").content.decode()

    assert "The return window closed on " in page
    assert "Request return" not in page


def test_a_refund_decided_elsewhere_never_passes_what_was_paid(buyer: User, order: Order) -> None:
    refund = return_actions.issue_order_refund(order.pk, 20000)

    with pytest.raises(return_actions.RefundTooLarge) as refused:
        return_actions.issue_order_refund(order.pk, 6000)

    assert (refund.amount_cents, refund.return_request_id) == (20000, None)
    assert refused.value.message == (
        f"At most $59.98 of order {order.number} can still be refunded. "
        "$200.00 of its $259.98 was refunded already."
    )
    assert Refund.objects.count() == 1


@pytest.mark.parametrize("resolution", ["refund", "replacement"])
def test_an_open_return_closes_when_the_order_is_refunded_in_full_by_other_means(
    client: Client, buyer: User, seller: User, order: Order, resolution: str
) -> None:
    """The return was approved, then a refund of no return (the marketplace's, a claim's)
    reached what was paid: it covers the return's items (the money rule), so the return
    closes — both sides told, the same state on both order pages and in the API — instead
    of staying "approved" with a "mark received" that answers 409 for ever."""
    return_request = start(buyer, order, resolution=resolution)
    return_actions.decide_return(seller, return_request.pk, approve=True)
    refunded = {
        "order_number": order.number,
        "amount_cents": order.total_cents,
        "currency": "USD",
        "reason": "Goodwill",
    }

    assert deliver(event("refund.issued", refunded, "goodwill")).status_code == 201

    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.CLOSED
    closed = f"Your return {return_request.reference} for order #{order.number} was closed on "
    assert returns_messages(buyer)[-1].startswith(closed)
    assert "refunded in full" in returns_messages(buyer)[-1]
    assert returns_messages(seller)[-1].startswith(
        f"Return {return_request.reference} (order #{order.number}) was closed on "
    )
    for person in (buyer, seller):
        client.force_login(person)
        page = client.get(f"/orders/{order.number}/").content.decode()
        assert "Closed: order refunded in full" in page
        assert "Mark received" not in page
        assert with_token(person).get(f"/returns/{return_request.pk}").json()["status"] == "closed"
    with pytest.raises(Conflict) as refused:
        return_actions.mark_return_received(seller, return_request.pk)
    assert refused.value.code == "return_state_changed"
    # One refund: the one that closed it.
    assert list(Refund.objects.values_list("amount_cents", flat=True)) == [order.total_cents]


def test_a_return_refunded_by_its_seller_closes_the_other_returns_it_completes(
    buyer: User, seller: User, order: Order
) -> None:
    """Half the order refunded elsewhere, then two kettles in two returns: the first one's
    refund takes what is left, so the second has nothing left to refund and closes."""
    return_actions.issue_order_refund(order.pk, 12999)
    first, second = start(buyer, order), start(buyer, order)
    for return_request in (first, second):
        return_actions.decide_return(seller, return_request.pk, approve=True)

    assert return_actions.mark_return_received(seller, first.pk).status == ReturnStatus.REFUNDED

    second.refresh_from_db()
    assert second.status == ReturnStatus.CLOSED
    assert sum(Refund.objects.values_list("amount_cents", flat=True)) == order.total_cents


def test_marking_received_a_return_left_open_on_an_order_refunded_in_full_finishes_it(
    buyer: User, seller: User, order: Order
) -> None:
    """A return left approved when its order was refunded in full (a row from before
    returns were closed so): "mark received" closes it, without a second refund."""
    return_request = start(buyer, order)
    return_actions.decide_return(seller, return_request.pk, approve=True)
    Refund.objects.create(
        order=order,
        amount_cents=order.total_cents,
        currency="USD",
        status=RefundStatus.ISSUED,
        created_at=timezone.now(),
    )

    received = return_actions.mark_return_received(seller, return_request.pk)

    assert received.status == ReturnStatus.CLOSED
    assert Refund.objects.count() == 1
    assert "was closed on" in returns_messages(seller)[-1]


def announce(order: Order, reference: str, items: list[dict[str, object]] | None) -> HttpResponse:
    data: dict[str, object] = {
        "order_number": order.number,
        "return_reference": reference,
        "reason": "Too loud",
    }
    if items is not None:
        data["items"] = items
    return deliver(event("return.requested", data, f"announce-{reference}"))


def test_a_return_the_marketplace_announces_with_items_reserves_them(
    client: Client, buyer: User, seller: User, order: Order
) -> None:
    """Its items are taken as a buyer's return takes them: the buyer cannot return the
    same kettle again here (a second refund of one unit), both sides read what it is."""
    sku = item_of(order).product.sku

    answered = announce(order, "RMA-9", [{"sku": sku, "quantity": 1}])

    assert answered.status_code == 201
    announced = ReturnRequest.objects.get(order=order, reference="RMA-9")
    assert list(announced.items.values_list("order_item_id", "quantity")) == [
        (item_of(order).pk, 1)
    ]
    entry = queries.returnability(order, [item_of(order)], timezone.now()).items[0]
    assert (entry.quantity, entry.refusal) == (1, None)
    with pytest.raises(InvalidInput) as refused:
        start(buyer, order, quantity=2)
    assert refused.value.code == "too_many_returned"
    assert "1 × Kettle" in returns_messages(buyer)[-1]
    assert "1 × Kettle" in returns_messages(seller)[-1]
    client.force_login(buyer)
    assert "1 × Kettle" in client.get(f"/orders/{order.number}/").content.decode()

    # The last kettle, announced too: nothing of the order is left to return here.
    assert announce(order, "RMA-10", [{"sku": sku}]).status_code == 201
    entry = queries.returnability(order, [item_of(order)], timezone.now()).items[0]
    assert (entry.quantity, entry.refusal) == (0, "Already returned.")


def test_an_announced_return_of_units_not_left_is_refused_and_changes_nothing(
    buyer: User, order: Order
) -> None:
    start(buyer, order)
    sku = item_of(order).product.sku

    too_many = announce(order, "RMA-9", [{"sku": sku, "quantity": 2}])
    unknown = announce(order, "RMA-10", [{"sku": "NOT-ON-IT"}])

    assert error_of(too_many) == (422, "return_items_unavailable")
    assert error_of(unknown) == (422, "unknown_product")
    assert not ReturnRequest.objects.filter(reference__startswith="RMA-").exists()


def test_an_announced_return_without_items_covers_no_unit_in_particular(
    buyer: User, order: Order
) -> None:
    """As documented: the items stay returnable here (what its refund may be is capped at
    what is left of the order's total)."""
    assert announce(order, "RMA-9", None).status_code == 201

    entry = queries.returnability(order, [item_of(order)], timezone.now()).items[0]
    assert (entry.quantity, entry.refusal) == (2, None)
    assert not ReturnRequest.objects.get(reference="RMA-9").items.exists()


def test_a_return_announced_on_an_order_refunded_in_full_closes_at_once(
    buyer: User, order: Order
) -> None:
    refund_in_full_by_the_marketplace(order)

    assert announce(order, "RMA-11", None).status_code == 201

    assert ReturnRequest.objects.get(reference="RMA-11").status == ReturnStatus.CLOSED
    assert "was closed on" in returns_messages(buyer)[-1]


def test_marking_an_unapproved_return_received_says_it_must_be_approved_first(
    buyer: User, seller: User, order: Order
) -> None:
    """It said "Return RET-… is return requested already: nothing changed." — the status's
    label in a sentence, and nothing of what to do."""
    return_request = start(buyer, order)

    response = with_token(seller).post(f"/returns/{return_request.pk}/received")

    assert error_of(response) == (409, "return_state_changed")
    assert response.json()["error"]["message"] == (
        f"Return {return_request.reference} must be approved first: approve it, then mark "
        "it received when the items are back. Nothing changed."
    )
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.REQUESTED
    assert Refund.objects.count() == 0


@pytest.mark.parametrize(
    ("first", "then", "says"),
    [
        ("approve", "decline", "has been approved already: nothing changed."),
        ("decline", "approve", "has been declined already: nothing changed."),
        ("received", "approve", "has been refunded already: nothing changed."),
    ],
)
def test_every_refused_step_of_a_return_says_where_it_is_in_words(
    buyer: User, seller: User, order: Order, first: str, then: str, says: str
) -> None:
    return_request = start(buyer, order)
    if first == "decline":
        return_actions.decide_return(seller, return_request.pk, approve=False, reason="Used.")
    else:
        return_actions.decide_return(seller, return_request.pk, approve=True)
    if first == "received":
        return_actions.mark_return_received(seller, return_request.pk)

    with pytest.raises(Conflict) as refused:
        return_actions.decide_return(
            seller, return_request.pk, approve=then == "approve", reason="Used."
        )

    assert refused.value.code == "return_state_changed"
    assert refused.value.message == f"Return {return_request.reference} {says}"


def test_a_replaced_and_a_closed_return_say_so_in_words(
    buyer: User, seller: User, order: Order
) -> None:
    replaced = start(buyer, order, resolution="replacement")
    return_actions.decide_return(seller, replaced.pk, approve=True)
    return_actions.mark_return_received(seller, replaced.pk)
    with pytest.raises(Conflict) as refused:
        return_actions.mark_return_received(seller, replaced.pk)
    assert refused.value.message == (
        f"The replacement for return {replaced.reference} has been shipped already: "
        "nothing changed."
    )

    closed = start(buyer, order)
    refund_in_full_by_the_marketplace(order)
    closed.refresh_from_db()
    assert closed.status == ReturnStatus.CLOSED
    with pytest.raises(Conflict) as refused:
        return_actions.decide_return(seller, closed.pk, approve=True)
    assert refused.value.message.startswith(
        f"Return {closed.reference} is closed: its order has been refunded in full"
    )


def test_a_refused_decision_keeps_what_the_seller_typed(
    client: Client, buyer: User, seller: User, order: Order
) -> None:
    """The safety check's refusal came back with the reason (or the instructions) gone:
    the seller typed it again from nothing."""
    return_request = start(buyer, order)
    client.force_login(seller)

    for decision, field in (("decline", "reason"), ("approve", "instructions")):
        typed = "Send $20 by Western Union to " + PHISHING_REASON
        response = client.post(
            f"/returns/{return_request.pk}/decision/", {"decision": decision, field: typed}
        )

        assert response.status_code == 400
        page = response.content.decode()
        assert "quoted to the buyer in a message from the marketplace" in page
        textarea = re.search(rf'<textarea name="{field}"[^>]*>([^<]*)</textarea>', page)
        assert textarea is not None
        assert html.unescape(textarea.group(1)) == typed
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.REQUESTED
