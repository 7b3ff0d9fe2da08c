// The log-in and sign-up forms, with the API's validation messages beside the fields.

import { ApiError, login, signup } from "./api.js";

/** Clears earlier messages in a form. */
function resetErrors(form, prefix) {
  form.querySelector(`#${prefix}-error`).textContent = "";
  for (const input of form.querySelectorAll("input")) {
    input.removeAttribute("aria-invalid");
    const message = form.querySelector(`#${input.id}-error`);
    if (message) message.textContent = "";
  }
}

/**
 * Shows a refused request: each field's messages beside it, the rest at the top of the form.
 * Returns the first input that has a message, to move focus to.
 */
function showErrors(form, prefix, error, fieldAliases = {}) {
  const general = [];
  let first = null;
  for (const [rawField, messages] of Object.entries(error.fieldErrors ?? {})) {
    const field = fieldAliases[rawField.toLowerCase()] ?? rawField.toLowerCase();
    const input = form.querySelector(`#${prefix}-${field}`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      form.querySelector(`#${input.id}-error`).textContent = messages.join(" ");
      first ??= input;
    } else {
      general.push(...messages);
    }
  }
  // The detail repeats the field messages; show it only when no field took them.
  if (!first) general.unshift(error.message);
  form.querySelector(`#${prefix}-error`).textContent = [...new Set(general)].join(" ");
  return first;
}

function busy(form, value) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = value;
  form.setAttribute("aria-busy", String(value));
}

export function setUpAuthForms() {
  const loginForm = document.getElementById("login-form");
  const signupForm = document.getElementById("signup-form");

  loginForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    resetErrors(loginForm, "login");
    const username = loginForm.elements.username.value.trim();
    const password = loginForm.elements.password.value;
    busy(loginForm, true);
    try {
      await login(username, password);
      loginForm.reset();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const field = showErrors(loginForm, "login", error, { email: "username" });
      (field ?? loginForm.elements.password).focus();
    } finally {
      busy(loginForm, false);
    }
  });

  signupForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    resetErrors(signupForm, "signup");
    const fields = {
      username: signupForm.elements.username.value.trim(),
      email: signupForm.elements.email.value.trim(),
      password1: signupForm.elements.password1.value,
      password2: signupForm.elements.password2.value,
    };
    busy(signupForm, true);
    try {
      await signup(fields);
      // A new account logs straight in: nobody wants to type the same password a third time.
      await login(fields.username, fields.password1);
      signupForm.reset();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      const field = showErrors(signupForm, "signup", error, { user: "username" });
      (field ?? signupForm.elements.username).focus();
    } finally {
      busy(signupForm, false);
    }
  });
}

export function focusLogin() {
  document.getElementById("login-username").focus();
}
