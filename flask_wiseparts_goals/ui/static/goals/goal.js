// One goal: its settings, the interval × member grid (editable only with the permissions the
// API reports), distribute / copy / save with the exceed confirmation, planning (the seasonal
// split of the aim, CSV export and import with a preview), its progress, charts, leaderboard
// and breakdown. A rejected value stays in its cell with the error next to it.
import {
  API, ApiError, CATEGORY, METRIC, RECURRENCE, UI, call, clearError, clearFieldErrors, confirmDialog, el, fmt,
  fmtDate, fmtNumber, get, humanize, inputValue, intervalLabel, isWhole, loadNames, markField, nameOf, percent, rangeLabel,
  describeBy, showError, statusOf, sumDecimals, teamName, write, fieldErrors,
} from "./api.js";
import { figureList, intervalChart, paceChart, progressBar } from "./charts.js";

const $ = (id) => document.getElementById(id);
const goalId = $("goal-root").dataset.goalId;
const base = `/goals/${goalId}`;
const status = $("goal-status");
const errorBox = $("goal-error");

let state = null;

async function load() {
  const [goal, intervals, progress, leaderboard] = await Promise.all([
    get(base), get(`${base}/intervals`), call("GET", `${base}/progress`), leaderboardCall(),
  ]);
  const allocations = new Map();
  if (goal.data.split_by_team_members) {
    const responses = await Promise.all(intervals.data.map((i) => get(`${base}/intervals/${i.id}/allocations`)));
    intervals.data.forEach((i, k) => allocations.set(i.id, { list: responses[k].data.allocations, etag: responses[k].etag }));
  }
  state = {
    goal: goal.data, goalEtag: goal.etag, intervals: intervals.data, intervalsEtag: intervals.etag, allocations,
    progress: progress.ok ? progress.data : null,
    progressError: progress.ok ? null : new ApiError(progress),
    leaderboard: leaderboard.ok ? leaderboard.data : null,
  };
  const users = [...allocations.values()].flatMap((a) => a.list.map((x) => x.user_id));
  if (state.progress) users.push(...state.progress.period.members.map((m) => m.user_id));
  if (state.leaderboard) users.push(...state.leaderboard.members.map((m) => m.user_id));
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
  renderPlanning();
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
  if (goal.goal_mode) rows.push(["Goal mode", goal.goal_mode === "per_business_day" ? `Per business day (${fmtNumber(goal.daily_target)} a day)` : "Total for the period"]);
  if (!isActivity()) rows.push(["Shortfall", SHORTFALL[goal.shortfall_policy] || humanize(goal.shortfall_policy || "none")]);
  if (goal.recurrence) rows.push(["Recurs", (RECURRENCE[goal.recurrence] || humanize(goal.recurrence)) + (goal.recurring_until ? ` until ${fmtDate(goal.recurring_until)}` : "")]);
  if (goal.source_goal_id) rows.push(["Cloned from", el("a", { href: `${UI}/${goal.source_goal_id}` }, "the previous period's goal")]);
  const filters = Object.entries(goal.filters || {});
  if (filters.length) rows.push(["Filters", filters.map(([k, v]) => `${humanize(k)}: ${describeFilter(k, v)}`).join("; ")]);
  $("goal-settings").replaceChildren(...rows.flatMap(([term, value]) =>
    [el("dt", {}, term), el("dd", { "data-testid": `setting-${term.toLowerCase().replace(/ /g, "-")}` }, value)]));
}

/** What ``shortfall_policy`` means, as the goal page says it (the form offers the same). */
const SHORTFALL = {
  none: "Not carried over",
  next_interval: "Added to the next interval",
  spread_remaining: "Spread over the remaining intervals",
};

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
  const grid = $("interval-grid");
  grid.replaceChildren(el("thead", {}, head), el("tbody", {}, ...state.intervals.map((i) => intervalRow(i, people))),
    el("tfoot", {}, ...totalsRows(people)));
  grid.oninput = () => updateTotals(people);  // one handler, replaced on every render
  updateTotals(people);
}

// -- the totals row ------------------------------------------------------------------------------
// Display, not a rule: each total is a plain sum of the cells as they are typed (exact, on the
// decimal strings), and "not in any interval" is the goal aim minus the aims' total, which is
// what the API reports as the goal's ``unassigned`` once saved. Whether a total may exceed the
// aim is decided by the API alone, on save (its 409 lists what would change).

function totalsRows(people) {
  const money = !isActivity();
  const cell = (id) => el("td", { class: "num", "data-testid": id });
  const rows = [el("tr", { "data-testid": "totals-row" },
    el("th", { scope: "row" }, "Total"),
    cell("total-aim"),
    ...people.map((userId) => el("td", { class: "num", "data-testid": "total-member", "data-user-id": userId })),
    split() && money ? cell("total-unallocated") : null,
    cell("total-actual"))];
  if (money) {
    rows.push(el("tr", { "data-testid": "unassigned-row" },
      el("th", { scope: "row" }, "Not in any interval"),
      el("td", { class: "num", "data-testid": "unassigned" }),
      el("td", { colspan: String(people.length + (split() ? 2 : 1)), class: "muted" }, `of the goal aim ${f(state.goal.aim)}`)));
  }
  return rows;
}

/** The cell's value as typed, else the stored value (read-only cells). */
function typed(input, stored) {
  return input ? input.value : stored;
}

function updateTotals(people) {
  const grid = $("interval-grid");
  const places = isWhole(metric()) ? 0 : 2;
  const show = (id, value) => { const td = grid.querySelector(`[data-testid="${id}"]`); if (td) td.textContent = value === null ? "—" : f(value); };
  const own = state.intervals.map((i) => {
    const input = row(i)?.querySelector('input[data-field="aim"]');
    return typed(input, i.aim);
  });
  const aims = sumDecimals(own, places);
  show("total-aim", aims);
  const memberTotals = people.map((userId) => {
    const values = state.intervals.map((i) => {
      const input = grid.querySelector(`input[data-user-id="${userId}"][id="cell-${i.id}-${userId}"]`);
      const stored = state.allocations.get(i.id)?.list.find((a) => a.user_id === userId);
      return typed(input, stored ? stored[valueField()] : "");
    });
    // A sum of daily targets means nothing: per-day members show no total.
    return perDay() ? null : sumDecimals(values, places);
  });
  grid.querySelectorAll('[data-testid="total-member"]').forEach((td, k) => { td.textContent = memberTotals[k] === null ? "—" : f(memberTotals[k]); });
  if (split() && !isActivity()) {
    show("total-unallocated", aims === null || memberTotals.includes(null) ? null : sumDecimals([aims], places, { minus: memberTotals }));
  }
  show("total-actual", state.progress?.period?.actual ?? null);
  if (!isActivity()) show("unassigned", aims === null ? null : sumDecimals([state.goal.aim], places, { minus: [aims] }));
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
      : el("span", {}, perDay() ? fmtNumber(allocation.daily_target) : f(allocation.target));
    const original = originalNote(allocation.original_target, allocation.target, `original-${interval.id}-${userId}`);
    if (original && canAllocate()) describeBy(value.querySelector("input"), original);
    return el("td", { class: "num member" }, value,
      perDay() ? el("small", { class: "muted" }, `= ${f(allocation.effective_target)}`) : null,
      original,
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
  // Beside the aim: what it was when the interval started, when it has changed since.
  const original = originalNote(interval.original_aim, interval.aim, `original-${interval.id}`);
  if (isActivity() && split()) return el("td", { class: "num", "data-testid": "interval-aim" }, f(interval.aim), original);
  const field = isActivity() && perDay() ? "daily_target" : "aim";
  const shown = inputValue(interval[field], field === "daily_target" ? "count" : metric());
  const daily = field === "daily_target" ? el("small", { class: "muted" }, `= ${f(interval.aim)}`) : null;
  if (!canUpdate()) return el("td", { class: "num" }, field === "daily_target" ? fmtNumber(interval[field]) : f(interval[field]), daily, original);
  const input = el("input", {
    inputmode: "decimal", autocomplete: "off", value: shown, "data-field": field, id: `own-${interval.id}`,
    "data-original": shown, "aria-label": `${field === "aim" ? (isActivity() ? "Target" : "Aim") : "Daily target"}, ${label}`,
  });
  if (original) describeBy(input, original);
  return el("td", { class: "num" }, el("div", { class: "cell" }, input), daily, original);
}

/** "(originally 1,000)" when the value changed since its interval started, else null. */
function originalNote(original, current, id) {
  if (original === null || original === undefined || current === null || current === undefined) return null;
  if (Number(original) === Number(current)) return null;
  return el("small", { class: "original", id, "data-testid": "original" }, `(originally ${f(original)})`);
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

/** An error the API gave for values typed in the grid (or a planning field): shown next to
 * the inputs, which keep what was typed. */
class CellError extends Error {
  constructor(error, inputs, banner = "A value was not saved: see the marked cell.") {
    super(error.message);
    this.apiError = error;
    this.inputs = inputs;  // error path → input
    this.banner = banner;
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
  clearFieldErrors($("goal-root"));
  say("Working…");
  let message = "Cancelled: nothing was changed.";
  try {
    message = (await action()) || message;
  } catch (error) {
    if (error instanceof CellError) {
      const loose = [];
      for (const [path, text] of fieldErrors(error.apiError)) {
        const input = error.inputs(path);
        if (input) markField(input, weightMessage(path, text));
        else loose.push(text);
      }
      say("");
      showError(errorBox, { message: error.banner }, loose);
      document.querySelector("#goal-root [aria-invalid='true']")?.focus();
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

/** "weights.2: Enter a number" → "Weight 3: Enter a number" (the list is one input). */
function weightMessage(path, text) {
  const match = /^weights\.(\d+)/.exec(path);
  return match ? `Weight ${Number(match[1]) + 1}: ${text}` : text;
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
  renderLeaderboard();
}

/** The leaderboard over the whole goal or the interval chosen in "Ranked over". */
function leaderboardCall() {
  return call("GET", `${base}/leaderboard`, { query: { interval_id: $("leaderboard-scope").value || undefined } });
}

/** The members ranked by the API (GET /goals/{id}/leaderboard: achievement %, then actual). */
function renderLeaderboard() {
  const scope = $("leaderboard-scope");
  const chosen = scope.value;
  scope.replaceChildren(el("option", { value: "" }, "The whole goal"),
    ...state.intervals.map((i) => el("option", { value: String(i.id) }, intervalLabel(i.start_date, i.end_date))));
  scope.value = state.intervals.some((i) => String(i.id) === chosen) ? chosen : "";
  $("leaderboard-scope-field").hidden = state.intervals.length < 2;
  const board = state.leaderboard;
  const members = board ? board.members : [];
  const counted = members.filter((m) => m.rank !== null);
  // Hidden with fewer than two to rank, unless an interval was chosen (keep the way back).
  $("leaderboard-section").hidden = counted.length < 2 && !scope.value;
  if (counted.length < 2) {
    $("leaderboard").replaceChildren(el("p", { class: "muted" }, "Fewer than two members to rank here."));
    return;
  }
  const started = board.start_date <= board.as_of;
  const cell = (value) => el("td", { class: "num" }, value);
  $("leaderboard").replaceChildren(el("table", { class: "data", id: "leaderboard-table" },
    el("caption", { class: "visually-hidden" }, "Members ranked by achievement, then actual"),
    el("thead", {}, el("tr", {},
      ...["Rank", "Member", "Target", "Actual", "Forecast", "Achievement", "Status"].map((h, i) =>
        el("th", { scope: "col", class: i > 1 && i < 6 ? "num" : null }, h)))),
    el("tbody", {}, ...members.map((m) => {
      const shown = statusOf(m);
      return el("tr", { "data-user-id": m.user_id },
        el("td", {}, m.rank === null ? "—" : String(m.rank)),
        el("th", { scope: "row" }, userName(m.user_id), m.counted ? null : el("small", {}, " (left the team)")),
        cell(f(m.target)),
        cell(started ? f(m.actual) : "—"),
        cell(started ? f(m.forecast) : "—"),
        cell(started ? percent(m.achievement_percent) : "—"),
        el("td", {}, el("span", { class: `badge status-${shown.key}` }, shown.label)));
    }))));
}

// -- planning: the seasonal split of the aim, CSV export and import -------------------------

const STRATEGY_HINT = {
  equal: "Every interval gets the same share (the rest one step each to the first intervals).",
  previous_year: "Last year's actuals of the same days set each interval's share; without any, the aim is split equally.",
  profile: "Each interval's share follows its weight: 1, 1, 2 gives the last interval half of the aim.",
};

function renderPlanning() {
  const seasonal = !isActivity() && canUpdate() && state.intervals.length > 1;
  $("season-form").hidden = !seasonal;
  $("csv-form").hidden = !canAllocate();
  $("csv-download").href = `${API}${base}/targets.csv`;
  $("csv-hint").hidden = !canAllocate();
  // Readers may download; planning controls only for those who may change targets.
  $("planning-section").hidden = false;
  const labels = state.intervals.map((i) => intervalLabel(i.start_date, i.end_date));
  $("season-weights-hint").textContent =
    `${state.intervals.length} numbers for ${labels[0]} to ${labels[labels.length - 1]}, separated by spaces, commas or ` +
    "semicolons, e.g. 8, 7, 9 or percentages; only their ratios count. Use a point for decimals (9.5).";
  syncStrategy();
}

function syncStrategy() {
  const strategy = $("season-strategy").value;
  $("season-weights-field").hidden = strategy !== "profile";
  $("season-strategy-hint").textContent = STRATEGY_HINT[strategy];
}

/** "8, 7; 9.5" → ["8", "7", "9.5"]: what the manager typed, each checked by the API. */
function typedWeights(text) {
  return text.trim().split(/[\s;,]+/).filter(Boolean);
}

async function spreadAim() {
  const strategy = $("season-strategy").value;
  const body = { strategy };
  if (strategy === "profile") body.weights = typedWeights($("season-weights").value);
  let response;
  try {
    response = await write("POST", `${base}/intervals/distribute`, body, { ifMatch: state.intervalsEtag, metric: metric() });
  } catch (error) {
    if (error.status === 422) {
      throw new CellError(error, (path) => (path.startsWith("weights") ? $("season-weights") : path === "strategy" ? $("season-strategy") : null),
        "The aim was not spread: see the marked field.");
    }
    throw error;
  }
  if (!response) return null;
  const how = { equal: "equally", previous_year: "like the same days last year", profile: "by your weights" }[strategy];
  const notes = response.data.fell_back_to_equal ? ` ${(response.data.notes || []).join(" ") || "Nothing to weigh by: split equally instead."}` : "";
  return `Spread the aim over the intervals ${response.data.fell_back_to_equal ? "equally" : how}.${notes}`;
}

$("leaderboard-scope").addEventListener("change", async () => {
  const response = await leaderboardCall();
  state.leaderboard = response.ok ? response.data : null;
  if (state.leaderboard) await loadNames("user", state.leaderboard.members.map((m) => m.user_id));
  renderLeaderboard();
  $("leaderboard").dataset.scope = $("leaderboard-scope").value;
});

$("season-strategy").addEventListener("change", syncStrategy);
$("season-form").addEventListener("submit", (event) => {
  event.preventDefault();
  run(spreadAim);
});

// The file checked last, its text, and whether the manager confirmed its 409 in the preview.
let checked = null;

const FIELD = { aim: "Aim", stretch_aim: "Stretch aim", target: "Target", daily_target: "Daily target" };
const COLUMN = { _row: "The whole row", interval_start: "interval_start", user_id: "user_id", target: "target", daily_target: "daily_target" };

function csvErrors(error) {
  // errors.csv.<row>.<column>: [messages]; a 415 or a file-level problem: errors.csv: [messages].
  const found = (error.data && error.data.errors && error.data.errors.csv) || {};
  if (Array.isArray(found)) return found.map((message) => ({ row: "", column: "", message }));
  return Object.entries(found).sort(([a], [b]) => Number(a) - Number(b)).flatMap(([row, columns]) =>
    Object.entries(columns).flatMap(([column, messages]) =>
      [].concat(messages).map((message) => ({ row, column, message }))));
}

function csvErrorTable(rows) {
  return el("table", { class: "data", id: "csv-errors" },
    el("caption", {}, "Problems in the file (nothing was saved)"),
    el("thead", {}, el("tr", {}, ...["Row", "Column", "Problem"].map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, ...rows.map((r) => el("tr", {},
      el("td", {}, r.row), el("td", {}, COLUMN[r.column] ?? r.column), el("td", {}, r.message)))));
}

function changeTable(changes, caption) {
  return el("table", { class: "data", id: "csv-changes" },
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, ...["Interval", "Who", "What", "Now", "After the import"].map((h, i) =>
      el("th", { scope: "col", class: i > 2 ? "num" : null }, h)))),
    el("tbody", {}, ...changes.map((c) => el("tr", {},
      el("td", {}, c.interval_start ? intervalLabel(c.interval_start, c.interval_end) : "The goal"),
      el("td", {}, c.user_id ? userName(c.user_id) : c.interval_start ? "The interval" : "—"),
      el("td", {}, FIELD[c.field] || humanize(c.field)),
      el("td", { class: "num" }, c.field === "daily_target" ? fmtNumber(c.old_value) : f(c.old_value)),
      el("td", { class: "num" }, c.field === "daily_target" ? fmtNumber(c.new_value) : f(c.new_value))))));
}

// The import is a compare-and-set: the preview is checked against the targets as they stand
// (their ETag), and the import applies only if nobody changed them since that preview.
async function currentCsvEtag() {
  return (await get(`${base}/targets.csv`)).etag;
}

function uploadCsv(text, { dryRun, confirm, etag }) {
  return write("PUT", `${base}/targets.csv`, undefined, {
    text, contentType: "text/csv", metric: metric(), ifMatch: etag,
    query: { dry_run: dryRun ? "true" : undefined, confirm: confirm ? "true" : undefined },
  });
}

async function checkCsv() {
  const result = $("csv-result");
  const file = $("csv-file").files[0];
  checked = null;
  $("csv-import").hidden = true;
  result.replaceChildren();
  if (!file) {
    markField($("csv-file"), "Choose the CSV file to upload.");
    $("csv-file").focus();
    return;
  }
  const text = await file.text();
  say("Checking the file…");
  let response;
  const etag = await currentCsvEtag();
  try {
    response = await uploadCsv(text, { dryRun: true, etag });
  } catch (error) {
    say("");
    const rows = csvErrors(error);
    result.replaceChildren(
      el("p", { class: "error", role: "alert" }, error.status === 422 || error.status === 415
        ? "The file was not imported: correct the rows below and upload it again." : error.message),
      rows.length ? csvErrorTable(rows) : "");
    return;
  }
  if (!response) {
    say("Cancelled: nothing was changed.");
    return;
  }
  const { changes, rows } = response.data;
  checked = { text, confirm: Boolean(response.confirmed), name: file.name, etag };
  if (!changes.length) {
    result.replaceChildren(el("p", { id: "csv-summary" }, `${rows} rows read: nothing would change.`));
    say("");
    return;
  }
  result.replaceChildren(
    el("p", { id: "csv-summary" }, `${rows} rows read: ${changes.length} ${changes.length === 1 ? "value changes" : "values change"}. Nothing is saved until you import.`),
    changeTable(changes, `What the import of ${file.name} changes`));
  $("csv-import").hidden = false;
  say("");
}

async function importCsv() {
  if (!checked) return null;
  let response;
  try {
    response = await uploadCsv(checked.text, { dryRun: false, confirm: checked.confirm, etag: checked.etag });
  } catch (error) {
    if (error.status === 412) {
      checked = null;
      $("csv-import").hidden = true;
      $("csv-result").replaceChildren(el("p", { class: "error", role: "alert", id: "csv-stale" },
        "Someone changed these targets after your preview: nothing was imported. Check the file again to see what it changes now."));
      return null;
    }
    const rows = csvErrors(error);
    if (rows.length) $("csv-result").replaceChildren(el("p", { class: "error", role: "alert" }, error.message), csvErrorTable(rows));
    throw error;
  }
  if (!response) return null;
  const count = response.data.changes.length;
  checked = null;
  $("csv-file").value = "";
  $("csv-import").hidden = true;
  $("csv-result").replaceChildren();
  return `Imported the file: ${count} ${count === 1 ? "value" : "values"} changed.`;
}

$("csv-form").addEventListener("submit", (event) => {
  event.preventDefault();
  clearFieldErrors($("csv-form"));
  clearError(errorBox);
  checkCsv().catch((error) => showError(errorBox, error));
});
$("csv-file").addEventListener("change", () => {
  checked = null;
  $("csv-import").hidden = true;
  $("csv-result").replaceChildren();
  clearFieldErrors($("csv-form"));
});
$("csv-import").addEventListener("click", () => run(importCsv));

// -- breakdown: the actual per brand, customer... against an earlier period ------------------

const DIMENSION = {
  brand: "Brand", brand_family: "Brand family", customer: "Customer", customer_branch: "Customer branch",
  wholesaler_branch: "Wholesaler branch", activity_type: "Activity type", channel: "Channel",
};
const NAMED = new Set(["brand", "brand_family", "customer", "customer_branch", "wholesaler_branch", "activity_type"]);
let breakdownRequest = 0;

async function setUpBreakdown() {
  const meta = await call("GET", "/meta");
  const offer = meta.ok ? meta.data.categories.find((c) => c.category === state.goal.category) : null;
  const dimensions = offer ? offer.group_by : [];
  if (!dimensions.length) {
    $("breakdown-section").hidden = true;
    $("breakdown-link").hidden = true;
    return;
  }
  $("breakdown-by").replaceChildren(...dimensions.map((d) => el("option", { value: d }, DIMENSION[d] || humanize(d))));
  await loadBreakdown();
}

async function loadBreakdown() {
  const request = ++breakdownRequest;
  const by = $("breakdown-by").value;
  const target = $("breakdown");
  target.setAttribute("aria-busy", "true");
  const response = await call("GET", `${base}/breakdown`, { query: { by, compare: $("breakdown-compare").value } });
  if (response.ok && NAMED.has(by)) {
    const { period, current_interval: current } = response.data;
    await loadNames(by, [...period.rows, ...(current ? current.rows : [])].map((r) => r.id));
  }
  if (request !== breakdownRequest) return;
  target.removeAttribute("aria-busy");
  if (!response.ok) {
    const box = el("div", { class: "error", role: "alert" });
    showError(box, new ApiError(response));
    target.replaceChildren(box);
    return;
  }
  const data = response.data;
  const parts = [];
  if (data.actuals_note) parts.push(el("p", { class: "note" }, data.actuals_note));
  parts.push(breakdownTable(data.period, by, "The whole goal", "breakdown-period"));
  if (data.current_interval && state.intervals.length > 1) {
    const c = data.current_interval;
    parts.push(breakdownTable(c, by, intervalLabel(c.start_date, c.end_date), "breakdown-current"));
  }
  target.replaceChildren(...parts);
  target.dataset.ready = "true";
}

function breakdownTable(section, by, title, id) {
  const label = DIMENSION[by] || humanize(by);
  const name = (rowId) => (rowId === "" ? `No ${label.toLowerCase()}` : NAMED.has(by) ? nameOf(by, rowId) : humanize(rowId));
  const heading = el("h3", { id: `${id}-heading` }, title);
  if (!section.measured_start) return el("div", {}, heading, el("p", { class: "muted" }, "Not started yet: nothing to break down."));
  const compared = section.compare_start ? `${rangeLabel(section.compare_start, section.compare_end)}` : "—";
  const caption = `${label}: ${rangeLabel(section.measured_start, section.measured_end)} against ${compared}`;
  if (section.actuals_error) return el("div", {}, heading, el("p", { class: "note" }, section.actuals_error));
  const diff = (value) => (value === null || value === undefined ? "—" : `${Number(value) > 0 ? "+" : ""}${f(value)}`);
  const diffPercent = (value) => (value === null || value === undefined ? "—" : `${Number(value) > 0 ? "+" : ""}${percent(value)}`);
  const num = (text, attrs = {}) => el("td", { class: "num", ...attrs }, text);
  return el("div", {}, heading,
    el("div", { class: "scroll" }, el("table", { class: "data", id, "aria-labelledby": `${id}-heading` },
      el("caption", { class: "hint" }, caption),
      el("thead", {}, el("tr", {},
        ...[label, "Actual", "Compared with", "Difference", "Difference %"].map((h, i) => el("th", { scope: "col", class: i ? "num" : null }, h)))),
      el("tbody", {}, ...(section.rows.length ? section.rows.map((r) => el("tr", { "data-id": r.id },
        el("th", { scope: "row" }, name(r.id)),
        num(f(r.actual)), num(f(r.compare_actual)),
        num(diff(r.difference), { class: `num ${Number(r.difference) < 0 ? "shortfall" : ""}` }),
        num(diffPercent(r.difference_percent))))
        : [el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No actuals in these days."))])),
      el("tfoot", {}, el("tr", {},
        el("th", { scope: "row" }, "Total"), num(f(section.actual)), num(f(section.compare_actual)), num(diff(section.difference)), num(""))))));
}

$("breakdown-form").addEventListener("change", () => loadBreakdown());
$("breakdown-form").addEventListener("submit", (event) => event.preventDefault());

load().then(() => {
  say("");
  $("goal-root").dataset.ready = "true";
  return setUpBreakdown();
}).catch((error) => {
  say("");
  showError(errorBox, error);
});
