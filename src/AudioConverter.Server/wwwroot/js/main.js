// The page: shows the account forms while logged out and the workspace while logged in.

import { ApiError, formats, presets } from "./api.js";
import { endSession, onSessionChange, resumeSession } from "./session.js";
import { setOptionsData, setUpOptions } from "./options.js";
import { focusLogin, setUpAuthForms } from "./auth.js";
import * as tasks from "./tasks.js";
import { resetUploads, setUpUploads } from "./uploads.js";

const $ = (id) => document.getElementById(id);

/** Says something to screen readers without moving focus; re-setting the text makes repeats heard. */
function announce(message) {
  const region = $("announcer");
  region.textContent = "";
  requestAnimationFrame(() => {
    region.textContent = message;
  });
}

function notify(message, kind = "info") {
  const notice = $("notice");
  notice.textContent = message;
  notice.className = message ? `notice notice-${kind}` : "notice";
}

async function loadFormats() {
  const select = $("format");
  const previous = select.value || localStorage.getItem("audioconverter.format") || "mp3";
  try {
    const list = await formats();
    select.replaceChildren(
      ...list.map((format) => {
        const option = document.createElement("option");
        option.value = format.name;
        option.textContent = `${format.name.toUpperCase()} — ${format.description}`;
        return option;
      }),
    );
    select.value = list.some((f) => f.name === previous) ? previous : list[0]?.name ?? "";
    tasks.setFormats(list);
    setOptionsData(list, null);
    setOptionsData(list, await presets());
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status !== 401) $("format-error").textContent = `The formats could not be loaded: ${error.message}`;
  }
}

function showLoggedIn(session, fromForm) {
  $("auth-view").hidden = true;
  $("app-view").hidden = false;
  $("account").hidden = false;
  $("account-name").textContent = session.username ?? "";
  document.body.classList.add("is-signed-in");
  loadFormats();
  tasks.start();
  // After logging in with the form, the keyboard continues where the work is.
  if (fromForm) $("upload-heading").focus();
}

function showLoggedOut(reason, cause) {
  tasks.stop();
  // An expired token does not cancel uploads already under way; logging out (or another account) does.
  if (cause !== "expired") resetUploads();
  $("app-view").hidden = true;
  $("account").hidden = true;
  $("account-name").textContent = "";
  $("auth-view").hidden = false;
  document.body.classList.remove("is-signed-in");
  if (reason) notify(reason, "warning");
}

function main() {
  setUpAuthForms();
  setUpOptions();
  tasks.setUpTasks({ announcer: announce });
  setUpUploads({ uploaded: (created) => tasks.added(created), announcer: announce });

  $("format").addEventListener("change", (event) => localStorage.setItem("audioconverter.format", event.target.value));
  $("logout").addEventListener("click", () => {
    endSession("You are logged out.");
    focusLogin();
  });

  let lastUser = null;
  onSessionChange((session, reason, cause) => {
    if (session) {
      if (lastUser !== null && lastUser !== session.username) resetUploads();
      lastUser = session.username;
      const fromForm = !$("auth-view").hidden;
      notify("");
      showLoggedIn(session, fromForm);
    } else {
      showLoggedOut(reason, cause);
    }
  });

  const session = resumeSession();
  if (!session) showLoggedOut("");
}

main();
