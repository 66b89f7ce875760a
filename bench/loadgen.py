"""Load generation: `wrk` when it is on PATH, otherwise a bundled asyncio generator.

Both replay a *request spec* (a JSON-lines file written by the harness): one request per line,
`{"method", "path", "headers", "body"}`, headers already signed (the signature does not cover
the body and stays valid for 15 minutes, so the harness signs once per phase). Each connection
walks the list round robin from its own offset, so the load is spread over every user.

The asyncio generator always runs in its own process (`python -m bench.loadgen ...`), never in
the server's, so client and server do not share a GIL:

    python -m bench.loadgen SPEC --base-url URL --connections N --duration S [--rate R] [--once]

`--rate R` is open-loop: requests start at R per second whatever the latency (the side writer
of scenario (f)). `--once` sends every request of the spec exactly once (cache warming).
The result (one JSON object, see `LoadResult`) is printed on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import aiohttp


class SpecRequest(TypedDict):
    method: str
    path: str
    headers: dict[str, str]
    body: str


class LoadResult(TypedDict):
    driver: str
    connections: int
    duration_s: float
    requests: int
    errors: int
    error_detail: dict[str, int]
    rps: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    mean_ms: float
    max_ms: float
    loadavg_1m_before: NotRequired[float]


def write_spec(path: Path, requests: Sequence[SpecRequest]) -> None:
    with path.open("w") as handle:
        for request in requests:
            handle.write(json.dumps(request, separators=(",", ":")) + "\n")


def read_spec(path: Path) -> list[SpecRequest]:
    with path.open() as handle:
        return [json.loads(line) for line in handle if line.strip()]


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarise(
    driver: str,
    connections: int,
    elapsed: float,
    latencies_s: list[float],
    errors: Counter[str],
) -> LoadResult:
    latencies = sorted(latencies_s)
    count = len(latencies)
    return LoadResult(
        driver=driver,
        connections=connections,
        duration_s=round(elapsed, 3),
        requests=count,
        errors=sum(errors.values()),
        error_detail=dict(errors),
        rps=count / elapsed if elapsed > 0 else 0.0,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        p999_ms=percentile(latencies, 0.999) * 1000,
        mean_ms=(sum(latencies) / count * 1000) if count else 0.0,
        max_ms=(latencies[-1] * 1000) if count else 0.0,
    )


def combine(parts: Sequence[LoadResult]) -> LoadResult:
    """Several measurements of one load as one: counts and time added up, so `rps` is their
    overall rate; latency percentiles and the maximum are the worst part's (a percentile of
    the union cannot be recovered from the parts'), the mean is weighted by requests."""
    requests = sum(part["requests"] for part in parts)
    elapsed = sum(part["duration_s"] for part in parts)
    detail: Counter[str] = Counter()
    for part in parts:
        detail.update(part["error_detail"])
    return LoadResult(
        driver=parts[0]["driver"],
        connections=parts[0]["connections"],
        duration_s=round(elapsed, 3),
        requests=requests,
        errors=sum(part["errors"] for part in parts),
        error_detail=dict(detail),
        rps=requests / elapsed if elapsed > 0 else 0.0,
        p50_ms=max(part["p50_ms"] for part in parts),
        p99_ms=max(part["p99_ms"] for part in parts),
        p999_ms=max(part["p999_ms"] for part in parts),
        mean_ms=(
            sum(part["mean_ms"] * part["requests"] for part in parts) / requests
            if requests
            else 0.0
        ),
        max_ms=max(part["max_ms"] for part in parts),
    )


# --- asyncio generator (runs in its own process) ---------------------------------------------


async def _send(
    session: aiohttp.ClientSession,
    base_url: str,
    request: SpecRequest,
    body: bytes,
    latencies: list[float],
    errors: Counter[str],
) -> None:
    started = time.perf_counter()
    try:
        async with session.request(
            request["method"], base_url + request["path"], data=body, headers=request["headers"]
        ) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        errors[type(exc).__name__] += 1
        return
    # Every completed request counts in the latency figures; non-2xx ones also as errors.
    latencies.append(time.perf_counter() - started)
    if status >= 300:
        errors[f"status {status}"] += 1


async def run_asyncio(
    spec: Sequence[SpecRequest],
    base_url: str,
    *,
    connections: int,
    duration: float,
    rate: float | None = None,
    once: bool = False,
) -> LoadResult:
    bodies = [request["body"].encode() for request in spec]
    latencies: list[float] = []
    errors: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, skip_auto_headers=("User-Agent",)
    ) as session:
        started = time.perf_counter()
        if rate is not None:
            in_flight: set[asyncio.Task[None]] = set()
            gate = asyncio.Semaphore(connections)

            async def one(index: int) -> None:
                async with gate:
                    await _send(session, base_url, spec[index], bodies[index], latencies, errors)

            sent = 0
            deadline = started + duration
            while True:
                due = started + sent / rate
                now = time.perf_counter()
                if due >= deadline:
                    break
                if due > now:
                    await asyncio.sleep(due - now)
                task = asyncio.create_task(one(sent % len(spec)))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                sent += 1
            if in_flight:
                await asyncio.gather(*in_flight)
        else:
            stop_at = started + duration

            async def connection(offset: int) -> None:
                index = offset
                while True:
                    if once:
                        if index >= len(spec):
                            return
                    elif time.perf_counter() >= stop_at:
                        return
                    position = index % len(spec)
                    await _send(
                        session, base_url, spec[position], bodies[position], latencies, errors
                    )
                    index += connections if once else 1

            step = 1 if once else max(1, len(spec) // connections)
            await asyncio.gather(*(connection(c * step) for c in range(connections)))
        elapsed = time.perf_counter() - started
    return summarise("asyncio", connections, elapsed, latencies, errors)


def run_asyncio_process(
    spec_path: Path,
    base_url: str,
    *,
    connections: int,
    duration: float,
    rate: float | None = None,
    once: bool = False,
) -> subprocess.Popen[str]:
    """Start the asyncio generator in its own process; `collect` returns its result."""
    command = [
        sys.executable,
        "-m",
        "bench.loadgen",
        str(spec_path),
        "--base-url",
        base_url,
        "--connections",
        str(connections),
        "--duration",
        str(duration),
    ]
    if rate is not None:
        command += ["--rate", str(rate)]
    if once:
        command.append("--once")
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=_repo_root())


def collect(process: subprocess.Popen[str], timeout: float) -> LoadResult:
    out, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed with {process.returncode}")
    result: LoadResult = json.loads(out.strip().splitlines()[-1])
    return result


def _repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


# --- wrk -------------------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- Generated by bench/loadgen.py: replays a request list round robin, then prints JSON.
local data_path = "%(data)s"
local requests = {}
local counter = 1
local threads_started = 0

function setup(thread)
  thread:set("thread_index", threads_started)
  threads_started = threads_started + 1
end

function init(args)
  for line in io.lines(data_path) do
    local method, path, host, date, auth, body = line:match(
      "^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = { ["Host"] = host, ["Content-Type"] = "application/json" }
    if date ~= "" then
      headers["Date"] = date
      headers["Authorization"] = auth
      headers["X-BackendAI-Version"] = "%(api_version)s"
    end
    requests[#requests + 1] = wrk.format(method, path, headers, body)
  end
  counter = ((thread_index or 0) * 7919) %% #requests + 1
end

function request()
  local r = requests[counter]
  counter = counter %% #requests + 1
  return r
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\"requests\":%%d,\"duration_us\":%%d,\"connect\":%%d,\"read\":%%d," ..
    "\"write\":%%d,\"status\":%%d,\"timeout\":%%d,\"p50_us\":%%f,\"p99_us\":%%f," ..
    "\"p999_us\":%%f,\"mean_us\":%%f,\"max_us\":%%f}\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9),
    latency.mean, latency.max))
end
"""


def wrk_path() -> str | None:
    if os.environ.get("BENCH_NO_WRK"):
        return None
    return shutil.which("wrk")


def wrk_version() -> str | None:
    path = wrk_path()
    if path is None:
        return None
    result = subprocess.run([path, "-v"], capture_output=True, text=True)
    match = re.search(r"wrk \S+", result.stdout + result.stderr)
    return match.group(0) if match else "wrk"


def run_wrk(
    spec: Sequence[SpecRequest],
    base_url: str,
    *,
    connections: int,
    duration: float,
    threads: int,
    api_version: str,
) -> LoadResult:
    path = wrk_path()
    if path is None:
        raise RuntimeError("wrk is not on PATH")
    host = base_url.split("://", 1)[1].rstrip("/")
    with tempfile.TemporaryDirectory(prefix="sac-wrk-") as work:
        data = Path(work) / "requests.tsv"
        with data.open("w") as handle:
            for request in spec:
                headers = request["headers"]
                fields = [
                    request["method"],
                    request["path"],
                    host,
                    headers.get("Date", ""),
                    headers.get("Authorization", ""),
                    request["body"],
                ]
                if any("\t" in field or "\n" in field for field in fields):
                    raise ValueError("a request field holds a tab or a newline")
                handle.write("\t".join(fields) + "\n")
        script = Path(work) / "replay.lua"
        script.write_text(WRK_SCRIPT % {"data": str(data), "api_version": api_version})
        command = [
            path,
            f"-t{max(1, min(threads, connections))}",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            base_url,
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    match = re.search(r"BENCH_JSON (\{.*\})", result.stdout)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stdout}\n{result.stderr}")
    raw: dict[str, Any] = json.loads(match.group(1))
    elapsed = raw["duration_us"] / 1e6
    errors = {
        key: int(raw[key])
        for key in ("connect", "read", "write", "status", "timeout")
        if int(raw[key])
    }
    return LoadResult(
        driver="wrk",
        connections=connections,
        duration_s=round(elapsed, 3),
        requests=int(raw["requests"]),
        errors=sum(errors.values()),
        error_detail=errors,
        rps=raw["requests"] / elapsed if elapsed > 0 else 0.0,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        p999_ms=raw["p999_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen")
    parser.add_argument("spec", type=Path)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--once", action="store_true")
    args = parser.parse_args(argv)
    result = asyncio.run(
        run_asyncio(
            read_spec(args.spec),
            args.base_url.rstrip("/"),
            connections=args.connections,
            duration=args.duration,
            rate=args.rate,
            once=args.once,
        )
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
