"""RFC 6901 JSON Pointers for leaves of merged configs."""


def append_token(pointer: str, key: str) -> str:
    """Extend ``pointer`` by one object key, escaping ``~`` as ``~0`` and ``/`` as ``~1``."""
    return f"{pointer}/{key.replace('~', '~0').replace('/', '~1')}"
