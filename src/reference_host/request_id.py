"""The request id of the task being served, for log records.

The request-id middleware sets it; `RequestIdLogFilter` copies it onto every record passing a
handler, so a format string may use `%(request_id)s` ("-" outside a request).
"""

from __future__ import annotations

import contextvars
import logging
import random
import re

REQUEST_ID_HEADER = "X-Request-ID"
NO_REQUEST_ID = "-"

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "reference_host_request_id", default=NO_REQUEST_ID
)

# An id a client (or a proxy in front of us) may choose; anything else is replaced, so a
# header cannot inject text into log lines.
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")


def choose_request_id(header_value: str | None) -> str:
    if header_value is not None and _ACCEPTED_ID.fullmatch(header_value):
        return header_value
    # An id names a request in logs and is no secret: the process's Mersenne Twister (reseeded
    # in every forked worker) is enough, and unlike os.urandom it costs no system call.
    return f"{random.getrandbits(128):032x}"


class RequestIdLogFilter(logging.Filter):
    """Adds `request_id` to each record. Attach it to handlers: logger filters don't propagate."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


def install_request_id_filter(logger: logging.Logger | None = None) -> None:
    """Attach one `RequestIdLogFilter` to every handler of `logger` (default: the root logger)."""
    target = logger if logger is not None else logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RequestIdLogFilter) for f in handler.filters):
            handler.addFilter(RequestIdLogFilter())
