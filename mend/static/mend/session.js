// Signing out also forgets this person's unlocked keys on this device.
import { clearKeyset } from "./e2e.js";

for (const form of document.querySelectorAll("form[data-sign-out]")) {
  form.addEventListener("submit", async (event) => {
    if (form.dataset.cleared) return;
    event.preventDefault();
    try {
      await clearKeyset();
      // A staff wrapping key kept for the page after the second step (signin.js), if that never came.
      indexedDB.deleteDatabase("mend-sign-in");
    } finally {
      form.dataset.cleared = "1";
      form.submit();
    }
  });
}
