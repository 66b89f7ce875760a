"""Run the host: one process, or N worker processes sharing the port through SO_REUSEPORT."""

from __future__ import annotations

import asyncio
import functools
import gc
import logging
import multiprocessing
import signal
import sys
from collections.abc import Callable

from aiohttp import web

from reference_host.settings import HostSettings


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (Linux, macOS): the same code, a faster event loop."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - platforms without uvloop wheels
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def tune_collector(young_threshold: int) -> None:
    """Collect the young generation every `young_threshold` allocations (0: leave as is)."""
    if young_threshold > 0:
        _, middle, old = gc.get_threshold()
        gc.set_threshold(young_threshold, middle, old)


def _serve_one(settings: HostSettings, reuse_port: bool) -> None:
    from reference_host.app import create_app

    app = create_app(settings)
    # Everything built so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise dominate the hot path's tail latency.
    gc.collect()
    gc.freeze()
    tune_collector(settings.gc_young_threshold)
    web.run_app(
        app,
        loop=new_event_loop(),
        host=settings.host,
        port=settings.port,
        reuse_port=reuse_port,
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
        print=None,
    )


def run_workers(settings: HostSettings, workers: int) -> None:
    print(
        f"serving on http://{settings.host}:{settings.port} with {workers} worker(s)",
        file=sys.stderr,
        flush=True,
    )
    run_in_processes(functools.partial(_serve_one, settings), workers)


def run_in_processes(serve: Callable[[bool], None], workers: int) -> None:
    """`serve(reuse_port)` in this process, or in `workers` spawned processes sharing the port
    through SO_REUSEPORT, stopped together on SIGTERM/SIGINT."""
    if workers <= 1:
        serve(False)
        return
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=serve, args=(True,), daemon=False) for _ in range(workers)
    ]
    for process in processes:
        process.start()

    def stop(signum: int, _frame: object) -> None:
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()
