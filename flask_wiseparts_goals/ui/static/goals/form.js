// Create and edit a goal, following the help page: category first, then the details, the
// intervals and the category's own options. What it offers comes from GET /meta; it POSTs
// /goals or PATCHes /goals/{id} with only the fields that changed. Errors appear next to their
// field, in plain words.
import {
  CATEGORY, METRIC, RECURRENCE, UI, clearError, clearFieldErrors, el, get, humanize, inputValue,
  loadNames, nameOf, page, searchNames, showFieldErrors, write,
} from "./api.js";

const $ = (id) => document.getElementById(id);
const form = $("goal-form");
const goalId = form.dataset.goalId || null;
const HINTS = {
  sales: "Revenue and volume targets",
  activities: "Visit, call and task completion targets",
  orders: "Order volume and value targets",
};
const SHORTCUTS = { this_month: "This month", this_quarter: "This quarter", this_semester: "This semester", this_year: "This year" };
const RECURRENCE_PERIOD = { monthly: "this_month", quarterly: "this_quarter", semester: "this_semester", yearly: "this_year" };
const PAIR_FILTERS = ["brands", "brand_families", "customers", "customer_branches"];
const KIND = {
  brands: "brand", brand_families: "brand_family", customers: "customer",
  customer_branches: "customer_branch", wholesaler_branches: "wholesaler_branch", activity_types: "activity_type",
};
const FLAG_LABELS = {
  verified_only: "Verified only (GPS check-in)",
  ordered_only: "Ordered only (confirmed orders, no quotes)",
};
const MONEY = new Set(["net", "gross", "margin"]);

let meta;
let category = null;
let original = null;  // the goal being edited, as the API answered it
let etag = null;
const pickers = new Map();  // element id → {kind, chosen: [ids]}

function chosen() {
  return meta.categories.find((c) => c.category === category);
}

function renderCategories() {
  $("category-choices").replaceChildren(...meta.categories.map((c) => el("div", { class: "choice" },
    el("input", {
      type: "radio", name: "category", id: `category-${c.category}`, value: c.category,
      "aria-describedby": `category-${c.category}-hint`, disabled: Boolean(goalId),
    }),
    el("label", { for: `category-${c.category}` }, CATEGORY[c.category]),
    el("span", { class: "hint", id: `category-${c.category}-hint` },
      `${HINTS[c.category]} · ${c.metrics.map((m) => METRIC[m]).join(", ")}`),
  )));
  $("shortcuts").replaceChildren(...Object.entries(SHORTCUTS).map(([key, label]) =>
    el("button", { type: "button", "data-period": key, onclick: () => applyPeriod(key) }, label)));
  for (const r of meta.recurrences) $("recurrence").append(el("option", { value: r }, RECURRENCE[r] || humanize(r)));
}

function applyPeriod(key) {
  const period = meta.periods[key];
  $("start_date").value = period.start_date;
  $("end_date").value = period.end_date;
}

function selectCategory(value, filters = {}) {
  category = value;
  const c = chosen();
  const activity = category === "activities";
  $("details").hidden = false;
  $("metric").replaceChildren(...c.metrics.map((m) => el("option", { value: m }, METRIC[m])));
  if (c.default_metric) $("metric").value = c.default_metric;
  $("metric").disabled = activity;
  $("metric-hint").hidden = !activity;
  $("aim-field").hidden = !c.aim_editable;
  $("stretch-field").hidden = !c.aim_editable;
  $("aim-hint").hidden = c.aim_editable;
  $("activity-options").hidden = !activity;
  $("shortfall-field").hidden = activity;  // an activity goal's aims follow its targets
  return renderFilters(c.filters, filters);
}

// -- pickers: searchable names through goals_entities ----------------------------------------

function picker(id, label, kind, ids) {
  const state = { kind, chosen: [...ids] };
  pickers.set(id, state);
  const chips = el("ul", { class: "chips", "aria-label": `${label}: chosen` });
  const results = el("ul", { class: "results", id: `${id}-results`, hidden: true });
  const search = el("input", {
    type: "search", id, autocomplete: "off", placeholder: "Type a name to search",
    "aria-controls": `${id}-results`, "data-picker": id,
  });
  const renderChips = () => chips.replaceChildren(...state.chosen.map((entityId) => el("li", {},
    el("span", {}, nameOf(kind, entityId)),
    el("button", {
      type: "button", class: "icon", "aria-label": `Remove ${nameOf(kind, entityId)} from ${label}`,
      onclick: () => { state.chosen = state.chosen.filter((x) => x !== entityId); renderChips(); },
    }, "×"))));
  let latest = 0;
  const find = async () => {
    const request = ++latest;
    const found = await searchNames(kind, search.value.trim());
    if (request !== latest) return;
    const offered = found.filter((e) => !state.chosen.includes(e.id));
    results.replaceChildren(...(offered.length ? offered.map((e) => el("li", {},
      el("button", {
        type: "button", "aria-label": `Add ${e.name} to ${label}`,
        onclick: () => { state.chosen.push(e.id); renderChips(); results.hidden = true; search.value = ""; },
      }, e.name))) : [el("li", { class: "muted" }, "No match.")]));
    results.hidden = false;
  };
  search.addEventListener("input", find);
  search.addEventListener("click", find);
  search.addEventListener("keydown", (event) => { if (event.key === "Escape") results.hidden = true; });
  const box = el("div", { class: "field picker" });
  box.addEventListener("focusout", (event) => { if (!box.contains(event.relatedTarget)) results.hidden = true; });
  renderChips();
  state.render = renderChips;
  box.append(el("label", { for: id }, label), chips, search, results);
  return box;
}

function checkbox(id, label, value, checked = false) {
  return el("div", { class: "check" }, el("input", { type: "checkbox", id, value, checked }), el("label", { for: id }, label));
}

async function renderFilters(filterNames, filters) {
  pickers.clear();
  const kinds = {};
  for (const name of filterNames) {
    if (!KIND[name]) continue;
    const value = filters[name];
    const ids = Array.isArray(value) ? value : [...(value?.include || []), ...(value?.exclude || [])];
    kinds[KIND[name]] = [...(kinds[KIND[name]] || []), ...ids];
  }
  await Promise.all(Object.entries(kinds).map(([kind, ids]) => loadNames(kind, ids)));
  const parts = [];
  for (const name of filterNames) {
    const title = humanize(name);
    const value = filters[name];
    if (PAIR_FILTERS.includes(name)) {
      parts.push(el("div", { class: "row pair" },
        picker(`filter-${name}-include`, `${title}: include`, KIND[name], value?.include || []),
        picker(`filter-${name}-exclude`, `${title}: exclude`, KIND[name], value?.exclude || [])));
    } else if (name === "wholesaler_branches") {
      parts.push(el("div", { id: "wholesaler-field" },
        picker("filter-wholesaler_branches", "Wholesaler branches (goals without a team)", KIND[name], value || [])));
    } else if (name === "activity_types") {
      const types = await searchNames("activity_type", "");
      for (const id of value || []) if (!types.some((t) => t.id === id)) types.push({ id, name: nameOf("activity_type", id) });
      parts.push(el("fieldset", { class: "inline", id: "filter-activity_types" }, el("legend", {}, "Activity types"),
        ...types.map((t) => checkbox(`filter-activity_types-${t.id}`, t.name, t.id, (value || []).includes(t.id)))));
    } else if (name === "channels") {
      parts.push(el("fieldset", { class: "inline", id: "filter-channels" }, el("legend", {}, "Channels"),
        ...meta.channels.map((v) => checkbox(`filter-channels-${v}`, humanize(v), v, (value || []).includes(v)))));
    } else if (FLAG_LABELS[name]) {
      parts.push(checkbox(`filter-${name}`, FLAG_LABELS[name], "true", Boolean(value)));
    }
  }
  parts.push(el("p", { class: "hint" }, "Nothing chosen means no restriction."));
  $("filter-fields").replaceChildren(...parts);
  sync();
}

/** Show and enable what the current choices allow. */
function sync() {
  const team = $("team_id").value;
  const split = $("split_by_team_members");
  split.disabled = !team;
  if (!team) split.checked = false;
  $("split-hint").hidden = Boolean(team);
  const wholesaler = $("wholesaler-field");
  if (wholesaler) wholesaler.hidden = Boolean(team);
  $("daily-field").hidden = !$("mode-per-day").checked;
  $("until-field").hidden = !$("recurrence").value;
  const metric = $("metric").value;
  $("aim-unit").textContent = MONEY.has(metric)
    ? `Amount${page.currency ? ` in ${page.currency}` : ""}, up to 2 decimals.` : "A whole number.";
}

function checkedValues(name) {
  return [...document.querySelectorAll(`#filter-${name} input:checked`)].map((i) => i.value);
}

function payload() {
  const c = chosen();
  const activity = category === "activities";
  const data = {
    category,
    description: $("description").value.trim(),
    start_date: $("start_date").value || null,
    end_date: $("end_date").value || null,
    metric: $("metric").value,
    team_id: $("team_id").value || null,
    split_into_subperiods: $("split_into_subperiods").checked,
    split_by_team_members: $("split_by_team_members").checked,
  };
  if (c.aim_editable) {
    data.aim = $("aim").value.trim() || null;
    data.stretch_aim = $("stretch_aim").value.trim() || null;
  }
  if (!activity) data.shortfall_policy = $("shortfall_policy").value;
  if (activity) {
    data.goal_mode = document.querySelector('input[name="goal_mode"]:checked').value;
    data.daily_target = data.goal_mode === "per_business_day" ? $("daily_target").value.trim() || null : null;
    data.recurrence = $("recurrence").value || null;
    data.recurring_until = data.recurrence ? $("recurring_until").value || null : null;
  }
  const filters = {};
  for (const name of c.filters) {
    if (PAIR_FILTERS.includes(name)) {
      const pair = { include: pickers.get(`filter-${name}-include`).chosen, exclude: pickers.get(`filter-${name}-exclude`).chosen };
      if (pair.include.length || pair.exclude.length) filters[name] = pair;
    } else if (name === "wholesaler_branches") {
      const values = data.team_id ? [] : pickers.get("filter-wholesaler_branches").chosen;
      if (values.length) filters[name] = values;
    } else if (name === "activity_types" || name === "channels") {
      const values = checkedValues(name);
      if (values.length) filters[name] = values;
    } else if (FLAG_LABELS[name] && $(`filter-${name}`).checked) {
      filters[name] = true;
    }
  }
  data.filters = filters;
  return data;
}

/** For an edit: only what differs from the goal as loaded (numbers compared by value). */
function changes(data) {
  const same = (a, b) => {
    if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
    if (typeof a === "string" && typeof b === "string" && /^-?\d+(\.\d+)?$/.test(a) && /^-?\d+(\.\d+)?$/.test(b)) return Number(a) === Number(b);
    return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
  };
  const out = {};
  for (const [key, value] of Object.entries(data)) {
    if (key === "category") continue;
    if (!same(value, original[key])) out[key] = value;
  }
  return out;
}

function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().filter((k) => !(Array.isArray(value[k]) && !value[k].length)).map((k) => [k, canonical(value[k])]));
  }
  return value;
}

// -- errors next to their fields ------------------------------------------------------------

function locate(path) {
  const [head, second, third] = path.split(".");
  if (head === "filters") {
    if (PAIR_FILTERS.includes(second)) return $(`filter-${second}-${third === "exclude" ? "exclude" : "include"}`);
    if (second === "wholesaler_branches") return $("filter-wholesaler_branches");
    if (second === "activity_types" || second === "channels") return document.querySelector(`#filter-${second} input`);
    return $(`filter-${second}`) || $("filter-fields").querySelector("input");
  }
  if (head === "category") return document.querySelector('input[name="category"]');
  if (head === "goal_mode") return $("mode-total");
  if (head === "period") return $("start_date");
  if (head === "allocations" || head === "aim") return $("aim-field").hidden ? null : $("aim");
  return $(head);
}

const LABELS = { allocations: "Members' targets", _schema: "Goal", json: "Goal" };

form.addEventListener("change", (event) => {
  if (event.target.name === "category") selectCategory(event.target.value);
  if (event.target.id === "recurrence" && event.target.value && !goalId) applyPeriod(RECURRENCE_PERIOD[event.target.value]);
  sync();
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const banner = $("form-error");
  clearError(banner);
  clearFieldErrors(form);
  if (!category) {
    showFieldErrors({ message: "Please correct the fields marked below.", data: { errors: { json: { category: ["Choose a category."] } } } }, { banner, locate });
    return;
  }
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const data = payload();
    let response;
    if (goalId) {
      const body = changes(data);
      if (!Object.keys(body).length) {
        window.location.assign(`${UI}/${goalId}`);
        return;
      }
      response = await write("PATCH", `/goals/${goalId}`, body, { ifMatch: etag, metric: data.metric });
    } else {
      response = await write("POST", "/goals", Object.fromEntries(Object.entries(data).filter(([, v]) => v !== null)), { metric: data.metric });
    }
    if (response) window.location.assign(`${UI}/${response.data.id}`);
  } catch (err) {
    showFieldErrors(err, { banner, locate, label: (p) => LABELS[p.split(".")[0]] || humanize(p.split(".")[0]) });
    if (!document.querySelector("[aria-invalid='true']")) banner.focus();
  } finally {
    button.disabled = false;
  }
});

async function fillFromGoal(goal) {
  document.querySelector(`#category-${goal.category}`).checked = true;
  await selectCategory(goal.category, goal.filters || {});
  $("description").value = goal.description;
  $("start_date").value = goal.start_date;
  $("end_date").value = goal.end_date;
  $("metric").value = goal.metric;
  $("aim").value = inputValue(goal.aim, goal.metric);
  $("stretch_aim").value = inputValue(goal.stretch_aim, goal.metric);
  const team = $("team_id");
  if (![...team.options].some((o) => o.value === (goal.team_id || ""))) {
    team.append(el("option", { value: goal.team_id || "" }, goal.team_id ? nameOf("team", goal.team_id) : "No team (whole organization)"));
  }
  team.value = goal.team_id || "";
  $("split_into_subperiods").checked = goal.split_into_subperiods;
  $("split_by_team_members").checked = goal.split_by_team_members;
  $("shortfall_policy").value = goal.shortfall_policy || "none";
  if (goal.category === "activities") {
    $(goal.goal_mode === "per_business_day" ? "mode-per-day" : "mode-total").checked = true;
    $("daily_target").value = inputValue(goal.daily_target, "count");
    $("recurrence").value = goal.recurrence || "";
    $("recurring_until").value = goal.recurring_until || "";
  }
  sync();
}

(async () => {
  try {
    meta = (await get("/meta")).data;
    renderCategories();
    if (goalId) {
      const response = await get(`/goals/${goalId}`);
      original = response.data;
      etag = response.etag;
      if (!original.permissions.update) {
        form.replaceChildren(el("p", { role: "alert" }, "You may follow this goal, but not change it."));
        return;
      }
      await loadNames("team", [original.team_id]);
      await fillFromGoal(original);
    }
    form.dataset.ready = "true";
  } catch (err) {
    showFieldErrors(err, { banner: $("form-error"), locate: () => null });
    $("details").hidden = false;
  }
})();
