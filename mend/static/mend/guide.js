// Language guide: while someone writes to the person they harmed, gently point out words that can
// minimise, shift blame or make an apology conditional. Everything happens in this page: the draft
// is read here and never sent anywhere; the only request is for the rules file itself.
import { gettext, pageLanguage } from "./i18n.js";

// One rules file per language, beside this module (language-guide/<lang>.json). The writer's page says which
// language they write in; a language without its own rules yet gets the English ones.
export const FALLBACK_LANGUAGE = "en";
const DEBOUNCE_MS = 300;

// "es-MX" reads the Spanish rules; anything that is not a plain language code reads the English ones.
export function rulesLanguage(language = pageLanguage()) {
  const primary = String(language || "").split(/[-_]/)[0].toLowerCase();
  return /^[a-z]{2,3}$/.test(primary) ? primary : FALLBACK_LANGUAGE;
}

export function rulesUrl(language = pageLanguage()) {
  return new URL(`language-guide/${rulesLanguage(language)}.json`, import.meta.url).href;
}

const loads = new Map();

// One request per language and page. A failed load is forgotten, so a later call can try again; until then
// the guide simply stays quiet, because writing must never depend on it.
export function loadRules(language = pageLanguage()) {
  const wanted = rulesLanguage(language);
  let rules = loads.get(wanted);
  if (!rules) {
    rules = fetchRules(wanted).catch((error) => {
      loads.delete(wanted);
      throw error;
    });
    loads.set(wanted, rules);
  }
  return rules;
}

async function fetchRules(language) {
  const response = await fetch(rulesUrl(language), { credentials: "same-origin" });
  if (response.status === 404 && language !== FALLBACK_LANGUAGE) return loadRules(FALLBACK_LANGUAGE);
  if (!response.ok) throw new Error(`Language guide rules (${language}): HTTP ${response.status}`);
  return response.json();
}

// The same text can be typed in more than one way: accents composed or not, Arabic with or without its
// short-vowel marks and tatweel. The rules are written for the plain form (the Python tests read it so too).
const ARABIC_MARKS = /[\u064B-\u065F\u0670\u0640]/gu;

export function plainText(text) {
  return text.normalize("NFC").replace(ARABIC_MARKS, "");
}

// The same flags as the Python tests use (re.I); "u" makes JavaScript read the pattern strictly.
const compiled = new WeakMap();

// A browser that cannot read a pattern (an old one, without lookbehind) skips that rule, not the whole guide.
function compile(rule) {
  if (!compiled.has(rule)) {
    let pattern = null;
    try {
      pattern = new RegExp(rule.pattern, "iu");
    } catch {
      pattern = null;
    }
    compiled.set(rule, pattern);
  }
  return compiled.get(rule);
}

// The rules that match the text, each once, in the order their words first appear in it.
export function hintsFor(text, rules) {
  const found = [];
  if (!text) return found;
  const plain = plainText(text);
  rules.forEach((rule, order) => {
    const match = compile(rule)?.exec(plain);
    if (match) {
      found.push({ id: rule.id, kind: rule.kind, hint: rule.hint, phrase: match[0], index: match.index, order });
    }
  });
  found.sort((a, b) => a.index - b.index || a.order - b.order);
  return found.map(({ order, ...hint }) => hint);
}

function render(panel, hints) {
  if (!hints.length) {
    panel.replaceChildren();
    return;
  }
  const intro = document.createElement("p");
  intro.className = "guide-intro";
  intro.textContent = gettext("Only you can see these notes. Some words might not come across the way you mean.");
  const list = document.createElement("ul");
  list.className = "guide-hints";
  for (const { phrase, hint } of hints) {
    const item = document.createElement("li");
    const quote = document.createElement("q");
    quote.textContent = phrase;
    const advice = document.createElement("span");
    advice.textContent = ` ${hint}`;
    item.append(quote, advice);
    list.append(item);
  }
  panel.replaceChildren(intro, list);
}

// Watches the textarea and keeps the panel (aria-live="polite") up to date, a moment after typing
// stops, and only when what it would say changes, so a screen reader is not told the same thing twice.
// Returns a function that stops watching.
export function attachGuide(textarea, panel, rules) {
  let timer = null;
  let shown = "";

  function update() {
    timer = null;
    const hints = hintsFor(textarea.value, rules);
    const key = JSON.stringify(hints.map(({ id, phrase }) => [id, phrase.toLowerCase()]));
    if (key === shown) return;
    shown = key;
    render(panel, hints);
  }

  function onInput() {
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(update, DEBOUNCE_MS);
  }

  textarea.addEventListener("input", onInput);
  update();
  return () => {
    textarea.removeEventListener("input", onInput);
    if (timer !== null) clearTimeout(timer);
  };
}
