// Labelled progress bars, figure lists, the pace chart (with axes) and the per-interval bar
// chart against the target line. Inline SVG, no library.
import { el, fmt, fmtDate, intervalLabel, isWhole, percent, statusOf } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";
const num = (value) => (value === null || value === undefined ? null : Number(value));

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

/**
 * A bar of actual against target, labelled with the figures it shows: the fill is the share of
 * the target reached (full at 100 % and beyond), the text says the exact percentage.
 */
export function progressBar(figures, label, metric) {
  const status = statusOf(figures);
  const target = num(figures.target);
  const actual = num(figures.actual);
  const share = target && actual !== null ? Math.max(0, Math.min(100, (100 * actual) / target)) : 0;
  const text = actual === null
    ? "No actual available"
    : `${fmt(figures.actual, metric)}${target !== null ? ` of ${fmt(figures.target, metric)}` : ""}` +
      (figures.achievement_percent !== null && status.key !== "not_started" ? ` (${percent(figures.achievement_percent)})` : "");
  return el("div", { class: "progress" },
    el("div", { class: "progress-label" },
      el("span", { "data-testid": "progress-text" }, text),
      el("span", { class: `badge status-${status.key}`, "data-testid": "status-badge" }, status.label)),
    el("div", {
      class: `bar status-${status.key}`, role: "progressbar", "aria-label": label,
      "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": share.toFixed(1),
      "aria-valuetext": `${text}, ${status.label}`,
    }, el("div", { class: "fill", style: `width: ${share.toFixed(1)}%` })));
}

/** Target, actual, forecast, achievement and status as a <dl>; data-testid per figure. */
export function figureList(figures, metric, { expected = false } = {}) {
  const status = statusOf(figures);
  const started = status.key !== "not_started";
  const item = (term, id, value) => el("div", {}, el("dt", {}, term), el("dd", { "data-testid": id }, value));
  return el("dl", { class: "figures" },
    item("Target", "target", fmt(figures.target, metric)),
    item("Actual", "actual", started ? fmt(figures.actual, metric) : "—"),
    expected ? item("Expected to date", "expected", started ? fmt(figures.expected, metric) : "—") : null,
    item("Forecast", "forecast", started ? fmt(figures.forecast, metric) : "—"),
    item("Achievement", "achievement", started ? percent(figures.achievement_percent) : "—"),
    item("Status", "status", status.label),
  );
}

/** The top of the value axis; for a whole-number metric its middle tick is whole too. */
function niceMax(value, metric) {
  const power = value > 0 ? 10 ** Math.floor(Math.log10(value)) : 1;
  const steps = [1, 2, 2.5, 5, 10];
  const top = value > 0 ? steps.map((s) => s * power).find((s) => s >= value) || value : 1;
  return isWhole(metric) && !Number.isInteger(top / 2) ? 2 * Math.ceil(top / 2) : top;
}

function shortNumber(value) {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return `${+value.toFixed(1)}`;
}

/** Axes with ticks: y from 0 to yMax (3 ticks), x labels given as [[x, text], ...]. */
function axes(root, box, yMax, xLabels, yTitle) {
  const { left, right, top, bottom } = box;
  root.append(svg("line", { x1: left, y1: bottom, x2: right, y2: bottom, class: "axis" }));
  root.append(svg("line", { x1: left, y1: top, x2: left, y2: bottom, class: "axis" }));
  for (let i = 0; i <= 2; i++) {
    const value = (yMax * i) / 2;
    const y = bottom - ((bottom - top) * i) / 2;
    root.append(svg("line", { x1: left - 3, y1: y, x2: right, y2: y, class: i ? "gridline" : "axis" }));
    root.append(svg("text", { x: left - 5, y: y + 3, class: "tick", "text-anchor": "end" }, shortNumber(value)));
  }
  for (const [x, text, anchor = "middle"] of xLabels) {
    root.append(svg("text", { x, y: bottom + 13, class: "tick", "text-anchor": anchor }, text));
  }
  root.append(svg("text", { x: 2, y: top - 10, class: "axis-title" }, yTitle));
}

/** Cumulative actual (solid) against the target pace (dashed), forecast dotted, with axes:
 * x = business days from the start date to the end date, y = the metric. */
export function paceChart({ period, intervals = null, metric, title }) {
  const width = 320;
  const height = 170;
  const box = { left: 44, right: width - 10, top: 24, bottom: height - 28 };
  const total = Math.max(period.business_days, 1);
  const pace = [[0, 0]];
  const actual = [[0, 0]];
  if (intervals && intervals.length) {
    let x = 0;
    let target = 0;
    let sum = 0;
    let measuring = period.actual !== null;
    for (const interval of intervals) {
      target += num(interval.target) || 0;
      pace.push([x + interval.business_days, target]);
      if (measuring && interval.business_days_elapsed > 0) {
        sum += num(interval.actual) || 0;
        actual.push([x + interval.business_days_elapsed, sum]);
      }
      if (interval.business_days_elapsed < interval.business_days) measuring = false;
      x += interval.business_days;
    }
  } else {
    if (period.target !== null) pace.push([total, num(period.target)]);
    if (period.actual !== null && period.business_days_elapsed > 0) actual.push([period.business_days_elapsed, num(period.actual)]);
  }
  const forecast = num(period.forecast);
  const yMax = niceMax(Math.max(...pace.map((p) => p[1]), ...actual.map((p) => p[1]), forecast || 0), metric);
  const X = (x) => (box.left + ((box.right - box.left) * x) / total).toFixed(1);
  const Y = (y) => (box.bottom - ((box.bottom - box.top) * y) / yMax).toFixed(1);
  const line = (points) => points.map(([x, y]) => `${X(x)},${Y(y)}`).join(" ");
  const last = actual[actual.length - 1];
  const started = period.business_days_elapsed > 0 && period.actual !== null;
  const desc = started
    ? `actual ${fmt(period.actual, metric)} after ${period.business_days_elapsed} of ${period.business_days} business days, target ${fmt(period.target, metric)}, forecast ${fmt(period.forecast, metric)}`
    : `not started; target ${fmt(period.target, metric)} over ${period.business_days} business days`;
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": `${title}: ${desc}` });
  root.append(svg("title", {}, `${title}: ${desc}`));
  axes(root, box, yMax, [
    [box.left, fmtDate(period.start_date), "start"],
    [box.right, fmtDate(period.end_date), "end"],
  ], "Cumulative");
  root.append(svg("text", { x: (box.left + box.right) / 2, y: height - 2, class: "axis-title", "text-anchor": "middle" }, "Business days"));
  if (started && period.business_days_elapsed < total) {
    root.append(svg("line", { x1: X(period.business_days_elapsed), y1: box.top, x2: X(period.business_days_elapsed), y2: box.bottom, class: "today" }));
  }
  if (pace.length > 1) root.append(svg("polyline", { points: line(pace), class: "pace" }));
  if (started && actual.length > 1) root.append(svg("polyline", { points: line(actual), class: "actual" }));
  if (started && forecast !== null && last[0] < total) {
    root.append(svg("polyline", { points: line([last, [total, forecast]]), class: "forecast" }));
  }
  if (started) root.append(svg("circle", { cx: X(last[0]), cy: Y(last[1]), r: 3, class: "actual-dot" }));
  return el("figure", { class: "chart-box" }, root,
    el("figcaption", {},
      el("span", { class: "key actual" }, "Actual"), " ",
      el("span", { class: "key pace" }, "Target pace"), " ",
      el("span", { class: "key forecast" }, "Forecast")));
}

/** One bar per interval (actual) with its target as a line across it. */
export function intervalChart(intervals, metric, title) {
  const width = Math.max(320, 70 * intervals.length + 60);
  const height = 190;
  const box = { left: 48, right: width - 10, top: 24, bottom: height - 30 };
  const yMax = niceMax(Math.max(...intervals.map((i) => Math.max(num(i.target) || 0, num(i.actual) || 0)), 0), metric);
  const slot = (box.right - box.left) / Math.max(intervals.length, 1);
  const Y = (y) => box.bottom - ((box.bottom - box.top) * y) / yMax;
  const summary = intervals.map((i) => `${intervalLabel(i.start_date, i.end_date)}: ${i.business_days_elapsed ? fmt(i.actual, metric) : "not started"} of ${fmt(i.target, metric)}`).join("; ");
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart intervals", role: "img", "aria-label": `${title}: ${summary}` });
  root.append(svg("title", {}, `${title}: ${summary}`));
  axes(root, box, yMax, intervals.map((i, k) => [box.left + slot * (k + 0.5), intervalLabel(i.start_date, i.end_date)]), "Per interval");
  intervals.forEach((interval, k) => {
    const x = box.left + slot * k + slot * 0.2;
    const w = slot * 0.6;
    const status = statusOf(interval);
    if (interval.actual !== null && interval.business_days_elapsed > 0) {
      const y = Y(Math.min(num(interval.actual), yMax));
      root.append(svg("rect", { x, y, width: w, height: Math.max(0, box.bottom - y), class: `bar-actual status-${status.key}` }));
    }
    if (interval.target !== null) {
      const y = Y(num(interval.target));
      root.append(svg("line", { x1: x - 4, y1: y, x2: x + w + 4, y2: y, class: "target-line" }));
    }
  });
  return el("figure", { class: "chart-box wide" }, root,
    el("figcaption", {}, el("span", { class: "key bars" }, "Actual"), " ", el("span", { class: "key target" }, "Target")));
}
