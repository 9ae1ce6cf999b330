// Shared by the end-to-end scripts: the real server (`mama-moments run --dev`) on a free
// loopback port with a throw-away data folder, and the repository's own content files.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "..", "..");

/** The content file the skill speaks from, so checks compare with it, not with literals. */
export function loadContent(locale = "en-US") {
  return JSON.parse(readFileSync(join(REPO, "speech", "content", `${locale}.json`), "utf8"));
}

/** The interaction model's language model for a locale (intents, samples, invocation name). */
export function loadModel(locale = "en-US") {
  const path = join(REPO, "interaction_models", `${locale}.json`);
  return JSON.parse(readFileSync(path, "utf8")).interactionModel.languageModel;
}

/** A message template with its `{name}` placeholders filled (plural forms pick `other`). */
export function message(content, key, params = {}, count = undefined) {
  let template = content.messages[key];
  if (typeof template === "object") template = count === 1 ? template.one : template.other;
  if (typeof template !== "string") throw new Error(`no message ${key}`);
  return template.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? count));
}

/** Every line a message may be spoken as: the lines of a pool, or the one plain template. */
export function variants(content, key, params = {}) {
  const value = content.messages[key];
  const lines = Array.isArray(value) ? value : [value];
  if (lines.length === 0 || lines.some((line) => typeof line !== "string")) {
    throw new Error(`no message pool ${key}`);
  }
  return lines.map((line) => line.replace(/\{(\w+)\}/g, (_, name) => String(params[name] ?? "")));
}

export function fail(text) {
  console.error(`FAIL: ${text}`);
  process.exitCode = 1;
  throw new Error(text);
}

export function check(condition, text) {
  if (!condition) fail(text);
  console.log(`ok - ${text}`);
}

async function freePort() {
  return new Promise((done, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

function serverCommand() {
  if (process.env.MAMA_MOMENTS_BIN) return process.env.MAMA_MOMENTS_BIN;
  const venv = join(REPO, ".venv", "bin", "mama-moments");
  return existsSync(venv) ? venv : "mama-moments";
}

/**
 * Starts the skill server unless BASE_URL points at one already.
 * Returns {baseUrl, stop}; stop() ends the process and removes the data folder.
 */
export async function startServer(extraEnv = {}) {
  if (process.env.BASE_URL) {
    return { baseUrl: process.env.BASE_URL.replace(/\/$/, ""), stop: async () => {} };
  }
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "mama-e2e-"));
  let output = "";
  const child = spawn(serverCommand(), ["run", "--dev", "--host", "127.0.0.1", "--port", `${port}`], {
    cwd: REPO,
    env: { ...process.env, MAMA_DATA_DIR: dataDir, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk) => (output += chunk));
  child.stderr.on("data", (chunk) => (output += chunk));
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  child.on("error", (err) => (exited = { error: String(err) }));

  const stop = async () => {
    if (exited === null) {
      child.kill("SIGTERM");
      await new Promise((done) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          done();
        }, 5000);
        child.once("exit", () => {
          clearTimeout(timer);
          done();
        });
      });
    }
    rmSync(dataDir, { recursive: true, force: true });
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;  // a busy 2-core machine can be slow to boot
  while (Date.now() < deadline) {
    if (exited !== null) {
      await stop();
      throw new Error(`server exited early (${JSON.stringify(exited)}):\n${output}`);
    }
    try {
      const response = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return { baseUrl, stop, output: () => output };
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 150));
  }
  await stop();
  throw new Error(`server did not answer /healthz within 90 s:\n${output}`);
}
