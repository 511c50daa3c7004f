"""Factories for tests: a realistic marketplace in a few lines."""

from datetime import timedelta
from typing import Any

import factory
from django.test import Client
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.marketplace.models import Order, OrderItem, Product, Storefront
from messagecenter.notifications.models import Audience, Broadcast, BroadcastKind

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"buyer{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    # Deterministic: a random name could match a search or a filter by chance.
    display_name = factory.Sequence(lambda n: f"Person {n}")
    role = Role.BUYER
    country = "US"
    password = factory.django.Password(PASSWORD)


class BuyerFactory(UserFactory):
    pass


class AgentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"agent{n}")
    role = Role.AGENT


class SellerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"seller{n}")
    role = Role.SELLER
    storefront = factory.RelatedFactory(
        "tests.factories.StorefrontFactory", factory_related_name="seller"
    )


class StorefrontFactory(factory.django.DjangoModelFactory[Storefront]):
    class Meta:
        model = Storefront

    seller = factory.SubFactory(SellerFactory, storefront=None)
    name = factory.Sequence(lambda n: f"Shop Number {n}")
    slug = factory.Sequence(lambda n: f"shop-{n}")


class ProductFactory(factory.django.DjangoModelFactory[Product]):
    class Meta:
        model = Product

    storefront = factory.SubFactory(StorefrontFactory)
    title = factory.Sequence(lambda n: f"Espresso machine model {n}")
    sku = factory.Sequence(lambda n: f"B0{n:08d}")
    price_cents = 12999


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"112-{n:07d}-{(n * 7919) % 10_000_000:07d}")
    buyer = factory.SubFactory(BuyerFactory)
    placed_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=3))
    total_cents = 12999


def order_with_item(buyer: User, product: Product, **fields: Any) -> Order:
    """An order of one product, as the marketplace would record it."""
    order = OrderFactory(buyer=buyer, total_cents=product.price_cents, **fields)
    OrderItem.objects.create(
        order=order,
        product=product,
        storefront=product.storefront,
        title=product.title,
        quantity=1,
        unit_price_cents=product.price_cents,
    )
    return order


class BroadcastFactory(factory.django.DjangoModelFactory[Broadcast]):
    """A notice to everyone, sent a minute ago; list audiences: notifications' actions."""

    class Meta:
        model = Broadcast

    kind = BroadcastKind.NOTICE
    subject = factory.Sequence(lambda n: f"Notice number {n}")
    body = "We are updating our terms of service.\n\nRead them at https://example.test/terms."
    send_at = factory.LazyFunction(lambda: timezone.now() - timedelta(minutes=1))
    audience = Audience.EVERYONE
    created_by = factory.SubFactory(UserFactory, role=Role.ADMIN, is_staff=True)
    created_at = factory.LazyFunction(timezone.now)


def agent_in_team(team_slug: str = "customer-service", **fields: Any) -> User:
    """An agent who works the queue of a team (made if it does not exist yet)."""
    from messagecenter.support.models import Team, TeamMember

    team, _ = Team.objects.get_or_create(
        slug=team_slug, defaults={"name": team_slug.replace("-", " ").capitalize()}
    )
    agent: User = AgentFactory(**fields)
    TeamMember.objects.create(team=team, agent=agent)
    return agent


def signed_in(person: User) -> Client:
    """A browser signed in as the person (Django's test client, its session made directly)."""
    client = Client()
    client.force_login(person)
    return client
