"""The pure merge engine: deep-merges config fragments in rank order, with provenance.

No I/O and no framework imports here: standard library and ``attrs`` only.
"""

from scoped_app_config.merge.fold import explain_merge, merge_configs, merge_order_key
from scoped_app_config.merge.limits import (
    DocumentLimitExceeded,
    DocumentLimits,
    DocumentTooDeep,
    DocumentTooLarge,
    check_document,
    document_depth,
)
from scoped_app_config.merge.types import Contributor, MergeExplanation, MergeSource

__all__ = [
    "Contributor",
    "DocumentLimitExceeded",
    "DocumentLimits",
    "DocumentTooDeep",
    "DocumentTooLarge",
    "MergeExplanation",
    "MergeSource",
    "check_document",
    "document_depth",
    "explain_merge",
    "merge_configs",
    "merge_order_key",
]
