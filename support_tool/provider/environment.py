"""What the transport deliberately ignores in the environment, named for the operator.

The rule lives beside the transport that applies it: proxy and CA variables never choose
where a signed request goes or whom it trusts (the profile alone does). ``profile list``
and the profiles dialog name the variables they found, so nobody wonders why a proxy set
in the environment is not used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

# Variables that would choose where requests go or whom they trust, had the transport
# let the environment in (requests and urllib read any ``<scheme>_proxy`` in either case).
_TRUST_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def ignored_environment(environ: Mapping[str, str] | None = None) -> list[str]:
    """Proxy and CA variables set in the environment, which the tool deliberately ignores."""
    source = os.environ if environ is None else environ
    return sorted(
        name
        for name, value in source.items()
        if value and (name.lower().endswith("_proxy") or name.upper() in _TRUST_VARIABLES)
    )


def environment_notices(environ: Mapping[str, str] | None = None) -> list[str]:
    """At most two sentences naming the ignored variables (proxies, then trust), for
    ``profile list`` and the profiles dialog."""
    found = ignored_environment(environ)
    proxies = [name for name in found if name.lower().endswith("_proxy")]
    trust = [name for name in found if name not in proxies]
    notices = []
    for names, why in (
        (proxies, "support-tool uses only the profile's proxy"),
        (trust, "support-tool trusts only its own list of authorities and the profile's CA bundle"),
    ):
        if names:
            listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
            verb = "is" if len(names) == 1 else "are"
            notices.append(f"{listed} {verb} set in the environment and ignored: {why}.")
    return notices
