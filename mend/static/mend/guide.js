// Language guide: while someone writes to the person they harmed, gently point out words that can
// minimise, shift blame or make an apology conditional. Everything happens in this page: the draft
// is read here and never sent anywhere; the only request is for the rules file itself.
export const RULES_URL = "/static/mend/language-guide.json";
const DEBOUNCE_MS = 300;

let rulesPromise = null;

// One request per page. A failed load is forgotten, so a later call can try again; until then the
// guide simply stays quiet, because writing must never depend on it.
export function loadRules(url = RULES_URL) {
  if (!rulesPromise) {
    rulesPromise = fetch(url, { credentials: "same-origin" })
      .then((response) => {
        if (!response.ok) throw new Error(`Language guide rules: HTTP ${response.status}`);
        return response.json();
      })
      .catch((error) => {
        rulesPromise = null;
        throw error;
      });
  }
  return rulesPromise;
}

// The same flags as the Python tests use (re.I); "u" makes JavaScript read the pattern strictly.
const compiled = new WeakMap();

function compile(rule) {
  let pattern = compiled.get(rule);
  if (!pattern) {
    pattern = new RegExp(rule.pattern, "iu");
    compiled.set(rule, pattern);
  }
  return pattern;
}

// The rules that match the text, each once, in the order their words first appear in it.
export function hintsFor(text, rules) {
  const found = [];
  if (!text) return found;
  rules.forEach((rule, order) => {
    const match = compile(rule).exec(text);
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
  intro.textContent = "Only you can see these notes. Some words might not come across the way you mean.";
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
