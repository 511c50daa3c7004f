"""The architecture contract (pyproject.toml, [tool.importlinter]): the apps import one
way, from the wiring down to the shared foundation, and no app imports another app's views
or API. `make lint` runs it; these tests show that it holds and that it would catch a
back-import."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(source: Path) -> subprocess.CompletedProcess[str]:
    """The contract checked against the package under `source` (a copy, or src/)."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(source)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_contract_holds() -> None:
    checked = lint_imports(ROOT / "src")

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 broken" in checked.stdout


@pytest.mark.parametrize(
    ("module", "back_import", "broken"),
    [
        # The hub is fed by conversations and never imports them.
        (
            "hub/boxes.py",
            "from messagecenter.conversations import models",
            "messagecenter.hub is not allowed to import messagecenter.conversations",
        ),
        # Delivery sends what notifications fans out and never imports it back
        # (delivery/broadcasts.py).
        (
            "delivery/rendering.py",
            "from messagecenter.notifications import models",
            "messagecenter.delivery is not allowed to import messagecenter.notifications",
        ),
        # No app imports another app's pages.
        (
            "marketplace/queries.py",
            "from messagecenter.conversations import views",
            "messagecenter.conversations.views",
        ),
    ],
)
def test_the_contract_fails_on_a_back_import(
    tmp_path: Path, module: str, back_import: str, broken: str
) -> None:
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "messagecenter",
        copy / "messagecenter",
        ignore=shutil.ignore_patterns("__pycache__", "static", "templates"),
    )
    changed = copy / "messagecenter" / module
    changed.write_text(f"{changed.read_text()}\n{back_import}  # noqa\n")

    checked = lint_imports(copy)

    assert checked.returncode == 1
    assert broken in " ".join(checked.stdout.split())


def test_the_contract_fails_on_a_new_app_without_a_layer(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "src" / "messagecenter",
        copy / "messagecenter",
        ignore=shutil.ignore_patterns("__pycache__", "static", "templates"),
    )
    (copy / "messagecenter" / "newapp").mkdir()
    (copy / "messagecenter" / "newapp" / "__init__.py").write_text("")

    checked = lint_imports(copy)

    assert checked.returncode == 1
    assert "- messagecenter.newapp" in checked.stdout
