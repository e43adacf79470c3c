"""Whatever a provider writes, the audit history stays small: provider text is bounded
once, where the answer is read, so every consumer sees the same cut text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support_tool.ops.runtime import open_runtime
from support_tool.sandbox import SandboxServer
from tests.conftest import CliRunner

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)

CLOSES = 20


def history_bytes(home: Path) -> int:
    return sum(p.stat().st_size for p in home.glob("history.sqlite3*"))


def test_a_900_kb_description_is_cut_and_the_history_stays_small(
    sandbox_profile: str,
    sandbox: SandboxServer,
    home: Path,
    cli: CliRunner,
) -> None:
    sandbox.fault = "longdescription"
    with open_runtime() as runtime:
        for n in range(CLOSES):
            closed = runtime.service.close(f"terminal-{n + 1:04d}")
            assert closed.result.error_code == 100
    description = closed.result.description
    assert description.startswith("Internal error: at com.provider.Session.close")
    assert description.endswith("\u2026 [cut: 900,000 characters in all]")
    assert len(description) < 2100
    assert len(closed.result.raw_response) < 2100
    # 20 descriptions of 900 KB, stored and trigram-indexed, made tens of megabytes.
    assert history_bytes(home) < 1_500_000
    stored = [json.loads(line) for line in cli("history", "--json").out.splitlines()]
    assert len(stored) == CLOSES
    assert {row["description"] for row in stored} == {description}
    printed = cli("close", "terminal-0100")
    assert printed.status == 1
    assert len(printed.text) < 4000
