"""The documentation stands on its own: every relative link in README.md and docs/ points at
a file inside the repository."""

import re
from pathlib import Path

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
