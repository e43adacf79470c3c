"""The layers stay visible: the import contract holds, and it does catch a violation.

The contract itself is in pyproject.toml ([tool.importlinter]); `lint-imports` runs it in
CI. These tests run the same checker on the real tree and on a copy with a deliberate
violation, so a contract that had stopped checking anything would show up here.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    """The package and its contract, copied where a test may break them."""
    shutil.copytree(ROOT / "support_tool", tmp_path / "support_tool")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_tree_keeps_its_layers() -> None:
    checked = lint_imports(ROOT)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "5 kept, 0 broken" in checked.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        ("provider/contract.py", "import PySide6.QtCore", "Nothing outside gui/ imports Qt"),
        ("provider/signing.py", "import support_tool.ops.close", "provider layer imports nothing"),
        ("gui/style.py", "import support_tool.cli.output", "do not import each other"),
        ("ops/batch.py", "from PySide6 import QtCore", "Nothing outside gui/ imports Qt"),
        ("provider/signing.py", "import psycopg", "Only the team audit store talks to PostgreSQL"),
        ("exit_status.py", "import PySide6", "Nothing outside gui/ imports Qt"),
        ("spreadsheet.py", "import PySide6", "Nothing outside gui/ imports Qt"),
        ("ops/terminals.py", "import support_tool.audit.export", "needs no audit history"),
    ],
)
def test_a_deliberate_violation_is_caught(
    tree_copy: Path, module: str, line: str, broken: str
) -> None:
    target = tree_copy / "support_tool" / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # deliberate\n")
    checked = lint_imports(tree_copy)
    assert checked.returncode == 1
    assert f"{broken}" in checked.stdout
    assert "BROKEN" in checked.stdout


def test_importing_the_command_line_loads_no_qt_and_no_window() -> None:
    """The contract allows the CLI's function-level import of the window; this checks that
    it really is function-level: importing the command line loads neither."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, support_tool.cli.commands;"
            "print(sorted(m for m in sys.modules"
            " if m.startswith(('PySide6', 'shiboken6', 'support_tool.gui'))))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
