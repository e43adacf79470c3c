"""The close request path against a bare ``requests.Session().post`` of the same request."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import requests

from benchmarks.common import Figure, median_of, sandbox_process
from support_tool.audit.log import AuditLog
from support_tool.config.profiles import ProfileSet, make_profile
from support_tool.config.secret_store import MemorySecrets
from support_tool.ops.close import CloseService
from support_tool.provider.request import CloseRequest, build_signed
from support_tool.provider.transport import Transport

ROUNDS = 300


def run(rounds: int = ROUNDS) -> list[Figure]:
    with sandbox_process() as (url, secret):
        request = CloseRequest.from_input("player-001", None, False)
        signed = build_signed(url, request, secret)
        session = requests.Session()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        transport = Transport()

        def bare() -> float:
            start = time.perf_counter()
            response = session.post(
                signed.url,
                params=signed.query,
                data=signed.body_bytes,
                headers=headers,
                timeout=(5, 15),
            )
            response.json()
            return time.perf_counter() - start

        def tool() -> float:
            start = time.perf_counter()
            checked = CloseRequest.from_input("player-001", None, False)
            result = transport.send(build_signed(url, checked, secret))
            assert result.ok, result
            return time.perf_counter() - start

        # Alternate the two so that drift on a noisy machine hits both alike.
        bare_times, tool_times = [], []
        for _ in range(5):
            bare(), tool()
        for _ in range(rounds):
            bare_times.append(bare())
            tool_times.append(tool())
        bare_median = sorted(bare_times)[rounds // 2]
        tool_median = sorted(tool_times)[rounds // 2]

        with tempfile.TemporaryDirectory() as folder:
            store = AuditLog(Path(folder) / "history.sqlite3")
            profiles = ProfileSet((make_profile("bench", url),), "bench")
            service = CloseService(lambda: profiles, MemorySecrets({"bench": secret}), store)

            def full() -> float:
                start = time.perf_counter()
                assert service.close("player-001").result.ok
                return time.perf_counter() - start

            full_median = median_of(rounds // 3, full, warmup=5)
            service.close_all()
            store.close()
        transport.close()

    ratio = tool_median / bare_median
    return [
        Figure(
            "close request path (validate+sign+send+interpret) vs bare requests post",
            tool_median * 1000,
            "ms",
            bare_median * 1000,
            "≤ 1.1×",
            ratio <= 1.1,
        ),
        Figure(
            "close with audit history (2 fsync'd commits) vs bare requests post",
            full_median * 1000,
            "ms",
            bare_median * 1000,
            "informational",
            True,
            "the pending-before-send row costs two durable commits by design",
        ),
    ]
