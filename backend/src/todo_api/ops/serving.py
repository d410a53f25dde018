"""The app as a `todo-api serve` worker runs it: one long-lived process per worker."""

import gc

from fastapi import FastAPI

from todo_api.main import create_app

# Net allocations between young-generation collections (CPython's default is 700). Under
# load, 32 requests in flight keep their objects alive across many small collections, which
# promotes them into the old generations and sets off full collections.
YOUNG_COLLECTION_THRESHOLD = 10_000


def create_served_app() -> FastAPI:
    """Build the app, then tune the garbage collector for a long-running server.

    Modules, routes and schemas live as long as the process: frozen, full collections no
    longer re-scan them. Under the get benchmark full collections had cost 13% of the
    worker's CPU and most of its p99 latency (bench/README.md). Tests build apps with
    `create_app`, so their garbage is never frozen.
    """
    app = create_app()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
    return app
