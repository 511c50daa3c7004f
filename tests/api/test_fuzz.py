"""The API fuzzer: schemathesis generates requests for every operation of the OpenAPI
document the API serves, valid and invalid, and sends each as two people with API tokens
(a buyer and a seller who have nothing to do with each other). Every answer must be
documented (status, content type, body schema), never a 5xx, and never carry the other
person's data. `make test` runs a few examples per operation; `make fuzz` many more
(FUZZ_EXAMPLES). Figures: docs/testing.md."""

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import strategies
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.wsgi import application
from tests import factories
from tests.web.helpers import unique_png

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Person:
    user: User
    token: str
    # Words only this person's data contains: no answer to the other may hold one.
    secrets: list[str]


def _buyer_with_data(tag: str) -> Person:
    buyer = factories.BuyerFactory(username=f"fuzzbuyer{tag}", email=f"fuzz{tag}@example.test")
    seller = factories.SellerFactory(username=f"fuzzshop{tag}")
    product = factories.ProductFactory(storefront=seller.storefront, sku=f"FZ{tag}")
    order = factories.order_with_item(buyer, product, number=f"112-FUZZ{tag}")
    question = actions.ask_seller_about_product(
        buyer,
        product.pk,
        f"Secret question {tag}quill",
        attachments=[SimpleUploadedFile("a.png", unique_png(tag))],
    )
    actions.send_message(seller, question.conversation_id, f"Secret answer {tag}quartz")
    actions.contact_seller_about_order(buyer, order.pk, product.storefront_id, f"Order {tag}opal")
    _, token = account_actions.create_api_token(buyer, f"Phone {tag}jade")
    return Person(
        buyer, token, [f"{tag}quill", f"{tag}quartz", f"{tag}opal", f"{tag}jade", order.number]
    )


def _seller_with_data(tag: str) -> Person:
    seller = factories.SellerFactory(username=f"fuzzseller{tag}")
    buyer = factories.BuyerFactory(username=f"fuzzasker{tag}")
    product = factories.ProductFactory(storefront=seller.storefront, sku=f"FZ{tag}")
    order = factories.order_with_item(buyer, product, number=f"112-FUZZ{tag}")
    question = actions.ask_seller_about_product(buyer, product.pk, f"Asked {tag}ember")
    actions.send_message(seller, question.conversation_id, f"Answered {tag}flint")
    actions.contact_buyer_about_order(seller, order.pk, f"Shipping {tag}garnet")
    actions.save_reply(seller, f"Saved {tag}heron", f"Reply {tag}ivory")
    _, token = account_actions.create_api_token(seller, f"Tablet {tag}kelp")
    return Person(
        seller,
        token,
        [f"{tag}ember", f"{tag}flint", f"{tag}garnet", f"{tag}heron", f"{tag}ivory", f"{tag}kelp"],
    )


@pytest.fixture
def people(transactional_db: None) -> Iterator[tuple[Person, Person]]:
    # Django's handler closes the connection after each request; the test's own requests
    # keep it, as Django's test client does.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield _buyer_with_data("a"), _seller_with_data("b")
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(people: tuple[Person, Person]) -> Any:
    """The document as the API serves it."""
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


def test_every_operation_answers_as_documented_and_only_with_the_askers_data(
    api_schema: Any, people: tuple[Person, Person]
) -> None:
    first, second = people
    operations = [result.ok() for result in api_schema.get_all_operations()]
    calls = 0
    started = time.monotonic()
    failures: list[str] = []
    current: dict[str, str] = {}
    for operation in operations:
        current["label"] = operation.label
        strategy = strategies.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        )
        @hypothesis.given(case=strategy)
        def run(case: Any) -> None:
            nonlocal calls
            label = current["label"]
            for asking, other in ((first, second), (second, first)):
                headers = {"Authorization": f"Bearer {asking.token}"}
                response = case.call(headers=headers)
                calls += 1
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                except (AssertionError, BaseExceptionGroup) as error:
                    failures.append(f"{label} as {asking.user.username}: {error}")
                    continue
                leaked = [secret for secret in other.secrets if secret in response.text]
                if leaked:
                    failures.append(f"{label} as {asking.user.username}: {leaked}")

        run()
    took = time.monotonic() - started
    print(f"\nfuzz: {len(operations)} operations, {calls} requests in {took:.1f} s")
    assert failures == [], "\n\n".join(failures[:20])
