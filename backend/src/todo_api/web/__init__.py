"""The HTTP layer: the route class, middleware, app state and health probes."""
