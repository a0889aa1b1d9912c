// The error summary of a form the server sent back with something to fix (includes/form.html): it takes
// focus on arrival, so that a screen reader reads what to fix first, and its links move focus into the
// field they name. A module, not an inline script, for the Content Security Policy.
import { followSummaryLinks } from "./forms.js";

const summary = document.querySelector("[data-error-summary]");
if (summary) {
  followSummaryLinks(summary);
  summary.focus();
}
