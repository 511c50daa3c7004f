import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connections, transaction
from django.test import TransactionTestCase, override_settings
from django.test.utils import setup_databases
from pytest_django import DjangoDbBlocker
from pytest_django.fixtures import Settings, _disable_migrations, _get_databases_for_setup
from pytest_django.plugin import blocking_manager_key

from messagecenter.accounts.models import User
from messagecenter.business_days import calendar
from messagecenter.conversations.actions import contact_seller_about_order
from messagecenter.conversations.models import Message
from messagecenter.marketplace.models import Product
from messagecenter.safety import vocabulary_cache
from tests import factories
from tests.databases import (
    TEMPLATES_FOLDER,
    destroy_test_databases,
    drop_templates,
    empty_after_a_test,
    on_postgresql,
    remember_kept_rows,
    set_up_from_templates,
)

IN_CI = os.environ.get("CI") == "true"
# A transactional test's databases are emptied after it without making every content type
# and permission again (tests/databases.py, empty_after_a_test).
TransactionTestCase._fixture_teardown = empty_after_a_test  # type: ignore[method-assign]
# The controller's folder for the templates of the test databases (pytest_configure_node).
TEMPLATES_FOLDER_KEY = pytest.StashKey[Path]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--slow", action="store_true", help="also run tests marked slow (make test-slow)"
    )
    parser.addoption(
        "--every-test",
        action="store_true",
        help="on PostgreSQL, also the tests that run once (browser tests, and those that "
        "never open the database): make test leaves them to its SQLite pass",
    )


# A test reaches the configured database through pytest-django's marker or these fixtures
# (their users among the fixtures list them too: fixturenames is the whole closure). No
# fixture every test uses may request one, or every test would look as if it opened the
# database: the pools are closed by this conftest's django_db_setup, not an autouse fixture.
# Not django_db_blocker: pytest-django's autouse _django_setup_unittest asks for it in every
# test, and unblocking alone reaches no test database (tests/db/test_sqlite_writers.py
# unblocks for a SQLite file of its own, the same on either pass).
DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "django_db_setup",
        # pytest-django's autouse helper asks for transactional_db only once the test runs.
        "live_server",
    }
)


def runs_once(item: pytest.Item) -> bool:
    """Whether a test gives the same answer on either database, so that the PostgreSQL pass
    of `make test` leaves it to the SQLite pass: it never opens the configured database, or
    it drives Chromium (the browser tests check pages and scripts; what they do on the
    server is the same actions the other tests run on both databases)."""
    # A test that drives Chromium without the mark (the browser fixture is under page,
    # phone and other_device) is one too: two such files ran on both passes.
    if item.get_closest_marker("browser") or "browser" in getattr(item, "fixturenames", ()):
        return True
    if item.get_closest_marker("django_db"):
        return False
    return not DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ()))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL (the second pass of `make test`), the tests that run once are left out,
    unless --every-test; tests marked slow take minutes each: left out of `make test`, run
    by `make test-slow`."""
    if on_postgresql() and not config.getoption("--every-test"):
        kept, once = [], []
        for item in items:
            (once if runs_once(item) else kept).append(item)
        if once:
            config.hook.pytest_deselected(items=once)
            items[:] = kept
    if config.getoption("--slow"):
        return
    skip = pytest.mark.skip(reason="minutes long: run with --slow (make test-slow)")
    for item in items:
        if item.get_closest_marker("slow"):
            item.add_marker(skip)


# Real hashing costs ~0.3 s per user; tests create hundreds of users.
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests send many messages from accounts made a moment ago, far over a new account's limits:
# lifted (every send is still counted, so query counts include it); tests/safety/test_limits.py
# sets its own.
NO_SEND_LIMITS: dict[str, list[Any]] = {
    "SAFETY_SEND_LIMITS": [],
    "SAFETY_NEW_ACCOUNT_SEND_LIMITS": [],
    "SAFETY_FIRST_CONTACT_LIMITS": [],
    "SAFETY_NEW_ACCOUNT_FIRST_CONTACT_LIMITS": [],
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Settings) -> None:
    settings.PASSWORD_HASHERS = FAST_PASSWORD_HASHERS


@pytest.fixture(autouse=True)
def _send_limits_lifted(settings: Settings) -> None:
    for name, value in NO_SEND_LIMITS.items():
        setattr(settings, name, value)


# The fixtures whose data built_once holds open (the innermost last).
_BUILT_ONCE: list[str] = []


@contextmanager
def built_once(
    fixture: str, django_db_blocker: DjangoDbBlocker, media_root: Path
) -> Iterator[None]:
    """For a module-scoped fixture: data that many tests read, built once instead of for
    each test, inside a transaction rolled back after the module. Each test that asks for
    it runs in a savepoint of it (`db`), so nothing a test writes reaches the next. What
    the autouse fixtures give every test holds while it is built; its files are stored
    under media_root (a test's own MEDIA_ROOT is another folder: point it there)."""
    with (
        django_db_blocker.unblock(),
        override_settings(
            PASSWORD_HASHERS=FAST_PASSWORD_HASHERS, MEDIA_ROOT=str(media_root), **NO_SEND_LIMITS
        ),
        transaction.atomic(),
    ):
        calendar.forget_closures()
        vocabulary_cache.forget()
        _BUILT_ONCE.append(fixture)
        try:
            yield
        finally:
            _BUILT_ONCE.remove(fixture)
            transaction.set_rollback(True)
    # The next test must not find this data's closures or vocabulary revision cached.
    calendar.forget_closures()
    vocabulary_cache.forget()


@pytest.fixture(autouse=True)
def _no_data_of_another_test(request: pytest.FixtureRequest) -> None:
    """pytest keeps a module-scoped fixture until its module's last test: a test of that
    module that did not ask for the data built once would run on it (pytest-xdist may
    even run it after the ones that did). Fail plainly rather than on surprising rows."""
    opens_the_database = request.node.get_closest_marker("django_db") or (
        DATABASE_FIXTURES - {"django_db_setup"}
    ).intersection(request.fixturenames)
    if not opens_the_database:
        return
    for fixture in _BUILT_ONCE:
        if fixture not in request.fixturenames:
            pytest.fail(
                f"{fixture}'s data, built once for its module, is still open: ask for "
                f"{fixture} or move the test to a module without it"
            )


@pytest.fixture(autouse=True)
def _fresh_closures() -> None:
    """The business-day calendar's closures are cached per process: each test reads its own."""
    calendar.forget_closures()


@pytest.fixture(autouse=True)
def _fresh_vocabulary() -> None:
    """The safety vocabulary's newest revision is cached per process: a test that changed
    it must not leave its revision to the next (whose database no longer has it)."""
    vocabulary_cache.forget()


@pytest.fixture(autouse=True)
def _media_root(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> None:
    """Uploaded files go to a temporary folder, never to var/."""
    settings.MEDIA_ROOT = str(tmp_path_factory.mktemp("media"))


# The people most tests meet, as fixtures and (for data built once, built_once) as functions.
def make_buyer() -> User:
    return factories.BuyerFactory(username="alice", display_name="Alice Buyer")


def make_other_buyer() -> User:
    return factories.BuyerFactory(username="bob", display_name="Bob Buyer")


def make_seller() -> User:
    return factories.SellerFactory(
        username="seller", storefront__name="Acme Kitchen", storefront__slug="acme-kitchen"
    )


def make_agent() -> User:
    return factories.AgentFactory(username="agent", display_name="Sam from Customer Service")


@pytest.fixture
def buyer(db: None) -> User:
    return make_buyer()


@pytest.fixture
def other_buyer(db: None) -> User:
    return make_other_buyer()


@pytest.fixture
def seller(db: None) -> User:
    return make_seller()


@pytest.fixture
def other_seller(db: None) -> User:
    return factories.SellerFactory(
        username="other-seller", storefront__name="Other Goods", storefront__slug="other-goods"
    )


@pytest.fixture
def agent(db: None) -> User:
    return make_agent()


@pytest.fixture
def product(seller: User) -> Product:
    return factories.ProductFactory(storefront=seller.storefront, title="Espresso machine")


@pytest.fixture
def asked(buyer: User, seller: User, product: Product) -> Message:
    """The buyer's question about their order, waiting for the seller's answer."""
    order = factories.order_with_item(buyer, product, status="shipped")
    return contact_seller_about_order(
        buyer,
        order.pk,
        seller.storefront.pk,  # type: ignore[attr-defined]
        "Where is my parcel?",
    )


def database_vendor() -> str:
    return str(settings.DATABASES["default"]["ENGINE"]).rsplit(".", 1)[-1]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist's controller, for each worker: the folder where the first worker to need
    the database leaves the names of the templates it migrated (tests/databases.py)."""
    config = node.config
    if config.stash.get(TEMPLATES_FOLDER_KEY, None) is None:
        config.stash[TEMPLATES_FOLDER_KEY] = Path(tempfile.mkdtemp(prefix="test-databases-"))
    node.workerinput[TEMPLATES_FOLDER] = str(config.stash[TEMPLATES_FOLDER_KEY])


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The controller, once every worker has dropped its own test database: the templates."""
    folder = session.config.stash.get(TEMPLATES_FOLDER_KEY, None)
    if folder is None:
        return
    with session.config.stash[blocking_manager_key].unblock():
        drop_templates(folder)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def django_db_setup(
    request: pytest.FixtureRequest,
    django_test_environment: None,
    django_db_blocker: DjangoDbBlocker,
    django_db_use_migrations: bool,
    django_db_keepdb: bool,
    django_db_createdb: bool,
    django_db_modify_db_settings: None,
) -> Iterator[None]:
    """pytest-django's test databases, set up as its own django_db_setup does, except that
    xdist workers copy a template only one of them migrated (tests/databases.py).

    Their PostgreSQL connection pools (settings._database) keep connections open: they are
    closed before the test database is dropped, or the drop is refused ("being accessed by
    other users") and the database is left behind. Only sessions with a database test set
    this up (see DATABASE_FIXTURES)."""
    if not django_db_use_migrations:
        _disable_migrations()
    keepdb = django_db_keepdb and not django_db_createdb
    aliases, serialized_aliases = _get_databases_for_setup(request.session.items)
    verbosity = request.config.option.verbose
    workerinput = getattr(request.config, "workerinput", {})
    with django_db_blocker.unblock():
        if TEMPLATES_FOLDER in workerinput and not keepdb:
            old_names = set_up_from_templates(
                Path(workerinput[TEMPLATES_FOLDER]),
                workerinput["workerid"],
                aliases,
                serialized_aliases,
                verbosity,
            )
        else:
            old_names = setup_databases(
                verbosity=verbosity,
                interactive=False,
                aliases=aliases,
                serialized_aliases=serialized_aliases,
                keepdb=keepdb,
            )
        remember_kept_rows(aliases)
    yield
    with django_db_blocker.unblock():
        for connection in connections.all():
            # Only where a pool was made.
            if connection.alias not in getattr(connection, "_connection_pools", {}):
                continue
            # Threads of the tests' servers may still hold one each: end them, then give
            # this one back and close the pool.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            connection.close()
            connection.close_pool()
        if not keepdb:
            destroy_test_databases(old_names, verbosity)
