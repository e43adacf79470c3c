"""The command line's exit statuses, in one place.

A leaf module at the package root: the provider layer (an outcome's status), the batch
runner (a batch's status), the command line and the window all name a status from here,
so a number means the same thing everywhere it is returned or documented.
"""

from __future__ import annotations

import enum


class ExitStatus(enum.IntEnum):
    """One status per kind of ending (httpie-style), plus the two Unix conventions."""

    OK = 0
    REFUSED = 1  # the provider refused
    USAGE = 2  # invalid input or usage: nothing was sent
    TRANSPORT = 3  # no valid answer from the provider
    CONFIG = 4  # profile, secret, keyring or audit history problem
    TAMPERED = 5  # the audit history failed verification
    BUG = 70  # EX_SOFTWARE: a defect in support-tool; the report file says where
    INTERRUPTED = 130  # 128 + SIGINT: cancelled with Ctrl+C
