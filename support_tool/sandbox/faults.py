"""The faults the sandbox can inject: each is one way a provider or a network misbehaves.

Apart from the server so that the command line can list them without importing it.
"""

from __future__ import annotations

FAULTS: dict[str, str] = {
    "none": "answer normally",
    "http500": "HTTP 500 with an HTML error page",
    "notfound": "HTTP 404 with an HTML page",
    "badjson": "HTTP 200 with a body that is not JSON",
    "wrongshape": "HTTP 200 with JSON that has no 'error' field",
    "stringerror": "HTTP 200 with 'error' as a string",
    "drip": "send the answer one byte a second",
    "reset": "reset the connection without answering",
    "ratelimit": "answer error 99, request limit exceeded",
    "internal": "answer error 100, internal error",
    "badparam": "answer error 3, invalid parameter value",
    "redirect": "HTTP 302 to another address",
    "bigbody": "HTTP 200 with a 50 MB body",
    "hang": "accept the request and never answer",
    "longdescription": "answer error 100 with a 900 KB description",
    "duplicatekeys": "answer error 17, then 'error' again as 0 in the same object",
}
