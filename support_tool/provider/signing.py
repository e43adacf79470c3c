"""The one place that computes the request hash (see the contract's *Hash* section).

Kept tiny and pure so that it can be checked against the contract's test vectors and a
property-based test, and so that the secret never has a reason to leave this function.
"""

from __future__ import annotations

from collections.abc import Mapping

SECRET_MASK = "•••"  # noqa: S105 - the mask shown instead of the secret


def string_to_sign(params: Mapping[str, str]) -> str:
    """``name=value`` of non-empty parameters, sorted by name (byte order), joined by ``&``."""
    present = [(name, value) for name, value in params.items() if value]
    present.sort(key=lambda item: item[0].encode("utf-8"))
    return "&".join(f"{name}={value}" for name, value in present)


def sign(params: Mapping[str, str], secret: str) -> str:
    """Lowercase hex MD5 of the string to sign immediately followed by the secret key."""
    # hashlib loads OpenSSL's libcrypto (~5 ms): at the first signature, not with the
    # module, which the window imports before its first paint; later calls find it loaded.
    import hashlib

    return hashlib.md5(  # noqa: S324 - MD5 is the provider's choice, not ours
        (string_to_sign(params) + secret).encode("utf-8")
    ).hexdigest()


def redacted_signed_string(params: Mapping[str, str]) -> str:
    """What was hashed, with the secret shown as ``•••`` (safe to show and paste)."""
    return string_to_sign(params) + SECRET_MASK
