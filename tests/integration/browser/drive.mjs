// Drives Debian's chromium (headless, through playwright-core) to a page on another origin
// that watches a real clipdeck-server job with the browser's own EventSource (page.html), and
// checks what the page received. Started by run.sh, which starts the servers:
//
//   node drive.mjs SERVER_URL PAGE_URL TOKEN CLIP OUT_DIR
//
// So that the page sees the job's progress whatever the machine's speed, the job is held: it is
// paused right after it is submitted, the page connects (its first message must be exactly the
// job's current snapshot, read over REST while nothing can change it), and only then is it
// resumed. Checks behaviour only, never timing.

import { chromium } from "playwright-core";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [serverUrl, pageUrl, token, clipPath, outDir] = process.argv.slice(2);
if (!outDir) {
  console.error("usage: node drive.mjs SERVER_URL PAGE_URL TOKEN CLIP OUT_DIR");
  process.exit(2);
}

const failures = [];
function check(condition, what) {
  console.log(`${condition ? "ok  " : "FAIL"} ${what}`);
  if (!condition) failures.push(what);
}

async function api(method, path, { body, headers = {} } = {}) {
  const response = await fetch(`${serverUrl}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...headers },
    body,
  });
  const text = await response.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: response.status, json, text };
}

function expectStatus(response, statuses, what) {
  if (!statuses.includes(response.status)) {
    throw new Error(`${what}: HTTP ${response.status}: ${response.text.slice(0, 500)}`);
  }
}

// 1. Upload the clip and submit a real job.
const clip = await readFile(clipPath);
const upload = await api("POST", "/api/media?name=browser-clip.mp4", {
  body: clip,
  headers: { "Content-Type": "application/octet-stream", "X-Filename": "browser-clip.mp4" },
});
expectStatus(upload, [200, 201], "upload");
const mediaId = upload.json.id;
console.log(`uploaded media ${mediaId} (${clip.length} bytes)`);

const submit = await api("POST", "/api/jobs", {
  body: JSON.stringify({ kind: "transcode", mediaId, params: { preset: "web-h264" } }),
  headers: { "Content-Type": "application/json" },
});
expectStatus(submit, [202], "submit");
const jobId = submit.json.jobId;
const paused = await api("POST", `/api/jobs/${encodeURIComponent(jobId)}/pause`);
expectStatus(paused, [200, 202], `pause job ${jobId} (the clip must be long enough not to finish first)`);
const held = await api("GET", `/api/jobs/${encodeURIComponent(jobId)}`);
expectStatus(held, [200], "job snapshot");
console.log(`job ${jobId} held: status ${held.json.status}, seq ${held.json.seq}`);

// 2. The page, on its own origin, in a fresh headless chromium profile.
const profile = await mkdtemp(join(tmpdir(), "clipdeck-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  viewport: { width: 460, height: 150 },
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
});
let messages = [];
let errors = 0;
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => console.log(`page console: ${m.text()}`));
  page.on("pageerror", (e) => failures.push(`page error: ${e.message}`));
  const hash = new URLSearchParams({ server: serverUrl, job: jobId, token }).toString();
  await page.goto(`${pageUrl}#${hash}`);

  // The snapshot arrives while the job is held.
  await page.waitForFunction(() => window.messages.length >= 1 || window.errors > 0, null, { timeout: 60000 });
  const resumed = await api("POST", `/api/jobs/${encodeURIComponent(jobId)}/resume`);
  expectStatus(resumed, [200, 202], "resume");

  // A look at the page while the job runs (best effort: a fast machine may finish first).
  try {
    await page.waitForFunction(() => window.messages.some((m) => m.status === "running" && m.progress > 0),
      null, { timeout: 60000 });
    await page.screenshot({ path: join(outDir, "eventsource-running.png") });
  } catch { /* the checks below say what went wrong */ }

  // Until the page's hook closes the source on the terminal event (bounded by ctest's timeout).
  try {
    await page.waitForFunction(() => window.streamEnded === true, null, { timeout: 200000 });
  } catch (e) {
    failures.push(`the page's EventSource was not closed by a terminal event: ${e.message.split("\n")[0]}`);
  }
  await page.screenshot({ path: join(outDir, "eventsource.png") });
  messages = await page.evaluate(() => window.messages);
  errors = await page.evaluate(() => window.errors);
} finally {
  await context.close();
  await rm(profile, { recursive: true, force: true });
}

// 3. What the page received.
console.log(`the page received ${messages.length} messages: ` +
  messages.map((m) => `${m.seq}:${m.status}:${m.progress}`).join(" "));
const first = messages[0] ?? {};
check(messages.length >= 2, "at least two messages (the snapshot, then updates)");
check(first.seq === held.json.seq && first.status === held.json.status,
  `the first message is the job's current snapshot (seq ${held.json.seq}, ${held.json.status}); got seq ${first.seq}, ${first.status}`);
check(messages.every((m) => m.lastEventId === String(m.seq)), "every event's id (lastEventId) is its seq");
check(messages.every((m, i) => i === 0 || m.seq > messages[i - 1].seq), "seq strictly increasing");
check(messages.some((m) => m.status === "running" && m.progress > 0 && m.progress < 100),
  "at least one progress message (running, 0 < progress < 100)");
check(messages.every((m, i) => i === 0 || m.progress >= messages[i - 1].progress), "progress never goes back");
const last = messages[messages.length - 1] ?? {};
check(last.status === "complete" && last.progress === 100, `the last message is complete with progress 100 (got ${last.status} ${last.progress})`);
check(messages.slice(0, -1).every((m) => !["complete", "failed", "canceled"].includes(m.status)),
  "no terminal status before the last message");
check(errors === 0, `no EventSource error (got ${errors})`);

const final = await api("GET", `/api/jobs/${encodeURIComponent(jobId)}`);
check(final.json && final.json.seq === last.seq && final.json.status === "complete",
  `the page's last message is the job's final state over REST (REST: seq ${final.json?.seq}, ${final.json?.status}, ${final.json?.progress})`);

console.log(`screenshot: ${join(outDir, "eventsource.png")}`);
if (failures.length) {
  console.error(`${failures.length} check(s) failed:\n  ${failures.join("\n  ")}`);
  process.exit(1);
}
console.log("browser EventSource test passed");
