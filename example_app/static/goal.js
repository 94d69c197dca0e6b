// One goal: its settings, the interval grid with the members' targets (editable), the
// distribute and copy buttons, and its progress. Every write goes through write(), which turns
// the API's 409 into the exceed confirmation and re-sends with ?confirm=true.
import {
  ApiError, CATEGORY, METRIC, call, clearError, confirmDialog, el, fmt, get, host, humanize,
  intervalLabel, percent, rangeLabel, showError, teamName, userName, write,
} from "./api.js";
import { figureList, paceChart, progressBar, seriesFromProgress } from "./widgets.js";

const $ = (id) => document.getElementById(id);
const goalId = $("goal-root").dataset.goalId;
const base = `/goals/${goalId}`;
const status = $("goal-status");
const errorBox = $("goal-error");

let state = null;
// The host's policy (example_app.plugin): reps read only. Managers may still be refused (403)
// for other teams' goals; the API says so when they try.
const canWrite = host.user.role !== "rep";

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
    goal: goal.data,
    goalEtag: goal.etag,
    intervals: intervals.data,
    intervalsEtag: intervals.etag,
    allocations,
    progress: progress.ok ? progress.data : null,
    progressError: progress.ok ? null : new ApiError(progress),
  };
  render();
}

// -- what the goal measures and how its values are entered -------------------------------

const isActivity = () => state.goal.category === "activities";
const perDay = () => state.goal.goal_mode === "per_business_day";
const split = () => state.goal.split_by_team_members;
const valueField = () => (perDay() ? "daily_target" : "target");

function members() {
  const ids = [];
  for (const { list } of state.allocations.values()) {
    for (const a of list) if (!ids.includes(a.user_id)) ids.push(a.user_id);
  }
  return ids;
}

function render() {
  const { goal } = state;
  document.title = `${goal.description} · WiseParts demo`;
  $("goal-title").textContent = goal.description;
  $("delete-goal").hidden = !canWrite;
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
    ["Aim", fmt(goal.aim)],
  ];
  if (goal.stretch_aim) rows.push(["Stretch aim", fmt(goal.stretch_aim)]);
  if (goal.goal_mode) rows.push(["Goal mode", goal.goal_mode === "per_business_day" ? "Per business day" : "Total"]);
  if (goal.recurrence) rows.push(["Recurs", humanize(goal.recurrence) + (goal.recurring_until ? ` until ${goal.recurring_until}` : "")]);
  const filters = Object.entries(goal.filters || {});
  if (filters.length) rows.push(["Filters", filters.map(([k, v]) => `${humanize(k)}: ${describeFilter(v)}`).join("; ")]);
  $("goal-settings").replaceChildren(...rows.flatMap(([term, value]) =>
    [el("dt", {}, term), el("dd", { "data-testid": `setting-${term.toLowerCase().replace(/ /g, "-")}` }, value)]));
  const aimForm = $("aim-form");
  aimForm.hidden = isActivity() || !canWrite;
  $("goal-aim").value = goal.aim;
}

function describeFilter(value) {
  if (value === true) return "yes";
  if (Array.isArray(value)) return value.join(", ");
  return ["include", "exclude"].filter((k) => value[k]?.length).map((k) => `${k} ${value[k].join(", ")}`).join(", ");
}

function progressOf(interval) {
  return state.progress?.intervals.find((p) => p.interval_id === interval.id) || null;
}

function renderGrid() {
  const people = split() ? members() : [];
  const money = !isActivity();
  $("basis-field").hidden = !(split() && money && canWrite);
  $("grid-hint").textContent = !canWrite
    ? "You can follow this goal; managers and admins set its targets."
    : split()
    ? isActivity()
      ? `Set each member's ${perDay() ? "daily target" : "target"}; the interval total is their sum.`
      : "Distribute each interval's aim over the members, or set their targets and Save."
    : "One target per interval.";
  const head = el("tr", {},
    el("th", { scope: "col" }, "Interval"),
    el("th", { scope: "col", class: "num" }, ownValueHeading()),
    ...people.map((id) => el("th", { scope: "col", class: "num" }, userName(id))),
    split() && money ? el("th", { scope: "col", class: "num" }, "Unallocated") : null,
    el("th", { scope: "col", class: "num" }, "Actual"),
  );
  const body = state.intervals.map((interval) => intervalRow(interval, people));
  $("interval-grid").replaceChildren(el("thead", {}, head), el("tbody", {}, ...body));
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
  const own = ownValueCell(interval, label);
  const cells = people.map((userId) => {
    const allocation = allocations.find((a) => a.user_id === userId);
    if (!allocation) return el("td", { class: "num muted" }, "—");
    const name = userName(userId);
    const member = progress?.members?.find((m) => m.user_id === userId);
    const value = canWrite
      ? el("div", { class: "cell" },
        el("input", {
          inputmode: "decimal", autocomplete: "off", value: allocation[valueField()] ?? "",
          "aria-label": `${perDay() ? "Daily target" : "Target"} of ${name}, ${label}`,
          "data-user-id": userId, "data-original": allocation[valueField()] ?? "",
        }),
        el("button", {
          type: "button", class: "icon", title: `Copy ${name}'s value to the others`,
          "aria-label": `Copy ${name}'s ${label} value to the others`,
          onclick: () => run(() => copyMember(interval, userId, label, name)),
        }, copyIcon()))
      : el("span", {}, fmt(allocation[valueField()]));
    return el("td", { class: "num member" },
      value,
      perDay() ? el("small", { class: "muted" }, `= ${fmt(allocation.effective_target)}`) : null,
      member && member.actual !== null ? el("small", { class: "muted" }, `actual ${fmt(member.actual)}`) : null,
    );
  });
  // The row's buttons sit under its label so that wide teams never push them out of sight.
  return el("tr", { "data-interval-id": interval.id },
    el("th", { scope: "row" },
      el("strong", {}, label),
      el("small", {}, `${interval.business_days} business days`),
      el("div", { class: "row-actions" }, ...rowButtons(interval, label))),
    own,
    ...cells,
    split() && !isActivity() ? el("td", { class: "num", "data-testid": "unallocated" }, fmt(interval.unallocated)) : null,
    el("td", { class: "num" }, progress ? fmt(progress.actual) : "—",
      progress ? el("small", {}, percent(progress.achievement_percent)) : null),
  );
}

function rowButtons(interval, label) {
  if (!canWrite) return [];
  const button = (text, name, action) =>
    el("button", { type: "button", "aria-label": name, onclick: () => run(action) }, text);
  const buttons = [button("Save", `Save ${label}`, () => saveRow(interval, label))];
  if (split() && !isActivity()) {
    buttons.push(
      button("Equal", `Equal split, ${label}`, () => distribute(interval, label, "equal")),
      button("Proportional", `Proportional split, ${label}`, () => distribute(interval, label, "proportional")),
    );
  }
  if (state.intervals.length > 1) {
    buttons.push(button("Copy to all", `Copy ${label} to all other intervals`, () => copyInterval(interval, label)));
  }
  return buttons;
}

function ownValueCell(interval, label) {
  // Sales/orders: the interval aim. Activities without member split: the target (or daily
  // target). Activities split by members: the sum of the members, read-only.
  if (isActivity() && split()) return el("td", { class: "num", "data-testid": "interval-aim" }, fmt(interval.aim));
  const field = isActivity() && perDay() ? "daily_target" : "aim";
  if (!canWrite) return el("td", { class: "num" }, fmt(interval[field]));
  const input = el("input", {
    inputmode: "decimal", autocomplete: "off", value: interval[field] ?? "", "data-field": field,
    "data-original": interval[field] ?? "", "aria-label": `${field === "aim" ? (isActivity() ? "Target" : "Aim") : "Daily target"}, ${label}`,
  });
  return el("td", { class: "num" }, input,
    field === "daily_target" ? el("small", { class: "muted" }, `= ${fmt(interval.aim)}`) : null);
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

// -- writes ---------------------------------------------------------------------------------

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
    if ((fresh.data[own.dataset.field] ?? "") !== own.dataset.original) {
      throw new Error("This interval was changed by someone else meanwhile; the page shows it now.");
    }
    const done = await write("PATCH", `${base}/intervals/${interval.id}`, { [own.dataset.field]: own.value.trim() }, { ifMatch: fresh.etag });
    if (!done) return false;
    changed = true;
  }
  const entries = [...tr.querySelectorAll("input[data-user-id]")]
    .filter((input) => input.value.trim() !== input.dataset.original)
    .map((input) => ({ user_id: input.dataset.userId, [valueField()]: input.value.trim() }));
  if (entries.length) {
    // The allocations' ETag covers the interval too: read it again after changing the aim.
    const etag = changed
      ? (await get(`${base}/intervals/${interval.id}/allocations`)).etag
      : state.allocations.get(interval.id).etag;
    const done = await write("PUT", `${base}/intervals/${interval.id}/allocations`, { allocations: entries }, { ifMatch: etag });
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
    { ifMatch: state.allocations.get(interval.id).etag });
  if (!response) return null;
  const fellBack = response.data.fell_back_to_equal ? " No preceding data: split equally instead." : "";
  return `Distributed ${label} ${strategy === "equal" ? "equally" : "proportionally"}.${fellBack}`;
}

async function copyMember(interval, userId, label, name) {
  if (!(await saveRow(interval, label, { announce: false }))) return null;
  const response = await write("POST", `${base}/intervals/${interval.id}/allocations/distribute`,
    { strategy: "copy", source_user_id: userId });
  return response ? `Copied ${name}'s ${label} value to the others.` : null;
}

async function copyInterval(interval, label) {
  if (!(await saveRow(interval, label, { announce: false }))) return null;
  const etag = (await get(`${base}/intervals`)).etag;
  const response = await write("POST", `${base}/intervals/${interval.id}/copy`, undefined, { ifMatch: etag });
  return response ? `Copied ${label} to all other intervals.` : null;
}

$("aim-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(async () => {
    const response = await write("PATCH", base, { aim: $("goal-aim").value.trim() }, { ifMatch: state.goalEtag });
    return response ? "Saved the goal aim." : null;
  });
});

$("delete-goal").addEventListener("click", async () => {
  const ok = await confirmDialog({
    title: "Delete this goal?",
    body: el("p", {}, `“${state.goal.description}” disappears from lists and dashboards; its history is kept.`),
    ok: "Delete goal",
  });
  if (!ok) return;
  try {
    await write("DELETE", base, undefined, { ifMatch: state.goalEtag });
    window.location.assign("/goals");
  } catch (error) {
    showError(errorBox, error);
  }
});

/** Run an action, reload the goal (also after an error or a cancelled confirmation), then
 * announce the action's message or show its error. */
async function run(action) {
  clearError(errorBox);
  say("Working…");
  let message = "Cancelled: nothing was changed.";
  let failure = null;
  try {
    message = (await action()) || message;
  } catch (error) {
    failure = error;
  }
  try {
    await load();
  } catch (error) {
    failure = failure || error;
  }
  say(failure ? "" : message);
  if (failure) showError(errorBox, failure);
}

function say(message) {
  status.textContent = message;
}

// -- progress --------------------------------------------------------------------------------

function renderProgress() {
  const target = $("goal-progress");
  const { progress } = state;
  if (!progress) {
    target.replaceChildren(el("p", { class: "muted" }, state.progressError?.message || "No progress yet."));
    return;
  }
  const period = progress.period;
  const parts = [
    el("p", { class: "muted" }, `As of ${progress.as_of}: ${period.business_days_elapsed} of ${period.business_days} business days.`),
    progressBar(period, `Progress of ${state.goal.description}`),
    el("div", { class: "progress-row" },
      figureList(period, { expected: true }),
      paceChart(seriesFromProgress(progress), "Cumulative actual against target pace")),
  ];
  if (progress.actuals_note || progress.actuals_error) {
    parts.push(el("p", { class: "note" }, progress.actuals_note || progress.actuals_error));
  }
  target.replaceChildren(...parts);
}

load().then(() => {
  say("");
  $("goal-root").dataset.ready = "true";
}).catch((error) => {
  say("");
  showError(errorBox, error);
});
