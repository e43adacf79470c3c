"""One home per concept: exit statuses, the concurrency bound and an outcome's words are
each defined once, and every place that shows or returns them reads that one definition."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from support_tool.errors import InvalidInput
from support_tool.exit_status import ExitStatus
from support_tool.provider import contract
from support_tool.provider.outcome import EXIT_STATUS, Outcome
from support_tool.provider.validation import clean_concurrency

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_exit_table_is_the_enum() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = {int(n) for n in re.findall(r"^\| (\d+) \| ", readme, re.MULTILINE)}
    assert table == {s.value for s in ExitStatus} - {ExitStatus.INTERRUPTED}
    assert set(EXIT_STATUS.values()) <= set(ExitStatus)


def test_no_module_defines_its_own_exit_numbers() -> None:
    """``EXIT_CONFIG = 4`` beside the enum is how the tables drifted apart."""
    offenders = sorted(
        path.name
        for path in (ROOT / "support_tool").rglob("*.py")
        if re.search(r"^EXIT_\w+ = \d", path.read_text(encoding="utf-8"), re.MULTILINE)
    )
    assert offenders == ["app.py"]  # the window's start-up status: see gui/app.py


@pytest.mark.parametrize("value", [0, -1, contract.MAX_BATCH_CONCURRENCY + 1, True])
def test_one_concurrency_check_refuses_out_of_range(value: int) -> None:
    with pytest.raises(InvalidInput, match="between 1 and 16") as refused:
        clean_concurrency(value)
    assert refused.value.field == "concurrency"


@pytest.mark.parametrize("value", [1, contract.MAX_BATCH_CONCURRENCY])
def test_one_concurrency_check_keeps_the_bounds(value: int) -> None:
    assert clean_concurrency(value) == value


def test_an_outcome_is_worded_in_one_module() -> None:
    assert Outcome.SUCCESS.label == "Closed"
    assert Outcome.SUCCESS.headline == "Session closed"
    assert Outcome.SUCCESS.sentence == "Closed"
    assert Outcome.REFUSED.headline == Outcome.REFUSED.sentence == "Refused by the provider"
    assert Outcome.PENDING.headline == Outcome.PENDING.label == "In progress"
    for path in (ROOT / "support_tool").rglob("*.py"):
        if path.name != "outcome.py":
            assert '"Session closed"' not in path.read_text(encoding="utf-8"), path
