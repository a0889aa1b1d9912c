// Quick exit: leave for a neutral site at once, and leave no Mend page behind the Back button.
// Mend pages in this tab are found through the Navigation API; we go back to the first of them,
// then replace it with the neutral site, so Back leads to wherever the person was before Mend.
const EXITING = "mend-quick-exit";

function neutralUrl() {
  return document.body.dataset.quickExit || "https://www.bbc.com/weather";
}

function leave() {
  const url = neutralUrl();
  const nav = window.navigation;
  document.body.classList.add("leaving");
  if (nav && typeof nav.entries === "function" && nav.currentEntry) {
    const first = nav.entries()[0];
    if (first && first.key !== nav.currentEntry.key) {
      sessionStorage.setItem(EXITING, url);
      nav.traverseTo(first.key);
      return;
    }
  }
  window.location.replace(url);
}

// Arriving on the first Mend entry mid-exit: finish leaving before anything else happens.
const pending = sessionStorage.getItem(EXITING);
if (pending) {
  sessionStorage.removeItem(EXITING);
  window.location.replace(pending);
}

const button = document.getElementById("quick-exit");
if (button) {
  button.addEventListener("click", (event) => {
    event.preventDefault();
    leave();
  });
}

let lastEscape = 0;
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const now = Date.now();
  if (now - lastEscape < 1000) {
    leave();
  }
  lastEscape = now;
});
