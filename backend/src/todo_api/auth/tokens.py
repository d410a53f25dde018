"""Mint HS256 tokens this server accepts: `todo-api token <user_id>` for curl and /docs."""

import sys
import time

import jwt

from todo_api.auth.setup import plan_auth
from todo_api.config import Settings


class CannotMint(Exception):
    """This server trusts no shared secret, so no token it accepts can be minted locally."""


def mint_token(settings: Settings, user_id: str, *, expires_in: int) -> str:
    plan = plan_auth(settings, create_dev_secret=False)
    if plan.development:
        # Said on stderr: the token alone goes to stdout, for $(todo-api token alice).
        print(
            f"todo-api: signed with the development secret in {plan.secret_file}",
            file=sys.stderr,
        )
    if plan.secret is None:
        raise CannotMint("no shared secret: tokens come from Better Auth (its JWKS) only")
    now = int(time.time())
    claims: dict[str, object] = {"sub": user_id, "iat": now, "exp": now + expires_in}
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, plan.secret, algorithm="HS256")
