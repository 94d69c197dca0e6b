// Progress bars, figure lists and the pace chart, shared by the goal page and the dashboards.
import { el, fmt, percent } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";
const STATUS = { achieved: "Achieved", on_track: "On track", behind: "Behind", at_risk: "At risk" };

const num = (value) => (value === null || value === undefined ? null : Number(value));

/** A bar of actual against target, with the target and the forecast marked. */
export function progressBar(figures, label) {
  const target = num(figures.target);
  const actual = num(figures.actual);
  const forecast = num(figures.forecast);
  const scale = Math.max(target || 0, actual || 0, forecast || 0) || 1;
  const pos = (value) => `${Math.min(100, (100 * value) / scale).toFixed(2)}%`;
  const text = actual === null
    ? "No actual available"
    : `Actual ${fmt(figures.actual)}${target !== null ? ` of target ${fmt(figures.target)}` : ""}` +
      (figures.achievement_percent ? ` (${figures.achievement_percent} %)` : "");
  const bar = el("div", {
    class: `bar status-${figures.status || "none"}`,
    role: "progressbar",
    "aria-label": label,
    "aria-valuemin": "0",
    "aria-valuemax": String(Math.max(target || 0, actual || 0)),
    "aria-valuenow": String(actual || 0),
    "aria-valuetext": text,
  }, el("div", { class: "fill", style: `width: ${actual === null ? 0 : pos(actual)}` }));
  if (target !== null && target > 0) {
    bar.append(el("span", { class: "marker target", style: `left: ${pos(target)}`, title: `Target ${fmt(figures.target)}` }));
  }
  if (forecast !== null) {
    bar.append(el("span", { class: "marker forecast", style: `left: ${pos(forecast)}`, title: `Forecast ${fmt(figures.forecast)}` }));
  }
  return bar;
}

/** Target, actual, forecast, achievement (and status) as a <dl>; data-testid per figure. */
export function figureList(figures, { expected = false } = {}) {
  const item = (term, id, value) => [el("div", {}, el("dt", {}, term), el("dd", { "data-testid": id }, value))];
  return el("dl", { class: "figures" },
    ...item("Target", "target", fmt(figures.target)),
    ...item("Actual", "actual", fmt(figures.actual)),
    ...(expected ? item("Expected to date", "expected", fmt(figures.expected)) : []),
    ...item("Forecast", "forecast", fmt(figures.forecast)),
    ...item("Achievement", "achievement", percent(figures.achievement_percent)),
    ...item("Status", "status", STATUS[figures.status] || "—"),
  );
}

/** Cumulative points from a progress response: target pace per interval, actual up to as_of. */
export function seriesFromProgress(progress) {
  const pace = [[0, 0]];
  const actual = [[0, 0]];
  let x = 0;
  let target = 0;
  let sum = 0;
  let measuring = progress.period.actual !== null;
  for (const interval of progress.intervals) {
    target += num(interval.target) || 0;
    pace.push([x + interval.business_days, target]);
    if (measuring && interval.business_days_elapsed > 0) {
      sum += num(interval.actual) || 0;
      actual.push([x + interval.business_days_elapsed, sum]);
    }
    if (interval.business_days_elapsed < interval.business_days) measuring = false;
    x += interval.business_days;
  }
  return { ...common(progress.period), pace, actual: progress.period.actual === null ? [] : actual };
}

/** Points from a widget entry: the period's linear pace, actual through the current interval. */
export function seriesFromWidget(period, current) {
  const actual = [[0, 0]];
  if (period.actual !== null) {
    if (current && current.actual !== null && current.start_date > period.start_date) {
      const before = period.business_days_elapsed - current.business_days_elapsed;
      actual.push([before, num(period.actual) - num(current.actual)]);
    }
    actual.push([period.business_days_elapsed, num(period.actual)]);
  }
  const pace = period.target === null ? [] : [[0, 0], [period.business_days, num(period.target)]];
  return { ...common(period), pace, actual: period.actual === null ? [] : actual };
}

function common(period) {
  return {
    total: period.business_days,
    elapsed: period.business_days_elapsed,
    forecast: num(period.forecast),
    expected: num(period.expected),
    target: num(period.target),
  };
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  return node;
}

/** A small SVG of cumulative actual (solid) against the target pace (dashed), forecast dotted. */
export function paceChart(series, title) {
  const width = 240;
  const height = 96;
  const pad = 6;
  const last = series.actual[series.actual.length - 1];
  const ys = [...series.pace.map((p) => p[1]), ...series.actual.map((p) => p[1]), series.forecast || 0, 1];
  const yMax = Math.max(...ys);
  const xMax = Math.max(series.total, 1);
  const X = (x) => (pad + ((width - 2 * pad) * x) / xMax).toFixed(1);
  const Y = (y) => (height - pad - ((height - 2 * pad) * y) / yMax).toFixed(1);
  const line = (points) => points.map(([x, y]) => `${X(x)},${Y(y)}`).join(" ");
  const desc = [
    series.target !== null ? `target ${series.target}` : "no target",
    last ? `actual ${last[1].toFixed(2)} after ${last[0]} of ${series.total} business days` : "no actual",
    series.expected !== null ? `expected to date ${series.expected}` : "",
    series.forecast !== null ? `forecast ${series.forecast}` : "",
  ].filter(Boolean).join(", ");
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img" });
  const titleNode = svg("title");
  titleNode.textContent = `${title}: ${desc}`;
  root.append(titleNode);
  root.append(svg("line", { x1: pad, y1: height - pad, x2: width - pad, y2: height - pad, class: "axis" }));
  if (series.elapsed > 0 && series.elapsed < series.total) {
    root.append(svg("line", { x1: X(series.elapsed), y1: pad, x2: X(series.elapsed), y2: height - pad, class: "today" }));
  }
  if (series.pace.length > 1) root.append(svg("polyline", { points: line(series.pace), class: "pace" }));
  if (series.actual.length > 1) root.append(svg("polyline", { points: line(series.actual), class: "actual" }));
  if (last && series.forecast !== null && last[0] < series.total) {
    root.append(svg("polyline", { points: line([last, [series.total, series.forecast]]), class: "forecast" }));
  }
  if (series.expected !== null && series.elapsed > 0) {
    root.append(svg("circle", { cx: X(series.elapsed), cy: Y(series.expected), r: 3, class: "expected" }));
  }
  if (last) root.append(svg("circle", { cx: X(last[0]), cy: Y(last[1]), r: 3, class: "actual-dot" }));
  return el("figure", { class: "chart-box" }, root,
    el("figcaption", {},
      el("span", { class: "key actual" }, "Actual"), " ",
      el("span", { class: "key pace" }, "Target pace"), " ",
      el("span", { class: "key forecast" }, "Forecast")));
}
