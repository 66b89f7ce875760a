"""The two ceilings, as their own small server processes (same aiohttp, same settings as the host).

    python -m bench.baselines fixed --port P [--workers N]
    python -m bench.baselines redis --port P --redis-url URL --key KEY [--workers N]

(a) `fixed`: any POST is answered with a fixed ~1 KiB JSON body.
(b) `redis`: any POST is answered with the value of one Redis GET of KEY (the harness stores a
    real merged-read response there, so (b) returns the same bytes as (c)), through a blocking
    pool of 64 connections.

Both read the request body (as the host does), run without an access log and, for N > 1,
share the port through SO_REUSEPORT exactly as `reference-host serve --workers N` does.
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import AsyncIterator, Sequence

from aiohttp import web
from redis.asyncio import BlockingConnectionPool, Redis

from reference_host.serving import new_event_loop, run_in_processes

FIXED_BODY = json.dumps(
    {
        "app_configs": [
            {
                "config_name": f"baseline_{i}",
                "config": {"theme": {"color": "#336699", "dark": True}, "widgets": list(range(40))},
            }
            for i in range(5)
        ]
    },
    separators=(",", ":"),
).encode()
REDIS_CLIENT: web.AppKey[Redis] = web.AppKey("redis_client", Redis)


async def fixed_handler(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(body=FIXED_BODY, content_type="application/json")


def fixed_app() -> web.Application:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fixed_handler)
    return app


def redis_app(redis_url: str, key: str) -> web.Application:
    async def handler(request: web.Request) -> web.Response:
        await request.read()
        value = await request.app[REDIS_CLIENT].get(key)
        if value is None:
            raise web.HTTPNotFound(text=f"{key} is not set")
        return web.Response(body=value, content_type="application/json")

    async def client_context(app: web.Application) -> AsyncIterator[None]:
        # A blocking pool: more concurrent requests than connections wait for one instead of
        # failing with "Too many connections" (redis-py's default pool caps at 100 and raises).
        pool = BlockingConnectionPool.from_url(redis_url, max_connections=64)
        client = Redis(connection_pool=pool)
        app[REDIS_CLIENT] = client
        yield
        await client.aclose()

    app = web.Application()
    app.cleanup_ctx.append(client_context)
    app.router.add_route("*", "/{tail:.*}", handler)
    return app


def _serve(args: argparse.Namespace, reuse_port: bool) -> None:
    app = fixed_app() if args.kind == "fixed" else redis_app(args.redis_url, args.key)
    web.run_app(
        app,
        loop=new_event_loop(),  # the host's event loop (uvloop): ceilings on equal terms
        host="127.0.0.1",
        port=args.port,
        reuse_port=reuse_port,
        access_log=None,
        print=None,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baselines")
    parser.add_argument("kind", choices=("fixed", "redis"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--redis-url")
    parser.add_argument("--key", default="bench:baseline")
    args = parser.parse_args(argv)
    if args.kind == "redis" and not args.redis_url:
        parser.error("redis needs --redis-url")
    run_in_processes(functools.partial(_serve, args), args.workers)


if __name__ == "__main__":
    main()
