// Sending files sealed on this device: each is checked, encrypted for its conversation (e2e.encryptFile)
// and uploaded; the server only ever gets ciphertext. Answers the entries a message lists its files by.
// A page's meter (`uploadMeter`) shows the locking and sending of each file as it goes.
import { encryptFile } from "./e2e.js";
import { busy, statusLineOf } from "./forms.js";
import { csrfToken } from "./http.js";
import { pageLanguage } from "./i18n.js";
import { doing, failure } from "./messages.js";
import { el } from "./ui.js";

const MAX_BYTES = 10 * 1024 * 1024;
// The status line speaks at each quarter, not at every step, so that a screen reader is not flooded; the
// progress bar beside it moves at every step.
const SPOKEN_STEP = 25;

function percent(step) {
  return new Intl.NumberFormat(pageLanguage(), { style: "percent", numberingSystem: "latn" }).format(step / 100);
}

const meters = new WeakMap();

// The meter of the region files are sent from (a form): made once, when the page starts, so that its status
// line is in the page before anything is put in it. While files are locked and sent the region is aria-busy
// and its buttons are held; if the region was not busy already, the meter frees it when the files are gone.
export function uploadMeter(region, status = statusLineOf(region)) {
  if (meters.has(region)) return meters.get(region);
  const bar = el("progress", { max: "100", value: "0", class: "upload-progress", "data-upload-progress": "" });
  bar.hidden = true;
  status.after(bar);
  let spoken = -1;
  let ownsBusy = false;
  const say = (text) => busy(region, true, text, status);
  const meter = {
    locking(file) {
      if (!region.hasAttribute("aria-busy")) ownsBusy = true;
      spoken = -1;
      bar.value = 0;
      bar.setAttribute("aria-label", file.name);
      bar.hidden = false;
      say(doing("locking_file", { name: file.name }));
    },
    sending(file, fraction) {
      const now = Math.min(100, Math.floor(fraction * 100));
      bar.value = now;
      const step = now - (now % SPOKEN_STEP);
      if (step <= spoken) return;
      spoken = step;
      say(doing("uploading_file", { name: file.name, percent: percent(step) }));
    },
    stop() {
      bar.hidden = true;
      if (ownsBusy) busy(region, false, "", status);
      ownsBusy = false;
    },
  };
  meters.set(region, meter);
  return meter;
}

const quiet = { locking() {}, sending() {}, stop() {} };

// The meter of the region the page's template names for its files (data-upload-meter), or none.
function pageMeter() {
  const region = document.querySelector("[data-upload-meter]");
  return region ? uploadMeter(region) : quiet;
}

// One file's ciphertext, posted with XMLHttpRequest: fetch cannot say how much of a body has gone.
function post(url, file, { ciphertext, entry }, meter) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.responseType = "json";
    request.setRequestHeader("X-CSRFToken", csrfToken());
    request.setRequestHeader("X-File-Id", entry.id);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) meter.sending(file, event.loaded / event.total);
    });
    request.upload.addEventListener("load", () => meter.sending(file, 1));
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else if (request.response?.error) reject(failure("file_refused_named", { name: file.name, reason: request.response.error }));
      else reject(failure("file_not_sent_named", { name: file.name }));
    });
    for (const ending of ["error", "abort", "timeout"]) {
      request.addEventListener(ending, () => reject(failure("file_not_sent_named", { name: file.name })));
    }
    request.send(ciphertext);
  });
}

// `accepts(file)` says which files the page takes; `tooBig` and `notAccepted` are the codes it refuses with;
// `meter` (from `uploadMeter`) shows the work; without one, the page's own meter does, if it names one.
export async function uploadEncrypted(files, { url, conversation, accepts, tooBig, notAccepted, meter = pageMeter() }) {
  for (const file of files) {
    if (file.size > MAX_BYTES) throw failure(tooBig, { name: file.name });
    if (!accepts(file)) throw failure(notAccepted, { name: file.name });
  }
  const entries = [];
  try {
    for (const file of files) {
      meter.locking(file);
      const sealed = await encryptFile(new Uint8Array(await file.arrayBuffer()), { conversation });
      meter.sending(file, 0);
      await post(url, file, sealed, meter);
      entries.push({ ...sealed.entry, name: file.name, type: file.type, size: file.size });
    }
  } finally {
    meter.stop();
  }
  return entries;
}
