import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from messagecenter import cli

# The commands judge with the vocabulary the operator edited in the admin (its rows).
pytestmark = pytest.mark.django_db

SCAM_EMAIL = b"""From: "Marketplace Security" <security@rnarketplace-mail.com>
To: alice@example.com
Subject: Your account is on hold
MIME-Version: 1.0
Content-Type: text/html; charset=utf-8

<p>Dear customer, <a href="http://185.2.3.4/login">https://marketplace.example/account</a></p>
"""


def run(*paths: str) -> list[dict[str, object]]:
    output = StringIO()
    call_command("safety_check", *paths, stdout=output)
    return [json.loads(line) for line in output.getvalue().splitlines()]


def test_safety_check_reads_text_eml_and_json_lines(tmp_path: Path) -> None:
    (tmp_path / "scam.eml").write_bytes(SCAM_EMAIL)
    (tmp_path / "ok.txt").write_text("Hi, your order 114-3941689-8772232 shipped.")
    (tmp_path / "messages.jsonl").write_text(
        json.dumps({"sender_name": "bob", "sender_role": "buyer", "body": "john at gmail dot com"})
        + "\n\n"
        + json.dumps({"sender_name": "Shop", "sender_role": "seller", "body": "pay paypal.me/x"})
        + "\n"
    )

    lines = run(*(str(tmp_path / name) for name in ("scam.eml", "ok.txt", "messages.jsonl")))

    assert [(line["source"], line["verdict"], line["categories"]) for line in lines] == [
        (str(tmp_path / "scam.eml"), "warn", ["impersonation", "links"]),
        (str(tmp_path / "ok.txt"), "ok", []),
        (f"{tmp_path / 'messages.jsonl'}:1", "ok", ["contact_email"]),
        (f"{tmp_path / 'messages.jsonl'}:3", "hold", ["contact_payment_link"]),
    ]
    assert [reason["code"] for reason in lines[0]["reasons"]] == [  # type: ignore[attr-defined]
        "name_imitates_operator",
        "sender_domain_lookalike",
        "account_threat",
        "link_text_mismatch",
        "link_ip_address",
    ]
    assert lines[2]["masked_body"] == "[contact details removed]"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json\n", ":1: not JSON"),
        ('{"sender_role": "buyer"}\n', ':1: needs an object with a "body" string'),
        ('{"body": "x", "sender_role": "pirate"}\n', ":1: sender_role must be one of"),
    ],
)
def test_safety_check_refuses_bad_json_lines(tmp_path: Path, content: str, message: str) -> None:
    (tmp_path / "bad.jsonl").write_text(content)

    with pytest.raises(CommandError, match=message):
        run(str(tmp_path / "bad.jsonl"))


def test_commands_can_be_typed_with_hyphens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "ok.txt").write_text("Thanks!")

    cli.main(["safety-check", str(tmp_path / "ok.txt")])

    assert json.loads(capsys.readouterr().out)["verdict"] == "ok"


def test_safety_evaluate_prints_precision_and_recall() -> None:
    output = StringIO()
    call_command("safety_evaluate", stdout=output)

    assert "| impersonation attempts caught | 100.0 % | ≥ 99 % | yes |" in output.getvalue()
    assert "| ordinary messages flagged | 0.0 % | ≤ 1 % | yes |" in output.getvalue()
