"""DirectRoute refuses, when a route is defined, anything its lean handler would not honour,
and validates what it does take as FastAPI would."""

from typing import Annotated, Any

import pytest
from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    FastAPI,
    Header,
    Path,
    Query,
    Request,
    Response,
)
from fastapi.routing import APIRoute
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel, ConfigDict

from todo_api.web.direct_route import DirectRoute, UnsupportedRoute


def _settings() -> str:
    return "settings"


async def with_query(request: Request, page: int = Query(1)) -> Response:
    return Response()


async def with_default_scalar(request: Request, page: int = 1) -> Response:
    return Response()


async def with_header(request: Request, x_token: Annotated[str, Header()]) -> Response:
    return Response()


async def with_dependency(request: Request, value: Annotated[str, Depends(_settings)]) -> Response:
    return Response()


async def with_background_tasks(request: Request, tasks: BackgroundTasks) -> Response:
    return Response()


async def with_response_parameter(request: Request, response: Response) -> Response:
    return Response()


async def returning_data(request: Request) -> dict[str, Any]:
    return {}


async def without_request(item_id: int) -> Response:
    return Response()


def not_async(request: Request) -> Response:
    return Response()


@pytest.mark.parametrize(
    "endpoint",
    [
        with_query,
        with_default_scalar,
        with_header,
        with_dependency,
        with_background_tasks,
        with_response_parameter,
        returning_data,
        without_request,
        not_async,
    ],
)
def test_unsupported_endpoints_are_refused_at_definition(endpoint: Any) -> None:
    router = APIRouter(route_class=DirectRoute)

    with pytest.raises(UnsupportedRoute, match="DirectRoute"):
        router.add_api_route("/items/{item_id}", endpoint, methods=["GET"])


async def plain(request: Request) -> Response:
    return Response()


def test_router_dependencies_are_refused_at_definition() -> None:
    router = APIRouter(route_class=DirectRoute, dependencies=[Depends(_settings)])

    with pytest.raises(UnsupportedRoute, match="dependencies"):
        router.add_api_route("/items", plain, methods=["GET"])


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


async def echo(item_id: Annotated[int, Path(gt=0)], body: Item, request: Request) -> Response:
    return Response(f"{item_id}:{body.name}")


def _app(route_class: type) -> FastAPI:
    app = FastAPI()
    router = APIRouter(route_class=route_class)
    router.add_api_route("/items/{item_id}", echo, methods=["POST"])
    app.include_router(router)
    return app


CASES = [
    ("/items/3", {"name": "x"}),
    ("/items/0", {"name": "x"}),
    ("/items/abc", {"name": 5}),
    ("/items/3", {"name": "x", "other": 1}),
    ("/items/3", None),
]


@pytest.mark.parametrize(("path", "body"), CASES)
async def test_validation_matches_fastapi(path: str, body: Any) -> None:
    """The same status and error list as FastAPI's own route for the same declaration."""
    answers = []
    for route_class in (DirectRoute, APIRoute):
        transport = ASGITransport(app=_app(route_class))
        async with AsyncClient(transport=transport, base_url="http://test") as http:
            response = await http.post(path, json=body)
        answers.append((response.status_code, response.text))

    assert answers[0] == answers[1]
