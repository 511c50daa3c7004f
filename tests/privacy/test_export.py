"""A person's data export (docs/privacy.md#your-data): what is in it, who gets it, for how
long, and that every model of the project was decided on."""

import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core import mail
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Participant
from messagecenter.delivery.models import Email, EmailKind
from messagecenter.delivery.rendering import reply_address
from messagecenter.delivery.sender import send_due_emails
from messagecenter.errors import Conflict
from messagecenter.marketplace.models import Product
from messagecenter.notifications import actions as broadcast_actions
from messagecenter.privacy import actions, export, export_actions
from messagecenter.privacy.models import DataExport, ExportStatus
from messagecenter.safety import actions as safety_actions
from messagecenter.support import actions as support_actions
from messagecenter.support import report_actions
from messagecenter.support.models import Case
from tests import factories
from tests.api.helpers import with_token
from tests.conversations.helpers import snapshot
from tests.delivery.replies import forged_and_own, forward_suspicious_email
from tests.web.helpers import unique_png

pytestmark = pytest.mark.django_db

PNG = unique_png("export-receipt-bytes")


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def section(files: dict[str, bytes], name: str) -> Any:
    return json.loads(files[name])


# --- every model is decided on ----------------------------------------------------------------


def test_every_model_is_exported_or_excluded_with_a_reason() -> None:
    """A model added later fails here until it is put in a section of privacy/export.py or
    on its EXCLUDED list with the reason."""
    every = {export.model_label(model) for model in apps.get_models()}
    exported = {label for found in export.SECTIONS for label in found.models}
    excluded = set(export.EXCLUDED)

    assert every - exported - excluded == set(), "neither exported nor excluded"
    assert exported & excluded == set(), "both exported and excluded"
    assert (exported | excluded) - every == set(), "names a model that does not exist"
    assert all(reason.strip() for reason in export.EXCLUDED.values())


# --- what is in it ----------------------------------------------------------------------------


@pytest.fixture
def rich_buyer(buyer: User, seller: User, other_buyer: User, product: Product) -> dict[str, Any]:
    """A buyer with a bit of everything, and a conversation deleted and started again."""
    order = factories.order_with_item(buyer, product)
    first = conversation_actions.ask_seller_about_product(
        buyer, product.pk, "Old question, deleted since: periwinkle."
    )
    conversation_actions.trash_conversations(buyer, [first.conversation_id])
    conversation_actions.delete_conversations(buyer, [first.conversation_id])
    kept = conversation_actions.ask_seller_about_product(
        buyer,
        product.pk,
        "Does the lamp take E27 bulbs? Reçu attached.",
        attachments=[SimpleUploadedFile("reçu.png", PNG, content_type="image/png")],
    )
    conversation_actions.send_message(seller, kept.conversation_id, "Yes, any E27 bulb.")
    _, secret = account_actions.create_api_token(buyer, "Kitchen tablet")
    safety_actions.block(buyer, other_buyer)
    notice = factories.BroadcastFactory(subject="Holiday hours", body="We close at noon.")
    broadcast_actions.mark_broadcasts_read(buyer, [notice.pk])
    return {"order": order, "token_secret": secret, "conversation_id": kept.conversation_id}


def built(user: User) -> DataExport:
    data_export = actions.request_data_export(user)
    assert export_actions.build_data_export(data_export.pk)
    data_export.refresh_from_db()
    return data_export


def test_the_export_holds_the_person_s_data_and_files(
    buyer: User, rich_buyer: dict[str, Any]
) -> None:
    data_export = built(buyer)

    assert data_export.status == ExportStatus.READY
    assert data_export.progress == 100
    assert data_export.expires_at == data_export.finished_at + timedelta(hours=72)
    files = unzip(data_export.file.read())
    assert {found.file for found in export.SECTIONS} <= set(files)
    account = section(files, "account.json")["account"]
    assert (account["username"], account["email"]) == (buyer.username, buyer.email)
    assert "password" not in account
    conversations = section(files, "conversations.json")["conversations"]
    assert len(conversations) == 1
    bodies = [message["body"] for message in conversations[0]["messages"]]
    # Only what the buyer can see: not what they deleted before writing again.
    assert bodies == ["Does the lamp take E27 bulbs? Reçu attached.", "Yes, any E27 bulb."]
    attachment = conversations[0]["messages"][0]["attachments"][0]
    assert attachment["name"] == "reçu.png"
    assert files[attachment["file"]] == PNG
    devices = section(files, "devices.json")
    assert [token["name"] for token in devices["api_tokens"]] == ["Kitchen tablet"]
    assert "secret_hash" not in devices["api_tokens"][0]
    orders = section(files, "orders.json")
    assert [found["number"] for found in orders["orders"]] == [rich_buyer["order"].number]
    assert len(section(files, "safety.json")["blocked_by_you"]) == 1
    states = section(files, "notices-and-promotions.json")["states"]
    assert [state["is_read"] for state in states] == [True]
    everything = b"".join(files.values())
    assert b"periwinkle" not in everything
    assert rich_buyer["token_secret"].encode() not in everything
    assert buyer.password.encode() not in everything
    assert "README.txt" in files


def test_an_export_is_asked_once_at_a_time_and_refused_while_prepared(buyer: User) -> None:
    first = actions.request_data_export(buyer)
    before = snapshot()

    with pytest.raises(Conflict) as refused:
        actions.request_data_export(buyer)

    assert refused.value.code == "data_export_in_progress"
    assert snapshot() == before
    assert DataExport.objects.filter(user=buyer).count() == 1
    assert DBTaskResult.objects.filter(args_kwargs__args=[first.pk]).count() == 1


def test_the_worker_builds_it_and_the_person_gets_an_e_mail(
    buyer: User, rich_buyer: dict[str, Any]
) -> None:
    data_export = actions.request_data_export(buyer)
    assert data_export.status == ExportStatus.QUEUED

    # The job the worker finds, run as the worker runs it.
    job = DBTaskResult.objects.get(task_path="messagecenter.privacy.tasks.build_data_export")
    assert job.task.call(*job.args_kwargs["args"], **job.args_kwargs["kwargs"]) is True

    data_export.refresh_from_db()
    assert data_export.status == ExportStatus.READY
    email = Email.objects.get(user=buyer, kind=EmailKind.DATA_EXPORT)
    send_due_emails()
    email.refresh_from_db()
    assert email.status == "sent"
    sent = mail.outbox[-1]
    assert sent.to == [buyer.email]
    assert sent.subject == "Your Message Center data is ready to download"
    assert "/account/data/" in sent.body
    # A link to the page, never to the file.
    assert data_export.file.name not in sent.body


def test_the_page_shows_progress_and_then_the_download(buyer: User) -> None:
    client = browser(buyer)
    client.post("/account/data/")
    data_export = DataExport.objects.get(user=buyer)
    DataExport.objects.filter(pk=data_export.pk).update(
        status=ExportStatus.BUILDING, progress=40, step="Conversations and messages"
    )

    preparing = client.get("/account/data/").content.decode()
    assert "Being prepared: 40%" in preparing
    assert "Conversations and messages" in preparing
    assert '<meta http-equiv="refresh" content="5">' in preparing
    again = client.post("/account/data/")
    assert again.status_code == 409

    DataExport.objects.filter(pk=data_export.pk).update(status=ExportStatus.QUEUED)
    export_actions.build_data_export(data_export.pk)
    ready = client.get("/account/data/").content.decode()
    assert f"/account/data/{data_export.pk}/download/" in ready
    assert 'http-equiv="refresh"' not in ready
    download = client.get(f"/account/data/{data_export.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert "account.json" in unzip(b"".join(download.streaming_content))


def test_the_page_says_how_to_close_the_account_and_the_link_starts_the_request(
    buyer: User,
) -> None:
    """Erasure is an administrator's (docs/privacy.md): the person is told what it does and
    how to ask, with the request's subject filled in."""
    client = browser(buyer)

    page = client.get("/account/data/").content.decode()
    [link] = re.findall(r'href="(/message-center/customer-service/\?subject=[^"]+)"', page)
    form = client.get(link).content.decode()

    assert "To close your account and have what it holds erased, ask customer service" in page
    # Erasure closes the request it was asked in, with the others still open.
    assert "Your requests to customer service still open — this one too — are closed." in page
    assert 'value="Close my account and erase my data"' in form


def test_only_its_owner_downloads_it(buyer: User, other_buyer: User) -> None:
    data_export = built(buyer)

    page = browser(other_buyer).get(f"/account/data/{data_export.pk}/download/")
    api = with_token(other_buyer).get(f"/data-exports/{data_export.pk}/download")

    assert page.status_code == 404
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "data_export_not_found"


def test_the_file_is_named_after_the_day_it_was_asked_for_where_its_owner_lives(
    buyer: User,
) -> None:
    # Asked for at 07:30 on 6 December in Tokyo, 22:30 on the 5th in UTC: the page says
    # "Asked for Sun 6 Dec", and the file said 2026-12-05.
    buyer.time_zone = "Asia/Tokyo"
    buyer.save(update_fields=["time_zone"])
    data_export = built(buyer)
    asked = datetime(2026, 12, 5, 22, 30, tzinfo=UTC)
    DataExport.objects.filter(pk=data_export.pk).update(created_at=asked)

    page = browser(buyer).get(f"/account/data/{data_export.pk}/download/")
    api = with_token(buyer).get(f"/data-exports/{data_export.pk}/download")

    for download in (page, api):
        assert download["Content-Disposition"] == (
            'attachment; filename="message-center-data-2026-12-06.zip"'
        )


def test_after_its_time_it_is_refused_then_purged(buyer: User) -> None:
    data_export = built(buyer)
    name = data_export.file.name
    assert default_storage.exists(name)
    later = timezone.now() + timedelta(hours=72, seconds=1)
    DataExport.objects.filter(pk=data_export.pk).update(expires_at=timezone.now())

    refused = with_token(buyer).get(f"/data-exports/{data_export.pk}/download")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "data_export_not_available"

    with_commit = export_actions.purge_expired_exports(now=later)

    assert with_commit == 1
    data_export.refresh_from_db()
    assert (data_export.status, data_export.file.name) == (ExportStatus.EXPIRED, "")
    assert export_actions.purge_expired_exports(now=later) == 0


@pytest.mark.django_db(transaction=True)
def test_the_purge_deletes_the_file_after_the_commit(buyer: User) -> None:
    data_export = built(buyer)
    name = data_export.file.name

    export_actions.purge_expired_exports(now=timezone.now() + timedelta(hours=73))

    assert not default_storage.exists(name)


def test_a_failed_build_says_so_and_can_be_asked_again(
    buyer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(export, "write_zip", broken)
    data_export = actions.request_data_export(buyer)

    assert export_actions.build_data_export(data_export.pk) is False

    data_export.refresh_from_db()
    assert data_export.status == ExportStatus.FAILED
    assert "Could not be prepared" in browser(buyer).get("/account/data/").content.decode()
    assert actions.request_data_export(buyer).pk != data_export.pk


def test_the_api_asks_and_follows(buyer: User) -> None:
    caller = with_token(buyer)

    asked = caller.post("/data-exports")
    again = caller.post("/data-exports")
    export_id = asked.json()["id"]
    export_actions.build_data_export(export_id)
    followed = caller.get(f"/data-exports/{export_id}")
    listed = caller.get("/data-exports")

    assert asked.status_code == 201
    assert asked.json()["status"] == "queued"
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "data_export_in_progress"
    assert followed.json()["status"] == "ready"
    assert followed.json()["download_url"] == f"/api/v1/data-exports/{export_id}/download"
    assert [found["id"] for found in listed.json()] == [export_id]
    download = caller.get(f"/data-exports/{export_id}/download")
    assert "account.json" in unzip(b"".join(download.streaming_content))


def test_a_forgers_address_is_not_in_the_account_holder_s_export(
    buyer: User, seller: User, product: Product, settings: Settings
) -> None:
    settings.INBOUND_REQUIRE_AUTHENTICATION = False
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    address = reply_address(
        Participant.objects.get(conversation_id=question.conversation_id, user=seller)
    )
    assert address is not None
    forged_and_own(address, seller.email, "Brand new.")

    files = unzip(built(seller).file.read())
    replies = section(files, "email.json")["replies_by_email"]
    assert [(found["reason_code"], found["from_account_holder"]) for found in replies] == [
        ("sender_mismatch", False),
        ("", True),
    ]
    assert b"forger" not in b"".join(files.values())
    assert b"Urgent" not in b"".join(files.values())
    # Their own e-mail keeps what it said about them.
    assert (replies[1]["from_address"], replies[1]["subject"]) == (seller.email, "Re: the lamp")


def _email_section_after_asking_for(user: User, address: str) -> str:
    """email.json of an export built after the person asked to change their address to
    `address` and the e-mail about it went, with that address, times and ids written the
    same whatever they were."""
    Email.objects.filter(user=user).delete()
    DataExport.objects.filter(user=user).delete()
    account_actions.request_email_change(user, address, factories.PASSWORD)
    assert send_due_emails() == 1
    text = unzip(built(user).file.read())["email.json"].decode().replace(address, "<address>")
    text = re.sub(r'"\d{4}-\d\d-\d\dT[^"]*"', '"<time>"', text)
    return re.sub(r'"(\w*id)": \d+', r'"\1": 0', text)


def test_the_export_reads_the_same_whether_an_address_asked_for_has_an_account_or_not(
    buyer: User, other_buyer: User
) -> None:
    """docs/accounts.md#e-mail-address: the asker learns nothing about an address another
    account uses; the e-mail to it went to whoever reads that mailbox, not to them."""
    taken = _email_section_after_asking_for(buyer, other_buyer.email)
    free = _email_section_after_asking_for(buyer, "alice.new@example.test")

    assert taken == free
    asked = json.loads(taken)["new_addresses_asked_for"]
    assert asked == [{"address": "<address>", "asked_at": "<time>"}]
    assert "email_in_use" not in taken


def test_a_long_file_name_is_shortened_and_keeps_its_extension(
    buyer: User, seller: User, product: Product
) -> None:
    long_name = "a" * 240 + ".png"
    conversation_actions.ask_seller_about_product(
        buyer,
        product.pk,
        "The receipt, from the scanner.",
        attachments=[SimpleUploadedFile(long_name, PNG, content_type="image/png")],
    )

    files = unzip(built(buyer).file.read())

    [message] = section(files, "conversations.json")["conversations"][0]["messages"]
    path = message["attachments"][0]["file"]
    folder, _, name = path.partition("/")
    assert (folder, name.partition("-")[2]) == ("attachments", "a" * 116 + ".png")
    assert files[path] == PNG


@pytest.mark.parametrize(
    ("name", "in_the_zip"),
    [
        ("reçu.png", "reçu.png"),
        ("a" * 600 + ".jpeg", "a" * 115 + ".jpeg"),
        # Not an extension: too long, or not a word; cut with the rest of the name.
        ("b" * 130 + ".averyverylongtail", "b" * 120),
        ("minutes." + "c" * 130 + " with the seller", "minutes." + "c" * 112),
        # A stem cut to end in a space or a dot loses them.
        ("d" * 114 + " .pdf", "d" * 114 + ".pdf"),
        ("...", "file"),
    ],
)
def test_a_file_s_name_in_the_zip(name: str, in_the_zip: str) -> None:
    assert export._safe_name(name) == in_the_zip


# --- reports ----------------------------------------------------------------------------------


def test_the_export_holds_the_person_s_own_reports_and_what_they_hid_by_reporting(
    buyer: User, other_buyer: User, seller: User, product: Product
) -> None:
    """safety.json had only blocks and held messages: a person's report filings (which
    message, as what, when, how it ended) and the messages their reports hid were not in
    it. Only their own: never another reporter of the same sender, the case their report
    joined, nor the agents' notes on it."""
    agent = factories.agent_in_team("trust-and-safety", username="tess")
    order = factories.order_with_item(buyer, product)
    scam = conversation_actions.contact_buyer_about_order(
        seller, order.pk, "Pay me by bank transfer instead: thistledown."
    )
    spam = conversation_actions.send_message(seller, scam.conversation_id, "Buy my other lamps.")
    mine = report_actions.report_message(buyer, scam.pk, "scam")
    # Another buyer reports the same seller: their filing joins the same case.
    theirs_order = factories.order_with_item(other_buyer, product)
    theirs = conversation_actions.contact_buyer_about_order(
        seller, theirs_order.pk, "Pay outside please."
    )
    report_actions.report_message(other_buyer, theirs.pk, "pay_outside")
    support_actions.add_note(agent, mine.report_id, "Agent's note: marjoram.")
    report_actions.decide_report(agent, mine.report_id, "confirmed", "restricted")
    report_actions.report_message(buyer, spam.pk, "spam")

    files = unzip(built(buyer).file.read())
    safety = section(files, "safety.json")

    reports = safety["your_reports"]
    assert [(r["category"], r["message_id"], r["conversation_id"]) for r in reports] == [
        ("scam", scam.pk, scam.conversation_id),
        ("spam", spam.pk, spam.conversation_id),
    ]
    assert [r["status"] for r in reports] == ["confirmed", "pending"]
    assert reports[0]["decided_at"] is not None
    assert reports[1]["decided_at"] is None
    assert all(r["reported_at"] for r in reports)
    hidden = safety["hidden_by_reporting"]
    assert [(h["message_id"], h["conversation_id"]) for h in hidden] == [
        (scam.pk, scam.conversation_id),
        (spam.pk, spam.conversation_id),
    ]
    # Customer service removed the confirmed one for everyone: its text is gone here too.
    assert [(h["removed_by_customer_service"], h["body"]) for h in hidden] == [
        (True, None),
        (False, "Buy my other lamps."),
    ]
    assert all(h["sender"] == seller.public_name and h["hidden_at"] for h in hidden)
    # Neither the other reporter, nor the case the report joined, nor the agents' work.
    everything = b"".join(files.values()).decode()
    assert other_buyer.username not in everything
    assert other_buyer.email not in everything
    assert "marjoram" not in everything
    assert "thistledown" not in everything
    assert "pay_outside" not in everything
    cases = section(files, "customer-service.json")["cases"]
    assert all(case["kind"] != "report" for case in cases)


def test_the_export_holds_the_suspicious_emails_the_person_forwarded(
    buyer: User, other_buyer: User
) -> None:
    """A suspicious e-mail forwarded to the report address (docs/safety.md#forwarded-e-mails)
    is the person's to take with them: as they sent it, with their own words — never
    another person's forward, nor the case it opened."""
    agent = factories.agent_in_team("trust-and-safety")
    forward_suspicious_email(
        buyer,
        subject="Your account is locked",
        text="Sign in at https://phish.example/login now.",
        note="Is this you? lovage",
    )
    forward_suspicious_email(other_buyer, subject="Prize waiting", text="Claim: fennel.")
    case = Case.objects.get(forwarded_email__reporter=buyer)
    support_actions.add_note(agent, case.pk, "Agent's note: sorrel.")

    files = unzip(built(buyer).file.read())
    forwarded = section(files, "safety.json")["your_forwarded_emails"]

    assert [
        (f["how"], f["from"], f["subject"], f["your_note"], f["links"], f["reference_origin"])
        for f in forwarded
    ] == [
        (
            "attached",
            "Security <security@phish.example>",
            "Your account is locked",
            "Is this you? lovage",
            [{"href": "https://phish.example/login", "text": ""}],
            "",
        )
    ]
    everything = b"".join(files.values()).decode()
    assert "fennel" not in everything
    assert "sorrel" not in everything
