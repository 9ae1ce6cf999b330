// The web console in real headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core): click an example, type an utterance, check the transcript, take a screenshot.
//
//   node tests/e2e/console.spec.mjs [screenshot.png]
//
// Starts `mama-moments run --dev` itself unless BASE_URL is set. Exit code 0 means pass.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

import { check, loadContent, loadModel, message, startServer, variants } from "./server.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const SCREENSHOT = resolve(process.argv[2] || process.env.SCREENSHOT || "console.png");
// Flags this sandboxed machine needs: no GPU, no sandbox as root, and no calls home.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const content = loadContent("en-US");
const model = loadModel("en-US");
// The examples the page offers come from the model; these are the two this script clicks.
const LAUNCH = `open ${model.invocationName}`;
const STRATEGY = model.intents
  .find((intent) => intent.name === "GetStrategyIntent")
  .samples.find((sample) => !sample.includes("{"));

async function lastTurn(page, intent) {
  const turn = page.locator(`[data-testid="turn"][data-intent="${intent}"]`).last();
  await turn.waitFor({ timeout: 15_000 });
  return turn;
}

async function main() {
  const server = await startServer();
  const profile = mkdtempSync(join(tmpdir(), "mama-chromium-"));
  let browser;
  try {
    // A persistent context is how playwright takes a fresh, empty --user-data-dir.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1280, height: 900 },
    });
    const page = browser.pages()[0] || (await browser.newPage());
    const problems = [];
    page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
    page.on("console", (msg) => msg.type() === "error" && problems.push(`console: ${msg.text()}`));
    page.on("response", (res) => res.status() >= 400 && problems.push(`${res.status()} ${res.url()}`));
    // Offline: the page must not reach for anything but the console server.
    page.on("request", (req) => {
      if (!req.url().startsWith(server.baseUrl) && !req.url().startsWith("blob:")) {
        problems.push(`outside request: ${req.url()}`);
      }
    });

    await page.goto(`${server.baseUrl}/console`, { waitUntil: "networkidle" });
    const examples = page.getByTestId("example");
    await examples.first().waitFor();
    const exampleTexts = await examples.allTextContents();
    check(
      exampleTexts.includes(LAUNCH) && exampleTexts.includes(STRATEGY),
      `examples loaded: ${exampleTexts.join(" | ")}`,
    );

    // 1. Click an example utterance: the launch.
    await examples.getByText(LAUNCH, { exact: true }).click();
    const launch = await lastTurn(page, "LaunchRequest");
    const welcome = await launch.getByTestId("turn-speech").textContent();
    check(
      variants(content, "greeting.new").some((line) => welcome.includes(line)),
      `launch answered with a welcome for a new user (${welcome})`,
    );

    // 2. Another example: a strategy keeps the session open and has speech to play.
    await examples.getByText(STRATEGY, { exact: true }).click();
    const strategy = await lastTurn(page, "GetStrategyIntent");
    check(
      (await strategy.getByTestId("turn-speech").textContent()).includes(
        message(content, "strategy.offer_more"),
      ),
      "strategy offered the longer version or another",
    );
    check(await page.getByTestId("play").isEnabled(), "play button enabled for speech");

    // 3. Typed text is shown as text, never interpreted as markup.
    const hostile = '<img src=x onerror="window.__pwned=1">';
    await page.getByTestId("text").fill(hostile);
    await page.getByTestId("send").click();
    const fallback = await lastTurn(page, "AMAZON.FallbackIntent");
    check((await fallback.locator(".said").textContent()) === hostile, "typed markup shown literally");
    check((await page.evaluate(() => window.__pwned)) === undefined, "typed markup did not run");
    check((await page.locator("#transcript img").count()) === 0, "no element injected");

    // 4. Type an utterance and press Enter; the screenshot shows this turn in the panels.
    await page.getByTestId("text").fill("start kid time for 20 minutes");
    await page.getByTestId("text").press("Enter");
    const kidTime = await lastTurn(page, "StartKidTimeIntent");
    check(
      (await kidTime.getByTestId("turn-intent").textContent()) === "StartKidTimeIntent",
      "transcript shows the matched intent",
    );
    check((await kidTime.textContent()).includes("duration=PT20M"), "transcript shows the slot");
    const started = await kidTime.getByTestId("turn-speech").textContent();
    check(
      started.includes(message(content, "kidtime.started", { minutes: 20 })),
      "transcript shows the kid-time speech",
    );
    check((await page.getByTestId("intent").textContent()) === "StartKidTimeIntent", "intent panel");
    check(
      (await page.getByTestId("card").textContent()).includes(message(content, "kidtime.card_title")),
      "card panel shows the kid-time card",
    );
    check((await page.getByTestId("ended").textContent()) === "ended", "session shown as ended");
    const envelope = JSON.parse(await page.getByTestId("request").textContent());
    check(envelope.request.intent.slots.duration.value === "PT20M", "request panel shows the envelope");

    // 5. Play: the offline voice renders this reply and the page loads it into its player.
    await page.getByTestId("play").click();
    await page.locator("#audio:not([hidden])").waitFor({ timeout: 60_000 });
    const seconds = await page.evaluate(async () => {
      const audio = document.getElementById("audio");
      if (!(audio.duration > 0)) {
        await new Promise((done) => audio.addEventListener("loadedmetadata", done, { once: true }));
      }
      return audio.duration;
    });
    check(seconds > 2, `offline audio loaded in the player (${seconds.toFixed(1)} s)`);
    await page.getByTestId("play").and(page.locator(":enabled")).waitFor({ timeout: 5_000 });

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    console.log(`screenshot: ${SCREENSHOT}`);
    check(problems.length === 0, `no page errors or outside requests ${JSON.stringify(problems)}`);
  } finally {
    if (browser) await browser.close();
    rmSync(profile, { recursive: true, force: true });
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exitCode = 1;
});
