"""What a serving process sets up before it answers: the garbage collector's young threshold,
and the options `serve` turns into its settings."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from reference_host.cli import main
from reference_host.serving import tune_collector
from reference_host.settings import DEFAULT_GC_YOUNG_THRESHOLD, HostSettings


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


def serve_settings(monkeypatch: pytest.MonkeyPatch, *options: str) -> HostSettings:
    """The settings `serve` would run its workers with (nothing is started)."""
    captured: list[HostSettings] = []
    monkeypatch.setattr(
        "reference_host.serving.run_workers", lambda settings, workers: captured.append(settings)
    )
    result = CliRunner().invoke(
        main,
        ["serve", "--database-url", "postgresql://app@127.0.0.1:5432/app", "--no-redis", *options],
    )
    assert result.exit_code == 0, result.output
    (settings,) = captured
    return settings


def test_the_keypair_cache_ttl_is_an_option_of_serve(monkeypatch: pytest.MonkeyPatch) -> None:
    assert serve_settings(monkeypatch).auth_cache_ttl_seconds == 600
    assert serve_settings(monkeypatch, "--auth-cache-ttl", "3600").auth_cache_ttl_seconds == 3600


def test_a_negative_keypair_cache_ttl_is_refused() -> None:
    result = CliRunner().invoke(main, ["serve", "--auth-cache-ttl", "-1"])

    assert result.exit_code == 2
    assert "--auth-cache-ttl" in result.output
