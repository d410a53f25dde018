// A tour of every operation of todo-api through the typed client, against a running server:
//
//   TODO_API_URL=http://127.0.0.1:8000 TODO_API_USER=alice \
//   TODO_API_TOKEN="$(todo-api token alice)" npm run tour
//
// Each HTTP exchange prints `call METHOD /path/template STATUS`; the test suite runs this
// against a real server and fails naming any operation of the document it does not call.
// Anything unexpected throws: the process then exits non-zero.
import {
  createTodoClient,
  nextCursor,
  type operations,
  type Problem,
  type Task,
  type TodoClient,
  totalCount,
} from "../src/index.js";

const baseUrl = process.env.TODO_API_URL ?? "http://127.0.0.1:8000";
const user = required("TODO_API_USER");
const token = required("TODO_API_TOKEN");

type ListQuery = NonNullable<operations["listTasks"]["parameters"]["query"]>;

// What openapi-fetch gives back; `error` is typed from the document: always a Problem.
interface Result<T> {
  data?: T;
  error?: Problem;
  response: Response;
}

async function main(): Promise<void> {
  const api = logged(createTodoClient(baseUrl, () => token));
  const mine = { user_id: user };
  // This run's tasks carry a tag of their own: the listing below sees them alone.
  const run = `tour-${Date.now().toString(36)}`;

  const live = await api.GET("/health");
  const ready = await api.GET("/health/ready");
  say(`health ${expectData(live, "health").status}, ready ${expectData(ready, "ready").status}`);

  // Create: the task's URL is in Location, its version in ETag. A retry with the same
  // Idempotency-Key answers the first response again and creates nothing.
  const key = `${run}-milk`;
  const created = await api.POST("/api/{user_id}/tasks", {
    params: { path: mine, header: { "Idempotency-Key": key } },
    body: { title: "Buy milk", description: "2 litres, oat", tags: [run, "shopping"] },
  });
  const milk = expectData(created, "createTask");
  say(`created ${milk.id} "${milk.title}" at ${created.response.headers.get("Location")}`);
  const replay = await api.POST("/api/{user_id}/tasks", {
    params: { path: mine, header: { "Idempotency-Key": key } },
    body: { title: "Buy milk", description: "2 litres, oat", tags: [run, "shopping"] },
  });
  check(expectData(replay, "replay").id === milk.id, "a replay answers the same task");
  say(`replayed ${milk.id}: Idempotent-Replayed ${replay.response.headers.get("Idempotent-Replayed")}`);
  const rent = expectData(
    await api.POST("/api/{user_id}/tasks", {
      params: { path: mine },
      body: {
        title: "Pay rent",
        priority: "high",
        tags: [run, "home"],
        due_at: "2026-12-01T09:00:00Z",
        recurrence: { frequency: "monthly", interval: 1 },
      },
    }),
    "createTask",
  );
  const plant = expectData(
    await api.POST("/api/{user_id}/tasks", {
      params: { path: mine },
      body: { title: "Water the plants", tags: [run, "home"] },
    }),
    "createTask",
  );

  // List two at a time: X-Total-Count counts all pages, Link leads to the next one.
  const query: ListQuery = { tag: [run], limit: 2, sort: "created", order: "asc" };
  const first = await api.GET("/api/{user_id}/tasks", { params: { path: mine, query } });
  const firstPage = expectData(first, "listTasks");
  const cursor = nextCursor(first.response);
  check(cursor !== undefined, "a first page of two has a Link to the next");
  const second = await api.GET("/api/{user_id}/tasks", {
    params: { path: mine, query: { ...query, cursor } },
  });
  const secondPage = expectData(second, "listTasks");
  check(nextCursor(second.response) === undefined, "the last page has no Link");
  say(
    `listed ${totalCount(first.response)} tasks: page 1 ${titles(firstPage)}, ` +
      `page 2 (Link rel="next") ${titles(secondPage)}`,
  );

  // Read one; asking again with its ETag in If-None-Match answers 304, no body.
  const got = await api.GET("/api/{user_id}/tasks/{task_id}", {
    params: { path: { ...mine, task_id: milk.id } },
  });
  const etag = got.response.headers.get("ETag") ?? "";
  say(`got ${expectData(got, "getTask").id} with ETag ${etag}`);
  const unchanged = await api.GET("/api/{user_id}/tasks/{task_id}", {
    params: { path: { ...mine, task_id: milk.id }, header: { "If-None-Match": etag } },
  });
  check(unchanged.response.status === 304, "If-None-Match with the current ETag is a 304");
  say(`If-None-Match ${etag}: ${unchanged.response.status} Not Modified`);

  // Update only the version read; the same If-Match again is now stale: a 412 problem.
  const updated = await api.PUT("/api/{user_id}/tasks/{task_id}", {
    params: { path: { ...mine, task_id: milk.id }, header: { "If-Match": etag } },
    body: { title: "Buy oat milk", priority: "low" },
  });
  const oatMilk = expectData(updated, "updateTask");
  say(`updated ${oatMilk.id} to "${oatMilk.title}" (version ${oatMilk.version})`);
  const stale = await api.PUT("/api/{user_id}/tasks/{task_id}", {
    params: { path: { ...mine, task_id: milk.id }, header: { "If-Match": etag } },
    body: { title: "Lost update" },
  });
  say(`stale If-Match: ${describe(expectProblem(stale, 412, "updateTask"))}`);

  // Complete a recurring task: the next occurrence is created and returned with it.
  const done = await api.PATCH("/api/{user_id}/tasks/{task_id}/complete", {
    params: { path: { ...mine, task_id: rent.id } },
    body: { completed: true },
  });
  const paid = expectData(done, "completeTask");
  const nextRent = paid.next_occurrence;
  check(paid.completed && nextRent !== null, "completed, and the next occurrence created");
  say(`completed ${paid.id}; next occurrence ${nextRent.id} due ${nextRent.due_at}`);

  const tags = expectData(await api.GET("/api/{user_id}/tags", { params: { path: mine } }), "tags");
  say(`tags ${tags.map((tag) => `${tag.tag}=${tag.count}`).join(" ")}`);

  // A batch is all or nothing; "$name" refers to a task created earlier in the same batch.
  const batch = await api.POST("/api/{user_id}/tasks/batch", {
    params: { path: mine },
    body: {
      operations: [
        { op: "create", ref: "plumber", task: { title: "Call the plumber" } },
        { op: "update", id: "$plumber", changes: { priority: "high" } },
        { op: "complete", id: plant.id },
        { op: "delete", id: nextRent.id, if_match: `"v${nextRent.version}"` },
      ],
    },
  });
  say(`batch applied ${expectData(batch, "applyBatch").results.length} operations`);

  // Sync: a snapshot of the current tasks, then only what changed since its token (deletions
  // too); an offline device keeps the last `next` and asks again when it is back.
  let since: string | undefined;
  for (;;) {
    const query = since === undefined ? { limit: 50 } : { limit: 50, since };
    const page = expectData(
      await api.GET("/api/{user_id}/tasks/changes", { params: { path: mine, query } }),
      "listChanges",
    );
    since = page.next;
    if (!page.has_more) {
      break;
    }
  }
  const synced = expectData(
    await api.POST("/api/{user_id}/tasks", {
      params: { path: mine },
      body: { title: "Wrap presents", tags: [run], remind_at: "2026-12-24T18:00:00Z" },
    }),
    "createTask",
  );
  const delta = expectData(
    await api.GET("/api/{user_id}/tasks/changes", { params: { path: mine, query: { since } } }),
    "listChanges",
  );
  const change = delta.changes[0];
  check(delta.changes.length === 1 && change?.type === "upsert", "one change: the new task");
  check(change.task.id === synced.id, "the change is the task just created");
  say(`changes since the snapshot: upsert ${change.task.id} "${change.task.title}"`);

  // Live: the same changes as server-sent events, here replayed from the snapshot's token.
  const stream = await api.GET("/api/{user_id}/events", {
    params: { path: mine, query: { since } },
    parseAs: "stream",
  });
  const event = await firstEvent(stream.response);
  check(event.event === "task.created", `a task.created event, not ${event.event}`);
  check((JSON.parse(event.data) as Task).id === synced.id, "the event carries the task");
  say(`event ${event.event} for ${synced.id}`);

  const deleted = await api.DELETE("/api/{user_id}/tasks/{task_id}", {
    params: { path: { ...mine, task_id: milk.id }, header: { "If-Match": `"v${oatMilk.version}"` } },
  });
  check(deleted.response.status === 204, "a delete answers 204");
  say(`deleted ${milk.id}: ${deleted.response.status}`);

  // The assistant: a message to the chat endpoint (a 503 problem on a server without a model,
  // OPENAI_API_KEY), and the conversations it keeps, read back paged.
  const chat = await api.POST("/api/{user_id}/chat", {
    params: { path: mine },
    body: { message: "What is due this week?" },
  });
  let conversationId = 2147483647; // none yet: its messages are a 404
  if (chat.response.status === 503) {
    say(`chat: ${describe(expectProblem(chat, 503, "chat"))}`);
  } else {
    const reply = expectData(chat, "chat");
    conversationId = reply.conversation_id;
    say(`chat: "${reply.response}" after ${reply.tool_calls.length} tool calls`);
  }
  const conversations = await api.GET("/api/{user_id}/conversations", {
    params: { path: mine, query: { limit: 10 } },
  });
  say(`conversations: ${totalCount(conversations.response)} (${expectData(conversations, "listConversations").length} on this page)`);
  const messages = await api.GET("/api/{user_id}/conversations/{conversation_id}/messages", {
    params: { path: { ...mine, conversation_id: conversationId }, query: { order: "desc" } },
  });
  if (messages.response.status === 404) {
    say(`messages: ${describe(expectProblem(messages, 404, "listMessages"))}`);
  } else {
    say(`messages: ${expectData(messages, "listMessages").length}`);
  }

  // Errors are typed problems: a missing task, an invalid body, no token.
  const gone = await api.GET("/api/{user_id}/tasks/{task_id}", {
    params: { path: { ...mine, task_id: milk.id } },
  });
  say(`missing task: ${describe(expectProblem(gone, 404, "getTask"))}`);
  const invalid = await api.POST("/api/{user_id}/tasks", {
    params: { path: mine },
    body: { title: "   " },
  });
  say(`invalid body: ${describe(expectProblem(invalid, 422, "createTask"))}`);
  const anonymous = logged(createTodoClient(baseUrl, () => null));
  const refused = await anonymous.GET("/api/{user_id}/tasks", { params: { path: mine } });
  say(`no token: ${describe(expectProblem(refused, 401, "listTasks"))}`);
  say("tour complete");
}

/** The first event of a `text/event-stream` response (then the stream is closed). */
async function firstEvent(response: Response): Promise<{ event: string; data: string }> {
  check(response.body !== null, "an event stream");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      check(!done, "the stream ended before an event");
      buffered += value;
      for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n")) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const fields = new Map(
          block.split("\n").map((line) => {
            const colon = line.indexOf(":");
            return [line.slice(0, colon), line.slice(colon + 1).trimStart()] as const;
          }),
        );
        const event = fields.get("event");
        if (event !== undefined) {
          return { event, data: fields.get("data") ?? "" };
        }
      }
    }
  } finally {
    await reader.cancel();
  }
}

/** Prints every exchange as `call METHOD /path/template STATUS`. */
function logged(client: TodoClient): TodoClient {
  client.use({
    onResponse({ request, response, schemaPath }) {
      console.log(`call ${request.method} ${schemaPath} ${response.status}`);
    },
  });
  return client;
}

function expectData<T>(result: Result<T>, what: string): NonNullable<T> {
  if (result.error !== undefined) {
    throw new Error(`${what}: ${describe(result.error)}`);
  }
  if (result.data == null) {
    throw new Error(`${what}: ${result.response.status} without a body`);
  }
  return result.data;
}

function expectProblem(result: Result<unknown>, status: number, what: string): Problem {
  const { error, response } = result;
  check(error !== undefined, `${what} should have failed with ${status}`);
  check(response.headers.get("Content-Type") === "application/problem+json", "a problem+json body");
  check(error.status === status && response.status === status, `${what}: ${describe(error)}`);
  return error;
}

function describe(problem: Problem): string {
  const fields = problem.errors?.map((field) => `${field.loc.join(".")}: ${field.msg}`);
  return `${problem.status} ${problem.title}: ${problem.detail}${fields ? ` (${fields.join("; ")})` : ""}`;
}

function titles(tasks: Task[]): string {
  return tasks.map((task) => `"${task.title}"`).join(", ");
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Error(`unexpected: ${message}`);
  }
}

function say(line: string): void {
  console.log(line);
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`set ${name}`);
  }
  return value;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
