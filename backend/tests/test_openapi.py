"""/docs shows every route with its responses."""

import re

from httpx import AsyncClient
from openapi_spec_validator import validate

TASK_ROUTES = {
    ("/api/{user_id}/tasks", "get"): "200",
    ("/api/{user_id}/tasks", "post"): "201",
    ("/api/{user_id}/tasks/{task_id}", "get"): "200",
    ("/api/{user_id}/tasks/{task_id}", "put"): "200",
    ("/api/{user_id}/tasks/{task_id}", "delete"): "204",
    ("/api/{user_id}/tasks/{task_id}/complete", "patch"): "200",
}


async def test_docs_page_is_served(client: AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert "swagger-ui" in response.text


async def test_every_task_route_documents_its_responses(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    for (path, method), success in TASK_ROUTES.items():
        responses = paths[path][method]["responses"]
        expected = (
            {success, "401", "403", "422", "429", "503"}
            | ({"404"} if "{task_id}" in path else set())
            | ({"400", "413"} if method in ("post", "put", "patch") else set())
        )
        assert expected <= responses.keys(), (path, method, responses.keys())
        assert "application/problem+json" in responses["422"]["content"]
        assert paths[path][method]["security"] == [{"HTTPBearer": []}]


async def test_docs_offer_bearer_authorization(client: AsyncClient) -> None:
    schemes = (await client.get("/openapi.json")).json()["components"]["securitySchemes"]

    bearer = schemes["HTTPBearer"]
    assert (bearer["type"], bearer["scheme"], bearer["bearerFormat"]) == ("http", "bearer", "JWT")


async def test_list_query_parameters_are_documented(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    parameters = document["paths"]["/api/{user_id}/tasks"]["get"]["parameters"]

    query = {p["name"]: p for p in parameters if p["in"] == "query"}
    assert {"status", "priority", "tag", "q", "sort", "order", "limit", "cursor"} <= query.keys()
    assert query["limit"]["schema"]["maximum"] == 500
    reference = query["priority"]["schema"]["items"]["$ref"]
    assert reference.removeprefix("#/components/schemas/") in document["components"]["schemas"]


async def test_the_document_is_valid_openapi(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    validate(document)  # raises on any violation of the OpenAPI 3.1 schema


async def test_every_error_is_a_typed_problem(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    errors = [
        (path, status, response)
        for path, operations in paths.items()
        for operation in operations.values()
        for status, response in operation["responses"].items()
        if int(status) >= 400
    ]
    assert len(errors) > 40
    for path, status, response in errors:
        assert response["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }, (path, status)


async def test_operations_have_short_ids(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    ids = {op["operationId"] for operations in paths.values() for op in operations.values()}

    assert ids == {
        "listTasks",
        "createTask",
        "applyBatch",
        "getTask",
        "updateTask",
        "deleteTask",
        "completeTask",
        "listTags",
        "listChanges",
        "streamEvents",
        "chat",
        "listConversations",
        "listMessages",
        "health",
        "ready",
    }


async def test_chat_routes_document_their_problems_and_pages(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]

    chat = paths["/api/{user_id}/chat"]["post"]
    assert {"200", "401", "403", "404", "422", "429", "502", "503", "504"} <= chat[
        "responses"
    ].keys()
    assert chat["security"] == [{"HTTPBearer": []}]
    assert document["components"]["schemas"]["ChatRequest"]["examples"]
    for path in ("/api/{user_id}/conversations", "/api/{user_id}/conversations/{id}/messages"):
        operation = paths[path.replace("{id}", "{conversation_id}")]["get"]
        headers = operation["responses"]["200"]["headers"]
        assert headers["X-Total-Count"]["schema"] == {"type": "integer"}
        assert "Link" in headers
        names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert {"limit", "cursor"} <= names
    assert not any(path.startswith(("/mcp", "/.well-known")) for path in paths)


async def test_response_headers_are_typed(client: AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]

    listed = paths["/api/{user_id}/tasks"]["get"]["responses"]["200"]["headers"]
    created = paths["/api/{user_id}/tasks"]["post"]["responses"]["201"]["headers"]
    unavailable = paths["/api/{user_id}/tasks"]["get"]["responses"]["503"]["headers"]

    assert listed["X-Total-Count"]["schema"] == {"type": "integer"}
    assert listed["Link"]["schema"] == {"type": "string"}
    assert listed["RateLimit-Remaining"]["schema"] == {"type": "integer"}
    assert created["Location"]["schema"] == {"type": "string"}
    assert created["ETag"]["schema"] == {"type": "string"}
    assert unavailable["Retry-After"]["schema"] == {"type": "integer"}
    for operations in paths.values():
        for operation in operations.values():
            for response in operation["responses"].values():
                assert "X-Request-ID" in response["headers"]


async def test_request_bodies_have_examples(client: AsyncClient) -> None:
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]

    for name in ("TaskCreate", "TaskUpdate", "TaskCompletion", "TaskBatch"):
        assert schemas[name]["examples"], name


async def test_the_docs_load_nothing_from_elsewhere(client: AsyncClient) -> None:
    pages = [(await client.get(path)).text for path in ("/docs", "/redoc")]
    assets = re.findall(r'(?:src|href)="([^"]+)"', "".join(pages))

    assert assets
    for asset in assets:
        assert asset.startswith("/docs-assets/"), asset
        assert (await client.get(asset)).status_code == 200


async def test_fields_every_answer_carries_are_required(client: AsyncClient) -> None:
    # Optional fields would be `T | undefined` in a generated client, for values always sent.
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]

    assert schemas["Problem"]["required"] == ["type", "title", "status", "detail"]
    assert "next_occurrence" in schemas["TaskCompletionResult"]["required"]
    assert "completed" not in schemas["TaskCreate"]["required"]  # a default: optional to send
