"""Open the audit store this desk is configured for: a team store, or the embedded file.

``SUPPORT_TOOL_AUDIT_URL`` (a managed deployment) wins over ``support-tool audit use``'s
setting; with neither, the trail is the embedded SQLite file. ``--demo`` always keeps its
own embedded demo file, so trying the sandbox never writes to a real trail. The database
driver is imported only when a team store is configured: a desk without one starts as
before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from support_tool.config import paths, team_settings
from support_tool.errors import AuditUnavailable, ConfigurationError

if TYPE_CHECKING:
    from support_tool.audit.store import AuditStore
    from support_tool.audit.team_log import TeamLog
    from support_tool.config.team_settings import TeamStoreSetting

UNREACHABLE_NEXT_STEP = (
    " Nothing is sent while the audit store cannot record it: every action is recorded "
    "there first. Check it with: support-tool audit status"
)


def open_store(demo: bool) -> AuditStore:
    """The configured store, opened (and recovered); raises :class:`AuditUnavailable`
    (exit 4) naming the store and the reason when it cannot be opened."""
    setting = None if demo else team_settings.load()
    if setting is not None:
        return open_team(setting)
    from support_tool.audit.log import AuditLog

    return AuditLog(paths.history_file(demo=demo))


def open_team(setting: TeamStoreSetting) -> TeamLog:
    """The team store ``setting`` names, with its password from the keyring."""
    from support_tool.audit.team_log import TeamLog

    try:
        return TeamLog(setting.url, team_password(setting), setting.display_url)
    except AuditUnavailable as exc:
        text = str(exc).rstrip()
        raise AuditUnavailable(
            (text if text.endswith(".") else text + ".") + UNREACHABLE_NEXT_STEP
        ) from None


def team_password(setting: TeamStoreSetting) -> str | None:
    """The team store's password from the keyring, when the setting says one is there."""
    from support_tool.config.secret_store import KeyringSecrets

    if not setting.password_in_keyring:
        return None
    secrets = KeyringSecrets()
    if not secrets.has(team_settings.KEYRING_USER):
        raise ConfigurationError(
            "The team store's password is not in this desk's keyring any more. Store it "
            "again: support-tool audit use URL (the password is read from standard input)."
        )
    return str(secrets.get(team_settings.KEYRING_USER))
