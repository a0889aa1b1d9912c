// The browser modules' words in the page's language. Django's JavaScript catalogue for that language is a
// static file the page loads before any module (base.html); it defines `django.gettext` and friends. Without
// it (a test page, a failed load) the English words are shown.
const catalogue = globalThis.django;

export function gettext(text) {
  return catalogue ? catalogue.gettext(text) : text;
}

export function ngettext(singular, plural, count) {
  return catalogue ? catalogue.ngettext(singular, plural, count) : count === 1 ? singular : plural;
}

// Fills %(name)s in translated words: `format(gettext("Pass on to %(name)s"), { name })`.
export function format(text, values) {
  return text.replace(/%\((\w+)\)[sd]/g, (whole, key) => (key in values ? String(values[key]) : whole));
}

// The page's language, for Intl formats (dates, numbers) and for choosing per-language files.
export function pageLanguage() {
  return document.documentElement.lang || "en";
}

// A date and time in the page's language and the viewer's own time zone (the page's data-time-zone, which
// the server sets from the person's settings), in one format everywhere.
export function dateTime(iso) {
  const timeZone = document.documentElement.dataset.timeZone || undefined;
  const options = { dateStyle: "medium", timeStyle: "short", timeZone };
  try {
    return new Intl.DateTimeFormat(pageLanguage(), options).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(pageLanguage(), { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso));
  }
}
