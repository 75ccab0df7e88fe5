// gpuq admin panel in real headless Chromium (issue 4): log in; add a node; paste a
// credential; add a task in the form; watch it go queued -> running -> succeeded without
// reloading; read its log; cancel another; a normal user cannot see another user's task or
// the users page. Screenshots of the dashboard, the task form and a task log go to
// SCREENSHOT_DIR. Started by run_browser_test.py, which provides the master and the node.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync } from "node:fs";
import assert from "node:assert/strict";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run this through run_browser_test.py)`);
  return v;
};
const URL = env("GPUQ_URL");
const ADMIN_PASSWORD = env("GPUQ_ADMIN_PASSWORD");
const NODE_HOST = env("GPUQ_NODE_HOST");
const NODE_PORT = env("GPUQ_NODE_PORT");
const NODE_USER = env("GPUQ_NODE_USER");
const KEY = readFileSync(env("GPUQ_KEY_PATH"), "utf8");
const SHOTS = env("GPUQ_SCREENSHOT_DIR");
const CHROMIUM = process.env.GPUQ_CHROMIUM || "/usr/bin/chromium";
mkdirSync(SHOTS, { recursive: true });

const steps = [];
async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    steps.push(`ok   ${name} (${Date.now() - t0} ms)`);
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    console.log(`FAIL ${name}: ${e.stack || e}`);
    throw e;
  }
}

async function login(page, user, password) {
  await page.goto(`${URL}/admin/login`);
  await page.fill("input[name=username]", user);
  await page.fill("input[name=password]", password);
  await Promise.all([page.waitForURL(/\/admin$/), page.click("button[type=submit]")]);
}

async function submitTask(page, fields) {
  await page.goto(`${URL}/admin/tasks/new`);
  for (const [name, value] of Object.entries(fields)) await page.fill(`[name=${name}]`, value);
  await Promise.all([page.waitForURL(/\/admin\/tasks\/\d+/), page.click("#task-form button[type=submit]")]);
  return Number(new globalThis.URL(page.url()).pathname.split("/").pop());
}

// Waits (without reloading: the page's own live update must bring it) until the task's
// status badge shows `status`; returns every status seen on the way.
async function watchStatus(page, status, timeoutMs) {
  const seen = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = (await page.locator("#task-status .badge").getAttribute("class")) || "";
    const s = text.replace(/.*\bs-/, "");
    if (seen[seen.length - 1] !== s) seen.push(s);
    if (s === status) return seen;
    if (Date.now() > deadline) throw new Error(`status stayed ${seen.join(" -> ")}, wanted ${status}`);
    await page.waitForTimeout(200);
  }
}

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
const consoleErrors = [];
try {
  const admin = await browser.newContext({ locale: "en-US", viewport: { width: 1360, height: 900 } });
  const page = await admin.newPage();
  page.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));

  await step("unauthenticated /admin goes to the login page", async () => {
    await page.goto(`${URL}/admin`);
    assert.match(page.url(), /\/admin\/login\?next=/);
  });

  await step("a wrong password is refused", async () => {
    await page.fill("input[name=username]", "admin");
    await page.fill("input[name=password]", "not-the-password");
    await page.click("button[type=submit]");
    await page.waitForSelector("#login-error");
  });

  await step("log in", () => login(page, "admin", ADMIN_PASSWORD));

  await step("paste an SSH credential", async () => {
    await page.goto(`${URL}/admin/account`);
    await page.fill("#credential-form [name=remote_user]", NODE_USER);
    await page.fill("#credential-form [name=private_key]", KEY);
    await Promise.all([page.waitForURL(/msg=msg.credential_saved/), page.click("#credential-form button[type=submit]")]);
    const fp = await page.textContent("#cred-fingerprint");
    assert.match(fp, /^SHA256:/);
    assert.ok(!(await page.content()).includes("PRIVATE KEY-----\n"), "the private key is shown back");
  });

  await step("add a node in the form and see its GPUs on the dashboard", async () => {
    await page.goto(`${URL}/admin/nodes/new`);
    await page.fill("#node-form [name=name]", "gpu-a");
    await page.fill("#node-form [name=host]", NODE_HOST);
    await page.fill("#node-form [name=port]", NODE_PORT);
    await Promise.all([page.waitForURL(/\/admin\/nodes\/\d+/), page.click("#node-form button[type=submit]")]);
    await page.goto(`${URL}/admin`);
    // The dashboard refreshes itself: the GPUs appear once the node is probed.
    await page.waitForSelector(".node .gpus tr", { timeout: 20000 });
    await page.waitForSelector(".node .dot.ok", { timeout: 20000 });
    assert.ok((await page.locator(".node .gpus tr").count()) >= 1);
  });

  let taskId;
  await step("the task form shows per-field errors and keeps what was typed", async () => {
    await page.goto(`${URL}/admin/tasks/new`);
    await page.fill("[name=name]", "hello");
    await page.fill("[name=command]", "echo kept");
    await page.fill("[name=gpus]", "two");
    await page.fill("[name=mem]", "8Q");
    await page.click("#task-form button[type=submit]");
    await page.waitForSelector(".field-error[data-field=gpus]");
    await page.waitForSelector(".field-error[data-field=mem]");
    assert.equal(await page.inputValue("[name=command]"), "echo kept");
    assert.equal(await page.inputValue("[name=gpus]"), "two");
    await page.screenshot({ path: `${SHOTS}/task_form.png`, fullPage: true });
  });

  await step("add a task and watch it go queued -> running -> succeeded", async () => {
    // It waits for a first task (after=), so the page sees it queued before it runs.
    const first = await submitTask(page, { name: "first", command: "sleep 3", gpus: "1" });
    taskId = await submitTask(page, {
      name: "<b>browser</b> task",
      command: "echo first-line; sleep 2; for i in 1 2 3; do echo line-$i; done; echo gpus=$CUDA_VISIBLE_DEVICES",
      gpus: "1",
      after: String(first),
    });
    const seen = await watchStatus(page, "succeeded", 40000);
    assert.equal(seen[0], "queued", `first seen: ${seen.join(" -> ")}`);
    assert.ok(seen.includes("running"), `never saw running: ${seen.join(" -> ")}`);
    assert.equal(await page.locator("h1").first().textContent(), `#${taskId} <b>browser</b> task`);
  });

  await step("read the task's log", async () => {
    // The page was loaded while the run was queued: reload to get its log section.
    await page.goto(`${URL}/admin/tasks/${taskId}`);
    const log = page.locator("#log-text");
    await assert.doesNotReject(log.waitFor());
    const deadline = Date.now() + 10000;
    let text = "";
    while (Date.now() < deadline && !(text = await log.textContent()).includes("gpus=")) await page.waitForTimeout(200);
    assert.match(text, /first-line\nline-1\nline-2\nline-3\ngpus=\d/);
    await page.screenshot({ path: `${SHOTS}/task_log.png`, fullPage: true });
  });

  await step("follow a live log as it grows", async () => {
    const id = await submitTask(page, { name: "follow", command: "for i in $(seq 1 6); do echo tick-$i; sleep 0.5; done", gpus: "1" });
    await watchStatus(page, "running", 20000);
    await page.goto(`${URL}/admin/tasks/${id}`);
    await page.waitForFunction(() => document.querySelector("#log-text")?.textContent.includes("tick-6"), null, { timeout: 20000 });
  });

  await step("cancel another task", async () => {
    const id = await submitTask(page, { name: "long", command: "sleep 300", gpus: "1" });
    await watchStatus(page, "running", 20000);
    page.once("dialog", (d) => d.accept());
    await Promise.all([page.waitForURL(/msg=msg.saved/), page.click("#action-cancel")]);
    await watchStatus(page, "cancelled", 30000);
  });

  await step("dashboard screenshot", async () => {
    await page.goto(`${URL}/admin`);
    await page.waitForSelector(".node .gpus tr");
    await page.screenshot({ path: `${SHOTS}/dashboard.png`, fullPage: true });
  });

  await step("add a normal user in the users page", async () => {
    await page.goto(`${URL}/admin/users`);
    await page.fill("#user-form [name=username]", "dave");
    await page.fill("#user-form [name=password]", "dave-pass-123");
    await Promise.all([page.waitForURL(/msg=msg.user_added/), page.click("#user-form button[type=submit]")]);
  });

  await step("a normal user cannot see another user's task or the users page", async () => {
    const ctx = await browser.newContext({ locale: "zh-CN" });
    const p = await ctx.newPage();
    await login(p, "dave", "dave-pass-123");
    assert.ok((await p.textContent("nav")).includes("任务"), "no Chinese for a zh-CN browser");
    let r = await p.goto(`${URL}/admin/tasks/${taskId}`);
    assert.equal(r.status(), 404);
    assert.ok(!(await p.content()).includes("browser</b> task"));
    r = await p.goto(`${URL}/admin/users`);
    assert.equal(r.status(), 403);
    await p.goto(`${URL}/admin/tasks`);
    assert.equal(await p.locator("#tasks tr[data-task]").count(), 0);
    assert.equal(await p.locator("nav a[href='/admin/users']").count(), 0);
    await ctx.close();
  });

  await step("no script errors (CSP blocks nothing the panel needs)", async () => {
    // 4xx answers are the refusals this test asks for (wrong password, bad form, 403, 404).
    assert.deepEqual(consoleErrors.filter((e) => !/responded with a status of 4\d\d/.test(e)), []);
  });
} finally {
  await browser.close();
}
console.log(`browser test passed: ${steps.length} steps`);
