// The session: who is logged in and until when, kept in localStorage and shared with other tabs. No HTTP here.

const storageKey = "audioconverter.session";

let session = load();
const listeners = new Set();
let expiryTimer = 0;

function load() {
  try {
    const saved = JSON.parse(localStorage.getItem(storageKey) ?? "null");
    if (saved && typeof saved.token === "string" && typeof saved.expiresAt === "string") return saved;
  } catch {
    // A damaged entry is the same as none.
  }
  return null;
}

/** The name inside the token (the account's username even when the person logged in with an e-mail). */
function nameFromToken(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims.unique_name === "string" ? claims.unique_name : null;
  } catch {
    return null;
  }
}

export function currentSession() {
  if (session && Date.parse(session.expiresAt) <= Date.now()) {
    endSession("Your session has expired; log in again.", "expired");
  }
  return session;
}

/** Called with (session, reason) whenever someone logs in or out. */
export function onSessionChange(listener) {
  listeners.add(listener);
}

function setSession(value, reason, cause = "logout") {
  session = value;
  clearTimeout(expiryTimer);
  if (value) {
    localStorage.setItem(storageKey, JSON.stringify(value));
    // Timers longer than about 24.8 days overflow; tokens live hours, but clamp anyway.
    const wait = Math.min(Date.parse(value.expiresAt) - Date.now(), 2 ** 31 - 1);
    expiryTimer = setTimeout(() => endSession("Your session has expired; log in again.", "expired"), Math.max(wait, 0));
  } else {
    localStorage.removeItem(storageKey);
  }
  for (const listener of listeners) listener(session, reason, cause);
}

/**
 * Ends the session. cause "expired" means the token ran out: uploads already sent keep going (the server checked
 * the token when each began), so the page does not cancel them; a log-out or another account does.
 */
export function endSession(reason, cause = "logout") {
  if (session === null && !reason) return;
  setSession(null, reason ?? "", cause);
}

/** A new session from a login answer. */
export function startSession(token, expiresAt, username) {
  setSession({ token, expiresAt, username: nameFromToken(token) ?? username }, "");
  return session;
}

/** Restarts the expiry timer for a session found in storage at page load. */
export function resumeSession() {
  const value = currentSession();
  if (value) setSession(value, "");
  return value;
}

// Another tab logging in or out changes this one too.
window.addEventListener("storage", (event) => {
  if (event.key !== storageKey) return;
  const value = load();
  if (value?.token !== session?.token) setSession(value, value ? "" : "You were logged out in another window.");
});

