"""Profiles: which provider endpoint to talk to, and how.

Stored as a small TOML file that an operator can read and fix by hand. Secrets are never
in it: they live in the OS keyring (``secret_store``), keyed by profile name.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from support_tool import contract, paths
from support_tool.atomic import write_text_atomically
from support_tool.config_file import parse_toml, read_config_text
from support_tool.errors import ConfigurationError, InvalidInput
from support_tool.validation import clean_api_url

MAX_NAME_CHARS = 64


@dataclass(frozen=True)
class Profile:
    """One provider endpoint. ``production`` makes the tools ask before risky actions."""

    name: str
    url: str
    timeout: float = contract.DEFAULT_DEADLINE_S
    ca_bundle: str = ""
    production: bool = False
    concurrency: int = contract.DEFAULT_BATCH_CONCURRENCY

    @property
    def api_host(self) -> str:
        return urlsplit(self.url).netloc


def clean_name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise InvalidInput("Give the profile a name.", "name")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"A profile name has at most {MAX_NAME_CHARS} characters.", "name")
    if any(not ch.isprintable() for ch in name):
        raise InvalidInput("A profile name cannot contain control characters.", "name")
    return name


def clean_timeout(value: float) -> float:
    if not (math.isfinite(value) and contract.MIN_DEADLINE_S <= value <= contract.MAX_DEADLINE_S):
        raise InvalidInput(
            f"The timeout must be between {contract.MIN_DEADLINE_S:g} and "
            f"{contract.MAX_DEADLINE_S:g} seconds.",
            "timeout",
        )
    return float(value)


def clean_ca_bundle(raw: str) -> str:
    value = raw.strip()
    if not value:
        return ""
    path = Path(value).expanduser()
    try:
        found = path.is_file()
    except OSError:  # a name too long for the file system, say
        found = False
    if not found:
        raise InvalidInput(f"The CA bundle {value} does not exist or is not a file.", "ca_bundle")
    return str(path.resolve())


def clean_concurrency(value: int) -> int:
    if isinstance(value, bool) or not (1 <= value <= contract.MAX_BATCH_CONCURRENCY):
        raise InvalidInput(
            f"Batch concurrency must be between 1 and {contract.MAX_BATCH_CONCURRENCY} "
            "requests at a time.",
            "concurrency",
        )
    return int(value)


def make_profile(
    name: str,
    url: str,
    timeout: float = contract.DEFAULT_DEADLINE_S,
    ca_bundle: str = "",
    production: bool = False,
    concurrency: int = contract.DEFAULT_BATCH_CONCURRENCY,
) -> Profile:
    """Validate every field; raises :class:`InvalidInput` naming the field at fault."""
    return Profile(
        name=clean_name(name),
        url=clean_api_url(url),
        timeout=clean_timeout(timeout),
        ca_bundle=clean_ca_bundle(ca_bundle),
        production=bool(production),
        concurrency=clean_concurrency(concurrency),
    )


@dataclass(frozen=True)
class ProfileSet:
    """All profiles and which one is the default (immutable; stores save whole sets)."""

    profiles: tuple[Profile, ...] = ()
    default: str = ""

    def names(self) -> list[str]:
        return [p.name for p in self.profiles]

    def get(self, name: str) -> Profile | None:
        return next((p for p in self.profiles if p.name == name), None)

    def resolve(self, name: str | None) -> Profile:
        """The named profile, else the only one, else the default; or a clear error."""
        if name:
            found = self.get(name)
            if found is None:
                known = ", ".join(self.names()) or "none yet"
                raise ConfigurationError(
                    f"There is no profile named {name!r} (profiles: {known}). "
                    "Add it with: support-tool profile add NAME --url URL"
                )
            return found
        if not self.profiles:
            raise ConfigurationError(
                "No profile is set up yet. Add one with: "
                "support-tool profile add NAME --url URL, then support-tool secret set NAME"
            )
        if len(self.profiles) == 1:
            return self.profiles[0]
        found = self.get(self.default)
        if found is None:
            raise ConfigurationError(
                f"Several profiles exist ({', '.join(self.names())}) and none is the default: "
                "choose one with --profile NAME, or run: support-tool profile default NAME"
            )
        return found

    def with_profile(self, profile: Profile, make_default: bool = False) -> ProfileSet:
        """A new set with ``profile`` added, or replacing the one of the same name in place."""
        if profile.name in self.names():
            ordered = tuple(profile if p.name == profile.name else p for p in self.profiles)
        else:
            ordered = (*self.profiles, profile)
        return ProfileSet(ordered, profile.name if make_default else self.default)

    def without(self, name: str) -> ProfileSet:
        return ProfileSet(
            tuple(p for p in self.profiles if p.name != name),
            "" if self.default == name else self.default,
        )


def _toml_string(value: str) -> str:
    # A JSON string literal is a valid TOML basic string (same escapes).
    return json.dumps(value, ensure_ascii=False)


def to_toml(profile_set: ProfileSet) -> str:
    lines = [
        "# support-tool profiles. Secret keys are not stored here: they are in the OS keyring.",
        "# Edit with `support-tool profile ...` or the window's Profiles dialog.",
        f"default = {_toml_string(profile_set.default)}",
    ]
    for p in profile_set.profiles:
        lines += [
            "",
            f"[profiles.{_toml_string(p.name)}]",
            f"url = {_toml_string(p.url)}",
            f"timeout = {p.timeout!r}",
            f"ca_bundle = {_toml_string(p.ca_bundle)}",
            f"production = {'true' if p.production else 'false'}",
            f"concurrency = {p.concurrency}",
        ]
    return "\n".join(lines) + "\n"


_WHAT = "profiles file"
_REDO = "add the profiles again (support-tool profile add NAME --url URL)"


def from_toml(text: str, source: str = "profiles file") -> ProfileSet:
    document = parse_toml(text, source, _WHAT, _REDO)
    profiles: list[Profile] = []
    table = document.get("profiles", {})
    if not isinstance(table, dict):
        raise ConfigurationError(f"The {source} has no valid [profiles] table.")
    for name, fields in table.items():
        if not isinstance(fields, dict):
            raise ConfigurationError(f"Profile {name!r} in the {source} is not a table.")
        try:
            profiles.append(
                make_profile(
                    name,
                    str(fields.get("url", "")),
                    float(fields.get("timeout", contract.DEFAULT_DEADLINE_S)),
                    str(fields.get("ca_bundle", "")),
                    bool(fields.get("production", False)),
                    int(fields.get("concurrency", contract.DEFAULT_BATCH_CONCURRENCY)),
                )
            )
        except (InvalidInput, TypeError, ValueError) as exc:
            raise ConfigurationError(f"Profile {name!r} in the {source} is invalid: {exc}") from exc
    default = document.get("default", "")
    return ProfileSet(tuple(profiles), default if isinstance(default, str) else "")


class ProfileStore:
    """Loads and saves the profile file; every save is atomic."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.profiles_file()

    def load(self) -> ProfileSet:
        text = read_config_text(self.path, _WHAT, _REDO)
        return ProfileSet() if text is None else from_toml(text, str(self.path))

    def save(self, profile_set: ProfileSet) -> None:
        try:
            write_text_atomically(self.path, to_toml(profile_set))
        except OSError as exc:
            raise ConfigurationError(f"Cannot write {self.path}: {exc.strerror}.") from exc
