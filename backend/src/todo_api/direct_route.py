"""A FastAPI route class that calls its endpoint with less machinery per request.

FastAPI's default handler solves a dependency graph for every request, which cost more
than a task lookup's database query. The task routes declare only path parameters, an
optional JSON body and the `Request`, and return a `Response` they serialised themselves:
this handler validates exactly those, with FastAPI's own field validation (the same errors,
the same 422s), and calls the endpoint. Routes declaring anything else are refused
when they are defined.
"""

import json
from collections.abc import Callable, Coroutine
from typing import Any, get_type_hints

import orjson
from fastapi import Request, Response
from fastapi.dependencies.utils import request_body_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class DirectRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        handler = self.get_route_handler()

        # The ASGI app without FastAPI's per-request exit stacks (no dependency here has
        # cleanup) or its route-level exception wrapper: errors reach the app's handlers.
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handler(Request(scope, receive, send))
            await response(scope, receive, send)

        self.app = app

    def get_route_handler(self) -> Handler:
        dependant = self.dependant
        unsupported = (
            dependant.dependencies,
            dependant.query_params,
            dependant.header_params,
            dependant.cookie_params,
        )
        endpoint = dependant.call
        assert endpoint is not None
        returns = get_type_hints(endpoint).get("return")
        if any(unsupported) or dependant.request_param_name is None or returns is not Response:
            raise TypeError(
                f"{self.path}: a DirectRoute takes path parameters, a body and the Request, "
                "and returns a Response"
            )
        path_fields = dependant.path_params
        body_fields = dependant.body_params
        request_name = dependant.request_param_name
        embed = self._embed_body_fields

        async def handler(request: Request) -> Response:
            values: dict[str, Any] = {}
            errors: list[Any] = []
            for field in path_fields:  # as request_params_to_args does; a matched path has them all
                value = request.path_params[field.alias]
                values[field.name], field_errors = field.validate(value, loc=("path", field.alias))
                errors += field_errors
            if body_fields:
                body = await _json_body(request)
                body_values, body_errors = await request_body_to_args(body_fields, body, embed)
                values.update(body_values)
                errors += body_errors
            if errors:
                raise RequestValidationError(errors)
            response: Response = await endpoint(**values, **{request_name: request})
            return response

        return handler


async def _json_body(request: Request) -> Any:
    """The body as FastAPI reads it: JSON if declared so, the raw bytes otherwise, None if empty.

    Parsed as strict JSON (RFC 8259): UTF-8 text without a byte-order mark, so a string escape
    naming a lone surrogate (which no database can store) or a NaN is refused like any
    malformed JSON.
    """
    body = await request.body()
    if not body:
        return None
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    maintype, _, subtype = media_type.partition("/")
    if maintype != "application" or not (subtype == "json" or subtype.endswith("+json")):
        return body  # refused by validation: the body must be a JSON object
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as strict_error:
        error: json.JSONDecodeError = strict_error
    try:  # refused: if the standard parser refuses it too, its error is FastAPI's
        json.loads(body)
    except json.JSONDecodeError as exc:
        error = exc
    except (ValueError, RecursionError) as exc:  # not UTF-8, or nested too deep
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from exc
    detail = {
        "type": "json_invalid",
        "loc": ("body", error.pos),
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": error.msg},
    }
    raise RequestValidationError([detail], body=error.doc)
