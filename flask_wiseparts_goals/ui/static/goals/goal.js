// One goal: its settings, the interval × member grid (editable only with the permissions the
// API reports), distribute / copy / save with the exceed confirmation, its progress, charts
// and leaderboard. A rejected value stays in its cell with the error next to it.
import {
  ApiError, CATEGORY, METRIC, RECURRENCE, UI, call, clearError, clearFieldErrors, confirmDialog, el, fmt,
  fmtDate, get, humanize, inputValue, intervalLabel, loadNames, markField, nameOf, percent, rangeLabel,
  showError, statusOf, teamName, write, fieldErrors,
} from "./api.js";
import { figureList, intervalChart, paceChart, progressBar } from "./charts.js";

const $ = (id) => document.getElementById(id);
const goalId = $("goal-root").dataset.goalId;
const base = `/goals/${goalId}`;
const status = $("goal-status");
const errorBox = $("goal-error");

let state = null;

async function load() {
  const [goal, intervals, progress] = await Promise.all([
    get(base), get(`${base}/intervals`), call("GET", `${base}/progress`),
  ]);
  const allocations = new Map();
  if (goal.data.split_by_team_members) {
    const responses = await Promise.all(intervals.data.map((i) => get(`${base}/intervals/${i.id}/allocations`)));
    intervals.data.forEach((i, k) => allocations.set(i.id, { list: responses[k].data.allocations, etag: responses[k].etag }));
  }
  state = {
    goal: goal.data, goalEtag: goal.etag, intervals: intervals.data, allocations,
    progress: progress.ok ? progress.data : null,
    progressError: progress.ok ? null : new ApiError(progress),
  };
  const users = [...allocations.values()].flatMap((a) => a.list.map((x) => x.user_id));
  if (state.progress) users.push(...state.progress.period.members.map((m) => m.user_id));
  await Promise.all([loadNames("user", users), loadNames("team", [goal.data.team_id]), loadFilterNames(goal.data.filters || {})]);
  render();
}

const FILTER_KIND = {
  brands: "brand", brand_families: "brand_family", customers: "customer",
  customer_branches: "customer_branch", wholesaler_branches: "wholesaler_branch", activity_types: "activity_type",
};

function loadFilterNames(filters) {
  return Promise.all(Object.entries(filters).filter(([k]) => FILTER_KIND[k]).map(([k, v]) =>
    loadNames(FILTER_KIND[k], Array.isArray(v) ? v : [...(v.include || []), ...(v.exclude || [])])));
}

// -- what the goal measures and who may change it ----------------------------------------------

const metric = () => state.goal.metric;
const f = (value) => fmt(value, metric());
const isActivity = () => state.goal.category === "activities";
const perDay = () => state.goal.goal_mode === "per_business_day";
const split = () => state.goal.split_by_team_members;
const valueField = () => (perDay() ? "daily_target" : "target");
const canUpdate = () => state.goal.permissions.update;
const canAllocate = () => state.goal.permissions.allocate;
const userName = (id) => nameOf("user", id);

function members() {
  const ids = [];
  for (const { list } of state.allocations.values()) for (const a of list) if (!ids.includes(a.user_id)) ids.push(a.user_id);
  return ids;
}

function render() {
  const { goal } = state;
  document.title = `${goal.description} · Goals`;
  $("goal-title").textContent = goal.description;
  $("edit-goal").hidden = !canUpdate();
  $("delete-goal").hidden = !goal.permissions.delete;
  renderSettings();
  renderGrid();
  renderProgress();
}

function renderSettings() {
  const { goal } = state;
  const rows = [
    ["Category", CATEGORY[goal.category]],
    ["Metric", METRIC[goal.metric] || goal.metric],
    ["Date range", rangeLabel(goal.start_date, goal.end_date)],
    ["Team", teamName(goal.team_id)],
    ["Aim", f(goal.aim)],
  ];
  if (goal.stretch_aim) rows.push(["Stretch aim", f(goal.stretch_aim)]);
  if (goal.goal_mode) rows.push(["Goal mode", goal.goal_mode === "per_business_day" ? `Per business day (${fmt(goal.daily_target, "count")} a day)` : "Total for the period"]);
  if (goal.recurrence) rows.push(["Recurs", (RECURRENCE[goal.recurrence] || humanize(goal.recurrence)) + (goal.recurring_until ? ` until ${fmtDate(goal.recurring_until)}` : "")]);
  if (goal.source_goal_id) rows.push(["Cloned from", el("a", { href: `${UI}/${goal.source_goal_id}` }, "the previous period's goal")]);
  const filters = Object.entries(goal.filters || {});
  if (filters.length) rows.push(["Filters", filters.map(([k, v]) => `${humanize(k)}: ${describeFilter(k, v)}`).join("; ")]);
  $("goal-settings").replaceChildren(...rows.flatMap(([term, value]) =>
    [el("dt", {}, term), el("dd", { "data-testid": `setting-${term.toLowerCase().replace(/ /g, "-")}` }, value)]));
}

function describeFilter(name, value) {
  if (value === true) return "yes";
  const kind = FILTER_KIND[name];
  const named = (ids) => ids.map((id) => (kind ? nameOf(kind, id) : humanize(id))).join(", ");
  if (Array.isArray(value)) return named(value);
  return ["include", "exclude"].filter((k) => value[k]?.length).map((k) => `${k} ${named(value[k])}`).join(", ");
}

function progressOf(interval) {
  return state.progress?.intervals.find((p) => p.interval_id === interval.id) || null;
}

function renderGrid() {
  const people = split() ? members() : [];
  const money = !isActivity();
  $("basis-field").hidden = !(split() && money && canAllocate());
  $("grid-hint").textContent = !canUpdate() && !canAllocate()
    ? "You can follow this goal; its team's manager sets its targets."
    : split()
    ? isActivity()
      ? `Set each member's ${perDay() ? "daily target" : "target"}, then Save; the interval total is their sum.`
      : "Distribute each interval's aim over the members, or set their targets and Save."
    : "One target per interval: change it and Save.";
  const head = el("tr", {},
    el("th", { scope: "col" }, "Interval"),
    el("th", { scope: "col", class: "num" }, ownValueHeading()),
    ...people.map((id) => el("th", { scope: "col", class: "num" }, userName(id))),
    split() && money ? el("th", { scope: "col", class: "num" }, "Unallocated") : null,
    el("th", { scope: "col", class: "num" }, "Actual"),
  );
  $("interval-grid").replaceChildren(el("thead", {}, head), el("tbody", {}, ...state.intervals.map((i) => intervalRow(i, people))));
}

function ownValueHeading() {
  if (!isActivity()) return "Aim";
  if (split()) return "Target";
  return perDay() ? "Daily target" : "Target";
}

function intervalRow(interval, people) {
  const label = intervalLabel(interval.start_date, interval.end_date);
  const allocations = state.allocations.get(interval.id)?.list || [];
  const progress = progressOf(interval);
  const started = progress && statusOf(progress).key !== "not_started";
  const cells = people.map((userId) => {
    const allocation = allocations.find((a) => a.user_id === userId);
    if (!allocation) return el("td", { class: "num muted" }, "—");
    const name = userName(userId);
    const member = progress?.members?.find((m) => m.user_id === userId);
    const shown = perDay() ? inputValue(allocation.daily_target, "count") : inputValue(allocation.target, metric());
    const value = canAllocate()
      ? el("div", { class: "cell" },
        el("input", {
          inputmode: "decimal", autocomplete: "off", value: shown, id: `cell-${interval.id}-${userId}`,
          "aria-label": `${perDay() ? "Daily target" : "Target"} of ${name}, ${label}`,
          "data-user-id": userId, "data-original": shown,
        }),
        el("button", {
          type: "button", class: "icon", title: `Copy ${name}'s value to the others`,
          "aria-label": `Copy ${name}'s ${label} value to the others`,
          onclick: () => run(() => copyMember(interval, userId, label, name)),
        }, copyIcon()))
      : el("span", {}, perDay() ? fmt(allocation.daily_target, "count") : f(allocation.target));
    return el("td", { class: "num member" }, value,
      perDay() ? el("small", { class: "muted" }, `= ${f(allocation.effective_target)}`) : null,
      started && member && member.actual !== null ? el("small", { class: "muted" }, `actual ${f(member.actual)}`) : null);
  });
  return el("tr", { "data-interval-id": interval.id },
    el("th", { scope: "row" },
      el("strong", {}, label),
      el("small", {}, `${interval.business_days} business days`),
      el("div", { class: "row-actions" }, ...rowButtons(interval, label))),
    ownValueCell(interval, label),
    ...cells,
    split() && !isActivity() ? el("td", { class: "num", "data-testid": "unallocated" }, f(interval.unallocated)) : null,
    el("td", { class: "num" }, started ? f(progress.actual) : "—",
      progress ? el("small", {}, started ? percent(progress.achievement_percent) : statusOf(progress).label) : null),
  );
}

function rowButtons(interval, label) {
  const buttons = [];
  const button = (text, name, action) => el("button", { type: "button", "aria-label": name, onclick: () => run(action) }, text);
  const ownEditable = canUpdate() && !(isActivity() && split());
  if (ownEditable || (split() && canAllocate())) buttons.push(button("Save", `Save ${label}`, () => saveRow(interval, label)));
  if (split() && !isActivity() && canAllocate()) {
    buttons.push(
      button("Equal", `Equal split, ${label}`, () => distribute(interval, label, "equal")),
      button("Proportional", `Proportional split, ${label}`, () => distribute(interval, label, "proportional")),
    );
  }
  if (state.intervals.length > 1 && canUpdate()) {
    buttons.push(button("Copy to all", `Copy ${label} to all other intervals`, () => copyInterval(interval, label)));
  }
  return buttons;
}

function ownValueCell(interval, label) {
  // Sales/orders: the interval aim. Activities without member split: the target (or daily
  // target). Activities split by members: the sum of the members, read-only.
  if (isActivity() && split()) return el("td", { class: "num", "data-testid": "interval-aim" }, f(interval.aim));
  const field = isActivity() && perDay() ? "daily_target" : "aim";
  const shown = inputValue(interval[field], field === "daily_target" ? "count" : metric());
  if (!canUpdate()) return el("td", { class: "num" }, field === "daily_target" ? fmt(interval[field], "count") : f(interval[field]));
  const input = el("input", {
    inputmode: "decimal", autocomplete: "off", value: shown, "data-field": field, id: `own-${interval.id}`,
    "data-original": shown, "aria-label": `${field === "aim" ? (isActivity() ? "Target" : "Aim") : "Daily target"}, ${label}`,
  });
  return el("td", { class: "num" }, el("div", { class: "cell" }, input),
    field === "daily_target" ? el("small", { class: "muted" }, `= ${f(interval.aim)}`) : null);
}

function copyIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const icon = document.createElementNS(ns, "svg");
  icon.setAttribute("viewBox", "0 0 16 16");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("class", "copy-icon");
  for (const [x, y] of [[5, 5], [2, 2]]) {
    const r = document.createElementNS(ns, "rect");
    Object.entries({ x, y, width: 9, height: 9, rx: 1.5 }).forEach(([k, v]) => r.setAttribute(k, v));
    icon.append(r);
  }
  return icon;
}

// -- writes -------------------------------------------------------------------------------------

/** An error the API gave for values typed in the grid: shown next to the inputs, kept. */
class CellError extends Error {
  constructor(error, inputs) {
    super(error.message);
    this.apiError = error;
    this.inputs = inputs;  // error path → input
  }
}

function row(interval) {
  return document.querySelector(`tr[data-interval-id="${interval.id}"]`);
}

/** Save what changed in a row: first the interval's own value, then the members' values.
 * Resolves false when the user cancelled a confirmation. */
async function saveRow(interval, label, { announce = true } = {}) {
  const tr = row(interval);
  const own = tr.querySelector("input[data-field]");
  let changed = false;
  if (own && own.value.trim() !== own.dataset.original) {
    const fresh = await call("GET", `${base}/intervals/${interval.id}`);
    if (!fresh.ok) throw new ApiError(fresh);
    let done;
    try {
      done = await write("PATCH", `${base}/intervals/${interval.id}`, { [own.dataset.field]: own.value.trim() }, { ifMatch: fresh.etag, metric: metric() });
    } catch (error) {
      if (error.status === 422) throw new CellError(error, (path) => (path.startsWith(own.dataset.field) ? own : null));
      throw error;
    }
    if (!done) return false;
    changed = true;
  }
  const inputs = [...tr.querySelectorAll("input[data-user-id]")].filter((input) => input.value.trim() !== input.dataset.original);
  if (inputs.length) {
    const entries = inputs.map((input) => ({ user_id: input.dataset.userId, [valueField()]: input.value.trim() }));
    // The allocations' ETag covers the interval too: read it again after changing the aim.
    const etag = changed ? (await get(`${base}/intervals/${interval.id}/allocations`)).etag : state.allocations.get(interval.id).etag;
    let done;
    try {
      done = await write("PUT", `${base}/intervals/${interval.id}/allocations`, { allocations: entries }, { ifMatch: etag, metric: metric() });
    } catch (error) {
      if (error.status === 422) {
        throw new CellError(error, (path) => {
          const match = /^allocations\.(\d+)/.exec(path);
          return match ? inputs[Number(match[1])] : null;
        });
      }
      throw error;
    }
    if (!done) return false;
    changed = true;
  }
  if (!announce) return true;
  return changed ? `Saved ${label}.` : `Nothing changed in ${label}.`;
}

async function distribute(interval, label, strategy) {
  const body = { strategy };
  if (strategy === "proportional") body.basis = $("proportional-basis").value;
  const response = await write("POST", `${base}/intervals/${interval.id}/allocations/distribute`, body,
    { ifMatch: state.allocations.get(interval.id).etag, metric: metric() });
  if (!response) return null;
  const fellBack = response.data.fell_back_to_equal ? " No preceding data: split equally instead." : "";
  return `Distributed ${label} ${strategy === "equal" ? "equally" : "proportionally"}.${fellBack}`;
}

async function copyMember(interval, userId, label, name) {
  if (!(await saveRow(interval, label, { announce: false }))) return null;
  const response = await write("POST", `${base}/intervals/${interval.id}/allocations/distribute`,
    { strategy: "copy", source_user_id: userId }, { metric: metric() });
  return response ? `Copied ${name}'s ${label} value to the others.` : null;
}

async function copyInterval(interval, label) {
  if (!(await saveRow(interval, label, { announce: false }))) return null;
  const etag = (await get(`${base}/intervals`)).etag;
  const response = await write("POST", `${base}/intervals/${interval.id}/copy`, undefined, { ifMatch: etag, metric: metric() });
  return response ? `Copied ${label} to all other intervals.` : null;
}

$("delete-goal").addEventListener("click", async () => {
  const ok = await confirmDialog({
    title: "Delete this goal?",
    body: el("p", {}, `“${state.goal.description}” disappears from lists and dashboards; its history is kept.`),
    ok: "Delete goal",
  });
  if (!ok) return;
  try {
    await write("DELETE", base, undefined, { ifMatch: state.goalEtag });
    window.location.assign(UI);
  } catch (error) {
    showError(errorBox, error);
  }
});

/** Run an action and reload the goal; a value the API rejected stays in its cell, marked with
 * the API's reason, and nothing is reloaded over it. */
async function run(action) {
  clearError(errorBox);
  clearFieldErrors($("interval-grid"));
  say("Working…");
  let message = "Cancelled: nothing was changed.";
  try {
    message = (await action()) || message;
  } catch (error) {
    if (error instanceof CellError) {
      const loose = [];
      for (const [path, text] of fieldErrors(error.apiError)) {
        const input = error.inputs(path);
        if (input) markField(input, text);
        else loose.push(text);
      }
      say("");
      showError(errorBox, { message: "A value was not saved: see the marked cell." }, loose);
      document.querySelector("#interval-grid [aria-invalid='true']")?.focus();
      return;
    }
    say("");
    showError(errorBox, error);
  }
  try {
    await load();
  } catch (error) {
    showError(errorBox, error);
  }
  if (errorBox.hidden) say(message);
}

function say(message) {
  status.textContent = message;
}

// -- progress, charts, leaderboard --------------------------------------------------------------

function renderProgress() {
  const target = $("goal-progress");
  const { progress } = state;
  if (!progress) {
    target.replaceChildren(el("p", { class: "muted" }, state.progressError?.message || "No progress yet."));
    $("leaderboard-section").hidden = true;
    return;
  }
  const period = progress.period;
  const parts = [
    el("p", { class: "muted" }, `As of ${fmtDate(progress.as_of)}: ${period.business_days_elapsed} of ${period.business_days} business days.`),
    progressBar(period, `Progress of ${state.goal.description}`, metric()),
    figureList(period, metric(), { expected: true }),
    el("div", { class: "charts" },
      progress.intervals.length > 1 ? intervalChart(progress.intervals, metric(), "Actual per interval against its target") : null,
      paceChart({ period, intervals: progress.intervals, metric: metric(), title: "Cumulative actual against target pace" })),
  ];
  if (progress.actuals_note || progress.actuals_error) parts.push(el("p", { class: "note" }, progress.actuals_note || progress.actuals_error));
  target.replaceChildren(...parts);
  renderLeaderboard(period);
}

function renderLeaderboard(period) {
  const rows = (period.members || []).filter((m) => m.counted);
  $("leaderboard-section").hidden = rows.length < 2;
  if (rows.length < 2) return;
  const key = (m) => (m.achievement_percent !== null ? Number(m.achievement_percent) : Number(m.actual || 0) / 1e12);
  rows.sort((a, b) => key(b) - key(a) || Number(b.actual || 0) - Number(a.actual || 0));
  const started = statusOf(period).key !== "not_started";
  $("leaderboard").replaceChildren(el("table", { class: "data" },
    el("caption", { class: "visually-hidden" }, "Members ranked by achievement"),
    el("thead", {}, el("tr", {},
      ...["Rank", "Member", "Target", "Actual", "Achievement"].map((h, i) => el("th", { scope: "col", class: i > 1 ? "num" : null }, h)))),
    el("tbody", {}, ...rows.map((m, i) => el("tr", {},
      el("td", {}, String(i + 1)), el("td", {}, userName(m.user_id)),
      el("td", { class: "num" }, f(m.target)), el("td", { class: "num" }, started ? f(m.actual) : "—"),
      el("td", { class: "num" }, started && m.target !== null && Number(m.target) !== 0 ? percent(m.achievement_percent) : "—"))))));
}

load().then(() => {
  say("");
  $("goal-root").dataset.ready = "true";
}).catch((error) => {
  say("");
  showError(errorBox, error);
});
