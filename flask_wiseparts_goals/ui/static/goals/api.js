// What every goal page shares: calling the Goals API, the confirmation dialog, names,
// formatting (one number format per metric, one date format), field errors in plain words.
// Same-origin fetch() sends the host's session cookie, which tells the API who is calling.

const dataNode = document.getElementById("goals-data");
// On a host page with only an embedded <goals-widget>, its attributes say where things are.
const widgetNode = document.querySelector("goals-widget");
/** The page data the server rendered: api and ui prefixes, user, currency, teams. */
export const page = dataNode
  ? JSON.parse(dataNode.textContent)
  : {
    api: widgetNode?.getAttribute("api") || "/api/goals",
    ui: widgetNode?.getAttribute("ui") || "/goals",
    currency: widgetNode?.getAttribute("currency") || null,
    teams: [],
  };
export const API = page.api || "/api/goals";
export const UI = page.ui || "/goals";
// Every write carries the host's CSRF token (Flask-WTF's <meta name="csrf-token"> unless the
// host supplies it in the page data) in GOALS_CSRF_HEADER, and a JSON content type even when it
// has no body: the API refuses writes a page on another origin could forge (docs/host-guide.md, "Security").
const CSRF_HEADER = page.csrf?.header || widgetNode?.getAttribute("csrf-header") || "X-CSRFToken";
function csrfToken() {
  return page.csrf?.token || document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") || "";
}

export class ApiError extends Error {
  constructor(response) {
    const data = response.data || {};
    super(response.status === 422 ? "Please correct the fields marked below." : data.message || `Request failed (${response.status}).`);
    this.status = response.status;
    this.data = data;
  }
}

/**
 * One API call; never throws on an HTTP status. Resolves to {status, ok, data, etag, headers}.
 * ``body`` is sent as JSON; ``text`` (with ``contentType``, e.g. "text/csv") is sent as it is.
 */
export async function call(method, path, { body, text: raw, contentType, ifMatch, query } = {}) {
  const url = new URL(API + path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (Array.isArray(value)) value.forEach((v) => url.searchParams.append(key, v));
    else if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Accept: "application/json" };
  if (method !== "GET") {
    headers["Content-Type"] = raw !== undefined ? contentType : "application/json";
    const token = csrfToken();
    if (token) headers[CSRF_HEADER] = token;
  }
  if (ifMatch) headers["If-Match"] = ifMatch;
  const response = await fetch(url, {
    method, headers, credentials: "same-origin",
    body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  return { status: response.status, ok: response.ok, data, etag: response.headers.get("ETag"), headers: response.headers };
}

/** GET that throws ApiError unless 2xx. */
export async function get(path, query) {
  const response = await call("GET", path, { query });
  if (!response.ok) throw new ApiError(response);
  return response;
}

/**
 * A write. A 409 is shown in the confirmation dialog (current aim → proposed total, the
 * intervals that change, or the values a rebuild removes); confirming sends the same request
 * again with ?confirm=true (the response then says ``confirmed: true``). Resolves to the
 * response, or null when the user cancels. ``text``/``contentType``: a body that is not JSON.
 */
export async function write(method, path, body, { ifMatch, query, metric, text, contentType } = {}) {
  let response = await call(method, path, { body, text, contentType, ifMatch, query });
  if (response.status === 409) {
    const confirmed = await confirmDialog(conflictContent(response.data, metric));
    if (!confirmed) return null;
    response = await call(method, path, { body, text, contentType, ifMatch, query: { ...query, confirm: "true" } });
    response.confirmed = true;
  }
  if (!response.ok) throw new ApiError(response);
  return response;
}

/**
 * The 409's own numbers, verbatim: every value in its ``changes`` (before → after), then the
 * intervals' total and the unassigned rest before → after. Nothing is computed here.
 */
function conflictContent(data, metric) {
  const f = (v) => fmt(v, metric);
  if (data.changes !== undefined) {
    const goalAim = data.changes.find((c) => c.field === "aim" && c.interval_id === null);
    const others = data.changes.filter((c) => c !== goalAim);
    const body = el("div", {},
      el("p", {}, "The targets add up to more than the aim. Update the aims as listed?"),
      goalAim
        ? el("p", { class: "cascade", id: "exceed-summary" },
          "Goal aim: ", el("strong", { "data-field": "current-aim" }, f(goalAim.before)),
          " → ", el("strong", { "data-field": "proposed-aim" }, f(goalAim.after)))
        : el("p", { class: "cascade", id: "exceed-summary" },
          "Goal aim: ", el("strong", { "data-field": "current-aim" }, f(data.current_aim)), " (unchanged)"));
    if (others.length) {
      body.append(el("ul", { id: "exceed-changes" }, ...others.map((c) => el("li", {},
        `${c.interval_id === null ? "Stretch aim" : intervalLabel(c.start_date, c.end_date)}: ${f(c.before)} → ${f(c.after)}`))));
    }
    if (data.intervals_total) {
      body.append(el("p", { id: "exceed-totals" },
        `Intervals together: ${f(data.intervals_total.before)} → ${f(data.intervals_total.after)}; ` +
        `not in any interval: ${f(data.unassigned.before)} → ${f(data.unassigned.after)}.`));
    }
    return { title: "This exceeds the aim", body, ok: "Update the aim" };
  }
  const dropped = data.dropped || [];
  return {
    title: "Confirm the change",
    body: el("div", {}, el("p", {}, data.message || "This change needs confirmation."),
      dropped.length ? el("ul", {}, ...dropped.map((d) => el("li", {},
        `${intervalLabel(d.interval_start, d.interval_end)}: ${d.user_id ? `${nameOf("user", d.user_id)}: ` : ""}${f(d.value)} is removed`))) : ""),
    ok: "Apply anyway",
  };
}

/** The page's <dialog>: resolves true when the user confirms. */
export function confirmDialog({ title, body, ok = "Confirm" }) {
  const dialog = document.getElementById("goals-confirm");
  document.getElementById("goals-confirm-title").textContent = title;
  document.getElementById("goals-confirm-body").replaceChildren(body);
  document.getElementById("goals-confirm-ok").textContent = ok;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}

// -- names (goals_entities through GET /meta/entities) --------------------------------------

const names = new Map();  // "kind:id" → name

/** Look the names of ids up once (one request per kind); unknown ids keep their id. */
export async function loadNames(kind, ids) {
  const missing = [...new Set(ids.filter((id) => id && !names.has(`${kind}:${id}`)))];
  for (let i = 0; i < missing.length; i += 200) {
    const chunk = missing.slice(i, i + 200);
    const response = await call("GET", "/meta/entities", { query: { kind, ids: chunk } });
    const entities = response.ok ? response.data.entities : chunk.map((id) => ({ id, name: id }));
    for (const e of entities) names.set(`${kind}:${e.id}`, e.name);
  }
}

export async function searchNames(kind, search) {
  const response = await call("GET", "/meta/entities", { query: { kind, search: search || undefined, limit: 20 } });
  if (!response.ok) return [];
  for (const e of response.data.entities) names.set(`${kind}:${e.id}`, e.name);
  return response.data.entities;
}

for (const team of page.teams || []) names.set(`team:${team.id}`, team.name);
if (page.user) names.set(`user:${page.user.id}`, page.user.name);

export function nameOf(kind, id) {
  return names.get(`${kind}:${id}`) || id;
}

export function teamName(id) {
  return id ? nameOf("team", id) : "Whole organization";
}

// -- formatting -------------------------------------------------------------------------------

const MONEY = new Set(["net", "gross", "margin"]);
/** Metrics counted in whole units: their figures (targets, actuals, forecasts) show whole. */
const WHOLE = new Set(["count", "quantity"]);
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** The one date format: "5 Jan 2026". */
export function fmtDate(iso) {
  if (!iso) return "—";
  const [y, m, d] = iso.split("-").map(Number);
  return `${d} ${MONTHS[m - 1]} ${y}`;
}

/** "Oct 2026" for a whole calendar month, else "1 Jan 2026 – 15 Jan 2026". */
export function intervalLabel(start, end) {
  const [y, m, d] = start.split("-").map(Number);
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  if (d === 1 && start.slice(0, 7) === end.slice(0, 7) && Number(end.slice(8)) === last) return `${MONTHS[m - 1]} ${y}`;
  return rangeLabel(start, end);
}

export function rangeLabel(start, end) {
  return `${fmtDate(start)} – ${fmtDate(end)}`;
}

function group(whole) {
  const sign = whole.startsWith("-") ? "-" : "";
  return sign + whole.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A plain decimal string with separators, trailing zeros dropped ("2080.00" → "2,080"). */
export function fmtNumber(value) {
  if (value === null || value === undefined || value === "") return "—";
  const [whole, fraction = ""] = String(value).split(".");
  const kept = fraction.replace(/0+$/, "");
  return group(whole) + (kept ? `.${kept}` : "");
}

/** A decimal string rounded half away from zero to a whole number ("36.67" → "37"). */
export function roundWhole(value) {
  const text = String(value).trim();
  const negative = text.startsWith("-");
  const [whole, fraction = ""] = text.replace(/^[-+]/, "").split(".");
  let units = BigInt(whole || "0");
  if (fraction[0] >= "5") units += 1n;
  return units === 0n ? "0" : `${negative ? "-" : ""}${units}`;
}

/**
 * The exact sum of decimal strings with at most ``places`` decimals (BigInt, never a float):
 * "a" + "b" as a decimal string, or null when a value is not a plain decimal. Blank values
 * count as nothing. For display sums only (the grid's totals row); rules are the API's.
 */
export function sumDecimals(values, places, { minus = [] } = {}) {
  const scale = 10n ** BigInt(places);
  let total = 0n;
  const add = (raw, sign) => {
    const text = String(raw ?? "").trim();
    if (text === "") return true;
    const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
    if (!match || (match[3] || "").length > places) return false;
    const fraction = ((match[3] || "") + "0".repeat(places)).slice(0, places);
    const units = BigInt(match[2]) * scale + (places ? BigInt(fraction) : 0n);
    total += (match[1] ? -units : units) * sign;
    return true;
  };
  for (const value of values) if (!add(value, 1n)) return null;
  for (const value of minus) if (!add(value, -1n)) return null;
  const negative = total < 0n;
  const size = negative ? -total : total;
  const digits = places ? `${size / scale}.${(size % scale).toString().padStart(places, "0")}` : `${size}`;
  return `${negative ? "-" : ""}${digits}`;
}

/** Whether a metric's figures are whole numbers (count, quantity). */
export function isWhole(metric) {
  return WHOLE.has(metric);
}

/**
 * A figure in the metric's unit: money with 2 decimals and the currency, counts and quantities
 * as whole numbers (a forecast of 36.67 visits reads "37"). A rate such as a daily target is
 * not a count: show it with fmtNumber.
 */
export function fmt(value, metric) {
  if (value === null || value === undefined || value === "") return "—";
  if (WHOLE.has(metric)) return group(roundWhole(value));
  if (!MONEY.has(metric)) return fmtNumber(value);
  const [whole, fraction = ""] = String(value).split(".");
  const cents = (fraction + "00").slice(0, 2);
  return `${group(whole)}.${cents}${page.currency ? ` ${page.currency}` : ""}`;
}

/** What an input holds for a value: no separators, no currency (counts whole). */
export function inputValue(value, metric) {
  if (value === null || value === undefined) return "";
  return MONEY.has(metric) ? String(value) : fmtNumber(value).replace(/,/g, "");
}

/** A percentage with one decimal, as the API gives it ("129.6 %", "5.0 %"). */
export function percent(value) {
  if (value === null || value === undefined) return "—";
  const [whole, fraction = "0"] = String(value).split(".");
  return `${group(whole)}.${fraction.slice(0, 1)} %`;
}

export const CATEGORY = { sales: "Sales", orders: "Orders", activities: "Activities" };
export const METRIC = { net: "Net sales", gross: "Gross sales", quantity: "Quantity", margin: "Margin", count: "Count" };
export const RECURRENCE = { monthly: "Monthly", quarterly: "Quarterly", semester: "Every semester", yearly: "Yearly" };
export const STATUS = {
  no_target: "No target", achieved: "Achieved", missed: "Ended, not achieved", not_started: "Not started",
  on_track: "On track", behind: "Behind", at_risk: "At risk",
};

/**
 * The words for the API's status (SPEC §14: the status is the API's alone). Nothing is derived
 * here: the code is looked up; a null status (a target but no actual measured) reads "No data".
 */
export function statusOf(figures) {
  const code = figures.status;
  if (code === null || code === undefined) return { key: "none", label: "No data" };
  return { key: code, label: STATUS[code] || humanize(code) };
}

export function humanize(id) {
  return String(id).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

// -- DOM ----------------------------------------------------------------------------------------

/** el("a", {href}, "text", child): attributes set as attributes (or on* listeners). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// -- errors in plain words ------------------------------------------------------------------------

const PLAIN = [
  [/^Missing data for required field\.?$/, "This is required."],
  [/^Field may not be null\.?$/, "This is required."],
  [/^Must not be empty or only whitespace\.?$/, "This is required."],
  [/^Not a valid date\.?$/, "Enter a date."],
  [/^Not a valid (number|decimal)\.?$/i, "Enter a number, e.g. 1500 or 1500.50."],
  [/^Not a valid boolean\.?$/, "Choose yes or no."],
  [/^Unknown field\.?$/, "This field is not accepted here."],
  [/^Shorter than minimum length 1\.?$/, "This is required."],
  [/^Length must be between 1 and (\d+)\.?$/, "Fill this in (at most $1 characters)."],
  [/^Longer than maximum length (\d+)\.?$/, "Use at most $1 characters."],
  [/^Must be one of: .*$/, "Choose one of the offered values."],
];

/** A marshmallow or API message as a sales manager reads it. */
export function plainMessage(message) {
  for (const [pattern, plain] of PLAIN) if (pattern.test(message)) return message.replace(pattern, plain);
  return message;
}

/** Flatten {json: {a: {b: ["msg"]}}} into [["a.b", "msg"], ...] (the location dropped). */
export function fieldErrors(error) {
  const out = [];
  const walk = (node, path) => {
    if (Array.isArray(node) && node.every((m) => typeof m === "string")) {
      for (const m of node) out.push([path, plainMessage(m)]);
    } else if (Array.isArray(node)) {
      node.forEach((v, i) => walk(v, path ? `${path}.${i}` : String(i)));
    } else if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k);
    } else if (typeof node === "string") {
      out.push([path, plainMessage(node)]);
    }
  };
  for (const location of Object.values((error && error.data && error.data.errors) || {})) walk(location, "");
  return out;
}

/**
 * Show each field error next to its field: ``locate(path)`` returns the input for an error
 * path (or null). Errors no field claims are listed in ``banner`` with ``label(path)``.
 * Returns true when at least one error was placed.
 */
export function showFieldErrors(error, { banner, locate, label = humanizePath }) {
  clearFieldErrors(document);
  const loose = [];
  for (const [path, message] of fieldErrors(error)) {
    const input = locate(path);
    if (input) markField(input, message);
    else loose.push(`${label(path)}: ${message}`);
  }
  if (banner) showError(banner, error, loose);
  const first = document.querySelector("[aria-invalid='true']");
  if (first) first.focus();
  return Boolean(first);
}

export function markField(input, message) {
  const id = `${input.id || input.dataset.errorKey || Math.random().toString(36).slice(2)}-error`;
  let note = document.getElementById(id);
  if (!note) {
    note = el("p", { class: "field-error", id });
    (input.closest(".field, .cell, .picker, .check, fieldset") || input.parentNode).append(note);
  }
  const messages = (note.dataset.messages ? JSON.parse(note.dataset.messages) : []).filter((m) => m !== message);
  messages.push(message.trim());
  note.dataset.messages = JSON.stringify(messages);
  note.textContent = messages.join(" ");
  input.setAttribute("aria-invalid", "true");
  describeBy(input, note);
}

/** Let ``note`` (an element with an id) describe ``input`` for screen readers, once. */
export function describeBy(input, note) {
  if (!input) return;
  const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!described.includes(note.id)) input.setAttribute("aria-describedby", [...described, note.id].join(" "));
}

export function clearFieldErrors(root) {
  for (const note of root.querySelectorAll(".field-error")) note.remove();
  for (const input of root.querySelectorAll("[aria-invalid='true']")) {
    input.removeAttribute("aria-invalid");
    const rest = (input.getAttribute("aria-describedby") || "").split(" ").filter((i) => i && !i.endsWith("-error"));
    if (rest.length) input.setAttribute("aria-describedby", rest.join(" "));
    else input.removeAttribute("aria-describedby");
  }
}

function humanizePath(path) {
  return path.split(".").filter((p) => !/^\d+$/.test(p)).map(humanize).join(" › ") || "Request";
}

/** Show an error message (and loose field errors) in an element with role="alert". */
export function showError(target, error, lines = null) {
  const items = lines ?? fieldErrors(error).map(([p, m]) => `${humanizePath(p)}: ${m}`);
  target.replaceChildren(
    el("p", {}, error.message || String(error)),
    items.length ? el("ul", {}, ...items.map((l) => el("li", {}, l))) : "",
  );
  target.hidden = false;
}

export function clearError(target) {
  target.replaceChildren();
  target.hidden = true;
}
