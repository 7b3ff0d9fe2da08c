// Dropping or picking files: each one is uploaded with its own progress bar, a few at a time.

import { currentFields } from "./options.js";
import { ApiError, upload } from "./api.js";
import * as show from "./format.js";

const parallelUploads = 3;
const queue = [];
const inFlight = new Set();
let onUploaded = () => {};
let announce = () => {};

export function setUpUploads({ uploaded, announcer }) {
  onUploaded = uploaded;
  announce = announcer;
  const zone = document.getElementById("dropzone");
  const input = document.getElementById("files");

  input.addEventListener("change", () => {
    addFiles(input.files);
    input.value = "";
  });

  // A counter, because dragenter/dragleave fire for every child the pointer crosses.
  let depth = 0;
  zone.addEventListener("dragenter", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    depth += 1;
    zone.classList.add("is-dragging");
  });
  zone.addEventListener("dragover", (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) zone.classList.remove("is-dragging");
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    depth = 0;
    zone.classList.remove("is-dragging");
    addFiles(event.dataTransfer.files);
  });
  // A file dropped beside the zone must not make the browser navigate away from the page.
  for (const type of ["dragover", "drop"]) {
    window.addEventListener(type, (event) => {
      if (hasFiles(event) && !zone.contains(event.target)) event.preventDefault();
    });
  }

  document.getElementById("clear-uploads").addEventListener("click", () => {
    for (const item of [...document.querySelectorAll("#uploads .upload-item.is-finished")]) item.remove();
    updateClearButton();
    document.getElementById("files").focus();
  });
}

function hasFiles(event) {
  return [...(event.dataTransfer?.types ?? [])].includes("Files");
}

function addFiles(fileList) {
  const files = [...(fileList ?? [])];
  if (files.length === 0) return;
  const select = document.getElementById("format");
  const formatError = document.getElementById("format-error");
  formatError.textContent = "";
  select.removeAttribute("aria-invalid");
  if (!select.value) {
    formatError.textContent = "Choose the format to convert to first.";
    select.setAttribute("aria-invalid", "true");
    select.focus();
    return;
  }
  for (const file of files) {
    const item = createItem(file, select.value);
    queue.push({ file, newFormat: select.value, fields: currentFields(), item });
  }
  announce(files.length === 1 ? `Uploading ${files[0].name}.` : `Uploading ${files.length} files.`);
  pump();
}

function createItem(file, newFormat) {
  const item = document.getElementById("upload-template").content.firstElementChild.cloneNode(true);
  item.querySelector(".upload-name").textContent = `${file.name} → ${newFormat.toUpperCase()}`;
  const progress = item.querySelector(".upload-progress");
  progress.setAttribute("aria-label", `Upload of ${file.name}`);
  item.querySelector(".upload-state").textContent = "Waiting";
  item.querySelector(".upload-message").textContent = show.bytes(file.size);
  document.getElementById("uploads").prepend(item);
  return item;
}

function pump() {
  while (inFlight.size < parallelUploads && queue.length > 0) {
    const job = queue.shift();
    inFlight.add(job);
    run(job).finally(() => {
      inFlight.delete(job);
      pump();
    });
  }
}

async function run(job) {
  const { file, newFormat, fields, item } = job;
  const progress = item.querySelector(".upload-progress");
  const state = item.querySelector(".upload-state");
  const message = item.querySelector(".upload-message");
  item.classList.add("is-running");
  state.textContent = "0%";
  try {
    const handle = upload(file, newFormat, fields, (fraction) => {
      const percent = Math.floor(fraction * 100);
      progress.value = percent;
      state.textContent = `${percent}%`;
    });
    job.abort = handle.abort;
    const created = await handle.promise;
    progress.value = 100;
    state.textContent = "Uploaded";
    message.textContent = `${show.bytes(file.size)}, added to your conversions.`;
    item.classList.add("is-done");
    onUploaded(created);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    // 4xx: the service said no to this file; anything else: the upload did not get through.
    const refused = error.status >= 400 && error.status < 500;
    state.textContent = refused ? "Refused" : "Failed";
    const fieldMessages = Object.values(error.fieldErrors).flat();
    // The detail normally joins the field messages already; show each sentence once.
    message.textContent = [...new Set([error.message, ...fieldMessages])].filter((m) => !error.message.includes(m) || m === error.message).join(" ");
    item.classList.add("is-failed");
    if (item.isConnected) announce(`${file.name} ${refused ? "was refused" : "did not upload"}: ${error.message}`);
  } finally {
    item.classList.remove("is-running");
    item.classList.add("is-finished");
    updateClearButton();
  }
}

function updateClearButton() {
  document.getElementById("clear-uploads").hidden = document.querySelector("#uploads .upload-item.is-finished") === null;
}

/** Drops every upload row (on log out). */
export function resetUploads() {
  queue.length = 0;
  for (const job of inFlight) job.abort?.();
  document.getElementById("uploads").replaceChildren();
  updateClearButton();
}
