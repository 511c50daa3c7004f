"""support.actions is the one place a case changes (docs/support.md): the other support
modules (claims, reports, appeals, escalations) lock, assign and record history through
its public helpers, whose docstrings say what they guarantee, never through its private
ones — escalation_actions.write_in_conversation called `_lock`, `_assign` and `_history`,
whose names promised nobody outside would rely on them."""

import ast
import io
import re
import tokenize
from pathlib import Path

import messagecenter.support
from messagecenter.support import actions

SUPPORT = Path(messagecenter.support.__file__).parent


def private_uses_of_actions(source: str) -> list[str]:
    """`support_actions._name` (or `actions._name`) in a module that imports
    messagecenter.support.actions under that name."""
    tree = ast.parse(source)
    aliases = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "messagecenter.support"
        for alias in node.names
        if alias.name == "actions"
    }
    privately_imported = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "messagecenter.support.actions"
        for alias in node.names
        if alias.name.startswith("_")
    ]
    return privately_imported + [
        f"{node.value.id}.{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in aliases
        and node.attr.startswith("_")
    ]


def test_no_support_module_reaches_into_the_private_helpers_of_support_actions() -> None:
    found = {
        path.name: uses
        for path in sorted(SUPPORT.glob("*.py"))
        if path.name != "actions.py"
        and (uses := private_uses_of_actions(path.read_text(encoding="utf-8")))
    }

    assert found == {}


def test_the_shared_helpers_say_what_they_guarantee() -> None:
    for helper in (
        actions.lock_case,
        actions.assign_locked_case,
        actions.record_case_event,
        actions.lock_team,
        actions.move_case,
        actions.set_locked_case_status,
        actions.tell_customer_of,
    ):
        assert len((helper.__doc__ or "").split()) > 10, helper.__name__


def test_the_check_would_see_a_private_helper_used() -> None:
    source = (
        "from messagecenter.support import actions as support_actions\n"
        "case = support_actions._lock(case)\n"
    )

    assert private_uses_of_actions(source) == ["support_actions._lock"]


def remarks_of(source: str) -> list[tuple[int, str]]:
    """Each comment and docstring (any triple-quoted string) of a module, with its line."""
    return [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
        or (token.type == tokenize.STRING and token.string.lstrip("rbuRBU")[:3] in {'"""', "'''"})
    ]


def helpers_named_in(text: str) -> list[str]:
    """The support.actions names a remark points the reader to: `support.actions.name`,
    `support_actions.name`, or `actions.name` in a support module."""
    return re.findall(
        r"(?<![\w.])(?:messagecenter\.)?(?:support[._])?actions\.([A-Za-z_]\w*)", text
    )


def test_the_other_support_modules_point_their_readers_to_public_helpers_only() -> None:
    """escalation_actions.write_in_conversation said the agent leaves the conversation with
    the case "(support.actions._leave)": a private helper, one no other module may call, so
    the pointer sent the reader to a name they could not use. Remarks name the public
    helpers that do it, and only names support.actions has."""
    found = [
        f"{path.name}:{line}: actions.{name}"
        for path in sorted(SUPPORT.glob("*.py"))
        if path.name != "actions.py"
        for line, text in remarks_of(path.read_text(encoding="utf-8"))
        for name in helpers_named_in(text)
        if name.startswith("_") or not hasattr(actions, name)
    ]

    assert found == []


def test_the_remark_check_would_see_a_private_or_missing_helper_named() -> None:
    source = (
        "# The agent leaves with the case (support.actions._leave), as it leaves when\n"
        "# conversations.actions.remove_participant is called.\n"
        'def write() -> None:\n    """Locked first (support_actions.lock_case), then moved\n'
        '    (actions.move_the_case)."""\n'
    )

    assert [name for _, text in remarks_of(source) for name in helpers_named_in(text)] == [
        "_leave",
        "lock_case",
        "move_the_case",
    ]
