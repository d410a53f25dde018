"""The route dependency: a valid bearer token whose subject is the path's user."""

import logging
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from todo_api.auth.jwks import JwksUnavailable
from todo_api.auth.verifier import InvalidToken, TokenVerifier
from todo_api.errors import Forbidden, ServiceUnavailable, Unauthorized
from todo_api.rate_limit import RateLimiter
from todo_api.tasks.dependencies import OwnerPath

logger = logging.getLogger(__name__)

# auto_error=False: a missing token gets our own 401 problem, not FastAPI's 403.
bearer_scheme = HTTPBearer(
    bearerFormat="JWT",
    auto_error=False,
    description="A Better Auth JWT; in development, `todo-api token <user_id>` prints one.",
)


async def authorized_user(
    user_id: OwnerPath,
    request: Request,
    response: Response,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> str:
    """The path's user_id, once a bearer token proves the caller is that user.

    Requests without a valid token are rate-limited per client address, before any token
    or database work; signed-in users are rate-limited per user.
    """
    limiter: RateLimiter = request.state.rate_limiter
    address = request.client.host if request.client else "unknown"
    if credentials is None:
        await limiter.spend_address(address)
        raise Unauthorized("A bearer token is required.", invalid_token=False)
    await limiter.check_address(address)
    verifier: TokenVerifier = request.state.verifier
    try:
        subject = await verifier.subject(credentials.credentials)
    except InvalidToken as exc:
        # The reason is logged for operators; the token itself never is.
        logger.info("rejected token on %s %s: %s", request.method, request.url.path, exc)
        await limiter.spend_address(address)
        raise Unauthorized("The bearer token is invalid or expired.", invalid_token=True) from None
    except JwksUnavailable:
        logger.warning("cannot verify tokens: the JWKS is unreachable and no keys are cached")
        raise ServiceUnavailable(
            "Tokens cannot be verified right now; try again shortly."
        ) from None
    response.headers.update((await limiter.spend_user(subject)).headers())
    if subject != user_id:
        raise Forbidden("The token does not belong to this user.")
    return user_id


AuthorizedUser = Annotated[str, Depends(authorized_user)]
