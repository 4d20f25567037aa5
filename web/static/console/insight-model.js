// What the Insight page draws, from a JourneyTypeInsight as the API returns
// it (protojson: int64 as strings, zero values left out, durations as
// "12.5s", channels as enum names) and, when the caller may read it, the
// journey type's form (forms.js) for the steps' labels. Pure: the map, the
// tables and the tests all start from modelOf.

import { humanize, pick } from '/forms/forms.js';
import { channelInfo } from '/assets/ui.js';

/** The channels in the order lanes are drawn: the enum's. */
export const CHANNEL_ORDER = ['CHANNEL_WEB', 'CHANNEL_APP', 'CHANNEL_PHONE', 'CHANNEL_CHAT', 'CHANNEL_SOCIAL', 'CHANNEL_EMAIL', 'CHANNEL_IN_PERSON'];

/** The step the server counts what happened on steps the type no longer declares under. */
export const UNDECLARED = '-';

const num = (v) => Number(v || 0);
/** "12.5s" → 12.5; null when there is no time. */
const seconds = (d) => (d === undefined || d === null || d === '' ? null : parseFloat(d));

// A step's switch and resume rates are of the journeys that reached it;
// the type's, of the journeys started.
function flows(list) {
  return (list || []).map((f) => ({
    from: f.from || 'CHANNEL_UNSPECIFIED', to: f.to || 'CHANNEL_UNSPECIFIED', count: num(f.count), rate: num(f.rate),
  }));
}

function times(t) {
  return { count: num(t?.count), p50: seconds(t?.p50), p90: seconds(t?.p90) };
}

/**
 * modelOf(insight, form) is {type, from, to, started, completed,
 * completionRate, steps, channels, entryChannels, timeToResume, switches,
 * resumes, reminders, expiredThrough}. Steps are the form's (all it
 * declares, in order) followed by any others the insight counts; without a
 * form, the insight's own, titled by the labels it carries (else their ids).
 */
export function modelOf(insight, form) {
  const i = insight || {};
  const counted = new Map((i.steps || []).map((s) => [s.step || UNDECLARED, s]));
  const declared = form?.steps || [];
  const ids = [...declared.map((s) => s.id), ...[...counted.keys()].filter((id) => !declared.some((s) => s.id === id))];
  const steps = ids.map((id) => {
    const s = counted.get(id) || {};
    const d = declared.find((x) => x.id === id);
    return {
      id,
      title: d?.title || pick(s.label) || (id === UNDECLARED ? 'Steps no longer declared' : humanize(id)),
      declared: Boolean(d) || (!form && id !== UNDECLARED),
      momentOfTruth: Boolean(s.momentOfTruth || d?.momentOfTruth),
      reached: num(s.reached),
      leftForward: num(s.leftForward),
      stopped: num(s.stopped),
      dropOffRate: num(s.dropOffRate),
      switches: flows(s.switches),
      resumes: flows(s.resumes),
      resumed: num(s.resumed),
      resumeRate: num(s.resumeRate),
      timeToResume: times(s.timeToResume),
      expired: num(s.expired),
      expiredUnresumed: num(s.expiredUnresumed),
    };
  });
  const entryChannels = (i.entryChannels || []).map((e) => ({
    channel: e.channel || 'CHANNEL_UNSPECIFIED', started: num(e.started), completed: num(e.completed), completionRate: num(e.completionRate),
  })).sort(byChannel((e) => e.channel));
  const switches = flows(i.switches);
  const resumes = flows(i.resumes);
  // A lane for every channel anything happened on: entered, left or
  // reached by a switch or a resume.
  const seen = new Set(entryChannels.map((e) => e.channel));
  for (const f of [...switches, ...resumes, ...steps.flatMap((s) => [...s.switches, ...s.resumes])]) {
    seen.add(f.from);
    seen.add(f.to);
  }
  const started = num(i.started);
  const completed = num(i.completed);
  return {
    type: String(i.name || '').replace(/^journeyTypes\//, '').replace(/\/insight$/, ''),
    title: form?.title || pick(i.title),
    from: i.from || '',
    to: i.to || '',
    started,
    completed,
    completionRate: started ? completed / started : 0,
    steps,
    channels: [...seen].sort(byChannel((c) => c)),
    entryChannels,
    timeToResume: times(i.timeToResume),
    switches,
    resumes,
    reminders: { sent: num(i.reminders?.sent), broughtBack: num(i.reminders?.broughtBack), rate: num(i.reminders?.rate) },
    expiredThrough: i.expiredThrough || '',
  };
}

function byChannel(key) {
  const rank = (c) => {
    const r = CHANNEL_ORDER.indexOf(c);
    return r < 0 ? CHANNEL_ORDER.length : r;
  };
  return (a, b) => rank(key(a)) - rank(key(b));
}

// ---- figures as a person reads them ----

const counts = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const percents = new Intl.NumberFormat(undefined, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** 1234 → "1,234" (in the page's language). */
export function fmtCount(n) { return counts.format(n); }

/** 0.25 → "25.0%" (in the page's language). */
export function fmtRate(r) { return percents.format(r); }

/** 75 → "1 min 15 s"; 9000 → "2 h 30 min"; null → "–". Two units at most: a percentile is within 2% anyway. */
export function fmtDuration(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '–';
  if (s < 60) return `${Math.round(s)} s`;
  const units = [['d', 86400], ['h', 3600], ['min', 60], ['s', 1]];
  let left = Math.round(s);
  const parts = [];
  for (const [u, size] of units) {
    if (parts.length === 2) break;
    const n = Math.floor(left / size);
    if (n || parts.length) parts.push(`${n} ${u}`);
    left -= n * size;
  }
  return parts.filter((p) => !p.startsWith('0 ')).join(' ');
}

/** A channel's name for people: "Web", "Social media". */
export function channelLabel(c) {
  return channelInfo(c).label;
}

/** 2026-11-01 → "1 Nov 2026", in the page's language; the day as the server counts it (UTC). */
export function fmtDay(day) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day || '')) return day || '';
  return new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}
