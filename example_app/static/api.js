// What every page shares: calling the Goals API, the exceed confirmation, formatting, DOM.
// Same-origin fetch() sends the session cookie, which tells the API who is calling.

export const API = document.body.dataset.api || "/api/goals";
const hostScript = document.getElementById("host-data");
export const host = hostScript ? JSON.parse(hostScript.textContent) : { users: {}, teams: [] };

export class ApiError extends Error {
  constructor(response) {
    const data = response.data || {};
    super(data.message || `Request failed (${response.status}).`);
    this.status = response.status;
    this.data = data;
  }
}

/** One API call; never throws on an HTTP status. Resolves to {status, ok, data, etag, headers}. */
export async function call(method, path, { body, ifMatch, query } = {}) {
  const url = new URL(API + path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch) headers["If-Match"] = ifMatch;
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  return {
    status: response.status,
    ok: response.ok,
    data,
    etag: response.headers.get("ETag"),
    headers: response.headers,
  };
}

/** GET that throws ApiError unless 2xx. */
export async function get(path, query) {
  const response = await call("GET", path, { query });
  if (!response.ok) throw new ApiError(response);
  return response;
}

/**
 * A write. A 409 is shown in the confirmation dialog (current aim → proposed total, the
 * intervals that change); confirming sends the same request again with ?confirm=true.
 * Resolves to the response, or null when the user cancels; throws ApiError on other errors.
 */
export async function write(method, path, body, { ifMatch, query } = {}) {
  let response = await call(method, path, { body, ifMatch, query });
  if (response.status === 409) {
    const confirmed = await confirmDialog(conflictContent(response.data));
    if (!confirmed) return null;
    response = await call(method, path, { body, ifMatch, query: { ...query, confirm: "true" } });
  }
  if (!response.ok) throw new ApiError(response);
  return response;
}

function conflictContent(data) {
  if (data.current_aim !== undefined) {
    const body = el("div", {},
      el("p", {}, "The targets add up to more than the aim. Update the aim to match?"),
      el("p", { class: "cascade", id: "exceed-summary" },
        "Goal aim: ", el("strong", { "data-field": "current-aim" }, fmt(data.current_aim)),
        " → ", el("strong", { "data-field": "proposed-total" }, fmt(data.proposed_total))),
    );
    if (data.proposed_aim && data.proposed_aim !== data.proposed_total) {
      body.append(el("p", {}, `The goal aim becomes ${fmt(data.proposed_aim)}.`));
    }
    if ((data.intervals || []).length) {
      body.append(el("ul", {}, ...data.intervals.map((i) => el("li", {},
        `${intervalLabel(i.start_date, i.end_date)}: ${fmt(i.current_aim)} → ${fmt(i.proposed_aim)}`))));
    }
    return { title: "This exceeds the aim", body, ok: "Update the aim" };
  }
  const dropped = data.dropped || [];
  return {
    title: "Confirm the change",
    body: el("div", {}, el("p", {}, data.message || "This change needs confirmation."),
      dropped.length ? el("p", {}, `${dropped.length} non-zero value(s) would be removed.`) : ""),
    ok: "Apply anyway",
  };
}

/** The page's <dialog>: resolves true when the user confirms. */
export function confirmDialog({ title, body, ok = "Confirm" }) {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-body").replaceChildren(body);
  document.getElementById("confirm-ok").textContent = ok;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}

// -- formatting ---------------------------------------------------------------------------

const MONTH = { month: "short", year: "numeric", timeZone: "UTC" };
const DAY = { day: "numeric", month: "short", timeZone: "UTC" };
const DAY_YEAR = { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" };

function utc(iso) {
  return new Date(`${iso}T00:00:00Z`);
}

function lastOfMonth(d) {
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
}

/** "Oct 2026" for a whole month, else "15 Jan – 31 Jan 2026". */
export function intervalLabel(start, end) {
  const s = utc(start);
  const e = utc(end);
  if (s.getUTCDate() === 1 && start.slice(0, 7) === end.slice(0, 7) && e.getUTCDate() === lastOfMonth(e)) {
    return s.toLocaleDateString("en-US", MONTH);
  }
  return `${s.toLocaleDateString("en-US", DAY)} – ${e.toLocaleDateString("en-US", DAY_YEAR)}`;
}

export function rangeLabel(start, end) {
  return `${utc(start).toLocaleDateString("en-US", DAY_YEAR)} – ${utc(end).toLocaleDateString("en-US", DAY_YEAR)}`;
}

/** A decimal string ("12345.50") with thousands separators, keeping its decimal places. */
export function fmt(value) {
  if (value === null || value === undefined || value === "") return "—";
  const [whole, fraction] = String(value).split(".");
  const sign = whole.startsWith("-") ? "-" : "";
  const digits = whole.replace("-", "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return sign + digits + (fraction !== undefined ? `.${fraction}` : "");
}

export function percent(value) {
  return value === null || value === undefined ? "—" : `${value} %`;
}

export const CATEGORY = { sales: "Sales", orders: "Orders", activities: "Activities" };
export const METRIC = { net: "Net", gross: "Gross", quantity: "Quantity", margin: "Margin", count: "Count" };

export function userName(id) {
  return host.users[id] || id;
}

export function teamName(id) {
  if (!id) return "Whole organization";
  const team = host.teams.find((t) => t.id === id);
  return team ? team.name : id;
}

export function humanize(id) {
  return id.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

// -- DOM ------------------------------------------------------------------------------------

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

/** Show an API error (message and field errors) in an element with role="alert". */
export function showError(target, error) {
  const lines = [];
  const errors = (error && error.data && error.data.errors) || {};
  const walk = (node, path) => {
    if (Array.isArray(node) && node.every((m) => typeof m === "string")) {
      lines.push(`${path}: ${node.join(" ")}`);
    } else if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) walk(v, path ? `${path}.${k}` : k);
    }
  };
  for (const location of Object.values(errors)) walk(location, "");
  target.replaceChildren(
    el("p", {}, error.message || String(error)),
    lines.length ? el("ul", {}, ...lines.map((l) => el("li", {}, l))) : "",
  );
  target.hidden = false;
}

export function clearError(target) {
  target.replaceChildren();
  target.hidden = true;
}
