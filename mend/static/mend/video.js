// A meeting's video room: one peer connection with each person this browser may connect with (a mesh of
// at most six), set up through the meeting's websocket with "perfect negotiation", and encrypted by the
// browsers themselves (DTLS-SRTP). Media never passes through Mend, and nothing here records anything.
// The server says whom to connect with and whom to drop (side room, someone leaving or withdrawing); this
// page follows it at once.
import { el, hideError, showError as showIn } from "./ui.js";
import { format, gettext } from "./i18n.js";

const root = document.querySelector("[data-room]");
const me = root.dataset.me;
const names = JSON.parse(root.dataset.names || "{}");
const facilitators = new Set(JSON.parse(root.dataset.facilitators || "[]"));
const facilitates = root.dataset.facilitates === "1";
const rtcConfig = {
  iceServers: JSON.parse(root.dataset.ice || "[]"),
  // With a TURN server configured, everything goes through it: nobody learns another's network address.
  iceTransportPolicy: root.dataset.relay === "1" ? "relay" : "all",
};

const status = root.querySelector("[data-status]");
const announce = root.querySelector("[data-announce]");
const errors = root.querySelector("[data-errors]");
const joinForm = root.querySelector("[data-join]");
const controls = root.querySelector("[data-controls]");
const audioButton = root.querySelector("[data-toggle-audio]");
const videoButton = root.querySelector("[data-toggle-video]");
const leaveButton = root.querySelector("[data-leave]");
const tiles = root.querySelector("[data-tiles]");
const breakScreen = root.querySelector("[data-break-screen]");
const sideNotice = root.querySelector("[data-side-notice]");
const leftNote = root.querySelector("[data-left-note]");
const facilitation = root.querySelector("[data-facilitation]");

const peers = new Map(); // id -> Peer
const local = new MediaStream();
const tracks = { audio: null, video: null };
let micOn = true; // what the person chose; a break mutes without changing it
let onBreak = false;
let side = new Set();
let socket = null;
let closedMessage = "";
let retryTimer = null;
let reconnectDelay = 1000;
let attempts = 0; // connections in a row that never got into the room

// --- small helpers ------------------------------------------------------------------------------------

function nameOf(id) {
  return names[id] || gettext("Someone");
}

function setState(state, text) {
  root.dataset.state = state;
  if (text !== undefined) status.textContent = text;
}

function say(text) {
  announce.textContent = text;
}

const showError = (problem) => showIn(errors, problem);

function send(frame) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
}

// --- tiles --------------------------------------------------------------------------------------------

function tileFor(id) {
  let item = tiles.querySelector(`[data-peer="${CSS.escape(id)}"]`);
  if (item) return item;
  item = el("li", { class: "tile", "data-peer": id });
  const video = el("video", { autoplay: "", playsinline: "" });
  if (id === me) {
    video.muted = true; // never hear oneself
    item.classList.add("mine");
  }
  const caption = el("p", { class: "tile-name" });
  const name =
    id === me
      ? gettext("You")
      : facilitators.has(id)
        ? format(gettext("%(name)s, facilitator"), { name: nameOf(id) })
        : nameOf(id);
  caption.append(el("span", {}, name), el("span", { class: "tile-state", "data-tile-state": "" }));
  item.append(video, caption);
  if (id === me) tiles.prepend(item);
  else tiles.append(item);
  return item;
}

function showMedia(id, audio, video) {
  const item = tileFor(id);
  item.dataset.audio = audio ? "1" : "0";
  item.dataset.video = video ? "1" : "0";
  const words = [];
  if (!audio) words.push(gettext("microphone off"));
  if (!video) words.push(gettext("camera off"));
  if (facilitates && side.has(id)) words.push(gettext("in the side room"));
  item.querySelector("[data-tile-state]").textContent = words.length ? ` (${words.join(", ")})` : "";
}

function showOwnMedia() {
  const audio = Boolean(tracks.audio) && micOn;
  showMedia(me, audio, Boolean(tracks.video));
  audioButton.textContent =
    tracks.audio && micOn ? gettext("Mute") : tracks.audio ? gettext("Unmute") : gettext("Turn microphone on");
  videoButton.textContent = tracks.video ? gettext("Turn camera off") : gettext("Turn camera on");
}

// --- one connection with one person (perfect negotiation) ----------------------------------------------

class Peer {
  // The side with the greater id makes the first offer; the other answers it, and only then adds its own
  // sound and picture. Offers that cross later (a camera turned on) are settled by "perfect negotiation":
  // the polite side gives way.
  constructor(id, nonce, { answering }) {
    this.id = id;
    this.nonce = nonce;
    this.polite = me < id;
    this.makingOffer = false;
    this.ignoreOffer = false;
    this.settingAnswer = false;
    this.waitingToSend = answering;
    this.queue = Promise.resolve();
    this.senders = {};
    this.stream = new MediaStream();
    this.tile = tileFor(id);
    this.video = this.tile.querySelector("video");
    this.video.srcObject = this.stream;
    this.video.muted = onBreak;
    this.pc = new RTCPeerConnection(rtcConfig);
    this.pc.ontrack = ({ track }) => {
      this.stream.addTrack(track);
      track.addEventListener("ended", () => this.stream.removeTrack(track));
      this.video.play().catch(() => {});
    };
    this.pc.onicecandidate = ({ candidate }) => {
      if (candidate) this.signal({ candidate: candidate.toJSON() });
    };
    this.pc.onnegotiationneeded = async () => {
      try {
        this.makingOffer = true;
        await this.pc.setLocalDescription();
        this.signal({ description: { type: this.pc.localDescription.type, sdp: this.pc.localDescription.sdp } });
      } catch (error) {
        console.warn("Could not make an offer", error);
      } finally {
        this.makingOffer = false;
      }
    };
    this.pc.oniceconnectionstatechange = () => {
      if (this.pc.iceConnectionState === "failed") this.pc.restartIce();
    };
    this.pc.onconnectionstatechange = () => {
      this.tile.dataset.connection = this.pc.connectionState;
    };
    if (!answering) {
      for (const kind of ["audio", "video"]) {
        // Receive both even when sending neither: the offer must ask for the other's sound and picture.
        if (tracks[kind]) this.senders[kind] = this.pc.addTrack(tracks[kind], local);
        else this.pc.addTransceiver(kind, { direction: "recvonly" });
      }
    }
  }

  signal(data) {
    send({ type: "signal", to: this.id, data });
  }

  receive(data) {
    // One at a time and in order: a candidate must not overtake the description it belongs to.
    this.queue = this.queue.then(() => this.handle(data)).catch((error) => console.warn("Signal failed", error));
  }

  async handle(data) {
    const pc = this.pc;
    if (pc.signalingState === "closed") return;
    if (data.description) {
      const description = data.description;
      const ready = !this.makingOffer && (pc.signalingState === "stable" || this.settingAnswer);
      const collision = description.type === "offer" && !ready;
      this.ignoreOffer = !this.polite && collision;
      if (this.ignoreOffer) return;
      this.settingAnswer = description.type === "answer";
      await pc.setRemoteDescription(description);
      this.settingAnswer = false;
      if (description.type === "offer") {
        if (this.waitingToSend) {
          this.waitingToSend = false;
          for (const kind of ["audio", "video"]) await this.setTrack(kind, tracks[kind]);
        }
        await pc.setLocalDescription();
        this.signal({ description: { type: pc.localDescription.type, sdp: pc.localDescription.sdp } });
      }
    } else if ("candidate" in data) {
      try {
        await pc.addIceCandidate(data.candidate || undefined);
      } catch (error) {
        if (!this.ignoreOffer) throw error;
      }
    }
  }

  async setTrack(kind, track) {
    if (this.waitingToSend) return; // added when answering the first offer
    if (this.senders[kind]) {
      await this.senders[kind].replaceTrack(track);
      return;
    }
    if (!track) return;
    // A transceiver that so far only receives this kind: send on it too.
    const spare = this.pc
      .getTransceivers()
      .find((t) => !t.stopped && t.receiver.track.kind === kind && !t.sender.track && t.direction !== "sendrecv");
    if (spare) {
      await spare.sender.replaceTrack(track);
      spare.sender.setStreams(local);
      spare.direction = "sendrecv";
      this.senders[kind] = spare.sender;
    } else {
      this.senders[kind] = this.pc.addTrack(track, local);
    }
  }

  close() {
    this.pc.close();
    for (const track of this.stream.getTracks()) this.stream.removeTrack(track);
    this.tile.remove();
  }
}

// Whom this browser is to be connected with (id -> their connection's nonce and media), whether or not
// the connection is up yet.
const expected = new Map();

function meet(id, nonce, audio = true, video = true) {
  if (id === me) return;
  const known = expected.get(id);
  if (known && known.nonce !== nonce) closePeer(id, false); // they came back from a new window or a reload
  expected.set(id, { nonce, audio, video });
  if (!known) say(format(gettext("%(name)s is here."), { name: nameOf(id) }));
  showMedia(id, audio, video);
  if (me > id) ensurePeer(id, nonce, { answering: false });
}

function ensurePeer(id, nonce, { answering }) {
  const peer = peers.get(id);
  if (peer && peer.nonce === nonce) return peer;
  if (peer) closePeer(id, false);
  if (!expected.has(id) || expected.get(id).nonce !== nonce) expected.set(id, { nonce, audio: true, video: true });
  const fresh = new Peer(id, nonce, { answering });
  peers.set(id, fresh);
  const { audio, video } = expected.get(id);
  showMedia(id, audio, video);
  return fresh;
}

function closePeer(id, tell = true) {
  const peer = peers.get(id);
  const wasExpected = expected.delete(id);
  if (peer) {
    peers.delete(id);
    peer.close();
  } else {
    const tile = tiles.querySelector(`[data-peer="${CSS.escape(id)}"]`);
    if (tile) tile.remove();
  }
  if (tell && (peer || wasExpected)) say(format(gettext("%(name)s has left."), { name: nameOf(id) }));
}

function closeAll() {
  for (const id of new Set([...peers.keys(), ...expected.keys()])) closePeer(id, false);
}

// --- what this person sends -----------------------------------------------------------------------------

async function capture(kind) {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ [kind]: true });
    return stream.getTracks()[0];
  } catch (error) {
    showError(
      kind === "audio"
        ? gettext("Your microphone could not start. You can still see and hear the others.")
        : gettext("Your camera could not start. You can still take part with your microphone."),
    );
    return null;
  }
}

async function useTrack(kind, track) {
  const old = tracks[kind];
  if (old) {
    local.removeTrack(old);
    old.stop();
  }
  tracks[kind] = track;
  if (track) {
    local.addTrack(track);
    track.enabled = !onBreak && (kind === "video" || micOn);
  }
  await Promise.all([...peers.values()].map((peer) => peer.setTrack(kind, track)));
  showOwnMedia();
  send({ type: "media", audio: Boolean(tracks.audio) && micOn, video: Boolean(tracks.video) });
}

audioButton.addEventListener("click", async () => {
  if (!tracks.audio) {
    micOn = true;
    await useTrack("audio", await capture("audio"));
    return;
  }
  micOn = !micOn;
  tracks.audio.enabled = micOn && !onBreak;
  showOwnMedia();
  send({ type: "media", audio: micOn, video: Boolean(tracks.video) });
});

videoButton.addEventListener("click", async () => {
  // Off means off: the camera stops (its light too), not just a black picture.
  await useTrack("video", tracks.video ? null : await capture("video"));
});

// --- the break, the side room ---------------------------------------------------------------------------

function setBreak(on) {
  onBreak = on;
  breakScreen.hidden = !on;
  root.classList.toggle("on-break", on);
  if (tracks.audio) tracks.audio.enabled = !on && micOn;
  if (tracks.video) tracks.video.enabled = !on;
  // Silence arriving from others too, whatever their own browser does.
  for (const peer of peers.values()) peer.video.muted = on;
  audioButton.disabled = on;
  videoButton.disabled = on;
  if (facilitation) {
    facilitation.querySelector("[data-pause]").hidden = on;
    facilitation.querySelector("[data-resume]").hidden = !on;
  }
  say(on ? gettext("The meeting is paused for a break.") : gettext("The break is over."));
}

function setSide(ids) {
  side = new Set(ids);
  sideNotice.hidden = !side.has(me);
  for (const item of tiles.querySelectorAll("[data-peer]")) {
    const id = item.dataset.peer;
    item.classList.toggle("in-side-room", side.has(id));
    if (id !== me) showMedia(id, item.dataset.audio !== "0", item.dataset.video !== "0");
  }
  if (facilitation) {
    for (const box of facilitation.querySelectorAll("[data-side-choice]")) box.checked = side.has(box.value);
  }
}

if (facilitation) {
  facilitation.querySelector("[data-pause]").addEventListener("click", () => send({ type: "pause" }));
  facilitation.querySelector("[data-resume]").addEventListener("click", () => send({ type: "resume" }));
  facilitation.querySelector("[data-end]").addEventListener("click", () => {
    if (window.confirm(gettext("End the meeting for everyone?"))) send({ type: "end" });
  });
  const caucus = facilitation.querySelector("[data-caucus-form]");
  if (caucus) {
    caucus.addEventListener("submit", (event) => {
      event.preventDefault();
      const people = [...caucus.querySelectorAll("[data-side-choice]:checked")].map((box) => box.value);
      if (people.length) send({ type: "caucus", people });
      else showError(gettext("Choose who goes to the side room."));
    });
    caucus.querySelector("[data-rejoin]").addEventListener("click", () => send({ type: "rejoin" }));
  }
}

// --- the websocket --------------------------------------------------------------------------------------

function joinFrame() {
  return { type: "join", audio: Boolean(tracks.audio) && micOn, video: Boolean(tracks.video) };
}

const handlers = {
  peers(frame) {
    clearTimeout(retryTimer);
    reconnectDelay = 1000;
    attempts = 0;
    setState("in", gettext("You are in the meeting."));
    const listed = new Set(frame.peers.map((p) => p.id));
    for (const id of new Set([...peers.keys(), ...expected.keys()])) if (!listed.has(id)) closePeer(id);
    for (const p of frame.peers) meet(p.id, p.nonce, p.audio, p.video);
    setSide(frame.side);
    if (frame.break !== onBreak) setBreak(frame.break);
  },
  joined(frame) {
    meet(frame.id, frame.nonce, frame.audio, frame.video);
  },
  left(frame) {
    closePeer(frame.id);
  },
  signal(frame) {
    if (frame.from === me) return;
    ensurePeer(frame.from, frame.nonce, { answering: true }).receive(frame.data);
  },
  media(frame) {
    const known = expected.get(frame.id);
    if (!known) return;
    Object.assign(known, { audio: frame.audio, video: frame.video });
    showMedia(frame.id, frame.audio, frame.video);
  },
  break(frame) {
    setBreak(frame.on);
  },
  room(frame) {
    setSide(frame.side);
  },
  waiting(frame) {
    setState("waiting", frame.message);
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => send(joinFrame()), 15000); // in case the news of its opening is missed
  },
  opened() {
    clearTimeout(retryTimer);
    send(joinFrame());
  },
  closed(frame) {
    closedMessage = frame.message;
  },
  error(frame) {
    // A signal for someone who has just left or moved rooms is of no concern to the person.
    if (frame.to) console.info(frame.error, frame.to);
    else showError(frame.error);
  },
};

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}${root.dataset.ws}`);
  socket.addEventListener("open", () => send(joinFrame()));
  socket.addEventListener("message", (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return;
    }
    const handle = handlers[frame.type];
    if (handle) handle(frame);
  });
  socket.addEventListener("close", (event) => {
    socket = null;
    closeAll();
    if (root.dataset.state === "left") return;
    // Refused or removed, ended, signed out, or joined elsewhere: the room is over for this page.
    if ([1000, 4401, 4404, 4409].includes(event.code) || closedMessage) {
      finish(closedMessage || gettext("You are not in the meeting any more."));
      return;
    }
    attempts += 1;
    if (attempts > 6) {
      finish(gettext("The connection to the meeting was lost. Reload this page to try again."));
      return;
    }
    setState("reconnecting", gettext("The connection dropped. Reconnecting…"));
    setTimeout(connect, reconnectDelay);
    reconnectDelay = Math.min(reconnectDelay * 2, 15000);
  });
}

function finish(message) {
  clearTimeout(retryTimer);
  closeAll();
  for (const kind of ["audio", "video"]) {
    if (tracks[kind]) tracks[kind].stop();
    tracks[kind] = null;
  }
  const mine = tiles.querySelector(`[data-peer="${CSS.escape(me)}"]`);
  if (mine) mine.remove();
  if (onBreak) setBreak(false);
  controls.hidden = true;
  if (facilitation) facilitation.hidden = true;
  sideNotice.hidden = true;
  setState("left", message);
  leftNote.textContent = gettext("Your microphone and camera are off. To come back, reload this page.");
  leftNote.hidden = false;
  if (socket) socket.close(1000);
}

leaveButton.addEventListener("click", () => {
  send({ type: "leave" });
  finish(gettext("You have left the meeting."));
});

joinForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  hideError(errors);
  joinForm.querySelector("button").disabled = true;
  setState("joining", gettext("Starting…"));
  micOn = joinForm.querySelector("[data-join-audio]").checked;
  const wantVideo = joinForm.querySelector("[data-join-video]").checked;
  if (micOn) tracks.audio = await capture("audio");
  if (wantVideo) tracks.video = await capture("video");
  micOn = micOn && Boolean(tracks.audio);
  for (const track of Object.values(tracks)) if (track) local.addTrack(track);
  tileFor(me).querySelector("video").srcObject = local;
  joinForm.hidden = true;
  controls.hidden = false;
  if (facilitation) facilitation.hidden = false;
  showOwnMedia();
  setState("connecting", gettext("Connecting…"));
  connect();
});
// Join comes disabled until this script is ready for it, so a press made while the page is still loading
// is not lost.
joinForm.querySelector("button").disabled = false;

// For the browser tests: what each connection has received so far, from WebRTC's own statistics.
window.mendVideoStats = async () => {
  const result = {};
  for (const [id, peer] of peers) {
    const entry = { audio: 0, video: 0, connection: peer.pc.connectionState };
    const report = await peer.pc.getStats();
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && (s.kind === "audio" || s.kind === "video")) entry[s.kind] += s.bytesReceived || 0;
    });
    result[id] = entry;
  }
  return result;
};
