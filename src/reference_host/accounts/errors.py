"""Account errors. They carry `error_code` so layer metrics and the CLI can name them.

AccountError
 ├── DomainNotFound
 ├── KeypairNotFound
 ├── UserNotFound
 └── AccountConflict        (a domain name or email that already exists)
"""

from __future__ import annotations


class AccountError(Exception):
    error_code = "account_operation_failed"


class DomainNotFound(AccountError):
    error_code = "account_domain_not-found"


class KeypairNotFound(AccountError):
    error_code = "account_keypair_not-found"


class UserNotFound(AccountError):
    error_code = "account_user_not-found"


class AccountConflict(AccountError):
    error_code = "account_unique_conflict"
