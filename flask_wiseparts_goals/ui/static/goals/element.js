// <goals-widget kind="team|me" team-id="..." as-of="YYYY-MM-DD">: the team or the caller's own
// dashboard, embeddable on any host page (see goals/macros.html and docs/ui.md). It reads
// GET /widgets/team or /widgets/me with the caller's session and re-renders when its
// attributes change; it fires "goals-widget-loaded" (detail: the API's answer) when done.
import {
  CATEGORY, METRIC, UI, el, fmt, get, intervalLabel, loadNames, percent, rangeLabel, showError, statusOf, teamName,
} from "./api.js";
import { figureList, paceChart, progressBar } from "./charts.js";

class GoalsWidget extends HTMLElement {
  static observedAttributes = ["kind", "team-id", "as-of"];

  connectedCallback() {
    this.load();
  }

  attributeChangedCallback() {
    if (this.isConnected) this.load();
  }

  async load() {
    const request = (this.request = (this.request || 0) + 1);
    const personal = this.getAttribute("kind") === "me";
    const asOf = this.getAttribute("as-of") || undefined;
    this.setAttribute("aria-busy", "true");
    try {
      const response = personal
        ? await get("/widgets/me", { as_of: asOf })
        : await get("/widgets/team", { team_id: this.getAttribute("team-id") || undefined, as_of: asOf });
      const data = response.data;
      await loadNames("team", data.categories.flatMap((c) => c.goals.map((g) => g.goal.team_id)));
      if (request !== this.request) return;
      this.replaceChildren(...render(data, personal, Number(this.getAttribute("heading-level") || 4), this.id || (personal ? "me" : "team")));
      this.dataset.ready = "true";
      this.dispatchEvent(new CustomEvent("goals-widget-loaded", { detail: data, bubbles: true }));
    } catch (error) {
      if (request !== this.request) return;
      const box = el("div", { class: "error", role: "alert" });
      showError(box, error);
      this.replaceChildren(box);
    } finally {
      if (request === this.request) this.removeAttribute("aria-busy");
    }
  }
}

function render(data, personal, level, prefix) {
  const groups = data.categories.filter((c) => c.goals.length || c.actuals_error);
  if (!groups.length) return [el("p", { class: "muted" }, personal ? "No active goal counts you." : "No active goals.")];
  const h = (n) => `h${Math.min(6, Math.max(2, n))}`;
  return groups.map((group) => el("section", { class: "category", "aria-labelledby": `${prefix}-${group.category}` },
    el(h(level - 1), { id: `${prefix}-${group.category}`, class: "category-title" }, CATEGORY[group.category]),
    group.actuals_note || group.actuals_error ? el("p", { class: "note" }, group.actuals_error || group.actuals_note) : null,
    ...group.goals.map((entry) => card(entry, personal, h(level), prefix))));
}

function card({ goal, period, current_interval: current }, personal, heading, prefix) {
  const id = `${prefix}-goal-${goal.id}`;
  const label = goal.description;
  const metric = goal.metric;
  const noTarget = personal && period.target === null;
  const currentStarted = current && statusOf(current).key !== "not_started";
  return el("article", { class: "goal-card", "aria-labelledby": id },
    el("header", {},
      el(heading, { id }, el("a", { href: `${UI}/${goal.id}` }, label)),
      el("p", { class: "muted" }, `${METRIC[metric] || metric} · ${rangeLabel(goal.start_date, goal.end_date)} · ${teamName(goal.team_id)}`)),
    el("div", { class: "card-body" },
      el("div", {},
        progressBar(period, `${label}: ${personal ? "my" : "team"} progress`, metric),
        figureList(period, metric),
        noTarget ? el("p", { class: "hint" }, "No personal target: this goal is not split by members.") : null,
        current ? el("p", { class: "current", "data-testid": "current-interval" },
          `${intervalLabel(current.start_date, current.end_date)}: ` + (!currentStarted
            ? `not started, target ${fmt(current.target, metric)}`
            : current.target === null
            ? `${fmt(current.actual, metric)} so far, forecast ${fmt(current.forecast, metric)}`
            : `${fmt(current.actual, metric)} of ${fmt(current.target, metric)} (${percent(current.achievement_percent)}), forecast ${fmt(current.forecast, metric)}`)) : null),
      paceChart({ period, metric, title: `${label}: cumulative actual against target pace` })));
}

if (!customElements.get("goals-widget")) customElements.define("goals-widget", GoalsWidget);
