"""Profile secret keys in the OS keyring, and nowhere else.

Service ``support-tool``, user name = profile name. A secret is read only when a request
is signed. When no usable keyring backend exists (including keyring's ``fail`` and
``null`` backends), the operator gets a message saying how to fix it: there is no
plaintext fallback, on purpose.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from support_tool import APP_NAME
from support_tool.errors import ConfigurationError, InvalidInput, KeyringUnavailable

SERVICE = APP_NAME
KEYRING_TIMEOUT_S = 5.0  # a Secret Service that has not answered by then is stuck
# Windows Credential Manager holds at most 2,560 bytes a credential (CRED_MAX_CREDENTIAL_BLOB_SIZE)
# and keyring stores it as UTF-16, so 1,280 characters. Checked on every OS, so that a key
# accepted on one desk is accepted on all, with words instead of Windows' error 1783.
MAX_SECRET_BYTES = 2560

T = TypeVar("T")


class SecretSource(Protocol):
    """Where signing gets a profile's secret key."""

    def get(self, profile: str) -> str: ...


def how_to_fix_keyring() -> str:
    if sys.platform == "win32":
        return "Windows Credential Manager should be available; reinstall support-tool."
    if sys.platform == "darwin":
        return "Unlock the login Keychain (Keychain Access) and try again."
    return (
        "Start a Secret Service keyring: log in to a desktop session with GNOME Keyring or "
        "KWallet, or install gnome-keyring and run the tool inside a desktop session "
        "(for a terminal-only machine: dbus-run-session plus gnome-keyring-daemon --unlock)."
    )


def _no_keyring(detail: str) -> KeyringUnavailable:
    return KeyringUnavailable(
        f"No working keyring to keep secret keys in ({detail}). {how_to_fix_keyring()} "
        "support-tool never stores secret keys in a file."
    )


def check_secret_size(secret: str) -> None:
    """Refuse, in words, a key too long for the Windows Credential Manager."""
    size = len(secret.encode("utf-16-le", "surrogatepass"))
    if size > MAX_SECRET_BYTES:
        raise InvalidInput(
            f"The secret key is too long ({len(secret):,} characters): the Windows keyring "
            f"holds at most {MAX_SECRET_BYTES // 2:,}, and support-tool keeps to that limit on "
            "every computer. Nothing was stored. Check that only the key was pasted; "
            "provider keys are usually well under 100 characters."
        )


def _missing(profile: str) -> ConfigurationError:
    return ConfigurationError(
        f"No secret key is stored for profile {profile!r}. Store it with: "
        f"support-tool secret set {profile}"
    )


class MemorySecrets:
    """Secrets held in memory only: the ``--demo`` sandbox profile, never written anywhere."""

    def __init__(self, secrets: dict[str, str] | None = None) -> None:
        self._secrets = dict(secrets or {})

    def get(self, profile: str) -> str:
        try:
            return self._secrets[profile]
        except KeyError:
            raise _missing(profile) from None

    def set(self, profile: str, secret: str) -> None:
        self._secrets[profile] = secret

    def delete(self, profile: str) -> bool:
        return self._secrets.pop(profile, None) is not None

    def has(self, profile: str) -> bool:
        return profile in self._secrets


class BatchSecrets:
    """A batch's view of a secret source: each profile's key is read once, when the batch
    signs its first request, and held only until the batch ends.

    Reading the Secret Service costs about 15 ms a call and its D-Bus objects can vanish
    under concurrent readers, so eight workers reading it per row were both slow (a 1,000-row
    batch spent 12 s in the keyring) and flaky. A failure is remembered for the batch too:
    it stops the batch anyway, and workers queued behind the first read must not each try
    again, or a frozen keyring daemon costs its 5 s bound once per worker (80 s at 16).
    """

    def __init__(self, source: SecretSource) -> None:
        self._source = source
        self._held: dict[str, str] = {}
        self._failed: dict[str, ConfigurationError] = {}
        self._lock = threading.Lock()

    def get(self, profile: str) -> str:
        with self._lock:
            failed = self._failed.get(profile)
            if failed is not None:  # a fresh exception per caller: threads share no traceback
                raise type(failed)(str(failed))
            secret = self._held.get(profile)
            if secret is None:
                try:
                    secret = self._held[profile] = self._source.get(profile)
                except ConfigurationError as exc:
                    self._failed[profile] = exc
                    raise
            return secret

    def forget(self) -> None:
        with self._lock:
            self._held.clear()
            self._failed.clear()


class KeyringSecrets:
    """The OS keyring via the ``keyring`` package, with every failure worded for people.

    Calls run on a helper thread with a time limit, because a Secret Service daemon that
    does not answer would otherwise hang the tool forever.
    """

    def __init__(self, backend: object | None = None, timeout_s: float = KEYRING_TIMEOUT_S) -> None:
        self._backend = backend
        self._timeout_s = timeout_s

    def backend(self) -> object:
        """The usable keyring backend, or :class:`KeyringUnavailable`."""
        if self._backend is None:
            import keyring

            self._backend = keyring.get_keyring()
        from keyring.backends import chainer, fail, null

        backend = self._backend
        if isinstance(backend, fail.Keyring | null.Keyring):
            raise _no_keyring(f"the keyring library found no backend: {type(backend).__module__}")
        if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
            raise _no_keyring("the keyring library found no backend")
        return backend

    def _call(self, what: str, action: Callable[[object], T]) -> T:
        import keyring.errors

        backend = self.backend()
        outcome: list[T] = []
        failure: list[BaseException] = []

        def run() -> None:
            try:
                outcome.append(action(backend))
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread
                failure.append(exc)

        worker = threading.Thread(target=run, name="support-tool-keyring", daemon=True)
        worker.start()
        worker.join(self._timeout_s)
        if worker.is_alive():
            raise _no_keyring(
                f"the keyring did not answer within {self._timeout_s:g} s while {what}"
            )
        if failure:
            exc = failure[0]
            if isinstance(exc, keyring.errors.KeyringLocked):
                raise KeyringUnavailable(
                    f"The keyring is locked ({what}). Unlock it (log in to the desktop or "
                    "unlock the keyring app) and try again."
                ) from None
            if isinstance(exc, keyring.errors.NoKeyringError):
                raise _no_keyring("no backend") from None
            if isinstance(exc, Exception):
                # keyring.errors, D-Bus and secretstorage errors (a collection replaced under
                # us, a daemon restarting): whatever the backend raised, the operator gets
                # the keyring problem in words and the tool carries on; nothing crashes.
                raise _no_keyring(f"{type(exc).__name__} while {what}: {exc}") from None
            raise exc
        return outcome[0]

    def get(self, profile: str) -> str:
        secret = self._call("reading a secret key", lambda b: b.get_password(SERVICE, profile))  # type: ignore[attr-defined]
        if not secret:
            raise _missing(profile)
        return str(secret)

    def has(self, profile: str) -> bool:
        return bool(self._call("reading a secret key", lambda b: b.get_password(SERVICE, profile)))  # type: ignore[attr-defined]

    def set(self, profile: str, secret: str) -> None:
        if not secret:
            raise ConfigurationError("The secret key is empty: nothing was stored.")
        check_secret_size(secret)
        self._call("storing a secret key", lambda b: b.set_password(SERVICE, profile, secret))  # type: ignore[attr-defined]

    def delete(self, profile: str) -> bool:
        """Delete the secret; False when there was none."""
        import keyring.errors

        def remove(backend: object) -> bool:
            try:
                backend.delete_password(SERVICE, profile)  # type: ignore[attr-defined]
            except keyring.errors.PasswordDeleteError:
                return False
            return True

        return self._call("deleting a secret key", remove)
