"""Security suite fixtures: the shared host and accounts (tests/plugin_host_fixtures.py) and a
signed caller per account that counts the requests it sends.
"""

from __future__ import annotations

import pytest
from security_support import Caller, Callers, callers_for

# tests/ is on sys.path for pytest (tests/conftest.py); mypy sees this directory alone.
from plugin_host import Accounts, HostClient  # type: ignore[import-not-found, unused-ignore]


@pytest.fixture
def callers(client: HostClient, accounts: Accounts) -> Callers:
    return callers_for(client, accounts)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if Caller.requests_sent:
        terminalreporter.write_line(
            f"security suite: {Caller.requests_sent} API requests sent by signed test callers"
        )
