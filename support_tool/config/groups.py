"""Terminal groups: named lists of terminals a floor manager resets together.

Kept beside the profiles, in ``groups.toml`` in the configuration folder: readable, easy to
fix by hand, written atomically. Each entry is one ``login`` or ``login,gameId`` string,
so the file reads like the CSV it was imported from.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, Protocol

from support_tool.config import paths
from support_tool.config.atomic import write_text_atomically
from support_tool.config.config_file import parse_toml, read_config_text
from support_tool.config.profiles import clean_name
from support_tool.errors import ConfigurationError, InvalidInput

if TYPE_CHECKING:  # the list reader is imported when a group is read: a close needs none
    from support_tool.ops.terminals import Terminal


class Group(NamedTuple):
    """A named list of terminals (a NamedTuple: its module loads before the window's first
    paint, where a frozen dataclass costs ~3.5 M instructions to define)."""

    name: str
    terminals: tuple[Terminal, ...]


def make_group(name: str, terminals: list[Terminal] | tuple[Terminal, ...]) -> Group:
    if not terminals:
        raise InvalidInput("A group needs at least one terminal.", "terminals")
    try:
        clean = clean_name(name)
    except InvalidInput as exc:  # the profile rules, worded for a group
        raise InvalidInput(str(exc).replace("profile", "group"), "name") from None
    return Group(clean, tuple(terminals))


class GroupSource(Protocol):
    def load(self) -> dict[str, Group]: ...
    def save(self, groups: dict[str, Group]) -> None: ...


def groups_to_toml(groups: dict[str, Group]) -> str:
    """The groups file's text; its strings as JSON literals (valid TOML basic strings).
    ``json`` is imported here, when groups are saved, not before the window's first paint."""
    import json

    lines = [
        '# support-tool terminal groups: one "login" or "login,gameId" per entry.',
        "# Edit with `support-tool group ...` or the window's Terminals tab.",
    ]
    for name in sorted(groups, key=str.casefold):
        lines += ["", f"[groups.{json.dumps(name, ensure_ascii=False)}]", "terminals = ["]
        lines += [
            f"  {json.dumps(t.as_line(), ensure_ascii=False)}," for t in groups[name].terminals
        ]
        lines.append("]")
    return "\n".join(lines) + "\n"


_WHAT = "groups file"
_REDO = "save the groups again (support-tool group add NAME FILE)"


def groups_from_toml(text: str, source: str = "groups file") -> dict[str, Group]:
    document = parse_toml(text, source, _WHAT, _REDO)
    table = document.get("groups", {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"The {source} has no valid [groups] table.")
    groups: dict[str, Group] = {}
    for name, fields in table.items():
        entries = fields.get("terminals") if isinstance(fields, dict) else None
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise ConfigurationError(f"Group {name!r} in the {source} has no list of terminals.")
        from support_tool.ops.terminals import parse_terminals

        parsed = parse_terminals("\n".join(entries))
        if parsed.invalid:
            bad = parsed.invalid[0]
            raise ConfigurationError(
                f"Group {name!r} in the {source} has an invalid entry {bad.text!r}: {bad.reason}"
            )
        try:
            groups[name] = make_group(name, parsed.terminals)
        except InvalidInput as exc:
            raise ConfigurationError(f"Group {name!r} in the {source}: {exc}") from exc
    return groups


class GroupStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.groups_file()

    def load(self) -> dict[str, Group]:
        text = read_config_text(self.path, _WHAT, _REDO)
        return {} if text is None else groups_from_toml(text, str(self.path))

    def save(self, groups: dict[str, Group]) -> None:
        try:
            write_text_atomically(self.path, groups_to_toml(groups))
        except OSError as exc:
            raise ConfigurationError(f"Cannot write {self.path}: {exc.strerror}.") from exc


class MemoryGroups:
    """Groups that live as long as the process (the demo writes no configuration)."""

    def __init__(self, groups: dict[str, Group] | None = None) -> None:
        self._groups = dict(groups or {})

    def load(self) -> dict[str, Group]:
        return dict(self._groups)

    def save(self, groups: dict[str, Group]) -> None:
        self._groups = dict(groups)


def demo_groups() -> dict[str, Group]:
    """Groups over the sandbox's terminals, so the demo shows a batch with one click. Their
    names are what an operator types (``--group 'Demo bank A'``): counts are shown beside
    a name, never in it."""
    from support_tool.ops.terminals import Terminal

    bank = make_group("Demo bank A", [Terminal(f"terminal-{n:04d}") for n in range(1, 41)])
    floor = make_group("Demo floor", [Terminal(f"terminal-{n:04d}") for n in range(1, 1001)])
    return {bank.name: bank, floor.name: floor}
