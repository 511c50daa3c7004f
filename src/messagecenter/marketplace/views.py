"""Product pages, Your Orders and an order's page: the places a buyer contacts a seller
from ("Ask a question", "Contact seller"). Each POST calls one conversation action."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from messagecenter.accounts.models import User
from messagecenter.accounts.roles import require_seller_page
from messagecenter.conversations import actions, hooks
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.downloads import attachment_response
from messagecenter.errors import FORM_ERRORS, InvalidInput, MessageCenterError, NotFound
from messagecenter.marketplace import queries, return_actions
from messagecenter.marketplace.models import (
    Order,
    Product,
    ReturnReason,
    ReturnResolution,
    Storefront,
)
from messagecenter.web.shortcuts import AuthenticatedHttpRequest, new_idempotency_key
from messagecenter.web.uploads import form_files, takes_files

ORDERS_PER_PAGE = 10


@login_required
@require_safe
def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "Your Account": the way to the Message Center and Your Orders, as in the user's guide."""
    return render(
        request,
        "accounts/account.html",
        {
            "products": queries.storefront_products(request.user),
            "business_days": settings.SELLER_RESPONSE_BUSINESS_DAYS,
        },
    )


@login_required
@require_safe
def product(request: AuthenticatedHttpRequest, sku: str) -> HttpResponse:
    return _product_page(request, _product(sku))


@takes_files("attachments")
@login_required
@require_POST
def ask_seller(request: AuthenticatedHttpRequest, sku: str) -> HttpResponse:
    """ "Ask a question" on a product page; the question opens (or continues) the buyer's
    conversation with the seller about this product."""
    product = _product(sku)
    body = request.POST.get("body", "")
    try:
        message = actions.ask_seller_about_product(
            request.user,
            product.pk,
            body,
            idempotency_key=request.POST.get("idempotency_key") or None,
            attachments=form_files(request, "attachments"),
        )
    except FORM_ERRORS as error:
        return _product_page(request, product, error=error, body=body, status=error.status)
    return redirect("conversation", message.conversation_id)


def _product(sku: str) -> Product:
    return queries.product_by_sku(sku)


def _product_page(
    request: AuthenticatedHttpRequest,
    product: Product,
    *,
    error: MessageCenterError | None = None,
    body: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "marketplace/product.html",
        {
            "product": product,
            "error": error,
            "body": body,
            # A fresh key also after an error: nothing was sent, so the next try is new.
            "idempotency_key": new_idempotency_key(),
        },
        status=status,
    )


@login_required
@require_safe
def orders(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Your Orders. Seller, agent and admin accounts do not buy, so they have no such page."""
    if not request.user.is_buyer:
        raise Http404("Your Orders is for buyer accounts.")
    page = Paginator(queries.buyer_orders(request.user), ORDERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "marketplace/orders.html",
        {"page": page, "orders": queries.summarize_orders(page.object_list)},
    )


@login_required
@require_safe
def order(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """The buyer's order; for a seller, an order they sold on (their part of it)."""
    if request.user.is_seller:
        return _sold_order_page(request, _sold_order(request.user, number))
    return _order_page(request, _order(request.user, number))


@takes_files("attachments")
@login_required
@require_POST
def contact_buyer(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """A seller writes first to the buyer of an order they sold on: the same conversation
    as the buyer's "Contact seller" for that order."""
    require_seller_page(request.user, missing="No such order.")
    order = _sold_order(request.user, number)
    body = request.POST.get("body", "")
    try:
        message = actions.contact_buyer_about_order(
            request.user,
            order.pk,
            body,
            idempotency_key=request.POST.get("idempotency_key") or None,
            attachments=form_files(request, "attachments"),
        )
    except FORM_ERRORS as error:
        return _sold_order_page(request, order, failed=(error, body), status=error.status)
    return redirect("conversation", message.conversation_id)


@takes_files("attachments")
@login_required
@require_POST
def contact_seller(
    request: AuthenticatedHttpRequest, number: str, storefront_id: int
) -> HttpResponse:
    """ "Contact seller" on an order: one conversation per order and seller."""
    order = _order(request.user, number)
    body = request.POST.get("body", "")
    try:
        message = actions.contact_seller_about_order(
            request.user,
            order.pk,
            storefront_id,
            body,
            idempotency_key=request.POST.get("idempotency_key") or None,
            attachments=form_files(request, "attachments"),
        )
    except FORM_ERRORS as error:
        return _order_page(
            request,
            order,
            failed=FailedContact(storefront_id, error, body),
            status=error.status,
        )
    return redirect("conversation", message.conversation_id)


def _order(user: User, number: str) -> Order:
    return queries.access_order(user, number)


def _sold_order(seller: User, number: str) -> Order:
    return queries.sold_order(seller, number)


@dataclass(frozen=True)
class FailedContact:
    storefront_id: int
    error: MessageCenterError
    body: str


@dataclass(frozen=True)
class ContactForm:
    storefront: Storefront
    idempotency_key: str
    body: str = ""
    error: MessageCenterError | None = None

    @property
    def closed(self) -> str | None:
        """Why the shop's seller cannot be written to (an erased or suspended account),
        shown instead of the form; None while they can."""
        return conversation_queries.closed_account(self.storefront.seller, is_shop=True)

    @property
    def prefix(self) -> str:
        """Keeps the ids of several sellers' forms on one page apart."""
        return f"seller-{self.storefront.pk}"


@dataclass(frozen=True)
class FailedReturn:
    storefront_id: int
    error: MessageCenterError
    form: dict[str, str]
    # What the buyer typed in each item's quantity, by item id: shown again as typed.
    quantities: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ReturnForm:
    """ "Return or replace items" for one seller's items (a return is one seller's)."""

    storefront: Storefront
    entries: list[queries.ReturnableItem]
    idempotency_key: str
    error: MessageCenterError | None = None
    values: dict[str, str] = field(default_factory=dict)
    quantities: dict[int, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return f"return-{self.storefront.pk}"

    @property
    def lines(self) -> list[tuple[queries.ReturnableItem, str]]:
        """Each item with the quantity the form shows: 0, or what the buyer chose before
        the request was refused (a refused request that came back at 0 was refused next
        for choosing nothing)."""
        return [(entry, self.quantities.get(entry.item.pk, "0")) for entry in self.entries]

    @property
    def is_open(self) -> bool:
        return any(entry.refusal is None for entry in self.entries)


def _return_forms(
    order: Order, details: queries.OrderDetails, failed: FailedReturn | None
) -> tuple[list[ReturnForm], queries.Returnability]:
    returnability = queries.returnability(order, details.items, timezone.now())
    forms = []
    for storefront in details.storefronts:
        entries = [e for e in returnability.items if e.item.storefront_id == storefront.pk]
        if failed is not None and failed.storefront_id == storefront.pk:
            forms.append(
                ReturnForm(
                    storefront,
                    entries,
                    new_idempotency_key(),
                    failed.error,
                    failed.form,
                    failed.quantities,
                )
            )
        else:
            forms.append(ReturnForm(storefront, entries, new_idempotency_key()))
    return forms, returnability


def _order_page(
    request: AuthenticatedHttpRequest,
    order: Order,
    *,
    failed: FailedContact | None = None,
    failed_return: FailedReturn | None = None,
    status: int = 200,
) -> HttpResponse:
    details = queries.order_details(request.user, order)
    return_forms, returnability = _return_forms(order, details, failed_return)
    forms = []
    for storefront in details.storefronts:
        if failed is not None and failed.storefront_id == storefront.pk:
            forms.append(ContactForm(storefront, new_idempotency_key(), failed.body, failed.error))
        else:
            forms.append(ContactForm(storefront, new_idempotency_key()))
    # An error that belongs to no form on the page (a seller who is not on the order).
    page_error = None
    if failed is not None and all(form.error is None for form in forms):
        page_error = failed.error
    return render(
        request,
        "marketplace/order.html",
        {
            "details": details,
            "order": order,
            "contact_forms": forms,
            "error": page_error,
            "return_forms": return_forms,
            "returnability": returnability,
            "return_reasons": ReturnReason.choices,
            "return_resolutions": ReturnResolution.choices,
            # Why no guarantee claim can be filed on this order at all (a claim open on it,
            # cancelled, past the window, refunded in full; support, by hook, as the
            # conversation page asks): said instead of "File a guarantee claim".
            "claim_refusal": hooks.claim_refusal(order),
        },
        status=status,
    )


def _sold_order_page(
    request: AuthenticatedHttpRequest,
    order: Order,
    *,
    failed: tuple[MessageCenterError, str] | None = None,
    return_error: MessageCenterError | None = None,
    return_decision: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    """A seller's view of an order: their own items, their conversations about it and a
    form to write to its buyer. Other sellers' items and the order's shipments are not
    theirs to see."""
    storefront = Storefront.objects.get(seller=request.user)
    details = queries.order_details(request.user, order, storefront=storefront)
    error, body = failed if failed is not None else (None, "")
    return render(
        request,
        "marketplace/order.html",
        {
            "details": details,
            "order": order,
            "is_seller_view": True,
            "buyer_name": order.buyer.public_name,
            "contact_buyer": {"idempotency_key": new_idempotency_key(), "body": body},
            # A buyer whose account is erased or suspended reads nothing: the page says so
            # instead of offering a form whose send would be refused (recipient_closed).
            "buyer_closed": conversation_queries.closed_account(order.buyer, is_shop=False),
            "error": error,
            "return_error": return_error,
            # A decision refused (the safety check, a reason too long) comes back with the
            # reason or instructions as the seller typed them, in that return's form.
            "return_decision": return_decision or {},
        },
        status=status,
    )


# --- returns (docs/returns.md) --------------------------------------------------------------


@takes_files("photos")
@login_required
@require_POST
def request_return(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """ "Return or replace items": the chosen quantities of one seller's items."""
    order = _order(request.user, number)
    form = {key: request.POST.get(key, "") for key in ("resolution", "reason", "note")}
    storefront_id = request.POST.get("storefront_id", "")
    # Each returnable item's row sends its id ("item") and how many ("quantity").
    item_ids, quantities = request.POST.getlist("item"), request.POST.getlist("quantity")
    lines: list[return_actions.ReturnLine] = []
    is_whole = True
    for item_id, quantity in zip(item_ids, quantities, strict=False):
        quantity = quantity.strip() or "0"
        if not (item_id.isdigit() and quantity.isdigit()):
            is_whole = False
            break
        lines.append(return_actions.ReturnLine(int(item_id), int(quantity)))
    try:
        if len(item_ids) != len(quantities):
            # Only a form not sent as the page wrote it (each row has both fields).
            raise InvalidInput(
                "The form's items and quantities do not match: reload the page and try again.",
                code="malformed_request",
            )
        if not is_whole:
            raise InvalidInput("Quantities are whole numbers.", code="invalid_quantity")
        return_actions.request_return(
            request.user,
            order.number,
            lines,
            resolution=form["resolution"],
            reason_code=form["reason"],
            note=form["note"],
            photos=form_files(request, "photos"),
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except FORM_ERRORS as error:
        typed = {
            int(item_id): quantity.strip()[:10]
            for item_id, quantity in zip(item_ids, quantities, strict=False)
            if item_id.isdigit()
        }
        failed = FailedReturn(
            int(storefront_id) if storefront_id.isdigit() else 0, error, form, typed
        )
        return _order_page(request, order, failed_return=failed, status=error.status)
    return redirect(f"{reverse('order', args=[order.number])}#returns")


@login_required
@require_POST
def decide_return(request: AuthenticatedHttpRequest, return_id: int) -> HttpResponse:
    """The seller approves or declines a return of their items."""
    return_request = queries.sold_return(request.user, return_id)
    decision = request.POST.get("decision", "")
    try:
        if decision not in ("approve", "decline"):
            raise InvalidInput("Approve or decline the return.", code="invalid_decision")
        return_actions.decide_return(
            request.user,
            return_request.pk,
            approve=decision == "approve",
            reason=request.POST.get("reason", ""),
            instructions=request.POST.get("instructions", ""),
        )
    except FORM_ERRORS as error:
        return _sold_order_page(
            request,
            return_request.order,
            return_error=error,
            return_decision={
                "return_id": return_request.pk,
                # Which form was refused: its field takes the focus back.
                "decision": decision,
                "reason": request.POST.get("reason", ""),
                "instructions": request.POST.get("instructions", ""),
            },
            status=error.status,
        )
    return redirect(f"{reverse('order', args=[return_request.order.number])}#returns")


@login_required
@require_POST
def mark_return_received(request: AuthenticatedHttpRequest, return_id: int) -> HttpResponse:
    return_request = queries.sold_return(request.user, return_id)
    try:
        return_actions.mark_return_received(request.user, return_request.pk)
    except FORM_ERRORS as error:
        return _sold_order_page(
            request, return_request.order, return_error=error, status=error.status
        )
    return redirect(f"{reverse('order', args=[return_request.order.number])}#returns")


@login_required
@require_safe
def return_photo(request: AuthenticatedHttpRequest, return_id: int, photo_id: int) -> FileResponse:
    """A photo the buyer gave with a return: for the buyer and the return's seller."""
    return_request = queries.access_return(request.user, return_id)
    photo = return_request.photos.filter(pk=photo_id).first()
    if photo is None:
        raise NotFound("No such photo.", code="photo_not_found")
    return attachment_response(photo, inline=True)
