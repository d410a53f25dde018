"""Bearer-token authentication: Better Auth JWTs (JWKS) and shared-secret HS256 tokens."""
