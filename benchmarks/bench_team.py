"""Team store figures (issue 13, item 5) on a private PostgreSQL server in a temp folder.

* History open (first page) and each filter on 1,000,000 actions (2,000,000 events), read
  by a desk's own login through ``TeamStore.page`` as the History view does.
* ``history verify`` (``TeamStore.recompute_chain``, every seal recomputed on the desk) at
  1,000,000 and 2,000,000 events, and the server's own ``chain_problems()`` beside it.
* Appends per second from 8 threads, one connection each vs one shared connection.
* A 1,000-login batch through the real ``support-tool batch`` CLI with the team store
  (``SUPPORT_TOOL_AUDIT_URL``) against the same batch with the embedded store, same run.

The server is the tests' (tests/postgres_server.py), started with durable commits (fsync
on, as a real server runs, and as SQLite's ``synchronous=FULL`` is) and stopped always.
The trail is seeded in bulk: sealed rows made here with the format's own functions
(audit/events.py) and copied in as the superuser past the append-only triggers, then the
indexes are built once; init-db run again afterwards must find nothing new, and the chain
check must pass, or the figures are not reported.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import Figure, sandbox_process
from support_tool.audit import events, team_admin
from support_tool.audit.records import AuditFilter
from support_tool.audit.team_store import TeamStore

ACTIONS = 1_000_000
VERIFY_EVENTS = 1_000_000  # the verify figure's trail (a multiple of CHUNK)
CHUNK = 20_000  # events per COPY chunk
PAGE = 256
OPEN_TARGET_MS = 300
FILTER_TARGET_MS = 150
VERIFY_TARGET_S = 5
BATCH_LOGINS = 1000
CONCURRENCY = 8
LATENCY_MS = 20
BATCH_TARGET = 1.3
APPEND_THREADS = 8
DESK_PASSWORD = "bench-Desk-1!"
OWNER_PASSWORD = "bench-Owner-1!"
DESK_ROLE, AUDITOR_ROLE, OWNER = "bench_desk", "bench_auditor", "bench_owner"
SERVER_SETTINGS = {"maintenance_work_mem": "512MB", "max_wal_size": "4GB"}

OPERATORS = ("anna", "bob", "carla", "dmitri", "eve", "femi", "gita", "hugo", "ines", "jon")
GAMES = tuple(f"vs20game{n:02d}" for n in range(20))
SUCCESS = {"outcome": "success", "error_code": 0, "description": "Session closed"}
FAILED = {"outcome": "failed", "error_code": 7, "description": "Player has a round in play"}
UNKNOWN = {"outcome": "unknown", "error_code": None, "description": "Check with the provider"}


def skip_reason() -> str | None:
    """Why the team figures cannot be measured here (None when they can)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'support-tool[team]')"
    from tests.postgres_server import postgres_bindir

    if postgres_bindir() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl): install Debian's 'postgresql'"
    return None


# --- the trail, made in bulk ---------------------------------------------------------------


def _attempt(k: int) -> dict[str, object]:
    """Action ``k``'s attempt fields: 1,000 logins, 10 operators, 20 desks, batches of 1,000."""
    desk = k % 20
    return {
        "operator": OPERATORS[desk % 10],
        "workstation": f"desk-{desk + 1:02d}",
        "pid": 4000 + desk,
        "profile": "staging" if k % 50 == 17 else "live",
        "api_host": "api.provider.example",
        "login": f"terminal-{k % 1000 + 1:04d}",
        "game_id": GAMES[k % 20],
        "clear_history": k % 3 == 0,
        "reason": f"TCK-{k // 100:05d}",
        "batch_id": f"20261130-{k // 1000:06d}-3f9a",
        "retry_of": None,
    }


def _closing(k: int) -> tuple[str, dict[str, object]]:
    result = FAILED if k % 20 == 7 else UNKNOWN if k % 500 == 3 else SUCCESS
    fields = {**result, "http_status": 200, "elapsed_ms": 20 + k % 30, "attempts": 1}
    return ("unknown" if result is UNKNOWN else "answer"), fields


def _events(actions: int) -> Iterator[tuple[str, int | None, str, dict[str, object]]]:
    """(kind, action offset or None, origin, body) in trail order: eight attempts, then
    their eight closing events, as a batch at concurrency 8 writes them; 1 in 100 actions
    refused, the newest 40 still pending."""
    for start in range(0, actions, 8):
        group = range(start, min(start + 8, actions))
        for k in group:
            attempt = _attempt(k)
            origin = f"desk_{k % 20 + 1:02d}"
            if k % 100 == 99:
                body = {
                    **attempt,
                    "outcome": "invalid_input",
                    "error_code": None,
                    "description": "A login has no spaces",
                    "http_status": None,
                    "elapsed_ms": None,
                    "attempts": 0,
                }
                yield "refused", None, origin, body
            else:
                yield "attempt", None, origin, attempt
        for position, k in enumerate(group):
            if k % 100 != 99 and k < actions - 40:
                kind, body = _closing(k)
                # How far back its attempt is, counted in the group's attempts.
                yield kind, len(group) - position, f"desk_{k % 20 + 1:02d}", body


def _copy_rows(actions: int) -> Iterator[tuple[str, bytes, int, bytes]]:
    """COPY text for every event with its seal (chunks of rows), and finally the head."""
    previous = events.GENESIS
    seq = 0
    attempts: list[int] = []
    clock = 1_796_000_000.0  # 2026-11-30, 25 ms apart
    lines: list[str] = []
    for kind, back, origin, body in _events(actions):
        seq += 1
        if back is None:
            action = seq
            attempts.append(seq)
        else:
            action = attempts[-back]
        if len(attempts) > 16:
            del attempts[:8]
        millis = int(clock * 1000) % 1000
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(clock)) + f".{millis:03d}Z"
        clock += 0.025
        text = events.canonical_body(body)
        previous = events.seal_after(previous, events.tail(seq, kind, action, at, origin, text))
        lines.append(
            f"{seq}\t{kind}\t{action}\t{at}\t{origin}\t{_copy_text(text)}\t\\\\x{previous.hex()}\n"
        )
        if len(lines) >= CHUNK:
            yield "".join(lines), previous, seq, b""
            lines = []
    yield "".join(lines), previous, seq, b"end"


def _copy_text(text: str) -> str:
    """A body as COPY's text format needs it (canonical JSON has no tab or line break)."""
    return text.replace("\\", "\\\\")


@dataclass
class Seeded:
    events: int
    copy_seconds: float
    index_seconds: float


def _secondary_indexes(conn: Any) -> list[tuple[str, str]]:
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'support_tool'"
        " AND tablename = 'events' AND indexname <> 'events_pkey'"
    ).fetchall()
    return [(str(name), str(definition)) for name, definition in rows]


def seed(
    server: Any,
    dbname: str,
    actions: int,
    pause_at: int | None = None,
    on_pause: Callable[[], None] | None = None,
) -> Seeded:
    """Fill the trail past the triggers (as the superuser, in replica mode) and move the
    head, then build the indexes init-db made (dropped for the copy: building them once is
    faster than keeping them up to date row by row). With ``pause_at``, the trail first
    stops at that many events, ready to read, while ``on_pause`` runs."""
    copy_s = index_s = 0.0
    with server.admin(dbname) as conn:
        indexes = _secondary_indexes(conn)
        chunks = _copy_rows(actions)
        pending: tuple[str, bytes, int, bytes] | None = None
        stages = [pause_at, None] if pause_at else [None]
        for stage_end in stages:
            start = time.perf_counter()
            for name, _ in indexes:
                conn.execute(f"DROP INDEX IF EXISTS support_tool.{name}")
            conn.execute("SET session_replication_role = replica")
            last_seal, last_seq = events.GENESIS, 0
            with (
                conn.transaction(),
                conn.cursor().copy(
                    "COPY support_tool.events (seq, kind, action, recorded_at, origin, body, seal)"
                    " FROM STDIN"
                ) as copy,
            ):
                while True:
                    pending = pending or next(chunks, None)
                    if pending is None:
                        break
                    chunk, seal, seq, _ = pending
                    if stage_end is not None and seq > stage_end:
                        break
                    copy.write(chunk)
                    last_seal, last_seq, pending = seal, seq, None
            conn.execute("UPDATE support_tool.head SET seq = %s, seal = %s", (last_seq, last_seal))
            # What append_event would have kept: the attempts still without a closing event.
            conn.execute("DELETE FROM support_tool.open_attempts")
            conn.execute(
                "INSERT INTO support_tool.open_attempts SELECT a.seq FROM support_tool.events a"
                " WHERE a.kind = 'attempt' AND NOT EXISTS (SELECT 1 FROM support_tool.events c"
                " WHERE c.action = a.seq AND c.kind IN ('answer', 'unknown'))"
            )
            conn.execute("SET session_replication_role = origin")
            built = time.perf_counter()
            copy_s += built - start
            for _, definition in indexes:
                conn.execute(definition)
            conn.execute("VACUUM (ANALYZE) support_tool.events")
            index_s += time.perf_counter() - built
            if stage_end is not None and on_pause is not None:
                on_pause()
    return Seeded(last_seq, copy_s, index_s)


# --- the server and its stores -------------------------------------------------------------

DESK_LOGIN = "desk_01"


@dataclass
class Server:
    """The private server, with an owner role and one desk login set up once."""

    pg: Any  # tests.postgres_server.PostgresServer

    def new_trail(self, dbname: str) -> str:
        """A database set up by init-db, as IT would; returns the desk's URL."""
        with self.pg.admin() as conn:
            conn.execute(f"CREATE DATABASE {dbname} OWNER {OWNER}")
        team_admin.init_db(self.pg.conninfo(OWNER, dbname), OWNER_PASSWORD, DESK_ROLE, AUDITOR_ROLE)
        return str(self.pg.conninfo(DESK_LOGIN, dbname))

    def init_again(self, dbname: str) -> bool:
        """Whether init-db, run again over the seeded trail, finds anything to do."""
        report = team_admin.init_db(
            self.pg.conninfo(OWNER, dbname), OWNER_PASSWORD, DESK_ROLE, AUDITOR_ROLE
        )
        return report.anything_new


@contextmanager
def private_server() -> Iterator[Server]:
    """tests/postgres_server.py's server with durable commits; always stopped."""
    from tests.postgres_server import PostgresServer, postgres_bindir

    bindir = postgres_bindir()
    assert bindir is not None  # skip_reason() said so
    pg = PostgresServer(bindir)
    try:
        pg.start(durable=True, settings=SERVER_SETTINGS)
        with pg.admin() as conn:
            conn.execute(f"CREATE ROLE {OWNER} LOGIN CREATEROLE PASSWORD '{OWNER_PASSWORD}'")
            for role in (DESK_ROLE, AUDITOR_ROLE):
                conn.execute(f"CREATE ROLE {role} NOLOGIN")
            conn.execute(
                f"CREATE ROLE {DESK_LOGIN} LOGIN PASSWORD '{DESK_PASSWORD}' IN ROLE {DESK_ROLE}"
            )
        yield Server(pg)
    finally:
        pg.stop()


def _ms(measure: Callable[[], object], runs: int) -> float:
    """Median wall time in ms of ``runs`` calls after one warm-up."""
    measure()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        measure()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


# --- History: first page and filters -------------------------------------------------------

FILTERS: tuple[tuple[str, AuditFilter], ...] = (
    ("login exact (1,000 of 1M)", AuditFilter(login="terminal-0042")),
    ("text in a login (1,000 of 1M)", AuditFilter(text="minal-0042")),
    ("text in a description (5%)", AuditFilter(text="round in play")),
    ("text in a game (5%)", AuditFilter(text="VS20GAME07")),
    ("text, 2 characters (no trigram)", AuditFilter(text="42")),
    ("text found nowhere", AuditFilter(text="no such words")),
    ("operator", AuditFilter(operator="carla")),
    ("workstation", AuditFilter(workstation="desk-07")),
    ("outcome failed (5%)", AuditFilter(outcome="failed")),
    ("outcome unknown (0.2%)", AuditFilter(outcome="unknown")),
    ("outcome pending (40 newest)", AuditFilter(outcome="pending")),
    ("profile (2%)", AuditFilter(profile="staging")),
    ("batch and its retries", AuditFilter(batch_id="20261130-000500-3f9a")),
    ("login + outcome failed", AuditFilter(login="terminal-0042", outcome="failed")),
)


def _page_ms(store: TeamStore, flt: AuditFilter, runs: int) -> float:
    return _ms(lambda: store.page(flt, limit=PAGE), runs)


def read_figures(desk_url: str, actions: int, runs: int) -> list[Figure]:
    """First page, second page and each filter, read by a desk login as the view does."""
    connect_ms = _ms(lambda: TeamStore.open(desk_url, DESK_PASSWORD, "bench").close(), runs)
    figures: list[Figure] = []
    with TeamStore.open(desk_url, DESK_PASSWORD, "bench") as store:
        first = store.page(AuditFilter(), limit=PAGE)
        open_ms = _ms(lambda: store.page(AuditFilter(), limit=PAGE), runs)
        figures.append(
            Figure(
                f"History open: first {PAGE} of {actions:,} team actions",
                open_ms,
                "ms",
                None,
                f"< {OPEN_TARGET_MS} ms",
                open_ms < OPEN_TARGET_MS,
                f"a desk login over the server's socket; connecting (SCRAM) adds "
                f"{connect_ms:.1f} ms once; {_load()}",
            )
        )
        deep = store.page(AuditFilter(), before_id=actions // 2, limit=PAGE)
        scroll_ms = _ms(lambda: store.page(AuditFilter(), before_id=first[-1].id), runs)
        deep_ms = _ms(lambda: store.page(AuditFilter(), before_id=actions // 2), runs)
        figures.append(
            Figure(
                "History scroll: next page, and a page half a million actions deep",
                max(scroll_ms, deep_ms),
                "ms",
                None,
                f"< {OPEN_TARGET_MS} ms",
                max(scroll_ms, deep_ms) < OPEN_TARGET_MS and len(deep) == PAGE,
                f"next page {scroll_ms:.1f} ms, deep page {deep_ms:.1f} ms (keyset: id < last)",
            )
        )
        for name, flt in FILTERS:
            found = len(store.page(flt, limit=PAGE))
            value = _page_ms(store, flt, runs)
            figures.append(
                Figure(
                    f"History filter: {name}",
                    value,
                    "ms",
                    None,
                    f"< {FILTER_TARGET_MS} ms",
                    value < FILTER_TARGET_MS,
                    f"{found} rows on the first page; {_load()}",
                )
            )
    return figures


# --- verify ---------------------------------------------------------------------------------


@dataclass
class Verified:
    seconds: float  # wall, median: ``history verify`` recomputing every seal on the desk
    cpu_seconds: float  # the desk processes' CPU time for it (workers included), median
    backend_cpu_seconds: float  # the server's CPU time meanwhile (the reading), median
    server_seconds: float  # wall, median: the server's own check, chain_problems()
    server_cpu_seconds: float  # that check's server process CPU time, median
    events: int
    floor_seconds: float = 0.0  # wall, median: the same ranges read the same way, no checks
    floor_cpu_seconds: float = 0.0  # the desk processes' CPU time for that read, median
    ratio_spread: str = ""  # the middle and range of the per-round verify/floor ratios
    processes: int = 1


def _floor_span(source: Any, snapshot: str, span: Any) -> int:
    """The floor of one range: connect, import the snapshot, read the same columns with
    the same cursor, batch size and loaders as ``history verify``, and check nothing."""
    from psycopg.types.string import ByteaBinaryLoader

    from support_tool.audit import team_verify
    from support_tool.audit.team_store import connect

    with (
        connect(source.conninfo, source.password, what=source.what) as conn,
        conn.transaction(),
    ):
        team_verify._begin(conn, snapshot)
        return _read_span(conn, span, ByteaBinaryLoader)


def _read_span(conn: Any, span: Any, loader: Any) -> int:
    from support_tool.audit import team_verify

    where, params = team_verify._bounds(span)
    count = 0
    with conn.cursor(name="floor", binary=True) as cur:
        cur.adapters.register_loader("text", loader)
        cur.execute(f"{team_verify._COLUMNS}{where} ORDER BY seq", params)
        while rows := cur.fetchmany(team_verify.BATCH_ROWS):
            count += len(rows)
    return count


def floor_read(desk_url: str) -> int:
    """What ``history verify`` cannot go below: the same ranges, read by as many
    processes in one exported snapshot (this one taking them from the back), no checks."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from psycopg.types.string import ByteaBinaryLoader

    from support_tool.audit import team_verify
    from support_tool.audit.team_store import connect

    source = team_verify.Source(desk_url, DESK_PASSWORD, "bench")
    with connect(desk_url, DESK_PASSWORD, what="bench") as conn, conn.transaction():
        team_verify._begin(conn)
        row = conn.execute("SELECT max(seq) FROM support_tool.events").fetchone()
        spans = team_verify.spans(int(row[0]) if row else 0, team_verify.processes())
        snapshot = str((conn.execute("SELECT pg_export_snapshot()").fetchone() or ("",))[0])
        context = multiprocessing.get_context("spawn")
        workers = max(1, team_verify.processes() - 1)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            queued = [pool.submit(_floor_span, source, snapshot, span) for span in spans]
            count = sum(
                _read_span(conn, span, ByteaBinaryLoader)
                for span, future in zip(reversed(spans), reversed(queued), strict=True)
                if future.cancel()
            )
            count += sum(f.result() for f in queued if not f.cancelled())
    return count


def _desk_cpu_s() -> float:
    """CPU seconds of this process and of its ended children (the spawned workers)."""
    import resource

    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + used.ru_utime + used.ru_stime


def _server_cpu_s(backend: int) -> float:
    """CPU seconds so far of a server process and of the ended server processes (its
    postmaster's reaped children: the workers' connections come and go)."""
    fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
    postmaster = int(fields[1])
    parent = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    reaped = (int(parent[13]) + int(parent[14])) / os.sysconf("SC_CLK_TCK")
    return _process_cpu_s(backend) + reaped


def _process_cpu_s(pid: int) -> float:
    """user + system CPU seconds of a (server) process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def verify_seconds(desk_url: str, runs: int) -> Verified:
    """``history verify`` as a desk runs it (TeamStore.recompute_chain: every row read in
    one snapshot, by several processes for a long trail, every seal recomputed here), its
    floor (the same ranges read the same way by as many processes, nothing checked), and
    the server's own check (chain_problems()), alternating round by round: median wall
    seconds, the median CPU seconds of the desk processes and of the server's, and the
    per-round verify/floor ratios (both sides of a round share the same load)."""
    import psycopg

    from support_tool.audit import team_verify

    with (
        TeamStore.open(desk_url, DESK_PASSWORD, "bench") as store,
        psycopg.connect(desk_url, password=DESK_PASSWORD, autocommit=True) as probe,
    ):
        found = store.recompute_chain()
        if found.problem is not None or not store.check_chain().ok:
            raise RuntimeError(f"the seeded trail does not verify: {found.problem}")
        row = probe.execute("SELECT pg_backend_pid()").fetchone()
        probe_pid = int(row[0]) if row else 0
        store_pid = store.backend_pid()
        probe.execute("SET statement_timeout = 0")
        floor_read(desk_url)  # warm-up
        measured: list[list[float]] = [[] for _ in range(8)]
        wall, cpu, backend, server_wall, server_cpu, floor, floor_cpu, ratios = measured
        for _ in range(runs):
            start, started_cpu, before = (
                time.perf_counter(),
                _desk_cpu_s(),
                _server_cpu_s(store_pid),
            )
            store.recompute_chain()
            wall.append(time.perf_counter() - start)
            cpu.append(_desk_cpu_s() - started_cpu)
            backend.append(_server_cpu_s(store_pid) - before)
            start, started_cpu = time.perf_counter(), _desk_cpu_s()
            floor_read(desk_url)
            floor.append(time.perf_counter() - start)
            floor_cpu.append(_desk_cpu_s() - started_cpu)
            ratios.append(wall[-1] / floor[-1])
            start, before = time.perf_counter(), _process_cpu_s(probe_pid)
            probe.execute("SELECT * FROM support_tool.chain_problems()").fetchall()
            server_wall.append(time.perf_counter() - start)
            server_cpu.append(_process_cpu_s(probe_pid) - before)
    med = statistics.median
    spread = f"per-round ratios {', '.join(f'{r:.2f}' for r in sorted(ratios))}"
    return Verified(
        med(wall),
        med(cpu),
        med(backend),
        med(server_wall),
        med(server_cpu),
        found.events,
        med(floor),
        med(floor_cpu),
        spread,
        team_verify.processes(),
    )


def verify_figures(verified: Verified, label: str, target: bool) -> list[Figure]:
    seconds = verified.seconds
    return [
        Figure(
            f"history verify (team store, recomputed on the desk): {verified.events:,} events",
            seconds,
            "s",
            verified.floor_seconds,
            f"< {VERIFY_TARGET_S} s" if target else "informational",
            seconds < VERIFY_TARGET_S or not target,
            f"{verified.processes} desk processes; baseline: the same ranges read the same "
            f"way, nothing checked ({verified.ratio_spread}); CPU: desk processes "
            f"{verified.cpu_seconds:.2f} s (floor {verified.floor_cpu_seconds:.2f} s), server "
            f"processes (reading and sending) {verified.backend_cpu_seconds:.2f} s; {label}; "
            f"{_load()}",
        ),
        Figure(
            f"server-side check chain_problems() (second opinion): {verified.events:,} events",
            verified.server_seconds,
            "s",
            None,
            "informational",
            True,
            f"the server process's own CPU time: {verified.server_cpu_seconds:.2f} s; {_load()}",
        ),
    ]


# --- appends from eight threads --------------------------------------------------------------


def _append_rate(
    desk_url: str, shared: bool, per_thread: int, threads_n: int = APPEND_THREADS
) -> float:
    """Appends per second from ``threads_n`` threads, each committing attempts one by one."""
    body = events.canonical_body(_attempt(7))
    stores = [TeamStore.open(desk_url, DESK_PASSWORD, "bench")]
    if not shared:
        stores += [TeamStore.open(desk_url, DESK_PASSWORD, "bench") for _ in range(threads_n - 1)]
    gate = threading.Barrier(threads_n + 1)

    def work(store: TeamStore) -> None:
        gate.wait()
        for _ in range(per_thread):
            store.append("attempt", None, body)

    threads = [
        threading.Thread(target=work, args=(stores[n % len(stores)],)) for n in range(threads_n)
    ]
    for thread in threads:
        thread.start()
    gate.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    for store in stores:
        store.close()
    return threads_n * per_thread / elapsed


def append_figures(server: Server, rounds: int, per_thread: int) -> list[Figure]:
    """One connection per thread against one shared connection, alternating, same store."""
    desk_url = server.new_trail("appends")
    own, shared, single = [], [], []
    _append_rate(desk_url, False, per_thread // 4)  # warm-up
    for _ in range(rounds):
        own.append(_append_rate(desk_url, False, per_thread))
        shared.append(_append_rate(desk_url, True, per_thread))
        single.append(_append_rate(desk_url, True, per_thread, threads_n=1))
    with TeamStore.open(desk_url, DESK_PASSWORD, "bench") as store:
        chain = store.check_chain()
    own_rate, shared_rate = statistics.median(own), statistics.median(shared)
    single_rate = statistics.median(single)
    note = (
        f"{APPEND_THREADS} threads x {per_thread} single-event commits, median of {rounds}; "
        f"durable commits (fsync on); chain of {chain.events:,} events "
        f"{'verifies' if chain.ok else 'DOES NOT verify'}; {_load()}"
    )
    return [
        Figure(
            f"appends/s, {APPEND_THREADS} threads, one connection each",
            own_rate,
            "/s",
            shared_rate,
            "informational",
            chain.ok,
            note + "; baseline: one connection shared by the threads",
        ),
        Figure(
            f"appends/s, {APPEND_THREADS} threads, one shared connection",
            shared_rate,
            "/s",
            None,
            "informational",
            chain.ok,
            "each append waits for the connection's lock, then for the head row's lock",
        ),
        Figure(
            "appends/s, 1 thread, one connection",
            single_rate,
            "/s",
            None,
            "informational",
            chain.ok,
            "the head row's lock is held until the commit has been flushed, so appenders "
            "take turns: more threads add no appends per second, one commit per event",
        ),
    ]


# --- a batch through the real CLI, team store against the embedded file ----------------------


@contextmanager
def _desk_home(url: str, secret: str) -> Iterator[dict[str, str]]:
    """A desk: a profile for the sandbox, its secret in a private Secret Service (as
    bench_cli's real close does), and a home folder; yields the environment."""
    from support_tool.config.secret_store import KeyringSecrets
    from tests.keyring_daemon import SecretServiceDaemon

    daemon = SecretServiceDaemon()
    saved = dict(os.environ)
    try:
        os.environ.update(daemon.environment())
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "SUPPORT_TOOL_HOME": home}
            subprocess.run(
                [sys.executable, "-m", "support_tool", "profile", "add", "bench", "--url", url],
                env=env,
                check=True,
                capture_output=True,
            )
            KeyringSecrets().set("bench", secret)
            yield env
    finally:
        os.environ.clear()
        os.environ.update(saved)
        daemon.stop()


def _batch(env: dict[str, str], logins: Path) -> tuple[float, float]:
    """``support-tool batch`` to exit: (the batch's own elapsed_s, wall seconds)."""
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "support_tool",
            "batch",
            str(logins),
            "--concurrency",
            str(CONCURRENCY),
            "--json",
            "--yes",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    wall = time.perf_counter() - start
    summary = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {}
    if done.returncode != 0 or summary.get("succeeded") != _count(logins):
        raise RuntimeError(f"the batch did not close every login: {done.stderr[-500:]}")
    return float(summary["elapsed_s"]), wall


def _count(logins: Path) -> int:
    return len(logins.read_text().splitlines())


def batch_figures(server: Server, runs: int) -> list[Figure]:
    """The same 1,000-login batch, embedded file and team store alternating, same run."""
    desk_url = server.new_trail("batches")
    team_env = {"SUPPORT_TOOL_AUDIT_URL": desk_url, "PGPASSWORD": DESK_PASSWORD}
    with (
        sandbox_process("--latency-ms", str(LATENCY_MS)) as (url, secret),
        _desk_home(url, secret) as env,
        tempfile.TemporaryDirectory() as folder,
    ):
        logins = Path(folder) / "logins.txt"
        logins.write_text("".join(f"terminal-{n:04d}\n" for n in range(1, BATCH_LOGINS + 1)))
        warm = Path(folder) / "warm.txt"
        warm.write_text("".join(f"terminal-{n:04d}\n" for n in range(1, 51)))
        embedded_env, team = env, {**env, **team_env}
        _batch(embedded_env, warm)
        _batch(team, warm)
        embedded, shared = [], []
        for _ in range(runs):
            embedded.append(_batch(embedded_env, logins))
            shared.append(_batch(team, logins))
    with TeamStore.open(desk_url, DESK_PASSWORD, "bench") as store:
        chain = store.check_chain()
    file_s = statistics.median(e for e, _ in embedded)
    team_s = statistics.median(t for t, _ in shared)
    file_wall = statistics.median(w for _, w in embedded)
    team_wall = statistics.median(w for _, w in shared)
    ratio = team_s / file_s
    return [
        Figure(
            f"{BATCH_LOGINS:,}-login batch (support-tool batch, concurrency {CONCURRENCY}, "
            f"{LATENCY_MS} ms latency): team store vs embedded file",
            team_s,
            "s",
            file_s,
            f"≤ {BATCH_TARGET}×",
            ratio <= BATCH_TARGET and chain.ok,
            f"median of {runs} alternating runs of the batch's own elapsed time; process start "
            f"to exit {team_wall:.2f} s vs {file_wall:.2f} s; the team store's chain "
            f"({chain.events:,} events) {'verifies' if chain.ok else 'DOES NOT verify'}; "
            f"{_load()}",
        )
    ]


# --- everything --------------------------------------------------------------------------------


def run(runs: int = 5, actions: int = ACTIONS, batch_runs: int = 3) -> list[Figure]:
    """Every team store figure, or none (with a line saying why) where it cannot run."""
    reason = skip_reason()
    if reason:
        print(f"team store figures skipped: {reason}", file=sys.stderr)
        return []
    figures: list[Figure] = []
    with private_server() as server:
        desk_url = server.new_trail("trail")
        at_pause: list[Verified] = []
        pause_at = VERIFY_EVENTS if actions * 2 > VERIFY_EVENTS else None
        seeded = seed(
            server.pg,
            "trail",
            actions,
            pause_at=pause_at,
            on_pause=lambda: at_pause.append(verify_seconds(desk_url, 3)),
        )
        if server.init_again("trail"):
            raise RuntimeError("init-db found something to do on the seeded trail")
        seeded_note = (
            f"trail seeded in {seeded.copy_seconds:.0f} s (COPY of sealed rows) + "
            f"{seeded.index_seconds:.0f} s (indexes, VACUUM ANALYZE)"
        )
        for verified in at_pause:
            figures += verify_figures(verified, seeded_note, target=True)
        full = verify_seconds(desk_url, 3)
        figures += verify_figures(full, seeded_note, target=not at_pause)
        figures += read_figures(desk_url, actions, runs)
        figures += append_figures(server, rounds=3, per_thread=250)
        figures += batch_figures(server, batch_runs)
    return figures


def main() -> int:
    """``python -m benchmarks.bench_team [--quick]``: these figures alone."""
    from benchmarks.__main__ import table

    quick = "--quick" in sys.argv
    figures = run(
        runs=3 if quick else 5, actions=100_000 if quick else ACTIONS, batch_runs=1 if quick else 3
    )
    print(table(figures))
    for f in figures:
        if f.note:
            print(f"- {f.name}: {f.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
