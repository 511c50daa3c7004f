"""support.actions is the one place a case changes (docs/support.md): the other support
modules (claims, reports, appeals, escalations) lock, assign and record history through
its public helpers, whose docstrings say what they guarantee, never through its private
ones — escalation_actions.write_in_conversation called `_lock`, `_assign` and `_history`,
whose names promised nobody outside would rely on them."""

import ast
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
