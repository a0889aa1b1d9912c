// Quick exit: leave for a neutral site at once, and leave no Mend page behind the Back button.
// Mend pages in this tab are found through the Navigation API; we go back to the first of them,
// then replace it with the neutral site, so Back leads to wherever the person was before Mend.
const EXITING = "mend-quick-exit";
let leaving = false;

function neutralUrl() {
  return document.body.dataset.quickExit || "https://www.bbc.com/weather";
}

// Signing out on the way means Forward, or someone picking up the device, finds only the sign-in page.
function signOut() {
  // The unlocked keys go too; the page may be gone before this finishes, and the next sign-in clears them.
  import("./e2e.js").then((e2e) => e2e.clearKeyset()).catch(() => {});
  const { signOut: signOutUrl, csrf } = document.body.dataset;
  if (!signOutUrl || !csrf || !navigator.sendBeacon) return;
  const form = new FormData();
  form.append("csrfmiddlewaretoken", csrf);
  navigator.sendBeacon(signOutUrl, form);
}

function leave() {
  // A second click or Escape while the first is under way must not cut the history clean-up short.
  if (leaving) return;
  leaving = true;
  signOut();
  const url = neutralUrl();
  const nav = window.navigation;
  document.body.classList.add("leaving");
  if (nav && typeof nav.entries === "function" && nav.currentEntry) {
    const first = nav.entries()[0];
    if (first && first.key !== nav.currentEntry.key) {
      sessionStorage.setItem(EXITING, url);
      // If the browser will not go back there after all, leave from where we are.
      nav.traverseTo(first.key).committed.catch(finishLeaving);
      return;
    }
  }
  window.location.replace(url);
}

// On the first Mend entry mid-exit: finish leaving before anything else happens.
function finishLeaving() {
  const pending = sessionStorage.getItem(EXITING);
  if (!pending) return;
  sessionStorage.removeItem(EXITING);
  document.body.classList.add("leaving");
  window.location.replace(pending);
}

finishLeaving();
// A page restored from the back/forward cache does not run this module again; it does get pageshow.
// It comes back as it was left, perhaps mid-exit: usable again, unless an exit is still pending.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  leaving = false;
  document.body.classList.remove("leaving");
  finishLeaving();
});

const button = document.getElementById("quick-exit");
if (button) {
  button.addEventListener("click", (event) => {
    event.preventDefault();
    leave();
  });
}

// Escape twice leaves, except while someone is typing: screen-reader users press Escape to leave a text
// field's focus mode, and what they were writing must not be lost to it. The button is always one press.
function typingIn(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable || target.tagName === "TEXTAREA") return true;
  if (target.tagName !== "INPUT") return false;
  return !["button", "checkbox", "radio", "submit", "reset", "file", "image", "range", "color"].includes(target.type);
}

let lastEscape = 0;
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  if (typingIn(event.target)) {
    lastEscape = 0;
    return;
  }
  const now = Date.now();
  if (now - lastEscape < 1000) {
    leave();
  }
  lastEscape = now;
});
