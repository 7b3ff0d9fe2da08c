// The options panel: built from GET /api/formats (each format's options, ranges and defaults) and GET /api/presets.
// Choosing a preset picks its format and fills its values; anything changed by hand is sent too and wins.

const labels = {
  bitrate: "Bitrate",
  quality: "Quality (VBR)",
  sampleRate: "Sample rate",
  channels: "Channels",
  start: "Start",
  end: "End",
  fadeIn: "Fade in",
  fadeOut: "Fade out",
  loudness: "Loudness",
  truePeak: "True peak",
  metadata: "Metadata",
  title: "Title",
  artist: "Artist",
  album: "Album",
  date: "Date",
  genre: "Genre",
  track: "Track",
  comment: "Comment",
  analyze: "Measure loudness",
};

let formatList = [];
let presetList = [];
const $ = (id) => document.getElementById(id);

export function setUpOptions() {
  $("format").addEventListener("change", () => build());
  $("preset").addEventListener("change", () => applyPreset());
}

export function setOptionsData(formats, presets) {
  formatList = formats;
  if (presets) presetList = presets;
  const select = $("preset");
  const chosen = select.value;
  const none = document.createElement("option");
  none.value = "";
  none.textContent = "None (choose the options below)";
  select.replaceChildren(
    none,
    ...presetList.map((preset) => {
      const option = document.createElement("option");
      option.value = preset.name;
      option.textContent = `${preset.name} (${preset.newFormat.toUpperCase()}${preset.builtIn ? "" : ", yours"})`;
      return option;
    }),
  );
  select.value = presetList.some((p) => p.name === chosen) ? chosen : "";
  build();
}

function applyPreset() {
  const preset = presetList.find((p) => p.name === $("preset").value);
  if (!preset) {
    build();
    return;
  }
  $("format").value = preset.newFormat;
  $("format").dispatchEvent(new Event("change"));
  for (const [name, value] of Object.entries(preset)) {
    const input = document.getElementById(`option-${name}`);
    if (!input) continue;
    if (input.type === "checkbox") input.checked = value === true;
    else input.value = String(value);
  }
}

function build() {
  const format = formatList.find((f) => f.name === $("format").value);
  const sound = $("options-sound");
  const tags = $("options-tags");
  sound.replaceChildren();
  tags.replaceChildren();
  $("options-tags-group").hidden = true;
  if (!format?.options) return;
  for (const [name, spec] of Object.entries(format.options)) {
    const isTag = ["title", "artist", "album", "date", "genre", "track", "comment"].includes(name);
    const field = createField(name, spec);
    (isTag ? tags : sound).append(field);
    if (isTag) $("options-tags-group").hidden = false;
  }
}

function createField(name, spec) {
  const wrapper = document.createElement("div");
  wrapper.className = spec.type === "boolean" ? "field field-check" : "field";
  const id = `option-${name}`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = labels[name] ?? name;
  if (spec.unit) {
    const unit = document.createElement("span");
    unit.className = "hint";
    unit.textContent = ` (${spec.unit})`;
    label.append(unit);
  }
  let input;
  if (Array.isArray(spec.values)) {
    input = document.createElement("select");
    const empty = document.createElement("option");
    empty.value = "";
    empty.textContent = spec.default != null ? `Default (${spec.default})` : "Default (as the input)";
    input.append(empty, ...spec.values.map((v) => Object.assign(document.createElement("option"), { value: String(v), textContent: String(v) })));
  } else if (spec.type === "boolean") {
    input = document.createElement("input");
    input.type = "checkbox";
  } else {
    input = document.createElement("input");
    input.type = spec.type === "string" ? "text" : "number";
    if (spec.min != null) input.min = String(spec.min);
    if (spec.max != null) input.max = String(spec.max);
    if (spec.type === "number") input.step = "any";
    if (spec.maxLength) input.maxLength = spec.maxLength;
    input.placeholder = spec.default != null ? `default ${spec.default}` : spec.min != null && spec.max != null ? `${spec.min}–${spec.max}` : "";
  }
  input.id = id;
  input.name = name;
  input.title = spec.description ?? "";
  if (spec.type === "boolean") wrapper.append(input, label);
  else wrapper.append(label, input);
  return wrapper;
}

/** The form fields to send with an upload: the preset, then every option given. */
export function currentFields() {
  const fields = {};
  const preset = $("preset").value;
  if (preset) fields.preset = preset;
  for (const input of document.querySelectorAll("#options-panel [id^='option-']")) {
    const name = input.name;
    if (input.type === "checkbox") {
      if (input.checked) fields[name] = "true";
    } else if (input.value.trim() !== "") {
      fields[name] = input.value.trim();
    }
  }
  return fields;
}
