"""Everything specific to the provider's *Close Session* API, in one place.

The provider's page leaves choices open (field limits, how to read odd answers, which
next step to suggest); ``docs/api-contract.md`` fixes them and this module is where
they live, so that adapting the tool to another provider means editing this file only.
"""

from __future__ import annotations

from typing import Final

ENDPOINT_PATH: Final = "/V4/closesession"
QUERY_LOGIN: Final = "MEMB_ID"
QUERY_HASH: Final = "HASH"

FIELD_LOGIN: Final = "secureLogin"
FIELD_GAME: Final = "gameId"
FIELD_CLEAR: Final = "clearHistory"
FIELD_HASH: Final = "hash"

MAX_FIELD_CHARS: Final = 128
MAX_RESPONSE_BYTES: Final = 1024 * 1024
BODY_SNIPPET_CHARS: Final = 200
# Provider text kept (description, raw answer): enough for any real message, bounded so
# that a runaway description cannot bloat the audit history and its index.
MAX_PROVIDER_TEXT_CHARS: Final = 2000

CONNECT_TIMEOUT_S: Final = 5.0
DEFAULT_DEADLINE_S: Final = 15.0
MIN_DEADLINE_S: Final = 1.0
MAX_DEADLINE_S: Final = 300.0
CONNECT_RETRIES: Final = 2
RETRY_BACKOFF_S: Final = (0.25, 0.75)

# Batches: how many requests may be in flight at once, per profile (the provider's page
# sets no figure; 4 is gentle, 16 is the most the tool will open), and how a provider's
# "request limit exceeded" (99) is answered: the row waits and is sent again, the whole
# batch slows down, and after RATE_LIMIT_TRIES answers of 99 the row counts as refused.
DEFAULT_BATCH_CONCURRENCY: Final = 4
MIN_BATCH_CONCURRENCY: Final = 1
MAX_BATCH_CONCURRENCY: Final = 16
MAX_BATCH_RPS: Final = 1000.0
RATE_LIMIT_TRIES: Final = 6
RATE_LIMIT_BACKOFF_S: Final = (0.5, 30.0)  # first wait, longest wait (doubling between)
MIN_ADAPTIVE_RPS: Final = 0.5
UNREACHABLE_STOP: Final = 10  # consecutive rows that could not connect: stop the batch

SUCCESS_CODE: Final = 0
RATE_LIMIT_CODE: Final = 99

# Provider error code -> (provider's meaning, plain-language next step for the operator).
PROVIDER_CODES: Final[dict[int, tuple[str, str]]] = {
    0: ("OK", ""),
    1: (
        "Unauthorized: incorrect secure login or hash",
        "Check the profile's secret key and API URL.",
    ),
    2: (
        "Empty mandatory field",
        "Report a defect: the tool sent an incomplete request.",
    ),
    3: ("Invalid parameter value", "Check the login and game id."),
    4: ("Round not found", "Nothing to clear; the session may already be closed."),
    17: ("Player not found", "Check the login (typo, other brand or environment)."),
    99: ("Request limit exceeded", "Wait and retry later; lower batch concurrency."),
    100: ("Internal error", "Retry later; escalate to the provider if it persists."),
}
OTHER_CODE_NEXT_STEP: Final = "Read the provider's description; escalate to the provider."


def next_step_for_code(code: int) -> str:
    """The next step the contract suggests for a provider error code."""
    known = PROVIDER_CODES.get(code)
    return known[1] if known else OTHER_CODE_NEXT_STEP
