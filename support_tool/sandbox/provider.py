"""The sandbox provider's rules, apart from HTTP so that they are easy to read and test.

Players and terminals have open sessions per game; terminals also have an unfinished
round. Closing is idempotent (closing a closed session succeeds); clearing history when
there is no unfinished round answers code 4, as the real provider does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping

from support_tool.provider import contract, signing

DEMO_GAMES = ("vs20olympgate", "vs10bbbonanza")


def default_players(terminals: int = 1000, players: int = 100) -> dict[str, dict[str, bool]]:
    """``terminal-0001``... with an unfinished round; ``player-001``... with two open sessions."""
    seeded: dict[str, dict[str, bool]] = {}
    for n in range(1, terminals + 1):
        seeded[f"terminal-{n:04d}"] = {DEMO_GAMES[0]: True}
    for n in range(1, players + 1):
        seeded[f"player-{n:03d}"] = {game: False for game in DEMO_GAMES}
    return seeded


def _answer(code: int, description: str) -> tuple[int, bytes]:
    return 200, json.dumps({"error": code, "description": description}).encode()


class SandboxProvider:
    """Thread-safe provider state: login -> {game id -> has an unfinished round}."""

    def __init__(
        self, secret: str, players: Mapping[str, Mapping[str, bool]] | None = None
    ) -> None:
        self.secret = secret
        self._lock = threading.Lock()
        self._players = {
            login: dict(games) for login, games in (players or default_players()).items()
        }
        self._known = set(self._players)

    def add_player(self, login: str, games: Mapping[str, bool]) -> None:
        with self._lock:
            self._players[login] = dict(games)
            self._known.add(login)

    def sessions(self, login: str) -> dict[str, bool]:
        """Open sessions of ``login`` (game -> unfinished round), for tests and demos."""
        with self._lock:
            return dict(self._players.get(login, {}))

    def handle(self, query: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """Answer one close request: HTTP status and JSON body."""
        try:
            document = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _answer(3, "Invalid parameter value: body is not JSON")
        if not isinstance(document, dict) or not all(
            isinstance(value, str) for value in document.values()
        ):
            return _answer(3, "Invalid parameter value: fields must be strings")
        login = document.get(contract.FIELD_LOGIN, "")
        given_hash = document.get(contract.FIELD_HASH, "")
        if not login or not given_hash:
            return _answer(2, "Empty mandatory field")
        clear = document.get(contract.FIELD_CLEAR, "0")
        if clear not in ("0", "1"):
            return _answer(3, "Invalid parameter value: clearHistory")
        params = {k: v for k, v in document.items() if k != contract.FIELD_HASH}
        expected = signing.sign(params, self.secret)
        if (
            given_hash != expected
            or query.get(contract.QUERY_HASH) != given_hash
            or query.get(contract.QUERY_LOGIN) != login
        ):
            return _answer(1, "Unauthorized: incorrect secure login or hash")
        game = document.get(contract.FIELD_GAME) or None
        with self._lock:
            if login not in self._known:
                return _answer(17, "Player not found")
            sessions = self._players.setdefault(login, {})
            targets = [game] if game else list(sessions)
            if clear == "1" and not any(sessions.get(g, False) for g in targets):
                return _answer(4, "Round not found")
            for target in targets:
                sessions.pop(target, None)
        return _answer(0, "Success")
