// Talks to the AudioConverter API: JSON calls, uploads with progress, signed download links, the event stream.
// The session (who is logged in, until when) lives in session.js; every 401 goes through unauthorized() below.

import { currentSession, endSession, startSession } from "./session.js";

/** Thrown for any answer that is not a success; carries the problem+json body when there is one. */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problemMessage(status, problem));
    this.name = "ApiError";
    this.status = status;
    this.problem = problem ?? {};
    this.fieldErrors = fieldErrors(problem);
  }
}

/** The one sentence a person should read for a refused request. */
export function problemMessage(status, problem) {
  if (problem && typeof problem.detail === "string" && problem.detail) return problem.detail;
  if (problem && typeof problem.title === "string" && problem.title) return problem.title;
  if (status === 0) return "The server cannot be reached; check the connection and try again.";
  if (status === 413) return "The file is larger than the server accepts.";
  if (status >= 500) return `The server could not handle the request (error ${status}); try again in a moment.`;
  return `The request was refused (error ${status}).`;
}

function fieldErrors(problem) {
  const result = {};
  const errors = problem && typeof problem.errors === "object" && problem.errors !== null ? problem.errors : {};
  for (const [field, messages] of Object.entries(errors)) {
    result[field] = Array.isArray(messages) ? messages.map(String) : [String(messages)];
  }
  return result;
}

// ---- requests ----

async function readProblem(response) {
  const type = response.headers.get("Content-Type") ?? "";
  if (!type.includes("json")) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** A 401 on an authenticated call means the token is no longer good: the session ends with the server's reason. */
function unauthorized(status, problem) {
  const error = new ApiError(status, problem);
  endSession(error.message);
  return error;
}

/** The next page's path from a Link header (rel="next"); only a path of the task list is followed. */
function nextLink(header) {
  const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(header ?? "");
  return match && match[1].startsWith("/api/tasks?") ? match[1] : null;
}

async function request(method, path, { body, auth = true, signal, paged = false } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth) {
    const current = currentSession();
    if (!current) throw new ApiError(401, { detail: "Log in to continue." });
    headers.Authorization = `Bearer ${current.token}`;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal, cache: "no-store" });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    throw new ApiError(0, null);
  }
  if (response.ok) {
    const answer = response.status === 204 ? null : await response.json();
    return paged ? { items: answer, next: nextLink(response.headers.get("Link")) } : answer;
  }
  const problem = await readProblem(response);
  if (auth && response.status === 401) throw unauthorized(401, problem);
  throw new ApiError(response.status, problem);
}

export async function signup(fields) {
  return request("POST", "/api/auth/signup", { body: fields, auth: false });
}

export async function login(username, password) {
  const answer = await request("POST", "/api/auth/login", { body: { username, password }, auth: false });
  return startSession(answer.token, answer.expiresAt, username);
}

export const formats = () => request("GET", "/api/formats");
/** One page of the task list, newest first: { items, next }, next being the following page's path or null (keyset paging). */
export const listTasks = (path = "/api/tasks?order=1&max=200") => request("GET", path, { paged: true });
export const presets = () => request("GET", "/api/presets");
export const waveform = (id, points = 400) => request("GET", `/api/tasks/${encodeURIComponent(id)}/waveform?points=${points}`);
export const reconvert = (id, newFormat) => request("PUT", `/api/tasks/${encodeURIComponent(id)}`, { body: { newFormat } });
export const deleteTask = (id) => request("DELETE", `/api/tasks/${encodeURIComponent(id)}`);

/**
 * Uploads one file as multipart (fileName + newFormat) with XMLHttpRequest, which reports upload progress.
 * Returns { promise, abort }; onProgress gets a fraction from 0 to 1.
 */
export function upload(file, newFormat, fields, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    const current = currentSession();
    if (!current) {
      reject(new ApiError(401, { detail: "Log in to continue." }));
      return;
    }
    const form = new FormData();
    form.append("fileName", file, file.name);
    if (newFormat) form.append("newFormat", newFormat);
    for (const [name, value] of Object.entries(fields ?? {})) form.append(name, value);
    xhr.open("POST", "/api/tasks");
    xhr.setRequestHeader("Authorization", `Bearer ${current.token}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "text";
    xhr.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body);
      } else if (xhr.status === 401) {
        reject(unauthorized(401, body));
      } else {
        reject(new ApiError(xhr.status, body));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, null)));
    xhr.addEventListener("abort", () => reject(new ApiError(0, { detail: "The upload was cancelled." })));
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/**
 * A short-lived signed URL for one of the user's file routes (POST /api/links), so the browser itself can stream
 * the file: to disk through an <a download>, or into an <audio> player. Nothing is held in the page's memory.
 */
export async function signedUrl(path) {
  const answer = await request("POST", "/api/links", { body: { path } });
  return answer.url;
}

/** Saves a file through a signed link; the browser streams it and names it by the server's Content-Disposition. */
export async function download(path) {
  const url = await signedUrl(path);
  const link = document.createElement("a");
  link.href = url;
  link.download = "";
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
}

/**
 * Follows GET /api/events (Server-Sent Events). EventSource cannot send the Authorization header the route needs,
 * so this reads the stream with fetch() and parses it. Calls onOpen once connected, onEvent(type, data) per event,
 * and resolves when the stream ends or breaks (the caller reconnects, passing the last id it saw).
 */
export async function followEvents({ onOpen, onEvent, signal, lastEventId }) {
  const current = currentSession();
  if (!current) throw new ApiError(401, { detail: "Log in to continue." });
  const headers = { Accept: "text/event-stream", Authorization: `Bearer ${current.token}` };
  if (lastEventId) headers["Last-Event-ID"] = lastEventId;
  const response = await fetch("/api/events", { headers, signal, cache: "no-store" });
  if (!response.ok || !response.body) {
    const problem = await readProblem(response);
    if (response.status === 401) throw unauthorized(401, problem);
    throw new ApiError(response.status, problem);
  }
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = { type: "message", data: [], id: null };
  let last = lastEventId ?? null;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return last;
    buffer += value;
    let newline;
    while ((newline = buffer.search(/\r\n|\n|\r/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
      if (line === "") {
        if (event.id !== null) last = event.id;
        if (event.data.length > 0) onEvent(event.type, event.data.join("\n"));
        event = { type: "message", data: [], id: null };
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event.type = text;
      else if (field === "data") event.data.push(text);
      else if (field === "id") event.id = text;
    }
  }
}
