"""Where LISTEN goes: never through a pooler that drops notifications, without a word."""

from tests.conftest import make_settings
from todo_api.sync.listener import listen_url, pooled_listen_warning

POOLED = "postgresql://u:secret@ep-cool-1-pooler.eu-central-1.aws.neon.tech/db?sslmode=require"
DIRECT = "postgresql://u:secret@ep-cool-1.eu-central-1.aws.neon.tech/db?sslmode=require"


def test_a_pooled_url_for_listen_is_warned_about_without_the_password() -> None:
    warning = pooled_listen_warning(make_settings(POOLED))

    assert warning is not None
    assert "EVENTS_DATABASE_URL" in warning
    assert "secret" not in warning


def test_a_direct_events_url_takes_over() -> None:
    settings = make_settings(POOLED, events_database_url=DIRECT)

    assert listen_url(settings) == DIRECT
    assert pooled_listen_warning(settings) is None
    assert pooled_listen_warning(make_settings(DIRECT)) is None
