"""The batch runner against the real sandbox on loopback, with latency and faults."""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from support_tool.audit.log import AuditLog
from support_tool.config.profiles import ProfileSet, make_profile
from support_tool.config.secret_store import MemorySecrets
from support_tool.errors import InvalidInput
from support_tool.ops.batch import BatchRun, Pacer
from support_tool.ops.batch_summary import BatchOptions, BatchSummary, RowEvent, RowState
from support_tool.ops.close import CloseService
from support_tool.ops.terminals import Terminal, parse_terminals
from support_tool.provider import contract
from support_tool.provider.deadline import WATCHDOG
from support_tool.provider.outcome import Outcome
from support_tool.sandbox import SandboxServer
from tests.conftest import SANDBOX_SECRET

pytestmark = pytest.mark.keyring  # uses the real Secret Service (conftest starts it)


def terminals(count: int, start: int = 1) -> list[Terminal]:
    return [Terminal(f"terminal-{n:04d}") for n in range(start, start + count)]


@pytest.fixture
def history(tmp_path: Path) -> Iterator[AuditLog]:
    with AuditLog(tmp_path / "history.sqlite3") as store:
        yield store


def service_for(
    sandbox: SandboxServer,
    history: AuditLog,
    timeout: float = contract.DEFAULT_DEADLINE_S,
    concurrency: int = contract.DEFAULT_BATCH_CONCURRENCY,
) -> CloseService:
    chosen = make_profile("sandbox", sandbox.url, timeout, concurrency=concurrency)
    return CloseService(
        lambda: ProfileSet((chosen,), "sandbox"),
        MemorySecrets({"sandbox": SANDBOX_SECRET}),
        history,
    )


def rows(history: AuditLog, batch_id: str) -> list[sqlite3.Row]:
    db = sqlite3.connect(history.path)
    db.row_factory = sqlite3.Row
    try:
        return db.execute(
            "SELECT * FROM actions WHERE batch_id = ? ORDER BY id", (batch_id,)
        ).fetchall()
    finally:
        db.close()


def test_500_terminals_all_close_each_with_a_history_row(history: AuditLog) -> None:
    with SandboxServer(secret=SANDBOX_SECRET, latency_ms=5) as sandbox:
        service = service_for(sandbox, history)
        events: list[RowEvent] = []
        run = BatchRun(
            service,
            terminals(500),
            BatchOptions(clear_history=True, reason="closing", concurrency=8),
            on_event=events.append,
        )
        summary = run.run()
        assert summary.succeeded == 500
        assert summary.failed == 0
        assert summary.exit_status == 0
        assert not summary.retry
        assert not summary.cancelled
        assert sandbox.provider.sessions("terminal-0500") == {}
        assert sandbox.connections <= 8 + 2  # connections are reused, not one per request
        recorded = rows(history, run.batch_id)
        assert len(recorded) == 500
        assert {r["outcome"] for r in recorded} == {"success"}
        assert {r["reason"] for r in recorded} == {"closing"}
        assert all(r["clear_history"] == 1 for r in recorded)
        done = [e for e in events if e.state is RowState.DONE]
        assert sorted(e.index for e in done) == list(range(500))
        assert WATCHDOG.armed < 150  # finished exchanges are let go, not kept to deadline
    service.close_all()


def test_mixed_outcomes_are_counted_right(history: AuditLog) -> None:
    with SandboxServer(secret=SANDBOX_SECRET) as sandbox:
        sandbox.fault_for_login.update({"terminal-0003": "http500", "terminal-0004": "reset"})
        service = service_for(sandbox, history, timeout=3)
        listed = [*terminals(4), Terminal("nobody-1"), Terminal("nobody-2")]
        summary = BatchRun(service, listed, BatchOptions(concurrency=3)).run()
    assert summary.counts == Counter(
        {Outcome.SUCCESS: 2, Outcome.REFUSED: 2, Outcome.TRANSPORT_FAILURE: 2}
    )
    assert summary.exit_status == 3  # a transport failure wins over refusals
    # "Player not found" fails the same way twice: left out of the retry, with its reason.
    assert sorted(t.login for t in summary.retry) == ["terminal-0003", "terminal-0004"]
    assert sorted(t.login for t in summary.left_out) == ["nobody-1", "nobody-2"]
    assert summary.left_out_reasons == Counter({"error 17: Player not found": 2})
    assert summary.counts_text() == "2 closed, 2 refused by provider, 2 could not reach provider"
    service.close_all()


def test_nothing_to_clear_is_done_and_transient_refusals_are_retried(
    history: AuditLog,
) -> None:
    """In a clear-history batch, 4 "Round not found" means there was nothing to clear:
    that terminal is done. 100 (internal error) may succeed later: it is retried."""
    with SandboxServer(secret=SANDBOX_SECRET) as sandbox:
        sandbox.fault_for_login["terminal-0003"] = "internal"
        service = service_for(sandbox, history)
        # player-001 has no unfinished round: clear history answers 4.
        listed = [Terminal("terminal-0001"), Terminal("player-001"), Terminal("terminal-0003")]
        summary = BatchRun(service, listed, BatchOptions(clear_history=True)).run()
        service.close_all()
    assert summary.nothing_to_clear == 1
    assert summary.succeeded == 2
    assert summary.failed == 1
    assert [t.login for t in summary.retry] == ["terminal-0003"]
    assert not summary.left_out
    assert summary.counts_text() == (
        "1 closed, 1 with nothing to clear (done), 1 refused by provider"
    )
    assert summary.exit_status == 1  # the internal error; the 4 alone would be 0


def test_refusals_only_exit_1(history: AuditLog, sandbox: SandboxServer) -> None:
    summary = BatchRun(service_for(sandbox, history), [Terminal("nobody")], BatchOptions()).run()
    assert summary.exit_status == 1


def test_cancel_stops_new_requests_and_records_those_in_flight(history: AuditLog) -> None:
    with SandboxServer(secret=SANDBOX_SECRET, latency_ms=100) as sandbox:
        service = service_for(sandbox, history)
        run = BatchRun(service, terminals(200), BatchOptions(concurrency=4))
        run.start()
        assert sandbox.wait_for_requests(6, timeout=10)
        run.cancel("Cancelled by the operator.")
        summary = run.wait(10)
        assert summary is not None
        sent = sandbox.request_count
    assert summary.cancelled
    assert summary.stop_reason == "Cancelled by the operator."
    assert summary.done == sent  # everything that went out was finished and counted
    assert 6 <= sent <= 12
    assert summary.not_sent == 200 - sent
    assert len(summary.retry) == 200 - sent
    recorded = rows(history, run.batch_id)
    assert len(recorded) == sent
    assert {r["outcome"] for r in recorded} == {"success"}
    assert summary.exit_status == 3
    service.close_all()


def test_rate_limit_answers_slow_the_batch_and_are_retried(history: AuditLog) -> None:
    with SandboxServer(secret=SANDBOX_SECRET, latency_ms=2, rate_limit_rps=40) as sandbox:
        service = service_for(sandbox, history)
        run = BatchRun(service, terminals(80), BatchOptions(concurrency=8))
        summary = run.run()
        limited = sandbox.rate_limited
    assert summary.succeeded == 80, summary.counts_text()
    assert limited > 0
    assert summary.rate_limit_retries == limited
    assert run.pacer.rate is not None  # it learned a pace below "as fast as possible"
    recorded = rows(history, run.batch_id)
    assert sum(r["error_code"] == 99 for r in recorded) == limited  # every attempt is on record
    assert len(recorded) == 80 + limited
    service.close_all()


def test_a_row_still_limited_after_its_tries_counts_as_refused(
    history: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contract, "RATE_LIMIT_BACKOFF_S", (0.01, 0.02))
    with SandboxServer(secret=SANDBOX_SECRET, fault="ratelimit") as sandbox:
        summary = BatchRun(service_for(sandbox, history), terminals(2), BatchOptions()).run()
        assert sandbox.request_count == 2 * contract.RATE_LIMIT_TRIES
    assert summary.counts == Counter({Outcome.REFUSED: 2})
    assert summary.rate_limit_retries == 2 * (contract.RATE_LIMIT_TRIES - 1)


def test_max_rps_spaces_requests(history: AuditLog, sandbox: SandboxServer) -> None:
    run = BatchRun(
        service_for(sandbox, history), terminals(11), BatchOptions(concurrency=8, max_rps=20)
    )
    summary = run.run()
    assert summary.succeeded == 11
    assert summary.elapsed_s >= 0.45  # 10 gaps of 50 ms: a lower bound, never an upper one


def test_pacer_halves_once_per_burst_and_creeps_back() -> None:
    now = [100.0]
    pacer = Pacer(None, clock=lambda: now[0])
    cancel = threading.Event()
    for n in range(11):
        now[0] = 100 + n * 0.01  # 100 per second
        assert pacer.wait_turn(cancel)
    pacer.slow_down(0.5)
    assert pacer.rate == pytest.approx(50, rel=0.01)
    pacer.slow_down(0.5)  # more 99s from the same burst: no second cut
    assert pacer.rate == pytest.approx(50, rel=0.01)
    for _ in range(5):
        pacer.speed_up()
    assert pacer.rate == pytest.approx(50 * 1.05**5, rel=0.01)
    for _ in range(50):
        pacer.speed_up()
    assert pacer.rate == pytest.approx(90, rel=0.01)  # never back to where 99 came
    capped = Pacer(10, clock=lambda: now[0])
    capped.speed_up()
    assert capped.rate == 10


def test_invalid_lines_are_recorded_never_sent(history: AuditLog, sandbox: SandboxServer) -> None:
    parsed = parse_terminals("terminal-0001\nbad login\nterminal-0001\nterminal-0002\n")
    run = BatchRun(
        service_for(sandbox, history), parsed.terminals, BatchOptions(), skipped=parsed.invalid
    )
    summary = run.run()
    assert summary.succeeded == 2
    assert sandbox.request_count == 2
    recorded = rows(history, run.batch_id)
    invalid = [r for r in recorded if r["outcome"] == "invalid_input"]
    assert [r["login"] for r in invalid] == ["bad login"]
    assert invalid[0]["description"].startswith("Line 2 not sent:")


def test_missing_secret_stops_the_batch_at_once(history: AuditLog, sandbox: SandboxServer) -> None:
    chosen = make_profile("sandbox", sandbox.url)
    service = CloseService(lambda: ProfileSet((chosen,), "sandbox"), MemorySecrets(), history)
    summary = BatchRun(service, terminals(100), BatchOptions(concurrency=2)).run()
    assert summary.counts[Outcome.CONFIGURATION] <= 2
    assert summary.done <= 2
    assert "No secret key is stored" in summary.stop_reason
    assert len(summary.retry) == 100
    assert summary.exit_status == 4
    assert sandbox.request_count == 0


def test_an_unreachable_provider_stops_the_batch(history: AuditLog, tmp_path: Path) -> None:
    with SandboxServer(secret=SANDBOX_SECRET) as sandbox:
        url = sandbox.url
    chosen = make_profile("gone", url, timeout=2)
    service = CloseService(
        lambda: ProfileSet((chosen,), "gone"), MemorySecrets({"gone": "x"}), history
    )
    summary = BatchRun(service, terminals(100), BatchOptions(concurrency=4)).run()
    assert summary.counts[Outcome.TRANSPORT_FAILURE] < 100
    assert summary.counts[Outcome.TRANSPORT_FAILURE] >= contract.UNREACHABLE_STOP
    assert "could not be reached" in summary.stop_reason
    assert len(summary.retry) == 100
    service.close_all()


def test_bad_options_are_refused_before_anything_runs(
    history: AuditLog, sandbox: SandboxServer
) -> None:
    service = service_for(sandbox, history)
    with pytest.raises(InvalidInput, match="Concurrency"):
        BatchRun(service, terminals(1), BatchOptions(concurrency=17))
    with pytest.raises(InvalidInput, match="rate limit"):
        BatchRun(service, terminals(1), BatchOptions(max_rps=-1))
    assert history.count() == 0


def test_profile_concurrency_is_the_default(history: AuditLog, sandbox: SandboxServer) -> None:
    run = BatchRun(service_for(sandbox, history, concurrency=2), terminals(4), BatchOptions())
    assert run.concurrency == 2
    assert run.run().succeeded == 4


class CountingSecrets:
    """The real keyring, counting how often it is read."""

    def __init__(self) -> None:
        from support_tool.config.secret_store import KeyringSecrets

        self.inner = KeyringSecrets()
        self.reads = 0

    def get(self, profile: str) -> str:
        self.reads += 1
        return self.inner.get(profile)


def test_a_batch_reads_the_keyring_once_not_per_row(
    history: AuditLog, sandbox: SandboxServer
) -> None:
    counting = CountingSecrets()
    counting.inner.set("sandbox", SANDBOX_SECRET)
    try:
        chosen = make_profile("sandbox", sandbox.url)
        service = CloseService(lambda: ProfileSet((chosen,), "sandbox"), counting, history)
        summary = BatchRun(service, terminals(40), BatchOptions(concurrency=8)).run()
        assert summary.succeeded == 40
        assert counting.reads == 1
        assert service.close("terminal-0041").result.ok  # a single close reads it afresh
        assert counting.reads == 2
    finally:
        counting.inner.delete("sandbox")
        service.close_all()


def test_an_unexpected_keyring_error_is_a_message_not_a_crash(
    history: AuditLog, sandbox: SandboxServer
) -> None:
    """Secret Service objects can vanish under a reader (seen in CI: ItemNotFoundException
    from secretstorage); whatever the backend raises becomes a keyring message."""
    from support_tool.config.secret_store import KeyringSecrets

    class VanishingCollection:
        def get_password(self, service: str, user: str) -> str:
            raise LookupError("Item does not exist!")

    chosen = make_profile("sandbox", sandbox.url)
    secrets = KeyringSecrets(backend=VanishingCollection())
    service = CloseService(lambda: ProfileSet((chosen,), "sandbox"), secrets, history)
    single = service.close("terminal-0001")
    assert single.result.outcome is Outcome.CONFIGURATION
    assert (
        "LookupError while reading a secret key: Item does not exist!" in single.result.description
    )
    summary = BatchRun(service, terminals(20), BatchOptions(concurrency=4)).run()
    assert summary.counts[Outcome.CONFIGURATION] >= 1
    assert "No working keyring" in summary.stop_reason
    assert sandbox.request_count == 0


@pytest.mark.parametrize(
    ("counts", "said"),
    [
        ({Outcome.CONFIGURATION: 3}, "0 closed, 3 configuration problems"),
        ({Outcome.CONFIGURATION: 1}, "0 closed, 1 configuration problem"),
        (
            {Outcome.SUCCESS: 2, Outcome.CONFIGURATION: 2, Outcome.TRANSPORT_FAILURE: 1},
            "2 closed, 1 could not reach provider, 2 configuration problems",
        ),
    ],
)
def test_counts_read_as_plurals(counts: dict[Outcome, int], said: str) -> None:
    """QA read "3 configuration problem" after a batch stopped on a missing secret with
    three rows in flight."""
    summary = BatchSummary("b", sum(counts.values()), Counter(counts), 0.0, 0, False, "")
    assert summary.counts_text() == said
