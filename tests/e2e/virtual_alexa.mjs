// Bespoken's virtual-alexa, a real third-party Alexa client, against the running skill server.
// It builds requests from interaction_models/en-US.json and posts them unsigned, so the server
// runs with --dev (signature check off). Expected speech comes from speech/content/en-US.json.
//
//   node tests/e2e/virtual_alexa.mjs
//
// Starts `mama-moments run --dev` itself unless BASE_URL is set. Exit code 0 means pass.
import { join } from "node:path";

import { REPO, check, loadContent, message, startServer, variants } from "./server.mjs";

// virtual-alexa pulls in aws-sdk v2, which prints an end-of-support notice unless told not to.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1";
const { VirtualAlexa } = (await import("virtual-alexa")).default;
const SKILL_ID = "amzn1.ask.skill.e2e00000-0000-4000-8000-000000000001";
const content = loadContent("en-US");

const ENTITIES = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** SSML → comparable plain text: tags dropped, entities decoded, whitespace collapsed. */
function plain(ssml) {
  return String(ssml ?? "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&(amp|lt|gt|quot|apos);/g, (_, name) => ENTITIES[name])
    .replace(/\s+/g, " ")
    .trim();
}

function says(reply, expected, label) {
  const speech = plain(reply.prompt());
  const wanted = (Array.isArray(expected) ? expected : [expected]).map(plain);
  const missing = wanted.filter((text) => !speech.includes(text));
  check(missing.length === 0, `${label}${missing.length ? `: missing ${JSON.stringify(missing)} in ${JSON.stringify(speech)}` : ""}`);
  return speech;
}

function ended(reply) {
  return reply.response.shouldEndSession === true;
}

async function main() {
  // The server checks the application id, so the skill-id check is exercised too.
  const server = await startServer({ MAMA_SKILL_ID: SKILL_ID });
  try {
    const alexa = VirtualAlexa.Builder()
      .interactionModelFile(join(REPO, "interaction_models", "en-US.json"))
      .skillURL(`${server.baseUrl}/alexa`)
      .applicationID(SKILL_ID)
      .locale("en-US")
      .create();

    const launch = await alexa.launch();
    // The greeting varies: any line of the new-user pool is right, and nothing else is.
    const greeting = plain(launch.prompt());
    const welcomes = variants(content, "greeting.new").map(plain);
    check(welcomes.some((line) => greeting.includes(line)), `launch: a welcome for a new user (${greeting})`);
    check(!ended(launch), "launch keeps the session open");
    check(plain(launch.reprompt()) === plain(message(content, "menu.reprompt")), "launch reprompt");

    // virtual-alexa passes AMAZON.DURATION words through as spoken, so the real client is
    // asked for the intent with the ISO-8601 value Alexa itself would send.
    const kidTime = await alexa.intend("StartKidTimeIntent", { duration: "PT20M" });
    says(kidTime, message(content, "kidtime.started", { minutes: 20 }), "kid time started for 20 minutes");
    check(kidTime.cardTitle() === message(content, "kidtime.card_title"), "kid-time card");
    check(ended(kidTime), "kid time ends the session");

    const strategy = await alexa.utter("give me a strategy");
    const titles = content.strategies.map((s) => s.title);
    const heard = titles.find((title) => plain(strategy.prompt()).includes(plain(title)));
    check(Boolean(heard), `strategy speech names a strategy from the content (${heard})`);
    says(strategy, message(content, "strategy.offer_more"), "strategy offers the longer version or another");
    check(strategy.cardTitle() === heard, "strategy card title");
    check(!ended(strategy), "strategy keeps the session open");

    const another = await alexa.utter("another one");
    const next = titles.find((title) => plain(another.prompt()).includes(plain(title)));
    check(Boolean(next) && next !== heard, `"another one" gives a different strategy (${next})`);

    const letter = await alexa.utter("read the letter");
    says(
      letter,
      [message(content, "letter.intro"), content.letter.greeting, ...content.letter.paragraphs],
      "the letter is read in full",
    );
    check(letter.cardTitle() === content.letter.title, "letter card");

    const done = await alexa.utter("we're done");
    // Seconds after the start: the short-session message (content decides its wording).
    says(done, message(content, "kidtime.done_short"), "we're done celebrates the kid time");

    const stop = await alexa.utter("stop");
    says(stop, message(content, "goodbye"), "stop says goodbye");
    check(ended(stop), "stop ends the session");
  } finally {
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exitCode = 1;
});
