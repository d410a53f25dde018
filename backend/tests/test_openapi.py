"""/docs shows every route with its responses."""

from httpx import AsyncClient

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
