// The create form, following the help page: category first, then the details, the intervals
// and the category's own options. What it offers comes from GET /meta; it POSTs /goals.
import { CATEGORY, METRIC, clearError, el, get, host, humanize, showError, write } from "./api.js";

const $ = (id) => document.getElementById(id);
const form = $("goal-form");
const HINTS = {
  sales: "Revenue and volume targets",
  activities: "Visit, call and task completion targets",
  orders: "Order volume and value targets",
};
const SHORTCUTS = { this_month: "This month", this_quarter: "This quarter", this_semester: "This semester", this_year: "This year" };
// With a recurrence the range is the current period of that length.
const RECURRENCE_PERIOD = { monthly: "this_month", quarterly: "this_quarter", semester: "this_semester", yearly: "this_year" };
const PAIR_FILTERS = ["brands", "brand_families", "customers", "customer_branches"];
const FLAG_LABELS = {
  verified_only: "Verified only (GPS check-in)",
  ordered_only: "Ordered only (confirmed orders, no quotes)",
};

let meta;
let category = null;

function chosen() {
  return meta.categories.find((c) => c.category === category);
}

function renderCategories() {
  $("category-choices").replaceChildren(...meta.categories.map((c) => el("div", { class: "choice" },
    el("input", {
      type: "radio", name: "category", id: `category-${c.category}`, value: c.category,
      "aria-describedby": `category-${c.category}-hint`,
    }),
    el("label", { for: `category-${c.category}` }, CATEGORY[c.category]),
    el("span", { class: "hint", id: `category-${c.category}-hint` },
      `${HINTS[c.category]} · ${c.metrics.map((m) => METRIC[m]).join(", ")}`),
  )));
  $("shortcuts").replaceChildren(...Object.entries(SHORTCUTS).map(([key, label]) =>
    el("button", { type: "button", "data-period": key, onclick: () => applyPeriod(key) }, label)));
  for (const r of meta.recurrences) $("recurrence").append(el("option", { value: r }, humanize(r)));
}

function applyPeriod(key) {
  const period = meta.periods[key];
  $("start_date").value = period.start_date;
  $("end_date").value = period.end_date;
}

function selectCategory(value) {
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
  renderFilters(c.filters);
  sync();
}

function multiSelect(id, label, options) {
  return el("div", { class: "field" },
    el("label", { for: id }, label),
    el("select", { id, multiple: true, size: Math.min(4, Math.max(2, options.length)) },
      ...options.map((o) => el("option", { value: o }, o))));
}

function checkbox(id, label, value) {
  return el("div", { class: "check" }, el("input", { type: "checkbox", id, value }), el("label", { for: id }, label));
}

function renderFilters(names) {
  const options = host.options || {};
  const parts = [];
  for (const name of names) {
    const title = humanize(name);
    if (PAIR_FILTERS.includes(name)) {
      parts.push(el("div", { class: "row pair" },
        multiSelect(`filter-${name}-include`, `${title}: include`, options[name] || []),
        multiSelect(`filter-${name}-exclude`, `${title}: exclude`, options[name] || [])));
    } else if (name === "wholesaler_branches") {
      parts.push(el("div", { id: "wholesaler-field" },
        multiSelect("filter-wholesaler_branches", "Wholesaler branches (goals without a team)", options[name] || [])));
    } else if (name === "activity_types" || name === "channels") {
      const values = name === "channels" ? meta.channels : options.activity_types || [];
      parts.push(el("fieldset", { class: "inline" }, el("legend", {}, name === "channels" ? "Channels" : "Activity types"),
        ...values.map((v) => checkbox(`filter-${name}-${v}`, humanize(v), v))));
    } else if (FLAG_LABELS[name]) {
      parts.push(checkbox(`filter-${name}`, FLAG_LABELS[name], "true"));
    }
  }
  parts.push(el("p", { class: "hint" }, "Empty lists mean no restriction."));
  $("filter-fields").replaceChildren(...parts);
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
  const perDay = $("mode-per-day").checked;
  $("daily-field").hidden = !perDay;
  $("until-field").hidden = !$("recurrence").value;
}

function selected(id) {
  const node = $(id);
  return node ? [...node.selectedOptions].map((o) => o.value) : [];
}

function checkedValues(name) {
  return [...document.querySelectorAll(`input[id^="filter-${name}-"]:checked`)].map((i) => i.value);
}

function payload() {
  const c = chosen();
  const activity = category === "activities";
  const data = {
    category,
    description: $("description").value.trim(),
    start_date: $("start_date").value || undefined,
    end_date: $("end_date").value || undefined,
    metric: $("metric").value,
    team_id: $("team_id").value || null,
    split_into_subperiods: $("split_into_subperiods").checked,
    split_by_team_members: $("split_by_team_members").checked,
  };
  if (c.aim_editable) {
    data.aim = $("aim").value.trim() || null;
    if ($("stretch_aim").value.trim()) data.stretch_aim = $("stretch_aim").value.trim();
  }
  if (activity) {
    data.goal_mode = document.querySelector('input[name="goal_mode"]:checked').value;
    if (data.goal_mode === "per_business_day" && $("daily_target").value.trim()) {
      data.daily_target = $("daily_target").value.trim();
    }
    if ($("recurrence").value) {
      data.recurrence = $("recurrence").value;
      if ($("recurring_until").value) data.recurring_until = $("recurring_until").value;
    }
  }
  const filters = {};
  for (const name of c.filters) {
    if (PAIR_FILTERS.includes(name)) {
      const pair = { include: selected(`filter-${name}-include`), exclude: selected(`filter-${name}-exclude`) };
      if (pair.include.length || pair.exclude.length) filters[name] = pair;
    } else if (name === "wholesaler_branches") {
      const values = data.team_id ? [] : selected("filter-wholesaler_branches");
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

form.addEventListener("change", (event) => {
  if (event.target.name === "category") selectCategory(event.target.value);
  if (event.target.id === "recurrence" && event.target.value) applyPeriod(RECURRENCE_PERIOD[event.target.value]);
  sync();
});

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const error = $("form-error");
  clearError(error);
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const response = await write("POST", "/goals", payload());
    if (response) window.location.assign(`/goals/${response.data.id}`);
  } catch (err) {
    showError(error, err);
    error.focus?.();
  } finally {
    button.disabled = false;
  }
});

(async () => {
  try {
    meta = (await get("/meta")).data;
    renderCategories();
    form.dataset.ready = "true";
  } catch (err) {
    showError($("form-error"), err);
    $("details").hidden = false;
  }
})();
