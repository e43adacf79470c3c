"""``support-tool sandbox``: the embedded provider as a process of its own, for trying
profiles and batches against something real on this computer."""

from __future__ import annotations

import argparse
import signal
from typing import TYPE_CHECKING, Any

from support_tool.errors import ConfigurationError, InvalidInput
from support_tool.exit_status import ExitStatus

if TYPE_CHECKING:
    from support_tool.sandbox import SandboxServer

MAX_LATENCY_MS = 600_000


def add_parsers(commands: argparse._SubParsersAction[Any]) -> None:
    """The ``sandbox`` command and its options."""
    sandbox = commands.add_parser("sandbox", help="run the sandbox provider on this computer")
    sandbox.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    sandbox.add_argument("--secret", default=None, help="secret key (default: a random one)")
    sandbox.add_argument("--latency-ms", type=int, default=0, metavar="N")
    sandbox.add_argument(
        "--rate-limit",
        type=float,
        default=None,
        metavar="R",
        help="answer error 99 beyond R requests a second, as a metered provider does",
    )
    from support_tool.sandbox.faults import FAULTS

    sandbox.add_argument(
        "--fault",
        default="none",
        choices=list(FAULTS),
        metavar="KIND",
        help="inject a fault into every answer: " + ", ".join(FAULTS),
    )


def cmd_sandbox(args: argparse.Namespace) -> int:
    from support_tool.sandbox.server import SandboxServer

    if not 0 <= args.port <= 65535:
        raise InvalidInput("--port must be between 0 and 65535.")
    if not 0 <= args.latency_ms <= MAX_LATENCY_MS:
        raise InvalidInput(f"--latency-ms must be between 0 and {MAX_LATENCY_MS:,}.")
    if args.rate_limit is not None and not args.rate_limit > 0:
        raise InvalidInput("--rate-limit must be more than 0 requests a second.")
    try:
        server = SandboxServer(
            secret=args.secret,
            port=args.port,
            latency_ms=args.latency_ms,
            fault=args.fault,
            verbose=True,
            rate_limit_rps=args.rate_limit,
        )
    except OSError as exc:
        raise ConfigurationError(
            f"The sandbox cannot listen on port {args.port} ({exc.strerror}). "
            "Choose another with --port, or --port 0 for any free port."
        ) from exc
    _stop_on_signals()  # before the banner: whoever reads it may signal at once
    try:
        _sandbox_banner(args, server)
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop()
        print("Sandbox stopped.", flush=True)
    return ExitStatus.OK


def _sandbox_banner(args: argparse.Namespace, server: SandboxServer) -> None:
    from support_tool.sandbox.provider import DEMO_GAMES

    print(f"Sandbox provider listening on {server.url}", flush=True)
    print(f"Secret key: {server.secret}")
    print(f"Terminals terminal-0001 ... terminal-1000 have an unfinished round in {DEMO_GAMES[0]};")
    print(f"players player-001 ... player-100 have open sessions in {', '.join(DEMO_GAMES)}.")
    if args.fault != "none" or args.latency_ms or args.rate_limit:
        limit = f", rate limit {args.rate_limit:g}/s" if args.rate_limit else ""
        print(f"Injecting: fault {args.fault}, latency {args.latency_ms} ms{limit}.")
    print("To use it from support-tool:")
    print(f"  support-tool profile add sandbox --url {server.url}")
    print("  support-tool secret set sandbox      (paste the secret key above)")
    print("Press Ctrl+C to stop.", flush=True)


def _stop_on_signals() -> None:
    """Ctrl+C and ``kill`` stop the sandbox. Set explicitly: a shell starts a background
    job (``support-tool sandbox &``) with SIGINT ignored, and Python then leaves it so."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
