"""Profiles: which provider endpoint to talk to, and how.

Stored as a small TOML file that an operator can read and fix by hand. Secrets are never
in it: they live in the OS keyring (``secret_store``), keyed by profile name.
"""

from __future__ import annotations

import functools
import math
from pathlib import Path
from typing import NamedTuple, Protocol
from urllib.parse import urlsplit

from support_tool.config import paths
from support_tool.config.atomic import write_text_atomically
from support_tool.config.config_file import parse_toml, read_config_text
from support_tool.errors import ConfigurationError, InvalidInput
from support_tool.provider import contract
from support_tool.provider.validation import clean_api_url, clean_concurrency, clean_proxy_url

MAX_NAME_CHARS = 64


class Profile(NamedTuple):
    """One provider endpoint. ``production`` makes the tools ask before risky actions.
    A NamedTuple, as ``ProfileSet``: both load before the window's first paint, where a
    frozen dataclass costs ~3.5 M instructions to define (its methods compiled at import)."""

    name: str
    url: str
    timeout: float = contract.DEFAULT_DEADLINE_S
    ca_bundle: str = ""
    production: bool = False
    concurrency: int = contract.DEFAULT_BATCH_CONCURRENCY
    proxy: str = ""  # the only proxy a request may take; the environment's are ignored

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


MAX_CA_BUNDLE_BYTES = 16 * 1024 * 1024
_PEM_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"


def clean_ca_bundle(raw: str, check_file: bool = True) -> str:
    """The CA bundle's absolute path, or "" for none.

    ``check_file=False`` (reading the profile file) only normalises the path: a bundle
    that vanished later must not make every profile unreadable; the close that needs it
    reports it (:func:`check_ca_bundle`).
    """
    value = raw.strip()
    if not value:
        return ""
    if any(not ch.isprintable() for ch in value):
        raise InvalidInput("The CA bundle path cannot contain control characters.", "ca_bundle")
    path = Path(value).expanduser()
    if not check_file:
        return str(path.absolute())
    check_ca_bundle(str(path))
    return str(path.resolve())


def check_ca_bundle(path: str) -> None:
    """Raise :class:`InvalidInput` unless ``path`` is a readable PEM file of certificates.

    Checked when a profile is saved and again before each close (the file may have been
    moved or replaced since); the parse is cached per file version, so a batch pays once.
    """
    try:
        stat = Path(path).stat()
    except OSError:
        stat = None
    if stat is None or not Path(path).is_file():
        raise InvalidInput(f"The CA bundle {path} does not exist or is not a file.", "ca_bundle")
    problem = _ca_bundle_problem(path, stat.st_mtime_ns, stat.st_size)
    if problem:
        raise InvalidInput(problem, "ca_bundle")


@functools.lru_cache(maxsize=32)
def _ca_bundle_problem(path: str, mtime_ns: int, size: int) -> str:
    """Why the file cannot serve as a CA bundle, or "" (cached per path and version)."""
    import ssl  # only when a bundle is used: the window paints without it

    if size > MAX_CA_BUNDLE_BYTES:
        return f"The CA bundle {path} is too large ({size:,} bytes) to be a file of certificates."
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return f"The CA bundle {path} cannot be read ({exc.strerror})."
    if _PEM_CERTIFICATE not in data:
        return (
            f"The CA bundle {path} is not a PEM file of certificates (no "
            "'-----BEGIN CERTIFICATE-----' line). Ask the provider for its CA in PEM form."
        )
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError, OSError) as exc:
        return f"The CA bundle {path} holds no usable certificate ({exc})."
    return ""


def make_profile(
    name: str,
    url: str,
    timeout: float = contract.DEFAULT_DEADLINE_S,
    ca_bundle: str = "",
    production: bool = False,
    concurrency: int = contract.DEFAULT_BATCH_CONCURRENCY,
    proxy: str = "",
    *,
    check_files: bool = True,
) -> Profile:
    """Validate every field; raises :class:`InvalidInput` naming the field at fault.

    ``check_files=False`` skips opening the CA bundle (see :func:`clean_ca_bundle`).
    """
    clean_url = clean_api_url(url)
    return Profile(
        name=clean_name(name),
        url=clean_url,
        timeout=clean_timeout(timeout),
        ca_bundle=clean_ca_bundle(ca_bundle, check_file=check_files),
        production=bool(production),
        concurrency=clean_concurrency(concurrency),
        proxy=clean_proxy_url(proxy, clean_url),
    )


def profile_problem(profile: Profile) -> str:
    """Why ``profile`` cannot be used to send right now, or "" (checked before each close).

    The proxy was checked when the profile was read; the CA bundle is a file that may have
    gone or changed since.
    """
    if not profile.ca_bundle:
        return ""
    try:
        check_ca_bundle(profile.ca_bundle)
    except InvalidInput as exc:
        return f"The CA bundle of profile {profile.name!r} cannot be used: {exc} Nothing was sent."
    return ""


class ProfileSet(NamedTuple):
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
    """A JSON string literal is a valid TOML basic string (same escapes). ``json`` is
    imported here, when profiles are saved: this module loads before the window's first
    paint, which needs no JSON."""
    import json

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
            f"proxy = {_toml_string(p.proxy)}",
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
                    str(fields.get("proxy", "")),
                    check_files=False,
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


class ProfileSource(Protocol):
    """Where a front end reads and saves its profiles: the file, or memory in demo mode."""

    def load(self) -> ProfileSet: ...
    def save(self, profile_set: ProfileSet) -> None: ...


class MemoryProfiles:
    """Profiles that live only as long as the process (demo mode writes no config)."""

    def __init__(self, profile_set: ProfileSet) -> None:
        self._set = profile_set

    def load(self) -> ProfileSet:
        return self._set

    def save(self, profile_set: ProfileSet) -> None:
        self._set = profile_set
