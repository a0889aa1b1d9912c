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
// the server sets from the person's settings), in the same short form as the server's SHORT_DATETIME_FORMAT
// (mend/formats): "7 Dec 2026, 15:09", with Western digits as the server writes them.
const INTL_LOCALE = { en: "en-GB" };

export function dateTime(iso) {
  const language = pageLanguage();
  const options = {
    day: "numeric",
    month: language === "ar" ? "long" : "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    numberingSystem: "latn",
  };
  const timeZone = document.documentElement.dataset.timeZone;
  const locale = INTL_LOCALE[language] || language;
  try {
    return new Intl.DateTimeFormat(locale, { ...options, timeZone }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(locale, options).format(new Date(iso)); // a zone this browser does not know
  }
}
