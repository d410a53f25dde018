"""Signing keys and JWK sets made in the test, for tokens nobody else could sign."""

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm


@dataclass(frozen=True)
class SigningKey:
    kid: str
    alg: str
    private: Any
    public_jwk: dict[str, Any]

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        return jwt.encode(
            claims, self.private, algorithm=self.alg, headers={"kid": self.kid, **header}
        )


def new_key(alg: str = "EdDSA") -> SigningKey:
    """A fresh key pair; its public JWK looks like Better Auth's (alg and kid, no use)."""
    if alg == "EdDSA":
        private: Any = ed25519.Ed25519PrivateKey.generate()
        jwk = OKPAlgorithm.to_jwk(private.public_key(), as_dict=True)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
        jwk = ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    elif alg in {"RS256", "PS256"}:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)
    else:
        raise ValueError(alg)
    kid = uuid4().hex
    return SigningKey(kid=kid, alg=alg, private=private, public_jwk={**jwk, "alg": alg, "kid": kid})


def claims_for(user_id: str, issuer: str, *, lifetime: int = 900, **extra: Any) -> dict[str, Any]:
    """Claims shaped like Better Auth's: the user object, sub, iat, exp, iss = aud = base URL."""
    now = int(time.time())
    base = {"id": user_id, "email": f"{user_id}@example.com", "name": "Test User", "sub": user_id}
    return base | {"iat": now, "exp": now + lifetime, "iss": issuer, "aud": issuer} | extra


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], claims: dict[str, Any], *, hmac_key: bytes | None = None) -> str:
    """A token built by hand, as an attacker would: HS256 over any bytes, or no signature."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    if hmac_key is None:
        return f"{signing_input}."
    signature = hmac.new(hmac_key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"
