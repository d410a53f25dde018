"""This request's URL, as the Location and Link headers give it."""

from urllib.parse import quote, urlencode

from fastapi import Request


def with_cursor(request: Request, cursor: str) -> str:
    """This request's URL with `cursor` in place of any cursor it had."""
    query = [(key, value) for key, value in request.query_params.multi_items() if key != "cursor"]
    query.append(("cursor", cursor))
    return f"{without_query(request)}?{urlencode(query)}"


def without_query(request: Request) -> str:
    """This request's URL without its query, the path percent-encoded: a user id may hold
    spaces, non-ASCII letters or delimiters, which Starlette's URL leaves as they are."""
    url = request.url  # scheme and host as Starlette validates them
    path = quote(request.scope["path"], safe=_PATH_SAFE)
    return f"{url.scheme}://{url.netloc}{path}" if url.netloc else path


_PATH_SAFE = "/:@!$&'()*+,;="  # what a path may hold unencoded besides unreserved characters
