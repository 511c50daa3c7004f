"""Product pages, Your Orders and an order's page: the places a buyer contacts a seller
from ("Ask a question", "Contact seller"). Each POST calls one conversation action."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST, require_safe

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.errors import FORM_ERRORS, MessageCenterError
from messagecenter.marketplace import queries
from messagecenter.marketplace.models import Order, Product, Storefront
from messagecenter.web.shortcuts import AuthenticatedHttpRequest, new_idempotency_key

ORDERS_PER_PAGE = 10


@login_required
@require_safe
def account(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "Your Account": the way to the Message Center and Your Orders, as in the user's guide."""
    return render(
        request,
        "accounts/account.html",
        {"products": queries.storefront_products(request.user)},
    )


@login_required
@require_safe
def product(request: AuthenticatedHttpRequest, sku: str) -> HttpResponse:
    return _product_page(request, _product(sku))


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
            attachments=request.FILES.getlist("attachments"),
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


@login_required
@require_POST
def contact_buyer(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """A seller writes first to the buyer of an order they sold on: the same conversation
    as the buyer's "Contact seller" for that order."""
    if not request.user.is_seller:
        raise Http404("No such order.")
    order = _sold_order(request.user, number)
    body = request.POST.get("body", "")
    try:
        message = actions.contact_buyer_about_order(
            request.user,
            order.pk,
            body,
            idempotency_key=request.POST.get("idempotency_key") or None,
            attachments=request.FILES.getlist("attachments"),
        )
    except FORM_ERRORS as error:
        return _sold_order_page(request, order, failed=(error, body), status=error.status)
    return redirect("conversation", message.conversation_id)


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
            attachments=request.FILES.getlist("attachments"),
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
    def prefix(self) -> str:
        """Keeps the ids of several sellers' forms on one page apart."""
        return f"seller-{self.storefront.pk}"


def _order_page(
    request: AuthenticatedHttpRequest,
    order: Order,
    *,
    failed: FailedContact | None = None,
    status: int = 200,
) -> HttpResponse:
    details = queries.order_details(request.user, order)
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
        {"details": details, "order": order, "contact_forms": forms, "error": page_error},
        status=status,
    )


def _sold_order_page(
    request: AuthenticatedHttpRequest,
    order: Order,
    *,
    failed: tuple[MessageCenterError, str] | None = None,
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
            "error": error,
        },
        status=status,
    )
