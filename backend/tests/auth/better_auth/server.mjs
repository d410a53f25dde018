#!/usr/bin/env node
// A real Better Auth server (betterAuth() + jwt() plugin, in-memory database) on 127.0.0.1,
// for todo-api's interop tests. The tests sign users up and ask for JWTs over HTTP, exactly
// as the Next.js frontend's authClient does (POST /api/auth/sign-up/email, GET /api/auth/token),
// and the API fetches the keys from GET /api/auth/jwks. Nothing here signs a token itself.
//
//   node server.mjs [--alg EdDSA|ES256|ES512|RS256|PS256] [--expires 15m] [--rotation SECONDS]
//
// Prints {"url": ..., "version": ...} on stdout once listening; exits when stdin closes.

import http from "node:http";
import { randomBytes } from "node:crypto";
import { betterAuth } from "better-auth";
import { jwt } from "better-auth/plugins";
import { memoryAdapter } from "better-auth/adapters/memory";
import { toNodeHandler } from "better-auth/node";

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 && index + 1 < process.argv.length ? process.argv[index + 1] : fallback;
}

const alg = option("alg", "EdDSA");
const expires = option("expires", undefined);
const rotation = option("rotation", undefined);

// The base URL (which becomes iss and aud) must name the port, so listen first.
let handler = (_req, res) => res.writeHead(503).end();
const server = http.createServer((req, res) => handler(req, res));
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${server.address().port}`;

const jwks = { keyPairConfig: alg === "EdDSA" ? { alg, crv: "Ed25519" } : { alg } };
if (rotation) Object.assign(jwks, { rotationInterval: Number(rotation), gracePeriod: 3600 });
const auth = betterAuth({
  baseURL: url,
  secret: randomBytes(32).toString("hex"),
  database: memoryAdapter({ user: [], session: [], account: [], verification: [], jwks: [] }),
  emailAndPassword: { enabled: true },
  telemetry: { enabled: false },
  plugins: [jwt({ jwks, ...(expires ? { jwt: { expirationTime: expires } } : {}) })],
});
handler = toNodeHandler(auth);

process.stdout.write(JSON.stringify({ url, version: jwt().version }) + "\n");
process.stdin.resume();
process.stdin.on("end", () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
