// Local console for Mama Moments. No framework, no build step, nothing from outside.
// Everything shown comes from the server or the user, so it is only ever put into the page
// with textContent (never innerHTML): SSML, cards and typed text cannot inject markup.
"use strict";

(() => {
  const USER_KEY = "mama-moments-console-user";
  const $ = (id) => document.getElementById(id);

  // The conversation lives here, not on the server: each answer's `session` is sent back.
  const state = {
    locale: "en-US",
    session: { user_id: localStorage.getItem(USER_KEY) || null, session_id: null, attributes: {} },
    lastSpeech: null,
    busy: false,
  };

  function pretty(value) {
    return JSON.stringify(value ?? {}, null, 2);
  }

  function setStatus(message, bad = false) {
    const status = $("status");
    status.textContent = message || "";
    status.classList.toggle("bad", Boolean(bad));
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function slotSummary(slots) {
    return Object.entries(slots || {})
      .map(([name, slot]) => {
        let shown = `${name}=${slot.value}`;
        if (slot.resolved_id) shown += ` → ${slot.resolved_id}`;
        return shown;
      })
      .join(" ");
  }

  async function postJSON(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = { error: "bad_response", message: `HTTP ${response.status}` };
    }
    return { ok: response.ok, status: response.status, data };
  }

  function addTurn(utterance, turn) {
    const item = el("li", "turn");
    item.dataset.testid = "turn";
    item.dataset.intent = turn.intent || "";
    const you = el("div", "you");
    you.append(el("span", "who", "You"), el("span", "said", utterance));
    const match = el("div", "match");
    const intent = el("code", "intent", turn.intent || "?");
    intent.dataset.testid = "turn-intent";
    match.append(intent);
    const slots = slotSummary(turn.slots);
    if (slots) match.append(" ", el("span", "slots", slots));
    item.append(you, match);
    if (turn.error && !turn.speech) {
      item.classList.add("error");
      item.append(el("div", "alexa", turn.message || turn.error));
    } else {
      const alexa = el("div", "alexa");
      const speech = el("span", "speech", turn.speech ? turn.speech.text : "(no speech)");
      speech.dataset.testid = "turn-speech";
      alexa.append(el("span", "who", "Alexa"), speech);
      item.append(alexa);
    }
    if (turn.ended) item.append(el("div", "meta", "session ended"));
    $("transcript").append(item);
    item.scrollIntoView({ block: "nearest" });
  }

  function showCard(card) {
    const box = $("card");
    box.replaceChildren();
    if (!card) {
      box.textContent = "–";
      box.classList.add("muted");
      return;
    }
    box.classList.remove("muted");
    box.append(el("div", "title", card.title || ""), el("div", "body", card.content || card.text || ""));
  }

  function showPanels(turn) {
    $("intent").textContent = turn.intent || "–";
    const guesses = (turn.did_you_mean || []).map((g) => `${g.intent} (${g.score.toFixed(2)})`);
    $("sample").textContent = guesses.length
      ? `did you mean ${guesses.join(", ")}?`
      : turn.sample ? `matched “${turn.sample}”` : "";
    $("slots").textContent = pretty(turn.slots);
    $("speech-text").textContent = turn.speech ? turn.speech.text : "";
    $("speech-ssml").textContent = turn.speech ? turn.speech.ssml : "";
    $("reprompt").textContent = turn.reprompt ? turn.reprompt.text : "–";
    showCard(turn.card);
    $("session").textContent = pretty(turn.session_attributes);
    $("ended").textContent = turn.ended ? "ended" : "open";
    $("request").textContent = pretty(turn.request);
    $("response").textContent = pretty(turn.response);
    state.lastSpeech = turn.speech ? turn.speech.ssml : null;
    $("play").disabled = !state.lastSpeech;
    const audio = $("audio");
    audio.hidden = true;
    audio.removeAttribute("src");
  }

  async function say(text) {
    const utterance = text.trim();
    if (!utterance || state.busy) return;
    state.busy = true;
    $("send").disabled = true;
    setStatus("…");
    try {
      const { ok, data } = await postJSON("/console/api/say", {
        text: utterance,
        locale: state.locale,
        session: state.session,
      });
      if (data && data.intent) {
        addTurn(utterance, data);
        showPanels(data);
        if (data.session) {
          state.session = data.session;
          localStorage.setItem(USER_KEY, data.session.user_id);
        }
        setStatus(ok ? "" : data.message || data.error, !ok);
      } else {
        setStatus((data && (data.message || data.error)) || "request failed", true);
      }
    } catch (err) {
      setStatus(`request failed: ${err}`, true);
    } finally {
      state.busy = false;
      $("send").disabled = false;
    }
  }

  async function play() {
    if (!state.lastSpeech) return;
    $("play").disabled = true;
    setStatus("rendering audio…");
    try {
      const response = await fetch("/console/api/audio", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ ssml: state.lastSpeech, locale: state.locale }),
      });
      if (!response.ok) {
        let message = `HTTP ${response.status}`;
        try {
          const body = await response.json();
          message = body.message || body.error || message;
        } catch (_) {
          /* keep the status line */
        }
        setStatus(`audio unavailable: ${message}`, true);
        return;
      }
      const audio = $("audio");
      if (audio.src) URL.revokeObjectURL(audio.src);
      audio.src = URL.createObjectURL(await response.blob());
      audio.hidden = false;
      setStatus("");
      // Not awaited: without a sound device play() may never settle, which would keep the
      // button disabled.
      audio.play().catch(() => setStatus("press play on the player to listen"));
    } catch (err) {
      setStatus(`audio failed: ${err}`, true);
    } finally {
      $("play").disabled = !state.lastSpeech;
    }
  }

  function newSession() {
    state.session = { user_id: state.session.user_id, session_id: null, attributes: {} };
    $("transcript").replaceChildren();
    setStatus("new session");
  }

  async function loadModel(locale) {
    const response = await fetch(`/console/api/model?locale=${encodeURIComponent(locale || "")}`);
    const model = await response.json();
    if (!response.ok) {
      setStatus(model.message || model.error, true);
      return;
    }
    state.locale = model.locale;
    const select = $("locale");
    select.replaceChildren(
      ...model.locales.map((code) => {
        const option = el("option", null, code);
        option.value = code;
        option.selected = code === model.locale;
        return option;
      }),
    );
    $("examples").replaceChildren(
      ...model.examples.map((text) => {
        const button = el("button", null, text);
        button.type = "button";
        button.dataset.testid = "example";
        button.addEventListener("click", () => say(text));
        return button;
      }),
    );
    $("text").placeholder = `Try “open ${model.invocation_name}”`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("say-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const input = $("text");
      const text = input.value;
      input.value = "";
      say(text);
    });
    $("play").addEventListener("click", play);
    $("new-session").addEventListener("click", newSession);
    $("locale").addEventListener("change", (event) => {
      newSession();
      loadModel(event.target.value);
    });
    loadModel("").catch((err) => setStatus(`could not load the model: ${err}`, true));
  });
})();
