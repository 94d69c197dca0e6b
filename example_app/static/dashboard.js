// The team and individual dashboards: GET /widgets/team and /widgets/me.
import { CATEGORY, METRIC, el, fmt, get, intervalLabel, percent, rangeLabel, showError, teamName } from "./api.js";
import { figureList, paceChart, progressBar, seriesFromWidget } from "./widgets.js";

const $ = (id) => document.getElementById(id);
const form = $("dashboard-filters");
const status = $("dashboard-status");

// Start on the caller's own team when they have one.
const mine = $("dashboard-team").querySelector('option[data-mine="true"]');
if (mine) $("dashboard-team").value = mine.value;

let latest = 0;

async function load() {
  const request = ++latest;  // a slower, older answer must not overwrite a newer one
  const teamId = $("dashboard-team").value;
  const asOf = $("dashboard-as-of").value;
  status.textContent = "Loading…";
  try {
    const [team, me] = await Promise.all([
      get("/widgets/team", { team_id: teamId, as_of: asOf }),
      get("/widgets/me", { as_of: asOf }),
    ]);
    if (request !== latest) return;
    $("team-widget").replaceChildren(...widget(team.data, false));
    $("my-widget").replaceChildren(...widget(me.data, true));
    const scope = teamId ? teamName(teamId) : "all goals you can see";
    status.textContent = `Figures for ${scope} as of ${team.data.as_of}.`;
  } catch (error) {
    if (request !== latest) return;
    status.textContent = "";
    showError($("team-widget"), error);
  }
}

function widget(data, personal) {
  const groups = data.categories.filter((c) => c.goals.length || c.actuals_error);
  if (!groups.length) {
    return [el("p", { class: "muted" }, personal ? "No active goal counts you." : "No active goals.")];
  }
  const prefix = personal ? "me" : "team";
  return groups.map((group) => el("section", { class: "category", "aria-labelledby": `${prefix}-${group.category}` },
    el("h3", { id: `${prefix}-${group.category}` }, CATEGORY[group.category]),
    group.actuals_note || group.actuals_error
      ? el("p", { class: "note" }, group.actuals_error || group.actuals_note) : null,
    ...group.goals.map((entry) => card(entry, personal)),
  ));
}

function card({ goal, period, current_interval: current }, personal) {
  const id = `${personal ? "me" : "team"}-goal-${goal.id}`;
  const label = goal.description;
  const noTarget = personal && period.target === null;
  return el("article", { class: "goal-card", "aria-labelledby": id },
    el("header", {},
      el("h4", { id }, el("a", { href: `/goals/${goal.id}` }, label)),
      el("p", { class: "muted" },
        `${METRIC[goal.metric]} · ${rangeLabel(goal.start_date, goal.end_date)} · ${teamName(goal.team_id)}`)),
    el("div", { class: "card-body" },
      el("div", {},
        progressBar(period, `${label}: ${personal ? "my" : "team"} progress`),
        figureList(period),
        noTarget ? el("p", { class: "hint" }, "No personal target: this goal is not split by members.") : null,
        current ? el("p", { class: "current", "data-testid": "current-interval" },
          `${intervalLabel(current.start_date, current.end_date)}: ${fmt(current.actual)} of ${fmt(current.target)}` +
          ` (${percent(current.achievement_percent)}), forecast ${fmt(current.forecast)}`) : null),
      paceChart(seriesFromWidget(period, current), `${label}: cumulative actual against target pace`)),
  );
}

form.addEventListener("change", load);
form.addEventListener("submit", (event) => event.preventDefault());
load();
