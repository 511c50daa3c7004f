"""The documentation stands on its own: every relative link in README.md and docs/ points at
a file inside the repository, the figures it gives are the ones the tests pin, and the
architecture page draws the import contract as pyproject.toml states it."""

import re
import tomllib
from pathlib import Path
from typing import Any

from tests.conversations.test_query_counts import FOLLOW_UP_REPLY_STATEMENTS, REPLY_STATEMENTS
from tests.conversations.test_views import MESSAGE_CENTER_QUERIES, MESSAGE_CENTER_SEEING_QUERIES
from tests.databases import PLANNER_SETTINGS, PLANNER_SETTINGS_ON_POSTGRESQL

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
# Code shows text, not links: fenced blocks and `inline code`.
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def test_every_relative_link_in_the_docs_stays_inside_the_repository() -> None:
    outside = []
    for document in documents():
        for target in LINK.findall(CODE.sub("", document.read_text(encoding="utf-8"))):
            if re.match(r"[a-z]+:", target):
                continue
            resolved = (document.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                outside.append(f"{document.relative_to(ROOT)}: {target}")

    assert outside == []


def test_the_architecture_page_gives_the_pinned_statement_counts_of_a_reply() -> None:
    text = " ".join((ROOT / "docs" / "architecture.md").read_text().split())
    found = re.search(
        r"answers a waiting buyer is \*\*(\d+)\*\* SQL statements.*?"
        r"A following reply is \*\*(\d+)\*\*",
        text,
    )

    assert found is not None
    assert (int(found[1]), int(found[2])) == (REPLY_STATEMENTS, FOLLOW_UP_REPLY_STATEMENTS)


def test_the_architecture_page_gives_the_pinned_queries_of_the_message_center() -> None:
    text = " ".join((ROOT / "docs" / "architecture.md").read_text().split())
    found = re.search(
        r"Opening the Message Center is \*\*(\d+)\*\* queries.*?on PostgreSQL \*\*(\d+)\*\*"
        r" more.*?plus \*\*(\d+)\*\* when",
        text,
    )

    assert found is not None
    assert (int(found[1]), int(found[2]), int(found[3])) == (
        MESSAGE_CENTER_QUERIES - PLANNER_SETTINGS,
        PLANNER_SETTINGS_ON_POSTGRESQL,
        MESSAGE_CENTER_SEEING_QUERIES - MESSAGE_CENTER_QUERIES,
    )


def importlinter_layers() -> dict[str, Any]:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return next(c for c in contracts["contracts"] if c["id"] == "layers")


def test_the_architecture_page_draws_the_layers_of_the_contract() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    drawn = text.split("as in the contract", 1)[1].split("```", 2)[1]
    # Each line of the drawing starts with its layer, as the contract spells it.
    layers = [re.split(r"\s{2,}", line.strip())[0] for line in drawn.splitlines() if line.strip()]

    assert layers == importlinter_layers()["layers"]


def test_the_architecture_page_lists_every_exception_of_the_contract_and_no_other() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("The exceptions the contract lists", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(messagecenter\.[\w.*]+ -> messagecenter\.[\w.*]+)`", section))

    assert listed == set(importlinter_layers()["ignore_imports"])
