// The list of the user's conversions, newest first, kept up to date by polling while any is still running.

import { ApiError, deleteTask, download, followEvents, listTasks, reconvert, signedUrl, waveform } from "./api.js";
import * as show from "./format.js";

const activeStatuses = new Set(["uploaded", "processing"]);
const fastPollMs = 1000;
const slowPollMs = 30_000;

const statusLabels = {
  uploaded: "Queued",
  processing: "Converting",
  processed: "Ready",
  failed: "Failed",
};

const notes = {
  uploaded: "Waiting for a converter…",
  processing: "Converting now…",
  processed: "Converted; ready to download.",
};

/** id → { task, element } */
const rows = new Map();
let formatList = [];
let pollTimer = 0;
let generation = 0;
let refreshing = null;
let failing = false;
let announce = () => {};
let live = false;
let liveAbort = null;
let lastEventId = null;
// The page after the oldest row shown (the API's Link rel="next"); null when every older task is shown.
let nextPage = null;

const list = () => document.getElementById("task-list");

export function setUpTasks({ announcer }) {
  announce = announcer;
  list().addEventListener("click", onAction);
  list().addEventListener("change", (event) => {
    if (event.target.classList.contains("task-select")) updateSelection();
  });
  document.getElementById("download-selected").addEventListener("click", downloadSelected);
  document.getElementById("tasks-more").addEventListener("click", showMore);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && generation > 0) refresh();
  });
}

export function setFormats(formats) {
  formatList = formats;
  for (const { element, task } of rows.values()) fillFormatSelect(element.querySelector(".reconvert-format"), task);
}

/** Starts showing the signed-in user's tasks. */
export function start() {
  stop();
  generation += 1;
  follow(generation);
  return refresh();
}

/** A task the page itself just created (an upload): shown at once; the event stream or polling follow it. */
export function added(task) {
  if (task && !rows.has(task.id)) upsert(task);
  if (!live) refresh();
}

/**
 * Live updates from GET /api/events while the stream works; while it is broken the page polls (refresh), and
 * reconnects with the last event id it saw so nothing is missed.
 */
async function follow(mine) {
  while (mine === generation) {
    const controller = new AbortController();
    liveAbort = controller;
    try {
      lastEventId = await followEvents({
        lastEventId,
        signal: controller.signal,
        onOpen: () => {
          live = true;
          clearTimeout(pollTimer);
          setLiveState("Live updates are on.");
        },
        onEvent: (type, data) => {
          if (mine !== generation) return;
          try {
            const task = JSON.parse(data);
            if (type === "task.deleted") removeRow(task.id);
            else if (task && typeof task.id === "number") upsert(task);
          } catch {
            // A malformed event is skipped; the next one, or the next poll, brings the truth.
          }
        },
      });
    } catch (error) {
      if (error.name === "AbortError" || (error instanceof ApiError && error.status === 401)) return;
    }
    if (mine !== generation) return;
    live = false;
    setLiveState("Live updates are interrupted; checking every second.");
    refresh();
    await new Promise((resolve) => setTimeout(resolve, 3000));
  }
}

function setLiveState(text) {
  document.getElementById("live-state").textContent = text;
}

function upsert(task) {
  const all = [...rows.values()].map((r) => r.task).filter((t) => t.id !== task.id);
  all.push(task);
  all.sort((a, b) => b.id - a.id);
  render(all);
}

function removeRow(id) {
  const row = rows.get(id);
  if (!row) return;
  render([...rows.values()].map((r) => r.task).filter((t) => t.id !== id));
}

function selectedIds() {
  return [...list().querySelectorAll(".task-select:checked")].map((box) => Number(box.closest(".task").dataset.id)).filter((id) => rows.get(id)?.task.status === "processed");
}

function updateSelection() {
  const count = selectedIds().length;
  const button = document.getElementById("download-selected");
  button.disabled = count === 0;
  button.textContent = count === 0 ? "Download selected as ZIP" : `Download ${count} selected as ZIP`;
}

async function downloadSelected() {
  const ids = selectedIds();
  if (ids.length === 0) return;
  const button = document.getElementById("download-selected");
  button.setAttribute("aria-busy", "true");
  try {
    await download(`/api/tasks/archive?ids=${ids.join(",")}`, "conversions.zip");
    announce(`Downloading ${ids.length} converted files as one ZIP.`);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status !== 401) announce(`The ZIP could not be downloaded: ${error.message}`);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

/** Plays the converted file and draws its waveform from GET /api/tasks/{id}/waveform. */
async function listen(task, element) {
  const player = element.querySelector(".task-player");
  const audio = element.querySelector(".task-audio");
  const [url, wave] = await Promise.all([signedUrl(`/api/tasks/${task.id}/converted`), waveform(task.id)]);
  // The browser streams the file from a signed link (an <audio> cannot send the Authorization header).
  audio.src = url;
  player.hidden = false;
  drawWaveform(element.querySelector(".task-waveform"), wave.peaks ?? []);
  audio.focus();
}

function drawWaveform(canvas, peaks) {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(canvas.clientWidth, 100);
  const height = canvas.clientHeight || 48;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const context = canvas.getContext("2d");
  context.scale(ratio, ratio);
  context.clearRect(0, 0, width, height);
  context.fillStyle = getComputedStyle(canvas).color || "#2a6";
  const step = width / Math.max(peaks.length, 1);
  peaks.forEach((peak, index) => {
    const value = Math.min(Math.abs(Array.isArray(peak) ? Math.max(Math.abs(peak[0]), Math.abs(peak[1])) : Number(peak) || 0), 1);
    const bar = Math.max(value * height, 1);
    context.fillRect(index * step, (height - bar) / 2, Math.max(step - 1, 1), bar);
  });
}

/** Forgets everything shown (on log out), so the next user never sees the previous one's tasks. */
export function stop() {
  generation += 1;
  clearTimeout(pollTimer);
  liveAbort?.abort();
  live = false;
  lastEventId = null;
  refreshing = null;
  rows.clear();
  nextPage = null;
  document.getElementById("tasks-more").hidden = true;
  list().replaceChildren();
  document.getElementById("tasks-count").textContent = "";
  document.getElementById("tasks-empty").hidden = true;
}

/** Fetches the list now (coalescing concurrent calls) and schedules the next poll. */
export function refresh() {
  if (refreshing) return refreshing;
  const mine = generation;
  clearTimeout(pollTimer);
  refreshing = (async () => {
    let active = false;
    try {
      const page = await listTasks();
      if (mine !== generation) return;
      // The first page is the truth for its range; older rows shown (loaded with "Show older", or pushed off the
      // first page by new uploads) stay, and so does the cursor after the oldest of them.
      const oldest = page.items.length > 0 ? page.items[page.items.length - 1].id : Infinity;
      const kept = page.next ? [...rows.values()].map((r) => r.task).filter((t) => t.id < oldest) : [];
      if (kept.length === 0) nextPage = page.next;
      const tasks = [...page.items, ...kept];
      render(tasks);
      failing = false;
      active = tasks.some((t) => activeStatuses.has(t.status));
    } catch (error) {
      if (!(error instanceof ApiError) || mine !== generation) return;
      // Once per outage, not at every poll.
      if (error.status !== 401 && !failing) announce(`The list could not be refreshed: ${error.message}`);
      failing = true;
      active = error.status !== 401;
    } finally {
      if (mine === generation) {
        refreshing = null;
        if (!live) pollTimer = setTimeout(refresh, active ? fastPollMs : slowPollMs);
      }
    }
  })();
  return refreshing;
}

/** Loads the next page of older tasks below the ones shown. */
async function showMore() {
  const button = document.getElementById("tasks-more");
  if (!nextPage || button.getAttribute("aria-busy") === "true") return;
  const mine = generation;
  button.setAttribute("aria-busy", "true");
  try {
    const page = await listTasks(nextPage);
    if (mine !== generation) return;
    const shown = [...rows.values()].map((r) => r.task);
    const ids = new Set(shown.map((t) => t.id));
    const older = page.items.filter((t) => !ids.has(t.id));
    nextPage = page.next;
    render([...shown, ...older].sort((a, b) => b.id - a.id));
    announce(older.length === 0 ? "There are no older conversions." : `Showing ${older.length} older conversions.`);
    // The button goes away at the end of the list: keep the keyboard user at the first row it brought.
    if (!nextPage && older.length > 0) rows.get(older[0].id)?.element.querySelector('[data-action="original"]').focus();
  } catch (error) {
    if (!(error instanceof ApiError) || mine !== generation) return;
    if (error.status !== 401) announce(`Older conversions could not be loaded: ${error.message}`);
  } finally {
    button.removeAttribute("aria-busy");
  }
}

function render(tasks) {
  const seen = new Set();
  const container = list();
  let previous = null;
  for (const task of tasks) {
    seen.add(task.id);
    let row = rows.get(task.id);
    if (!row) {
      row = { task: null, element: createRow(task) };
      rows.set(task.id, row);
    }
    if (row.task && row.task.status !== task.status) announceChange(task);
    row.task = task;
    update(row.element, task);
    // Move a row only when it is out of place, so a focused button keeps its focus.
    const wanted = previous ? previous.nextElementSibling : container.firstElementChild;
    if (wanted !== row.element) container.insertBefore(row.element, wanted);
    previous = row.element;
  }
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.element.remove();
      rows.delete(id);
    }
  }
  document.getElementById("tasks-empty").hidden = tasks.length > 0;
  document.getElementById("tasks-count").textContent = tasks.length === 0 ? "" : tasks.length === 1 ? "1 conversion" : `${tasks.length} conversions${nextPage ? " shown; older ones below" : ""}`;
  document.getElementById("tasks-more").hidden = !nextPage;
}

function announceChange(task) {
  const label = statusLabels[task.status] ?? task.status;
  announce(task.status === "failed" ? `${task.fileName}: failed. ${task.error ?? ""}` : `${task.fileName}: ${label.toLowerCase()}.`);
}

function createRow(task) {
  const element = document.getElementById("task-template").content.firstElementChild.cloneNode(true);
  element.dataset.id = String(task.id);
  const nameId = `task-${task.id}-name`;
  const name = element.querySelector(".task-name");
  name.id = nameId;
  element.setAttribute("aria-labelledby", nameId);
  const select = element.querySelector(".reconvert-format");
  select.id = `task-${task.id}-format`;
  const label = element.querySelector(".reconvert label");
  label.htmlFor = select.id;
  fillFormatSelect(select, task);
  element.querySelector(".task-select").id = `task-${task.id}-select`;
  return element;
}

function fillFormatSelect(select, task) {
  const chosen = select.value;
  select.replaceChildren(
    ...formatList.map((format) => {
      const option = document.createElement("option");
      option.value = format.name;
      option.textContent = format.name.toUpperCase();
      option.title = format.description;
      return option;
    }),
  );
  // Offer a different format than the current one by default; keep what the person picked.
  const fallback = formatList.find((f) => f.name !== task.newFormat)?.name ?? "";
  select.value = formatList.some((f) => f.name === chosen) ? chosen : fallback;
}

function update(element, task) {
  const name = task.fileName;
  element.querySelector(".task-name").textContent = name;
  element.querySelector(".task-formats").textContent = `${task.originalFormat.toUpperCase()} → ${task.newFormat.toUpperCase()}`;
  const output = task.outputBytes != null ? show.bytes(task.outputBytes) : task.status === "failed" ? "none" : "…";
  element.querySelector(".task-sizes").textContent = `${show.bytes(task.inputBytes)} → ${output}`;
  element.querySelector(".task-duration").textContent = task.durationSeconds == null ? "–:––" : show.duration(task.durationSeconds);
  const created = element.querySelector(".task-time");
  created.textContent = show.time(task.createdAt);
  created.title = task.createdAt;

  const badge = element.querySelector(".badge");
  badge.textContent = statusLabels[task.status] ?? task.status;
  badge.className = `badge badge-${task.status}`;
  element.dataset.status = task.status;

  const note = element.querySelector(".task-note");
  note.textContent = task.status === "failed" ? task.error || "The conversion failed." : notes[task.status] ?? "";
  note.classList.toggle("is-error", task.status === "failed");

  const progress = element.querySelector(".task-progress");
  progress.hidden = task.status === "failed";
  progress.value = task.status === "processed" ? 100 : task.progress ?? 0;
  progress.setAttribute("aria-label", `Conversion progress of ${name}`);
  element.querySelector(".task-select").setAttribute("aria-label", `Select ${name}`);
  element.querySelector(".task-select").disabled = task.status !== "processed";
  const listenButton = element.querySelector('[data-action="listen"]');
  listenButton.disabled = task.status !== "processed";
  listenButton.setAttribute("aria-label", `Listen to ${name}`);
  element.querySelector(".task-waveform").setAttribute("aria-label", `Waveform of ${name}`);
  element.querySelector(".task-audio").setAttribute("aria-label", `Player for ${name}`);

  const running = task.status === "processing";
  const original = element.querySelector('[data-action="original"]');
  original.setAttribute("aria-label", `Download the original of ${name}`);
  const converted = element.querySelector('[data-action="converted"]');
  converted.disabled = task.status !== "processed";
  converted.textContent = `Download ${task.newFormat.toUpperCase()}`;
  converted.setAttribute("aria-label", `Download ${task.newFormat.toUpperCase()} of ${name}`);
  element.querySelector(".reconvert label").textContent = `New format for ${name}`;
  element.querySelector('[data-action="reconvert"]').disabled = running;
  element.querySelector('[data-action="reconvert"]').setAttribute("aria-label", `Convert again: ${name}`);
  const remove = element.querySelector('[data-action="delete"]');
  remove.disabled = running;
  remove.setAttribute("aria-label", `Delete ${name}`);
}

function feedback(element, message) {
  element.querySelector(".task-feedback").textContent = message;
}

async function onAction(event) {
  const button = event.target.closest("button[data-action]");
  // aria-busy rather than disabled while a request runs: disabling the focused button would drop keyboard focus.
  if (!button || button.disabled || button.getAttribute("aria-busy") === "true") return;
  const element = button.closest(".task");
  const row = rows.get(Number(element.dataset.id));
  if (!row) return;
  const { task } = row;
  feedback(element, "");
  button.setAttribute("aria-busy", "true");
  try {
    switch (button.dataset.action) {
      case "original":
        await download(`/api/tasks/${task.id}/original`, task.fileName);
        break;
      case "converted":
        await download(`/api/tasks/${task.id}/converted`, show.withExtension(task.fileName, task.newFormat));
        break;
      case "listen":
        await listen(task, element);
        break;
      case "reconvert": {
        const newFormat = element.querySelector(".reconvert-format").value;
        const updated = await reconvert(task.id, newFormat);
        row.task = updated;
        update(element, updated);
        announce(`${task.fileName}: converting again to ${newFormat.toUpperCase()}.`);
        refresh();
        break;
      }
      case "delete":
        if (await confirmDelete(task)) await remove(row, element);
        break;
    }
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status !== 401) feedback(element, error.message);
    // A 404 means the task is gone (deleted elsewhere); a 409 that its state moved on: show the truth.
    if (error.status === 404 || error.status === 409) refresh();
  } finally {
    button.removeAttribute("aria-busy");
    if (rows.has(task.id)) update(element, rows.get(task.id).task);
  }
}

function confirmDelete(task) {
  const dialog = document.getElementById("confirm-delete");
  dialog.querySelector("#confirm-text").textContent = `“${task.fileName}” and its converted file will be removed for good.`;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "delete"), { once: true });
    dialog.showModal();
  });
}

async function remove(row, element) {
  await deleteTask(row.task.id);
  // Keep the keyboard user in the list: focus moves to the next row, or the previous, or the heading.
  const neighbour = element.nextElementSibling ?? element.previousElementSibling;
  rows.delete(row.task.id);
  element.remove();
  announce(`${row.task.fileName} was deleted.`);
  const remaining = rows.size;
  document.getElementById("tasks-empty").hidden = remaining > 0;
  document.getElementById("tasks-count").textContent = remaining === 0 ? "" : remaining === 1 ? "1 conversion" : `${remaining} conversions`;
  const target = neighbour?.querySelector('[data-action="original"]') ?? document.getElementById("tasks-heading");
  target.focus();
}
