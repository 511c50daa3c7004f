"""The documentation stands on its own: every relative link in README.md and docs/ points at
a file inside the repository, and the figures it gives are the ones the tests pin."""

import re
from pathlib import Path

from tests.conversations.test_query_counts import FOLLOW_UP_REPLY_STATEMENTS, REPLY_STATEMENTS

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
