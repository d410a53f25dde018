"""Headers on every response: no sniffing or framing, API data never cached, HSTS in production."""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# JSON from /api, /mcp and /health is private and never a document: nothing may cache or
# embed it.
_API = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}
_HSTS = {"Strict-Transport-Security": "max-age=63072000; includeSubDomains"}
_API_PATHS = ("/api/", "/mcp", "/health", "/metrics")


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


class SecurityHeaders:
    """Appends the headers as raw bytes, computed once: the app itself never sets them."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        common = _ALWAYS | (_HSTS if hsts else {})
        self._document = _raw(common)
        self._api = _raw(common | _API)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._api if scope["path"].startswith(_API_PATHS) else self._document

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
