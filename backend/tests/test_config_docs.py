"""Every setting is documented where operators look: .env.example and the README's table."""

from pathlib import Path

import pytest

from todo_api.config import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("document", [".env.example", "README.md"])
def test_every_setting_is_documented(document: str) -> None:
    text = (ROOT / document).read_text()

    missing = [name.upper() for name in Settings.model_fields if name.upper() not in text]

    assert missing == []
