// Drives Debian's chromium (playwright-core, no browser download) through /docs and /redoc of
// a running todo-api with every request to another host blocked, as a machine without
// internet would. Prints one JSON report on stdout for test_docs_offline.py to judge.
//
//   node docs_check.mjs <base-url> <user-id> [screenshot-dir]      (the token in TODO_API_TOKEN)
import { chromium } from "playwright-core";

const [base, userId, screenshots] = process.argv.slice(2);
const token = process.env.TODO_API_TOKEN;
if (!base || !userId || !token) {
  console.error("usage: TODO_API_TOKEN=... node docs_check.mjs <base-url> <user-id> [screenshot-dir]");
  process.exit(2);
}
const origin = new URL(base).origin;
const report = { served: [], blocked: [], apiCalls: [], pageErrors: [], docs: {}, redoc: {} };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const context = await browser.newContext();
  context.setDefaultTimeout(20_000);
  await context.route("**/*", (route) => {
    const request = route.request();
    const url = new URL(request.url());
    if (url.origin !== origin) {
      report.blocked.push(request.url());
      return route.abort("internetdisconnected");
    }
    report.served.push(url.pathname);
    if (url.pathname.startsWith("/api/")) {
      const authorization = request.headers()["authorization"] ?? "";
      report.apiCalls.push({
        method: request.method(),
        path: url.pathname,
        bearer: authorization === `Bearer ${token}`,
      });
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.on("pageerror", (error) => report.pageErrors.push(String(error)));

  await swaggerUi(page);
  await redoc(page);
} catch (error) {
  report.failure = String(error);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report, null, 2));

async function swaggerUi(page) {
  await page.goto(`${base}/docs`);
  await page.locator("#operations-tasks-listTasks").waitFor();
  report.docs.operations = await page.locator(".opblock").evaluateAll((blocks) =>
    blocks.map((block) => block.id.replace(/^operations-[^-]+-/, "")),
  );

  // Authorize: the bearer token, applied to every operation.
  await page.locator(".scheme-container button.authorize").click();
  await page.locator("#auth-bearer-value").fill(token);
  await page.locator(".auth-btn-wrapper button.authorize").click();
  report.docs.authorizeDialog = (await page.locator(".auth-container h6").allInnerTexts()).join(" ");
  await page.locator(".auth-btn-wrapper button.btn-done").click();

  // Expand listTasks, "Try it out" with the user's id, Execute, and read the rendered answer.
  const operation = page.locator("#operations-tasks-listTasks");
  await operation.locator(".opblock-summary-control").click();
  await operation.locator("button.try-out__btn").click();
  await operation.locator('tr[data-param-name="user_id"] input').fill(userId);
  await operation.locator("button.execute").click();
  const live = operation.locator(".live-responses-table .response");
  await live.first().waitFor();
  report.docs.status = (await live.locator(".response-col_status").first().innerText()).trim();
  report.docs.body = await live.locator(".response-col_description pre").first().innerText();
  await live.first().scrollIntoViewIfNeeded();
  await capture(page, "docs");
}

async function redoc(page) {
  await page.goto(`${base}/redoc`);
  await page.locator('[data-section-id="operation/listTasks"]').waitFor();
  report.redoc.title = (await page.locator("h1").first().innerText()).trim();
  report.redoc.operations = await page
    .locator('[data-section-id^="operation/"]')
    .evaluateAll((sections) => sections.map((s) => s.dataset.sectionId.replace("operation/", "")));
  await capture(page, "redoc");
}

async function capture(page, name) {
  if (screenshots) {
    await page.screenshot({ path: `${screenshots}/${name}.png`, fullPage: false });
  }
}
