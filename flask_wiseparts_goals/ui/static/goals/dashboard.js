// The dashboards page: the two <goals-widget> elements follow the team and "as of" filters.
import "./element.js";
import { fmtDate, teamName } from "./api.js";

const $ = (id) => document.getElementById(id);
const status = $("dashboard-status");
const team = $("team-widget");
const mine = $("my-widget");

function apply() {
  status.textContent = "Loading…";
  team.setAttribute("team-id", $("dashboard-team").value);
  for (const widget of [team, mine]) {
    if ($("dashboard-as-of").value) widget.setAttribute("as-of", $("dashboard-as-of").value);
    else widget.removeAttribute("as-of");
  }
}

team.addEventListener("goals-widget-loaded", (event) => {
  const teamId = $("dashboard-team").value;
  const scope = teamId ? teamName(teamId) : "all goals you can see";
  status.textContent = `Figures for ${scope} as of ${fmtDate(event.detail.as_of)}.`;
});
$("dashboard-filters").addEventListener("change", apply);
$("dashboard-filters").addEventListener("submit", (event) => event.preventDefault());
