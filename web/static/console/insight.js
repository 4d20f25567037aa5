// The console's Insight page: the journey map of a type over a range of
// days (GET /v1/journeyTypes/{type}/insight), drawn and tabled. Signed in
// with the console's token (the same session), or with an analyst's, who
// may read insight and nothing else: no list of types, no type's labels.
// Then the type is typed in and steps are titled from their ids.

import { HandoffClient, HandoffError } from '/sdk/handoff.js';
import { listTypes } from '/forms/forms.js';
import { $, h, describeError } from '/assets/ui.js';
import { drawInsight } from '/console/insight-map.js';
import { renderTables } from '/console/insight-tables.js';
import { fmtCount, fmtRate, fmtDuration, fmtDay } from '/console/insight-model.js';

// The console's keys: signed in on the desk is signed in here.
const TOKEN_KEY = 'handoff-console-token';
const ME_KEY = 'handoff-console-me';

const DAY = 86400000;
const MAX_DAYS = 400;

const state = {
  client: null,
  types: null, // [{id, title, form}] when the token may list them; null: it may not
  shown: null, // {type, from, to}: what the page shows
  seq: 0, // the latest query; an older answer arriving late is dropped
};

function boot() {
  wire();
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    $('#signin-view').hidden = false;
    $('#signin-token').focus();
    return;
  }
  signIn(token);
}

async function signIn(token) {
  // An analyst states no channel: insight records no touch.
  state.client = new HandoffClient({ token, channel: '' });
  $('#signin-view').hidden = true;
  $('#insight').hidden = false;
  $('#who').hidden = false;
  const asked = fromHash();
  $('#query-from').value = asked.from || defaultRange().from;
  $('#query-to').value = asked.to || defaultRange().to;
  await loadTypes(asked.type);
  const type = currentType();
  if (type) show();
  else $('#query-type-id').focus();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ME_KEY);
  history.replaceState(null, '', location.pathname);
  location.reload();
}

/** The last 30 days, today included, as the server counts days (UTC). */
export function defaultRange(now = Date.now()) {
  const day = (t) => new Date(t).toISOString().slice(0, 10);
  return { from: day(now - 29 * DAY), to: day(now) };
}

// ---- the type picker ----

/**
 * Offers the types the token may list; a token that may not (an
 * analyst's) types the id instead.
 */
async function loadTypes(wanted) {
  try {
    state.types = await listTypes(state.client);
  } catch (err) {
    state.types = null;
    if (!(err instanceof HandoffError) || !['PERMISSION_DENIED', 'UNIMPLEMENTED'].includes(err.code)) error(err);
  }
  const select = $('#query-type');
  const input = $('#query-type-id');
  if (state.types?.length) {
    select.replaceChildren(...state.types.map((t) => h('option', { value: t.id }, t.title)));
    if (wanted && !state.types.some((t) => t.id === wanted)) select.append(h('option', { value: wanted }, wanted));
    if (wanted) select.value = wanted;
    select.hidden = false;
    input.hidden = true;
    input.required = false;
    $('#query-type-label').htmlFor = 'query-type';
    $('#query-type-hint').hidden = true;
    document.querySelector('.skip').href = '#query-type';
  } else {
    select.hidden = true;
    input.hidden = false;
    input.required = true;
    input.value = wanted || '';
    $('#query-type-label').htmlFor = 'query-type-id';
    $('#query-type-hint').textContent = state.types
      ? 'This server declares no journey type: type the id of one counted before.'
      : 'Your token may not list journey types: type the id of one.';
    $('#query-type-hint').hidden = false;
    document.querySelector('.skip').href = '#query-type-id';
  }
}

function currentType() {
  return ($('#query-type').hidden ? $('#query-type-id').value : $('#query-type').value).trim().toLowerCase();
}

/** The form of a type for its labels, when the token could list types; else null (steps titled by id). */
function formOf(type) {
  return state.types?.find((t) => t.id === type)?.form || null;
}

// ---- asking and drawing ----

async function show() {
  error(null);
  const type = currentType();
  const from = $('#query-from').value;
  const to = $('#query-to').value;
  const problem = check(type, from, to);
  if (problem) {
    error(problem);
    return;
  }
  const seq = ++state.seq;
  $('#query-show').disabled = true;
  status(`Loading the journey map of ${type}…`);
  try {
    const insight = await state.client.call('GET', `journeyTypes/${encodeURIComponent(type)}/insight`, { query: { from, to } });
    if (seq !== state.seq) return;
    draw(insight, formOf(type));
    state.shown = { type, from, to };
    history.replaceState(null, '', `#${new URLSearchParams({ type, from, to })}`);
  } catch (err) {
    if (seq !== state.seq) return;
    status('');
    error(describeInsightError(err, type));
  } finally {
    if (seq === state.seq) $('#query-show').disabled = false;
  }
}

/** What is wrong with a query before it is asked, or ''. */
export function check(type, from, to) {
  if (!type) return 'Choose or type a journey type.';
  if (!/^[a-z][a-z0-9-]{0,62}$/.test(type)) return `“${type}” is not a journey type id: lower-case letters, digits and dashes, starting with a letter.`;
  if (!from || !to) return 'Give the first and the last day.';
  if (from > to) return 'The first day is after the last day: swap them.';
  if ((Date.parse(to) - Date.parse(from)) / DAY + 1 > MAX_DAYS) return `At most ${MAX_DAYS} days at a time: shorten the range.`;
  return '';
}

function describeInsightError(err, type) {
  if (err instanceof HandoffError) {
    if (err.code === 'NOT_FOUND') return `There is no journey type “${type}”. Check the id.`;
    if (err.code === 'PERMISSION_DENIED') return 'Your token may not read journey insight: it takes an analyst or admin token. Sign out and sign in with one.';
    if (err.code === 'UNIMPLEMENTED') return 'This handoff server does not count journey insight yet.';
  }
  return describeError(err);
}

/**
 * Draws an insight: the title and range, the key figures, the map and the
 * tables. Exported so the page can be tried with a recorded answer.
 */
export function draw(insight, form = null) {
  const m = drawInsight($('#map'), insight, form);
  const title = m.title || m.type;
  $('#insight-title').textContent = `Journey map: ${title}`;
  $('#insight-range').textContent = `${fmtDay(m.from)} to ${fmtDay(m.to)}, days in UTC` +
    (form || (insight?.steps || []).some((st) => st.label) ? '' : ' · steps named by their ids');
  $('#summary').replaceChildren(
    figure('Started', fmtCount(m.started), 'started'),
    figure('Completed', `${fmtCount(m.completed)} · ${fmtRate(m.completionRate)}`, 'completed'),
    figure('Wait for staff', m.timeToResume.count
      ? `p50 ${fmtDuration(m.timeToResume.p50)} · p90 ${fmtDuration(m.timeToResume.p90)}` : '–', 'wait'),
    figure('Reminders', `${fmtCount(m.reminders.sent)} sent · ${fmtCount(m.reminders.broughtBack)} brought back`, 'reminders'));
  renderTables($('#tables'), m, { fileStem: `insight-${m.type}-${m.from}-${m.to}` });
  $('#result').hidden = false;
  status(`Showing the journey map of ${title}, ${fmtDay(m.from)} to ${fmtDay(m.to)}: ${fmtCount(m.started)} started, ${fmtCount(m.completed)} completed.`);
  return m;
}

function figure(label, value, id) {
  return h('div', {}, h('dt', {}, label), h('dd', { id: `summary-${id}` }, value));
}

function fromHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const day = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v || '') ? v : '');
  return { type: (p.get('type') || '').trim(), from: day(p.get('from')), to: day(p.get('to')) };
}

// ---- status ----

function status(text) { $('#insight-status').textContent = text; }

function error(err) {
  $('#insight-error').textContent = !err ? '' : typeof err === 'string' ? err : describeError(err);
}

// ---- wiring ----

function wire() {
  $('#signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('#signin-token').value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    $('#signin-token').value = '';
    signIn(token);
  });
  $('#sign-out').addEventListener('click', signOut);
  $('#query').addEventListener('submit', (e) => {
    e.preventDefault();
    show();
  });
  // A type picked from the list is shown at once; dates and a typed id wait for Show.
  $('#query-type').addEventListener('change', () => show());
}

boot();
