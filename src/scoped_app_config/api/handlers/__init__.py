"""aiohttp handlers: parse the body, call one service method, serialise the answer."""
