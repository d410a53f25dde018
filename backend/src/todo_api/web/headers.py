"""Request headers read straight from the ASGI scope.

Starlette's `request.headers` builds a case-insensitive view on first use; the hot routes
only ask whether one or two optional headers are there, which a scan of the raw list (names
are lower-case in ASGI) answers for less.
"""

from fastapi import Request


def header_values(request: Request, name: bytes) -> list[str]:
    """Every value of header `name` (lower-case), in order; [] if absent."""
    return [value.decode("latin-1") for key, value in request.scope["headers"] if key == name]


def header_value(request: Request, name: bytes) -> str | None:
    """The first value of header `name` (lower-case), or None."""
    for key, value in request.scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None
