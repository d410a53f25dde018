"""A FastAPI route class that calls its endpoint with less machinery per request.

FastAPI's default handler solves a dependency graph for every request, which cost more
than a task lookup's database query. A direct route's endpoint takes only path parameters,
at most one JSON body (a pydantic model) and the `Request`, and returns a `Response` it
serialised itself. This class reads the endpoint's signature once, validates those with
pydantic's `TypeAdapter` (the same errors and 422s as FastAPI's), and calls the endpoint.
Anything else an endpoint or route declares (dependencies, query, header or cookie
parameters, `BackgroundTasks`, ...) is refused when the route is defined, never ignored.

FastAPI still reads the signature for the OpenAPI document: the route is an `APIRoute`,
documented as FastAPI documents it.
"""

import inspect
import json
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, get_type_hints

import orjson
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

_PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")


class UnsupportedRoute(TypeError):
    """A route declares something a DirectRoute cannot honour."""


@dataclass(frozen=True)
class _Parameter:
    name: str
    adapter: TypeAdapter[Any]


class DirectRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        refused = [key for key in ("dependencies", "callbacks") if kwargs.get(key)]
        if refused:
            raise UnsupportedRoute(f"{path}: a DirectRoute does not take {', '.join(refused)}")
        handler = _handler(path, endpoint)  # refuses an unsupported endpoint before FastAPI
        super().__init__(path, endpoint, **kwargs)

        # The ASGI app without FastAPI's per-request exit stacks (no dependency here has
        # cleanup) or its route-level exception wrapper: errors reach the app's handlers.
        # `Route.app` is what Starlette's router calls for a matched route.
        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handler(Request(scope, receive, send))
            await response(scope, receive, send)

        self.app = app


def _handler(path: str, endpoint: Callable[..., Any]) -> Handler:
    """Validate path parameters and the body as declared by `endpoint`, then call it."""
    hints = get_type_hints(endpoint, include_extras=True)
    if hints.get("return") is not Response or not inspect.iscoroutinefunction(endpoint):
        raise UnsupportedRoute(f"{path}: a DirectRoute endpoint is async and returns a Response")
    in_path = set(_PATH_PARAMETER.findall(path))
    path_parameters: list[_Parameter] = []
    body: _Parameter | None = None
    request_name: str | None = None
    for name, parameter in inspect.signature(endpoint).parameters.items():
        annotation = hints.get(name, Any)
        if annotation is Request:
            request_name = name
        elif name in in_path:
            path_parameters.append(_Parameter(name, TypeAdapter(annotation)))
        elif body is None and _is_body_model(annotation):
            body = _Parameter(name, TypeAdapter(annotation))
        else:
            raise UnsupportedRoute(
                f"{path}: a DirectRoute takes path parameters, one JSON body model and the "
                f"Request; {name!r} ({annotation}) is none of these"
            )
        if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            raise UnsupportedRoute(f"{path}: {name!r} must be a named parameter")
    if request_name is None:
        raise UnsupportedRoute(f"{path}: a DirectRoute endpoint takes the Request")

    async def handler(request: Request) -> Response:
        values: dict[str, Any] = {request_name: request}
        errors: list[Any] = []
        for parameter in path_parameters:  # a matched path has them all
            raw = request.path_params[parameter.name]
            values[parameter.name] = _validate(parameter, raw, ("path", parameter.name), errors)
        if body is not None:
            values[body.name] = _validate(body, await _json_body(request), ("body",), errors)
        if errors:
            raise RequestValidationError(errors)
        response: Response = await endpoint(**values)
        return response

    return handler


def _is_body_model(annotation: Any) -> bool:
    """A pydantic model, or a model or None (an optional body)."""
    members = getattr(annotation, "__args__", None) or (annotation,)
    models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
    return len(models) == 1 and all(m is type(None) or m in models for m in members)


def _validate(parameter: _Parameter, value: Any, loc: tuple[str, ...], errors: list[Any]) -> Any:
    # As FastAPI validates a field: Python mode, attributes allowed, errors located.
    try:
        return parameter.adapter.validate_python(value, from_attributes=True)
    except ValidationError as exc:
        errors += [
            {**error, "loc": (*loc, *error["loc"])} for error in exc.errors(include_url=False)
        ]
        return None


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
