"""Every way a token can be wrong is a 401 with a Bearer challenge, before any database work."""

import time
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from httpx import AsyncClient

from tests.auth.jwks_server import JwksServer
from tests.auth.keys import SigningKey, claims_for, forge, new_key
from tests.conftest import TEST_SECRET, hs256_token
from tests.helpers import assert_problem

USER = "D3hgWAeAr6zjN2lF0llPHZ6KhKMhE5lL"
TASKS = f"/api/{USER}/tasks"

TokenMaker = Callable[[SigningKey, str], str]
SECRET = TEST_SECRET.encode()


def public_pem(key: SigningKey) -> bytes:
    return key.private.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def tampered(key: SigningKey, issuer: str) -> str:
    header, _claims, signature = key.sign(claims_for("someone-else", issuer)).split(".")
    _, claims, _ = key.sign(claims_for(USER, issuer)).split(".")
    return f"{header}.{claims}.{signature}"


def embedded_jwk(key: SigningKey, issuer: str) -> str:
    attacker = new_key("EdDSA")
    return attacker.sign(claims_for(USER, issuer), jwk=attacker.public_jwk)


def now() -> int:
    return int(time.time())


ATTACKS: dict[str, TokenMaker] = {
    "garbage": lambda key, iss: "not-a-jwt",
    "two-segments": lambda key, iss: "abc.def",
    "alg-none": lambda key, iss: forge({"alg": "none", "kid": key.kid}, claims_for(USER, iss)),
    "alg-none-no-kid": lambda key, iss: forge({"alg": "none"}, {"sub": USER, "exp": now() + 60}),
    "hs256-wrong-secret": lambda key, iss: hs256_token(USER, secret="x" * 48),
    "hs256-signed-with-public-key": lambda key, iss: forge(
        {"alg": "HS256", "kid": key.kid}, claims_for(USER, iss), hmac_key=public_pem(key)
    ),
    "hs512-with-the-secret": lambda key, iss: forge(
        {"alg": "HS512"}, {"sub": USER, "exp": now() + 60}, hmac_key=TEST_SECRET.encode()
    ),
    "unknown-kid": lambda key, iss: new_key("EdDSA").sign(claims_for(USER, iss)),
    "attacker-key-real-kid": lambda key, iss: new_key("EdDSA").sign(
        claims_for(USER, iss), kid=key.kid
    ),
    "embedded-jwk": embedded_jwk,
    "jku": lambda key, iss: key.sign(claims_for(USER, iss), jku="http://127.0.0.1:9/jwks"),
    "x5u": lambda key, iss: key.sign(claims_for(USER, iss), x5u="http://127.0.0.1:9/cert"),
    "alg-mismatch-es256-header": lambda key, iss: new_key("ES256").sign(
        claims_for(USER, iss), kid=key.kid
    ),
    "payload-tampered": tampered,
    "expired": lambda key, iss: key.sign(claims_for(USER, iss, exp=now() - 120)),
    "expired-hs256": lambda key, iss: hs256_token(USER, exp=now() - 120),
    "not-yet-valid": lambda key, iss: key.sign(claims_for(USER, iss, nbf=now() + 300)),
    "issued-in-the-future": lambda key, iss: key.sign(claims_for(USER, iss, iat=now() + 300)),
    "no-exp": lambda key, iss: key.sign(
        {k: v for k, v in claims_for(USER, iss).items() if k != "exp"}
    ),
    "no-sub": lambda key, iss: key.sign(
        {k: v for k, v in claims_for(USER, iss).items() if k != "sub"}
    ),
    "empty-sub": lambda key, iss: hs256_token(""),
    "numeric-sub": lambda key, iss: key.sign(claims_for(USER, iss, sub=12345)),
    "wrong-issuer": lambda key, iss: key.sign(
        claims_for(USER, "https://evil.example.com", aud=iss)
    ),
    "wrong-audience": lambda key, iss: key.sign(claims_for(USER, iss, aud="https://other.app")),
    "absurdly-long": lambda key, iss: key.sign(claims_for(USER, iss, padding="x" * 20_000)),
    # Claims must have the types RFC 7519 gives them: NumericDate is a JSON number.
    "exp-numeric-string": lambda key, iss: key.sign(claims_for(USER, iss, exp=str(now() + 300))),
    "exp-numeric-string-hs256": lambda key, iss: hs256_token(USER, exp=str(now() + 300)),
    "exp-boolean": lambda key, iss: hs256_token(USER, exp=True),
    "nbf-numeric-string": lambda key, iss: key.sign(claims_for(USER, iss, nbf=str(now() - 10))),
    "iat-numeric-string": lambda key, iss: key.sign(claims_for(USER, iss, iat=str(now() - 10))),
    "iat-object": lambda key, iss: hs256_token(USER, iat={"n": 1}),
    "iss-list": lambda key, iss: forge(
        {"alg": "HS256"}, {"sub": USER, "exp": now() + 60, "iss": [iss]}, hmac_key=SECRET
    ),
    "aud-number": lambda key, iss: hs256_token(USER, aud=5),
    "jti-number": lambda key, iss: hs256_token(USER, jti=5),
}


@pytest.mark.parametrize("attack", ATTACKS)
async def test_bad_token_is_401_and_touches_nothing(
    anonymous: AsyncClient,
    signing_key: SigningKey,
    jwks_server: JwksServer,
    database_touches: list[str],
    attack: str,
) -> None:
    token = ATTACKS[attack](signing_key, jwks_server.base_url)

    response = await anonymous.post(
        TASKS, json={"title": "should not be stored"}, headers={"Authorization": f"Bearer {token}"}
    )

    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == 'Bearer realm="todo-api", error="invalid_token"'
    assert database_touches == []


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"]
)
async def test_missing_bearer_token_is_401_with_a_challenge(
    anonymous: AsyncClient, database_touches: list[str], authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = await anonymous.get(TASKS, headers=headers)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith('Bearer realm="todo-api"')
    assert database_touches == []


async def test_every_task_route_requires_a_token(
    anonymous: AsyncClient, database_touches: list[str]
) -> None:
    for method, path in [
        ("GET", TASKS),
        ("POST", TASKS),
        ("GET", f"{TASKS}/1"),
        ("PUT", f"{TASKS}/1"),
        ("DELETE", f"{TASKS}/1"),
        ("PATCH", f"{TASKS}/1/complete"),
    ]:
        response = await anonymous.request(
            method, path, json={"title": "x"} if method in {"POST", "PUT"} else None
        )
        assert_problem(response, 401)
    assert database_touches == []


async def test_valid_token_for_another_user_is_403_before_any_database_work(
    anonymous: AsyncClient,
    signing_key: SigningKey,
    jwks_server: JwksServer,
    database_touches: list[str],
) -> None:
    token = signing_key.sign(claims_for("someone-else", jwks_server.base_url))

    response = await anonymous.get(TASKS, headers={"Authorization": f"Bearer {token}"})

    assert_problem(response, 403)
    assert database_touches == []


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256", "PS256"])
async def test_jwks_tokens_of_each_algorithm_are_accepted(
    anonymous: AsyncClient, jwks_server: JwksServer, alg: str
) -> None:
    key = new_key(alg)
    jwks_server.keys.append(key.public_jwk)
    headers = {"Authorization": f"Bearer {key.sign(claims_for(USER, jwks_server.base_url))}"}

    created = await anonymous.post(TASKS, json={"title": alg}, headers=headers)

    assert created.status_code == 201, created.text
    assert (await anonymous.get(TASKS, headers=headers)).json()[0]["title"] == alg


async def test_shared_secret_token_is_accepted_beside_the_jwks(anonymous: AsyncClient) -> None:
    response = await anonymous.get(TASKS, headers={"Authorization": f"Bearer {hs256_token(USER)}"})

    assert response.status_code == 200


async def test_small_clock_skew_is_tolerated(
    anonymous: AsyncClient, signing_key: SigningKey, jwks_server: JwksServer
) -> None:
    claims = claims_for(USER, jwks_server.base_url, iat=now() + 10, nbf=now() + 10)

    response = await anonymous.get(
        TASKS, headers={"Authorization": f"Bearer {signing_key.sign(claims)}"}
    )

    assert response.status_code == 200


async def test_tokens_never_reach_the_log(
    anonymous: AsyncClient,
    signing_key: SigningKey,
    jwks_server: JwksServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG")
    good = signing_key.sign(claims_for(USER, jwks_server.base_url))
    bad = signing_key.sign(claims_for(USER, jwks_server.base_url, exp=now() - 600))

    for token in (good, bad, "garbage-token-value"):
        await anonymous.get(TASKS, headers={"Authorization": f"Bearer {token}"})

    assert "rejected token" in caplog.text  # the rejection is logged ...
    for token in (good, bad, "garbage-token-value"):
        assert token not in caplog.text  # ... the token is not
        assert token.split(".")[-1] not in caplog.text
