"""The app factory refuses what it would otherwise silently ignore."""

import pytest
from asgi_lifespan import LifespanManager

from todo_api.config import Settings, get_settings
from todo_api.main import DependencyOverridesUnsupported, create_app


async def test_dependency_overrides_are_refused_at_start(settings: Settings) -> None:
    app = create_app(settings)
    app.dependency_overrides[get_settings] = lambda: settings

    with pytest.raises(DependencyOverridesUnsupported, match="create_app"):
        async with LifespanManager(app):
            pass
