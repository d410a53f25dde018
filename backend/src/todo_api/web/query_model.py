"""Query strings validated by a pydantic model: one way for every route that reads its own.

Routes parse `request.query_params` themselves (FastAPI's query-model support costs more
than a page's database round trip); errors are FastAPI's own 422s, located in "query", and
`openapi_parameters` documents the same fields.
"""

from typing import Any, ClassVar, Self

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import QueryParams


class QueryModel(BaseModel):
    # Fields that may repeat (?tag=a&tag=b): every value is kept, as a list.
    repeatable: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def from_query(cls, params: QueryParams, **context: Any) -> Self:
        """Validate a request's query string; `context` reaches the model's validators."""
        data = {
            key: params.getlist(key) if key in cls.repeatable else params[key] for key in params
        }
        try:
            return cls.model_validate(data, context=context)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            raise RequestValidationError(
                [{**error, "loc": ("query", *error["loc"])} for error in errors]
            ) from None

    @classmethod
    def openapi_parameters(cls) -> list[dict[str, Any]]:
        """The query parameters, as OpenAPI documents them (for the route's openapi_extra)."""
        schema = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        return [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": field,
                **({"description": field["description"]} if "description" in field else {}),
            }
            for name, field in schema["properties"].items()
        ]
