"""DirectRoute refuses, when a route is defined, anything its lean handler would not honour."""

from typing import Any

import pytest
from fastapi import APIRouter, Query, Request, Response

from todo_api.web.direct_route import DirectRoute


async def with_query(request: Request, page: int = Query(1)) -> Response:
    return Response()


async def returning_data(request: Request) -> dict[str, Any]:
    return {}


async def without_request(item_id: int) -> Response:
    return Response()


@pytest.mark.parametrize("endpoint", [with_query, returning_data, without_request])
def test_unsupported_endpoints_are_refused_at_definition(endpoint: Any) -> None:
    router = APIRouter(route_class=DirectRoute)

    with pytest.raises(TypeError, match="DirectRoute"):
        router.add_api_route("/items/{item_id}", endpoint, methods=["GET"])
