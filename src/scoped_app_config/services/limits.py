"""Configured request and document limits, checked before anything is merged or stored."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from scoped_app_config.domain.errors import LimitExceeded
from scoped_app_config.merge import DocumentLimitExceeded, DocumentLimits, check_document


@attrs.frozen
class RequestLimits:
    document: DocumentLimits = attrs.field(factory=DocumentLimits)
    max_names_per_request: int = 100
    max_items_per_request: int = 100

    def check_names(self, names: Sequence[str]) -> None:
        if len(names) > self.max_names_per_request:
            raise LimitExceeded(
                f"{len(names)} config names exceed the limit of "
                f"{self.max_names_per_request} names per request."
            )

    def check_items(self, count: int) -> None:
        if count > self.max_items_per_request:
            raise LimitExceeded(
                f"{count} items exceed the limit of {self.max_items_per_request} items per request."
            )

    def check_document(self, config_name: str, config: Mapping[str, Any]) -> None:
        try:
            check_document(config, self.document)
        except DocumentLimitExceeded as exc:
            raise LimitExceeded(f"App config '{config_name}': {exc}") from exc
