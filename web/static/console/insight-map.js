// The journey map, drawn: the steps left to right, the funnel across the
// top (how many reached each step, went on, stopped), one lane per channel
// beneath it, and in each step's column the journeys that changed lane
// there (a channel switch, or staff resuming the case) as flows between
// lanes, their width by count. Under each step: drop-off, resumes and the
// time they took, expiries. Every part carries its figures in an SVG
// <title> (a tooltip on hover, a name for screen readers); the tables
// under the map hold the same figures for the keyboard and for export.

import { channelIcon } from '/assets/ui.js';
import { modelOf, fmtCount, fmtRate, fmtDuration, channelLabel } from '/console/insight-model.js';

const SVG = 'http://www.w3.org/2000/svg';

// The drawing's own units (its viewBox); it scales to the page's width.
const W = 1200;
const GUTTER = 168; // lane names and entry figures
const RIGHT = 12;
const HEAD = 48; // step titles and "reached"
const FUNNEL = 72; // the tallest funnel bar: the most reached step
const NODE = 14; // a funnel bar's width
const LANE = 40;
const FIG_LINE = 16;

/** s('rect', {x: 1}, child…): an SVG element. */
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null && v !== false) el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A group whose <title> gives its figures on hover. */
function tip(text, attrs, ...children) {
  return s('g', attrs, s('title', {}, text), ...children);
}

/**
 * Cuts the labels marked data-fit to the width they have, once drawn (a
 * hidden map measures nothing and keeps them whole); the <title> of their
 * group has each whole.
 */
function fitLabels(svg) {
  for (const el of svg.querySelectorAll('text[data-fit]')) {
    const width = Number(el.dataset.fit);
    const node = [...el.childNodes].reverse().find((c) => c.nodeType === Node.TEXT_NODE);
    if (!node || !(el.getComputedTextLength() > width)) continue;
    let text = node.textContent;
    while (text.length > 1 && el.getComputedTextLength() > width) {
      text = text.slice(0, -1);
      node.textContent = `${text.trimEnd()}…`;
    }
  }
}

/**
 * drawInsight(container, insight, form) draws a JourneyTypeInsight (as the
 * API returns it) into container, with step titles from the type's form
 * (forms.js) or, without one, from the step ids. Returns the model drawn.
 */
export function drawInsight(container, insight, form = null) {
  const m = modelOf(insight, form);
  const svg = mapOf(m);
  container.replaceChildren(svg);
  fitLabels(svg);
  return m;
}

/** The SVG of a model (modelOf). */
export function mapOf(m) {
  const n = Math.max(1, m.steps.length);
  const colW = (W - GUTTER - RIGHT) / n;
  const colX = (i) => GUTTER + i * colW;
  const cx = (i) => colX(i) + colW / 2;
  const funnelY = HEAD + 4;
  const lanesY = funnelY + FUNNEL + 30;
  const lanes = m.channels;
  const laneY = (c) => lanesY + lanes.indexOf(c) * LANE + LANE / 2;
  const figsY = lanesY + Math.max(1, lanes.length) * LANE + 20;
  const H = figsY + FIG_LINE * 4;
  const maxReached = Math.max(1, ...m.steps.map((x) => x.reached));
  const scale = (v) => (v / maxReached) * FUNNEL;
  const maxFlow = Math.max(1, ...m.steps.flatMap((x) => [...x.switches, ...x.resumes].map((f) => f.count)));

  const svg = s('svg', {
    id: 'insight-map', class: 'insight-map', viewBox: `0 0 ${W} ${H}`, role: 'group',
    'aria-labelledby': 'insight-map-title', 'aria-describedby': 'insight-map-desc',
  },
  s('title', { id: 'insight-map-title' }, `Journey map${m.title ? ` of ${m.title}` : ''}`),
  s('desc', { id: 'insight-map-desc' },
    `${m.steps.length} steps left to right, ${lanes.length} channels as lanes beneath them; the tables below the map hold every figure.`),
  s('defs', {},
    marker('arrow-switch', 'flow-switch'),
    marker('arrow-resume', 'flow-resume')));

  // Columns: a moment of truth stands out over the whole height.
  const columns = s('g', { class: 'columns' });
  m.steps.forEach((st, i) => {
    const mot = st.momentOfTruth ? ' (moment of truth)' : '';
    columns.append(tip(
      `${st.title}${mot}: reached by ${fmtCount(st.reached)}, ${fmtCount(st.leftForward)} went on to a later step, ` +
      `${fmtCount(st.stopped)} stopped here (drop-off ${fmtRate(st.dropOffRate)})`,
      { class: `column${st.momentOfTruth ? ' mot' : ''}${st.declared ? '' : ' undeclared'}`, 'data-step': st.id },
      s('rect', { class: 'column-bg', x: colX(i), y: 0, width: colW, height: H }),
      i > 0 ? s('line', { class: 'column-rule', x1: colX(i), x2: colX(i), y1: 0, y2: H }) : null,
      s('text', { class: 'step-title', x: cx(i), y: 18, 'text-anchor': 'middle', 'data-fit': colW - 10 },
        st.momentOfTruth ? s('tspan', { class: 'mot-mark' }, '◆ ') : null, st.title),
      s('text', { class: 'reached', x: cx(i), y: 38, 'text-anchor': 'middle', 'data-step': st.id },
        `${fmtCount(st.reached)} reached`)));
  });
  svg.append(columns);

  // The funnel: a bar per step as tall as the journeys that reached it,
  // the part that went on drawn on to the next step, the rest stopped.
  const funnel = s('g', { class: 'funnel' });
  m.steps.forEach((st, i) => {
    const h = st.reached ? Math.max(2, scale(st.reached)) : 0;
    const f = Math.min(h, st.leftForward ? Math.max(1, scale(st.leftForward)) : 0);
    const x = cx(i) - NODE / 2;
    if (i < m.steps.length - 1 && f > 0) {
      const x1 = x + NODE;
      const x2 = cx(i + 1) - NODE / 2;
      funnel.append(tip(`${fmtCount(st.leftForward)} went on from ${st.title} to a later step or were completed`, { class: 'forward', 'data-step': st.id },
        s('rect', { x: x1, y: funnelY, width: x2 - x1, height: f })));
    }
    funnel.append(tip(`${st.title}: ${fmtCount(st.reached)} reached, ${fmtCount(st.leftForward)} went on or completed, ${fmtCount(st.stopped)} stopped`,
      { class: 'node', 'data-step': st.id },
      s('rect', { class: 'node-bg', x, y: funnelY, width: NODE, height: FUNNEL }),
      f > 0 ? s('rect', { class: 'node-forward', x, y: funnelY, width: NODE, height: f }) : null,
      h > f ? s('rect', { class: 'node-stopped', x, y: funnelY + f, width: NODE, height: h - f }) : null));
    if (st.stopped) {
      funnel.append(tip(`${fmtCount(st.stopped)} of ${fmtCount(st.reached)} stopped at ${st.title} (drop-off ${fmtRate(st.dropOffRate)})`,
      { class: 'stopped', 'data-step': st.id },
      s('text', { x: cx(i), y: funnelY + FUNNEL + 16, 'text-anchor': 'middle' },
        `▼ ${fmtCount(st.stopped)} stopped`)));
    }
  });
  svg.append(funnel);

  // Lanes, with the journeys that started on each channel.
  const lanesG = s('g', { class: 'lanes' });
  lanes.forEach((c, k) => {
    const y = lanesY + k * LANE;
    const e = m.entryChannels.find((x) => x.channel === c);
    const icon = channelIcon(c);
    for (const [a, v] of Object.entries({ x: 8, y: y + 6, width: 16, height: 16 })) icon.setAttribute(a, String(v));
    lanesG.append(tip(
      e ? `${channelLabel(c)}: ${fmtCount(e.started)} journeys started here, ${fmtCount(e.completed)} of them completed (${fmtRate(e.completionRate)})`
        : `${channelLabel(c)}: no journey started here; journeys came here from another channel`,
      { class: 'lane', 'data-channel': c },
      s('rect', { class: `lane-bg${k % 2 ? ' odd' : ''}`, x: 0, y, width: W, height: LANE }),
      icon,
      s('text', { class: 'lane-name', x: 30, y: y + 19 }, channelLabel(c)),
      s('text', { class: 'lane-entry', x: 30, y: y + 33 },
        e ? `${fmtCount(e.started)} started · ${fmtRate(e.completionRate)} done` : 'not an entry')));
  });
  if (!lanes.length) {
    lanesG.append(s('text', { class: 'lane-empty', x: GUTTER + 8, y: lanesY + LANE / 2 + 5 }, 'No journey of this type in these days.'));
  }
  svg.append(lanesG);

  // Flows: in each step's column, one curve per channel pair, from the
  // lane left to the lane taken.
  const flowsG = s('g', { class: 'flows' });
  m.steps.forEach((st, i) => {
    const list = [...st.switches.map((f) => ({ ...f, kind: 'switch' })), ...st.resumes.map((f) => ({ ...f, kind: 'resume' }))]
      .filter((f) => f.count > 0 && lanes.includes(f.from) && lanes.includes(f.to));
    const span = colW * 0.7;
    const slot = span / Math.max(1, list.length);
    list.forEach((f, k) => {
      const sx = colX(i) + colW * 0.15 + (k + 0.5) * slot;
      const dx = Math.min(slot * 0.42, 40);
      const ya = laneY(f.from);
      const yb = laneY(f.to);
      const width = 2 + (8 * f.count) / maxFlow;
      const d = f.from === f.to
        ? `M${sx - dx},${ya} C${sx - dx},${ya - 16} ${sx + dx},${ya - 16} ${sx + dx},${ya}`
        : `M${sx - dx},${ya} C${sx},${ya} ${sx},${yb} ${sx + dx},${yb}`;
      const what = f.kind === 'switch' ? 'changed channel' : 'were resumed by staff';
      const share = f.kind === 'resume' ? ` (${fmtRate(f.rate)} of those who reached it)` : '';
      const label = f.from === f.to ? ya - 16 : (ya + yb) / 2 + 4;
      flowsG.append(tip(
        `${st.title}: ${fmtCount(f.count)} ${what} from ${channelLabel(f.from)} to ${channelLabel(f.to)}${share}`,
        { class: `flow-group ${f.kind}` },
        s('path', {
          class: `flow flow-${f.kind}`, d, 'stroke-width': width.toFixed(1), 'marker-end': `url(#arrow-${f.kind})`,
          'data-step': st.id, 'data-kind': f.kind, 'data-from': f.from, 'data-to': f.to, 'data-count': f.count,
        }),
        s('text', { class: 'flow-count', x: sx, y: label, 'text-anchor': 'middle' }, fmtCount(f.count))));
    });
  });
  svg.append(flowsG);

  // Under each step: drop-off, resumes and their time, expiries.
  const figs = s('g', { class: 'figures' });
  m.steps.forEach((st, i) => {
    const x = colX(i) + 8;
    const w = colW - 12;
    const t = st.timeToResume;
    const lines = [
      ['fig-drop-off', `Drop-off ${fmtRate(st.dropOffRate)}`,
        `${fmtCount(st.stopped)} of ${fmtCount(st.reached)} who reached ${st.title} stopped there, not completed`],
      ['fig-resumed', `Resumed ${fmtCount(st.resumed)} · ${fmtRate(st.resumeRate)}`,
        `${fmtCount(st.resumed)} journeys were resumed by staff on ${st.title}: ${fmtRate(st.resumeRate)} of those who reached it`],
      ['fig-wait', t.count ? `Wait p50 ${fmtDuration(t.p50)} · p90 ${fmtDuration(t.p90)}` : 'Wait –',
        t.count ? `From the customer's last save to staff resuming (${fmtCount(t.count)} resumes): half within ${fmtDuration(t.p50)}, 90% within ${fmtDuration(t.p90)}`
          : `No resume on ${st.title} to time`],
      ['fig-expired', `Expired ${fmtCount(st.expired)} · ${fmtCount(st.expiredUnresumed)} unresumed`,
        `${fmtCount(st.expired)} journeys expired on ${st.title}${m.expiredThrough ? ` (days through ${m.expiredThrough})` : ''}; ${fmtCount(st.expiredUnresumed)} of them were never resumed by staff`],
    ];
    figs.append(s('g', { class: 'step-figures', 'data-step': st.id },
      lines.map(([cls, text, title], k) => tip(title, { class: `fig ${cls}` },
        s('text', { x, y: figsY + k * FIG_LINE + 12, 'data-fit': w }, text)))));
  });
  svg.append(figs);
  return svg;
}

function marker(id, cls) {
  return s('marker', {
    id, class: cls, viewBox: '0 0 10 10', refX: 6, refY: 5, markerWidth: 9, markerHeight: 9,
    markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse',
  }, s('path', { d: 'M0,0 L10,5 L0,10 z' }));
}
