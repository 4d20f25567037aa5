// The agent console: sign in with a token and a channel, open a case from
// the code the customer reads out, their customer number, or (after a
// check) the phone number, address or handle they came in on, and work
// it live: answers (drawn by the journey's type), who changed each,
// masked answers revealed for a reason, timeline, claim, release,
// transfer, corrections.

import { HandoffClient, JourneySession, HandoffError, same } from '/sdk/handoff.js';
import { loadForm, typeRef, labelOf } from '/forms/forms.js';
import { $, describeError } from '/assets/ui.js';
import { renderHeader, renderSteps, renderAnswers, renderCase, renderTimeline, renderResults, title, refreshAges } from '/console/view.js';
import { openEditor, editorSees, wireEditor } from '/console/editor.js';
import { openReveal, wireReveal } from '/console/reveal.js';
import { wireIdentity } from '/console/identity.js';

const TOKEN_KEY = 'handoff-console-token';
const CHANNEL_KEY = 'handoff-console-channel';
const ME_KEY = 'handoff-console-me';

const state = {
  client: null,
  me: sessionStorage.getItem(ME_KEY) || '', // learnt from the first case this agent holds
  session: null,
  form: null, // the open journey's type version, as forms.js draws it; null: no declared type
  forms: new Map(), // 'type@version' → form, for the list of found journeys
  watch: null,
  shown: null, // the journey as last drawn
  revealed: new Map(), // answer path → {value, masked, touchpoint}: shown to this agent until they open another case
  touchpoints: new Map(), // name → touchpoint
  leaseTimer: 0,
};

// ---- sign in ----

function boot() {
  wire();
  wireEditor({ onKeptTheirs: (path, text) => announce(`Kept the customer's value “${text}”.`) });
  wireReveal();
  wireIdentity({
    client: () => state.client,
    open: async (j) => { learnMe(j.assignee); await open(j); },
    findError,
    announce,
  });
  // "4 minutes ago" beside each answer stays true while the case is open.
  setInterval(refreshAges, 20000);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) {
    $('#signin-view').hidden = false;
    $('#signin-token').focus();
    return;
  }
  signIn(token, sessionStorage.getItem(CHANNEL_KEY) || 'phone');
  const name = decodeURIComponent(location.hash.slice(1));
  if (/^customers\/[^/]+\/journeys\/[^/]+$/.test(name)) openByName(name);
}

function signIn(token, channel) {
  state.client = new HandoffClient({ token, channel });
  $('#signin-view').hidden = true;
  $('#desk').hidden = false;
  $('#who').hidden = false;
  $('#channel').value = channel;
  $('#code').focus();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(ME_KEY);
  state.watch?.close();
  history.replaceState(null, '', location.pathname);
  location.reload();
}

// ---- finding a case ----

async function redeem(code) {
  findError(null);
  try {
    const j = await state.client.redeem(code, { view: 'full' });
    learnMe(j.assignee);
    $('#code').value = '';
    await open(j);
    announce(`Opened ${title(j, state.form)} of customer ${j.name.split('/')[1]}. The case is yours.`);
  } catch (err) {
    findError(err);
    $('#code').select();
  }
}

async function lookup(customer) {
  findError(null);
  try {
    const journeys = await state.client.listJourneys(customer.trim());
    // Each found journey is titled by its type version (fetched once each).
    await Promise.allSettled(journeys.map(async (j) => state.forms.set(typeRef(j), await loadForm(state.client, j))));
    renderResults(journeys, openByName, (j) => state.forms.get(typeRef(j)) || null);
  } catch (err) {
    findError(err);
  }
}

async function openByName(name) {
  findError(null);
  try {
    await open(await state.client.getJourney(name, { view: 'full' }));
  } catch (err) {
    findError(err);
  }
}

function learnMe(id) {
  if (id && !state.me) {
    state.me = id;
    sessionStorage.setItem(ME_KEY, id);
  }
}

// ---- the open case ----

async function open(journey) {
  state.watch?.close();
  clearTimeout(state.leaseTimer);
  state.session = new JourneySession(state.client, journey);
  state.touchpoints = new Map();
  state.revealed = new Map();
  state.provenance = journey.answerProvenance || {};
  state.shown = null;
  journeyError(null);
  history.replaceState(null, '', `#${journey.name}`);
  try {
    state.form = await loadForm(state.client, journey);
  } catch (err) {
    // Without its definition the journey still shows, keys in words.
    state.form = null;
    journeyError(err);
  }
  if (state.session?.name !== journey.name) return; // another case was opened meanwhile
  $('#empty').hidden = true;
  $('#journey').hidden = false;
  draw(journey);
  $('#journey-title').focus();
  await loadTimeline();
  state.watch = state.session.watch({
    onChange: (j, change) => {
      if (change.snapshot) {
        // A snapshot carries no answer_provenance: keep what was known,
        // and learn what the gap changed from the timeline read again.
        j.answerProvenance = { ...(state.provenance || {}) };
        const session = state.session;
        // By the time the timeline is back the journey may have moved on
        // (a claim's reply, a watched change): draw what the session holds
        // then, not this snapshot, which would undo them on screen.
        loadTimeline().then(() => {
          if (state.session !== session) return;
          const now = session.journey;
          draw(now, { answers: learnProvenance(now, [...state.touchpoints.values()]) });
        });
        draw(j);
      } else {
        addTouchpoints(change.touchpoints);
        // A change this screen already holds (its own save's) still says
        // who changed what: draw the answers again if that is news.
        draw(j, { answers: learnProvenance(j, change.touchpoints) });
      }
    },
    onState: (s) => live(s),
    onError: (err) => journeyError(err),
  });
}

/**
 * A watched change carries no answer_provenance: its touchpoints say who
 * changed which answers, on which channel, when. Only newer touchpoints
 * count, so a late change cannot undo what a fresh read said. Reports
 * whether it learned anything.
 */
function learnProvenance(journey, touchpoints) {
  const position = (name) => Number(String(name || '').split('/').pop()) || 0;
  const prov = { ...(hasProvenance(journey) ? journey.answerProvenance : state.provenance || {}) };
  let learned = false;
  for (const tp of touchpoints || []) {
    if (!['TOUCHPOINT_KIND_PROGRESS_SAVED', 'TOUCHPOINT_KIND_STARTED'].includes(tp.kind)) continue;
    for (const path of tp.answers || []) {
      if (position(prov[path]?.touchpoint) >= position(tp.name)) continue;
      prov[path] = { actor: tp.actor, channel: tp.channel, time: tp.time, touchpoint: tp.name };
      learned = true;
    }
  }
  journey.answerProvenance = prov;
  state.provenance = prov;
  return learned;
}

// hasProvenance reports whether a journey says who changed its answers
// (the gateway sends `{}` for a read that does not).
function hasProvenance(journey) {
  return Object.keys(journey.answerProvenance || {}).length > 0;
}

function draw(journey, { answers = false } = {}) {
  if (state.session && journey.name !== state.session.name) return;
  // Only a FULL read says who changed each answer; a save's or a claim's
  // answer does not, so what was known (from reads and watched changes,
  // whichever came first) carries over.
  if (!hasProvenance(journey)) journey.answerProvenance = { ...(state.provenance || {}) };
  state.provenance = journey.answerProvenance;
  const before = state.shown;
  const form = state.form;
  renderHeader(journey, form);
  renderSteps(journey, form);
  // Most changes (views, claims, leases) leave the answers as they are:
  // drawing them again would only take the keyboard focus away.
  if (answers || !before || !same(before.data, journey.data) || before.step !== journey.step || before.state !== journey.state ||
      !same(before.answerProvenance, journey.answerProvenance)) {
    const focused = document.activeElement?.closest?.('#answers button');
    const again = focused && `#answers button.${focused.classList[0]}[data-path="${CSS.escape(focused.dataset.path || '')}"]`;
    renderAnswers(journey, before, {
      form,
      revealed: state.revealed,
      onEdit: (path) => openEditor(state.session, path, { form, onSaved: saved, whoSaved }),
      onReveal: (path) => openReveal(path, labelOf(form, path), { reveal, onRevealed: revealed }),
      onHide: (path) => {
        state.revealed.delete(path);
        draw(state.session.journey, { answers: true });
        document.querySelector(`#answers button.reveal[data-path="${CSS.escape(path)}"]`)?.focus();
      },
    });
    if (again) (document.querySelector(again) || document.querySelector(`#answers .answer[data-path="${CSS.escape(focused.dataset.path || '')}"] button`))?.focus();
  }
  renderCase(journey, state.me);
  editorSees(journey);
  state.shown = journey;
  if (before && before.step !== journey.step) {
    announce(`The customer is now at step ${form?.steps.find((s) => s.id === journey.step)?.title || journey.step}.`);
  }
  renewLease(journey);
}

function saved(journey, path) {
  draw(state.session.adopt(journey));
  announce(`Saved ${labelOf(state.form, path)}.`);
}

/** Asks the server for a masked answer's value; the REVEALED touchpoint arrives through the watch. */
function reveal(path, reason) {
  return state.client.call('POST', `${state.session.name}:revealAnswer`, { body: { path, reason } });
}

/** Shows a revealed value in place, for as long as the answer it stands for is the one saved. */
function revealed(path, value) {
  const j = state.session.journey;
  const masked = path.split('.').reduce((v, k) => (v && typeof v === 'object' ? v[k] : undefined), j.data);
  state.revealed.set(path, { value, masked, touchpoint: j.answerProvenance?.[path]?.touchpoint });
  draw(state.session.journey, { answers: true });
  announce(`Revealed ${labelOf(state.form, path)}. The customer sees in their timeline that you did, and why.`);
  document.querySelector(`#answers button.hide[data-path="${CSS.escape(path)}"]`)?.focus();
}

/** Who saved last, for the conflict message: usually the customer. */
function whoSaved() {
  const last = [...state.touchpoints.values()].reverse().find((t) => t.kind === 'TOUCHPOINT_KIND_PROGRESS_SAVED');
  switch (last?.actor?.role) {
    case 'ROLE_AGENT':
    case 'ROLE_ADMIN':
      return last.actor.id === state.me ? 'You (elsewhere)' : last.actor.id;
    case 'ROLE_SERVICE': return 'The website';
    default: return 'The customer';
  }
}

async function loadTimeline() {
  const name = state.session?.name;
  if (!name) return;
  try {
    addTouchpoints(await state.client.listTouchpoints(name));
  } catch (err) {
    journeyError(err);
  }
}

function addTouchpoints(tps) {
  for (const tp of tps || []) state.touchpoints.set(tp.name, tp);
  const position = (tp) => Number(String(tp.name).split('/').pop());
  renderTimeline([...state.touchpoints.values()].sort((a, b) => position(a) - position(b)), state.me, state.form);
}

/** Keeps the agent's claim while the case is open on this screen. */
function renewLease(journey) {
  clearTimeout(state.leaseTimer);
  if (!journey.assignee || journey.assignee !== state.me || !journey.claimExpireTime) return;
  const left = new Date(journey.claimExpireTime) - Date.now();
  state.leaseTimer = setTimeout(() => act(() => state.client.claim(journey.name)), Math.max(5000, left / 2));
}

async function act(call, done) {
  $('#case-error').textContent = '';
  try {
    const j = await call();
    learnMe(j.assignee);
    draw(state.session.adopt(j));
    done?.(j);
  } catch (err) {
    $('#case-error').textContent = describeError(err);
  }
}

function toggle(button, formId) {
  const f = $(formId);
  f.hidden = !f.hidden;
  button.setAttribute('aria-expanded', String(!f.hidden));
  if (!f.hidden) f.querySelector('textarea, input')?.focus();
}

// ---- status ----

function live(s) {
  const text = { connecting: 'Connecting…', live: '● Live', reconnecting: 'Reconnecting…', closed: '' }[s] ?? '';
  $('#live').textContent = text;
  $('#live').className = `live is-${s}`;
}

function announce(text) { $('#journey-status').textContent = text; }

function findError(err) {
  $('#find-error').textContent = err ? describeFind(err) : '';
}

function describeFind(err) {
  if (err instanceof HandoffError && err.code === 'NOT_FOUND' && /code/.test(err.message)) {
    return 'That code is not valid or has expired. Ask the customer to read it again, or to ask for a new one.';
  }
  return describeError(err);
}

function journeyError(err) {
  $('#journey-error').textContent = err ? describeError(err) : '';
}

// ---- wiring ----

function wire() {
  $('#signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const token = $('#signin-token').value.trim();
    const channel = document.querySelector('input[name="signin-channel"]:checked')?.value || 'phone';
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(CHANNEL_KEY, channel);
    $('#signin-token').value = '';
    signIn(token, channel);
  });
  $('#channel').addEventListener('change', (e) => {
    state.client.channel = e.target.value;
    sessionStorage.setItem(CHANNEL_KEY, e.target.value);
  });
  $('#sign-out').addEventListener('click', signOut);
  $('#redeem-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const code = $('#code').value.trim();
    if (code) redeem(code);
  });
  $('#lookup-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const c = $('#customer-id').value.trim();
    if (c) lookup(c);
  });
  $('#claim').addEventListener('click', () => act(() => state.client.claim(state.session.name)));
  $('#show-release').addEventListener('click', (e) => toggle(e.currentTarget, '#release-form'));
  $('#show-transfer').addEventListener('click', (e) => toggle(e.currentTarget, '#transfer-form'));
  $('#release-form').addEventListener('submit', (e) => {
    e.preventDefault();
    act(() => state.client.release(state.session.name, { note: $('#release-note').value.trim() }), () => {
      $('#release-note').value = '';
      toggle($('#show-release'), '#release-form');
      announce('Case released.');
    });
  });
  $('#transfer-form').addEventListener('submit', (e) => {
    e.preventDefault();
    act(() => state.client.transfer(state.session.name, {
      toAgent: $('#transfer-agent').value.trim() || undefined,
      toChannel: $('#transfer-channel').value,
      note: $('#transfer-note').value.trim(),
    }), () => {
      $('#transfer-note').value = '';
      toggle($('#show-transfer'), '#transfer-form');
      announce('Case transferred.');
    });
  });
}

boot();
