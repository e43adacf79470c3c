"""Command-line start-up: ``support-tool close`` against the least any script doing its job
can take, and no Qt.

The floor is a minimal script: the interpreter, ``requests`` and ``keyring``, one key read
from the same Secret Service, one signed POST to the same provider process. What the tool
does beyond it (arguments, profile file, logging, the audit trail's two durable commits,
the answer in words) is what the ratio measures.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile

from benchmarks.common import Figure, load_average, paired, sandbox_process, timed_child

RUNS = 21
CLOSE_TARGET = 1.15  # × the minimal script (issue 15)

# argv: URL, profile (the keyring user name), login. Signs as signing.py does (by hand, on
# purpose: the floor has none of the tool's code).
FLOOR = """
import hashlib, json, sys
import keyring, requests
url, profile, login = sys.argv[1:4]
secret = keyring.get_password("support-tool", profile)
params = {"clearHistory": "0", "secureLogin": login}
signed = "&".join(f"{k}={v}" for k, v in sorted(params.items())) + secret
digest = hashlib.md5(signed.encode()).hexdigest()
answer = requests.post(
    url + "/V4/closesession",
    params={"MEMB_ID": login, "HASH": digest},
    data=json.dumps({**params, "hash": digest}),
    headers={"Content-Type": "application/json"},
    timeout=15,
).json()
sys.exit(0 if answer["error"] == 0 else 1)
"""


def _real_close(runs: int) -> list[Figure]:
    """An operator's close: profile from the file, secret from gnome-keyring (a private one
    on its own D-Bus, as the tests use), the provider a sandbox in another process."""
    from support_tool.config.secret_store import KeyringSecrets
    from tests.keyring_daemon import SecretServiceDaemon

    daemon = SecretServiceDaemon()
    saved = dict(os.environ)
    os.environ.update(daemon.environment())
    try:
        with tempfile.TemporaryDirectory() as home, sandbox_process() as (url, secret):
            env = {**os.environ, "SUPPORT_TOOL_HOME": home}
            subprocess.run(
                [sys.executable, "-m", "support_tool", "profile", "add", "bench", "--url", url],
                env=env,
                check=True,
                capture_output=True,
            )
            KeyringSecrets().set("bench", secret)
            tool = [sys.executable, "-m", "support_tool"]
            rounds = paired(
                runs,
                {
                    "floor": functools.partial(
                        timed_child,
                        [sys.executable, "-c", FLOOR, url, "bench", "player-001"],
                        env,
                    ),
                    "close": functools.partial(timed_child, [*tool, "close", "player-001"], env),
                    "demo": functools.partial(
                        timed_child, [*tool, "--demo", "close", "terminal-0001"], env
                    ),
                },
                floor="floor",
            )
    finally:
        os.environ.clear()
        os.environ.update(saved)
        daemon.stop()
    load = load_average()
    floor_ms = rounds.median("floor") * 1000
    close = rounds.ratio("close")
    return [
        Figure(
            "'support-tool close' (saved profile, secret in a real Secret Service) start to "
            "exit vs a minimal script (requests + keyring, one key read, one signed POST to "
            "the same provider)",
            rounds.median("close") * 1000,
            "ms",
            floor_ms,
            f"≤ {CLOSE_TARGET}×",
            close <= CLOSE_TARGET,
            f"{rounds.spread('close')}; {load}",
            paired_ratio=close,
        ),
        Figure(
            "'support-tool --demo close' (embedded sandbox, in-memory secret) vs the same "
            "minimal script",
            rounds.median("demo") * 1000,
            "ms",
            floor_ms,
            "informational",
            True,
            f"{rounds.spread('demo')}; starts its own HTTP server instead of reading the "
            f"keyring; {load}",
            paired_ratio=rounds.ratio("demo"),
        ),
    ]


def _qt_modules_loaded(env: dict[str, str]) -> str:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from support_tool.cli.commands import main;"
            "main(['--demo', 'close', 'player-001']);"
            "print(sum(m.startswith('PySide6') for m in sys.modules))",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()[-1]


def run(runs: int = RUNS) -> list[Figure]:
    with tempfile.TemporaryDirectory() as home:
        probe = _qt_modules_loaded({**os.environ, "SUPPORT_TOOL_HOME": home})
    return [
        *_real_close(runs),
        Figure(
            "Qt modules loaded by the command line",
            float(probe),
            "modules",
            None,
            "0",
            probe == "0",
        ),
    ]
