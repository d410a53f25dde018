// A typed client for todo-api: `paths` is generated from the API's OpenAPI document
// (`npm run generate`), openapi-fetch makes the calls. Every error body is a `Problem`.
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";

import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };
export type Task = components["schemas"]["TaskPublic"];
export type TaskCreate = components["schemas"]["TaskCreate"];
export type TaskUpdate = components["schemas"]["TaskUpdate"];
export type TaskBatch = components["schemas"]["TaskBatch"];
export type TagCount = components["schemas"]["TagCount"];
/** RFC 9457 problem details: the body of every 4xx and 5xx (`application/problem+json`). */
export type Problem = components["schemas"]["Problem"];
export type TodoClient = Client<paths>;

/** Returns the bearer token to send, or nothing for an anonymous call. Called per request,
 * so a short-lived token (Better Auth's last 15 minutes) is fetched fresh when needed. */
export type TokenSource = () =>
  | string
  | null
  | undefined
  | Promise<string | null | undefined>;

/** A client for the API at `baseUrl` that signs each request with `getToken()`'s token. */
export function createTodoClient(
  baseUrl: string,
  getToken: TokenSource,
  options: Omit<ClientOptions, "baseUrl"> = {},
): TodoClient {
  const client = createClient<paths>({ ...options, baseUrl });
  client.use(bearer(getToken));
  return client;
}

function bearer(getToken: TokenSource): Middleware {
  return {
    async onRequest({ request }) {
      const token = await getToken();
      if (token) {
        request.headers.set("Authorization", `Bearer ${token}`);
      }
      return request;
    },
  };
}

/** The cursor of the next page, from the list's `Link: <...>; rel="next"` (none on the last). */
export function nextCursor(response: Response): string | undefined {
  const link = response.headers.get("Link");
  const next = link?.match(/<([^>]*)>\s*;\s*rel="next"/);
  if (!next?.[1]) {
    return undefined;
  }
  return new URL(next[1], response.url || "http://localhost").searchParams.get("cursor") ?? undefined;
}

/** The number of tasks matching a list's filters, on all pages (`X-Total-Count`). */
export function totalCount(response: Response): number | undefined {
  const value = response.headers.get("X-Total-Count");
  return value === null ? undefined : Number(value);
}
