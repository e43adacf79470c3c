"""Which audit store this desk writes to: the embedded file, or a team store on PostgreSQL.

A single desk needs no set-up: with nothing configured the trail stays in the embedded
SQLite file. ``support-tool audit use URL`` keeps a team store's libpq URL in
``audit-store.toml`` next to ``profiles.toml`` (mode 0600, written atomically); its
password, if it needs one, lives in the keyring under :data:`KEYRING_USER`, never in a
file or the URL. A managed deployment sets ``SUPPORT_TOOL_AUDIT_URL`` instead, which wins
over the file (its password then comes from libpq's own sources: a client certificate,
``PGPASSFILE`` or Kerberos; the keyring is not read).

Nothing here talks to the database or imports its driver: this module only reads and
writes the setting, so a desk without the ``team`` extra starts exactly as before.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from support_tool.config import paths
from support_tool.config.atomic import write_text_atomically
from support_tool.errors import ConfigurationError, InvalidInput

URL_ENV = "SUPPORT_TOOL_AUDIT_URL"
# The keyring entry's user name (service "support-tool", as provider secrets). Longer than
# any profile name may be (64 characters), so no provider profile can overwrite it.
KEYRING_USER = "audit-store: the team audit trail's database password (not a provider profile)"
MAX_URL_CHARS = 2000
_URL_SCHEMES = ("postgresql://", "postgres://")
_KEYWORD_PASSWORD = re.compile(r"(?<![\w])password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)")
MASK = "***"


def settings_file() -> Path:
    return paths.config_dir() / "audit-store.toml"


@dataclass(frozen=True)
class TeamStoreSetting:
    """A team store to use: its URL (no password unless the environment put one there),
    whether its password is in the keyring, and where the setting came from."""

    url: str
    password_in_keyring: bool
    source: str  # "SUPPORT_TOOL_AUDIT_URL" or the settings file's path

    @property
    def display_url(self) -> str:
        return mask_password(self.url)


def _is_url(conninfo: str) -> bool:
    return conninfo.startswith(_URL_SCHEMES)


def has_password(conninfo: str) -> bool:
    """Whether a libpq URL or ``key=value`` string carries a password itself."""
    if _is_url(conninfo):
        parts = urlsplit(conninfo)
        if parts.password is not None:
            return True
        return any(key == "password" for key, _ in parse_qsl(parts.query))
    return bool(_KEYWORD_PASSWORD.search(conninfo))


def mask_password(conninfo: str) -> str:
    """The URL as people may see it: any password replaced by ``***``."""
    if not _is_url(conninfo):
        return _KEYWORD_PASSWORD.sub(f"password={MASK}", conninfo)
    parts = urlsplit(conninfo)
    netloc = parts.netloc
    if parts.password is not None:
        userinfo, _, hosts = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}:{MASK}@{hosts}"
    query = parts.query
    pairs = parse_qsl(query, keep_blank_values=True)
    if any(key == "password" for key, _ in pairs):
        query = urlencode([(k, MASK if k == "password" else v) for k, v in pairs], safe="/*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def clean_url(raw: str) -> str:
    """A URL ``audit use`` may store: a libpq URL or key=value string without a password."""
    url = raw.strip()
    if not url:
        raise InvalidInput("Give the team store's URL, e.g. postgresql://desk07@db.example/audit")
    if len(url) > MAX_URL_CHARS or any(not ch.isprintable() for ch in url):
        raise InvalidInput("That is not a database URL (too long, or control characters).")
    if not (_is_url(url) or "=" in url):
        raise InvalidInput(
            "A team store URL starts with postgresql:// (for example "
            "postgresql://desk07@db.example/audit?sslmode=verify-full) or is a libpq "
            "'host=... dbname=... user=...' string."
        )
    if has_password(url):
        raise InvalidInput(
            "The URL contains a password, which would be stored in a file and shown in "
            "process lists. Remove it (postgresql://USER@HOST/DB, no ':PASSWORD' and no "
            "password= part) and give the password on standard input instead: it is kept "
            "in the keyring."
        )
    return url


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load() -> TeamStoreSetting | None:
    """The team store in use, or None for the embedded file."""
    from_env = os.environ.get(URL_ENV, "").strip()
    if from_env:
        return TeamStoreSetting(from_env, password_in_keyring=False, source=URL_ENV)
    return load_file()


def load_file() -> TeamStoreSetting | None:
    """The team store kept in this desk's settings file, whatever the environment says."""
    path = settings_file()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigurationError(
            f"The audit store setting {path} cannot be read ({exc}). Fix it, or run "
            "'support-tool audit use --embedded' to return to the embedded file."
        ) from exc
    section = data.get("team_store")
    if section is None:
        return None
    url = section.get("url") if isinstance(section, dict) else None
    keyring = section.get("password_in_keyring", False) if isinstance(section, dict) else None
    if not isinstance(url, str) or not url or not isinstance(keyring, bool):
        raise ConfigurationError(
            f"The audit store setting {path} is not in the expected form. Run "
            "'support-tool audit use URL' again, or 'support-tool audit use --embedded'."
        )
    return TeamStoreSetting(url, password_in_keyring=keyring, source=str(path))


def save(url: str, password_in_keyring: bool) -> Path:
    """Keep the team store's URL (already cleaned: no password) for this desk."""
    path = settings_file()
    text = (
        "# support-tool: this desk's audit trail is kept in a team store (PostgreSQL).\n"
        "# Change it with: support-tool audit use URL   (or --embedded to go back)\n"
        "[team_store]\n"
        f"url = {_toml_string(url)}\n"
        f"password_in_keyring = {'true' if password_in_keyring else 'false'}\n"
    )
    write_text_atomically(path, text)
    path.chmod(0o600)
    return path


def forget() -> bool:
    """Return to the embedded store; False when no team store was set in the file."""
    path = settings_file()
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
