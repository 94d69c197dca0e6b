// The goals list: GET /goals with the filters (paginated by the X-Pagination header), each
// goal's progress from GET /goals/{id}/progress.
import {
  CATEGORY, METRIC, UI, call, clearError, el, fmt, get, loadNames, rangeLabel, showError, statusOf, teamName,
} from "./api.js";
import { progressBar } from "./charts.js";

const form = document.getElementById("goal-filters");
const table = document.getElementById("goals-table");
const status = document.getElementById("list-status");
const errorBox = document.getElementById("list-error");
const pager = document.getElementById("pager");
let pageNumber = 1;
let latest = 0;

async function load() {
  const request = ++latest;  // a slower, older answer must not overwrite a newer one
  const query = Object.fromEntries(new FormData(form));
  status.textContent = "Loading goals…";
  clearError(errorBox);
  try {
    const response = await get("/goals", { ...query, page: pageNumber, page_size: 20 });
    if (request !== latest) return;
    const goals = response.data;
    await loadNames("team", goals.map((g) => g.team_id));
    const info = JSON.parse(response.headers.get("X-Pagination") || "{}");
    table.tBodies[0].replaceChildren(...goals.map(row));
    table.hidden = goals.length === 0;
    const total = info.total ?? goals.length;
    status.textContent = total ? `${total} goal${total === 1 ? "" : "s"}.` : "No goals yet.";
    paginate(info);
    await Promise.all(goals.map((goal) => progress(goal, request)));
    if (request === latest) table.dataset.ready = "true";
  } catch (error) {
    if (request !== latest) return;
    status.textContent = "";
    showError(errorBox, error);
  }
}

function row(goal) {
  return el("tr", { "data-goal-id": goal.id },
    el("td", {}, el("a", { href: `${UI}/${goal.id}` }, goal.description)),
    el("td", {}, `${CATEGORY[goal.category] || goal.category} · ${METRIC[goal.metric] || goal.metric}`),
    el("td", {}, rangeLabel(goal.start_date, goal.end_date)),
    el("td", {}, teamName(goal.team_id)),
    el("td", { class: "num" }, fmt(goal.aim, goal.metric)),
    el("td", { class: "progress-cell", "data-testid": "progress" }, el("span", { class: "muted" }, "…")),
    el("td", { "data-testid": "status" }, "…"),
  );
}

async function progress(goal, request) {
  const response = await call("GET", `/goals/${goal.id}/progress`);
  if (request !== latest) return;
  const tr = table.querySelector(`tr[data-goal-id="${goal.id}"]`);
  if (!tr) return;
  const [cell, statusCell] = [tr.querySelector('[data-testid="progress"]'), tr.querySelector('[data-testid="status"]')];
  if (!response.ok) {
    cell.replaceChildren("—");
    statusCell.textContent = "—";
    return;
  }
  const period = response.data.period;
  cell.replaceChildren(progressBar(period, `Progress of ${goal.description}`, goal.metric));
  statusCell.textContent = statusOf(period).label;
}

function paginate(info) {
  const pages = info.total_pages || 1;
  pager.hidden = pages <= 1;
  document.getElementById("page-info").textContent = `Page ${info.page || 1} of ${pages}`;
  document.getElementById("prev-page").disabled = !info.previous_page;
  document.getElementById("next-page").disabled = !info.next_page;
}

async function fillCategories() {
  const meta = (await get("/meta")).data;
  const select = document.getElementById("filter-category");
  for (const c of meta.categories) select.append(el("option", { value: c.category }, CATEGORY[c.category]));
}

form.addEventListener("change", () => { pageNumber = 1; load(); });
form.addEventListener("submit", (event) => event.preventDefault());
document.getElementById("prev-page").addEventListener("click", () => { pageNumber -= 1; load(); });
document.getElementById("next-page").addEventListener("click", () => { pageNumber += 1; load(); });

fillCategories().catch(() => {});
load();
