"""What a serving process sets up before it answers: the garbage collector's young threshold."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from reference_host.cli import main
from reference_host.serving import tune_collector
from reference_host.settings import DEFAULT_GC_YOUNG_THRESHOLD


@pytest.fixture
def restored_thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    yield before
    gc.set_threshold(*before)


def test_the_young_threshold_is_raised_and_the_older_ones_kept(
    restored_thresholds: tuple[int, int, int],
) -> None:
    tune_collector(DEFAULT_GC_YOUNG_THRESHOLD)

    assert gc.get_threshold() == (DEFAULT_GC_YOUNG_THRESHOLD, *restored_thresholds[1:])


def test_zero_leaves_the_interpreter_default(restored_thresholds: tuple[int, int, int]) -> None:
    tune_collector(0)

    assert gc.get_threshold() == restored_thresholds


def test_serve_documents_the_option_with_its_default() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])

    assert result.exit_code == 0
    assert "--gc-threshold" in result.output
    assert "50000" in result.output
