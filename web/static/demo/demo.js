// The demo website: the visitor picks a journey type the server declares
// (a car-insurance quote, a home-insurance claim, ...) and gets its form,
// drawn from the type's definition. It saves after every step through the
// website kit, resumes after a reload, hands over to the phone with a code,
// and shows an agent's help and edits live.

import { HandoffClient, JourneySession, ConflictError, HandoffError, get, same } from '/sdk/handoff.js';
import { listTypes, loadForm, answerGroups, formatValue, nextStep, previousStep, labelOf } from '/forms/forms.js';
import { fieldEl, input, read, write, note, clearRemote, refused } from '/demo/fields.js';
import { h, $, channelInfo, channelIcon, describeError } from '/assets/ui.js';

const TOKEN_KEY = 'handoff-demo-token';
const CUSTOMER_KEY = 'handoff-demo-customer';
const TYPE_KEY = 'handoff-demo-type';
const DEFAULT_TYPE = 'car-insurance-quote';
const STAFF = ['ROLE_AGENT', 'ROLE_ADMIN'];

const ui = {
  session: null,
  form: null, // the journey type version the journey is drawn from (forms.js)
  shown: '', // the step on screen
  seen: {}, // answer path → the saved value its input last showed: what the user's edit started from
  codeTimer: 0,
};

// ---- start ----

function readSignIn() {
  const params = new URLSearchParams(location.search);
  if (params.has('token') || params.has('customer') || params.has('type')) {
    if (params.get('token')) localStorage.setItem(TOKEN_KEY, params.get('token'));
    if (params.get('customer')) localStorage.setItem(CUSTOMER_KEY, params.get('customer'));
    if (params.get('type')) localStorage.setItem(TYPE_KEY, params.get('type'));
    // Keep the token out of the address bar and the history.
    params.delete('token');
    params.delete('customer');
    params.delete('type');
    history.replaceState(null, '', location.pathname + (params.size ? `?${params}` : ''));
  }
  return { token: localStorage.getItem(TOKEN_KEY), customer: localStorage.getItem(CUSTOMER_KEY) || 'c-42' };
}

function askToSignIn(message) {
  if (message) $('#error').textContent = message;
  $('.site-footer').hidden = true;
  $('#signin').hidden = false;
  $('#signin-token').focus();
}

async function boot() {
  wire();
  const { token, customer } = readSignIn();
  if (!token) {
    askToSignIn('');
    return;
  }
  const client = new HandoffClient({ token, channel: 'web' });
  let type;
  try {
    const types = await listTypes(client);
    if (!types.length) {
      showError(new Error('This server declares no journey types, so there is no form to show. Start handoffd with --journey-types-dir examples/journey-types.'));
      return;
    }
    const wanted = localStorage.getItem(TYPE_KEY) || DEFAULT_TYPE;
    type = types.find((t) => t.id === wanted) || types.find((t) => t.id === DEFAULT_TYPE) || types[0];
    fillPicker(types, type.id);
    ui.session = await JourneySession.start(client, { customer, journeyType: type.id });
    // A journey keeps the version it started with; one started before its
    // type was declared has none and is drawn by the latest.
    ui.form = (await loadForm(client, ui.session.journey)) || type.form;
  } catch (err) {
    if (err instanceof HandoffError && err.code === 'UNAUTHENTICATED') {
      // The sign-in form is right here: ask for another token in it.
      localStorage.removeItem(TOKEN_KEY);
      askToSignIn('That token was not accepted. Enter a valid customer token below.');
      return;
    }
    showError(err);
    $('#signin').hidden = false;
    return;
  }
  buildSteps(ui.form);
  $('#quote').hidden = false;
  applyJourney(ui.session.journey, null);
  showStep(ui.session.journey.step || ui.form.steps[0].id, { focus: false });
  ui.session.watch({
    onChange: (journey, change) => applyJourney(journey, change),
    onError: (err) => showError(err),
  });
}

function fillPicker(types, chosen) {
  const select = $('#journey-type');
  select.replaceChildren(...types.map((t) => h('option', { value: t.id }, t.title)));
  select.value = chosen;
  $('#type-pick').hidden = types.length < 2;
}

/** Another journey type: what is typed on this step is saved first, then the page starts (or resumes) the other. */
async function switchType(id) {
  if (ui.session && !(await saveChanges(undefined))) {
    $('#journey-type').value = ui.form.journeyType;
    return;
  }
  localStorage.setItem(TYPE_KEY, id);
  ui.session?.watcher?.close();
  location.reload();
}

// ---- the form ----

function buildSteps(form) {
  document.title = `${form.title} · handoff demo`;
  $('#quote-title').textContent = form.title;
  $('#done-text').textContent = `We have everything we need for your ${form.title.toLowerCase()}, and will be in touch shortly.`;
  const host = $('#steps');
  host.replaceChildren();
  for (const step of form.steps) {
    const set = h('fieldset', { id: `step-${step.id}`, class: 'step', hidden: true, dataset: { step: step.id } },
      h('legend', { class: 'sr-only' }, step.title));
    for (const f of step.fields) set.append(fieldEl(f));
    host.append(set);
  }
  $('#progress').replaceChildren(...form.steps.map((s, i) => h('li', { dataset: { step: s.id } },
    h('span', { class: 'num', 'aria-hidden': 'true' }, String(i + 1)), ' ', s.title)));
}

function allFields() { return ui.form.steps.flatMap((s) => s.fields); }

function fieldsOf(stepId) { return ui.form.steps.find((s) => s.id === stepId)?.fields || []; }

/** Whether the user changed an answer since it last showed the saved value. */
function dirty(f) {
  const v = read(f);
  const was = ui.seen[f.path];
  if (was === undefined) return !(v === '' || v === false);
  return !same(v, was);
}

/**
 * What the user changed on these steps, with what each edit started from.
 * An emptied field removes its answer: an empty string is not an answer
 * (and most schemas refuse one).
 */
function changes(stepIds) {
  const data = {};
  const remove = [];
  const expect = {};
  for (const id of stepIds) {
    for (const f of fieldsOf(id)) {
      if (!dirty(f)) continue;
      const v = read(f);
      if (v === '') remove.push(f.path);
      else (data[id] ??= {})[f.key] = v;
      expect[f.path] = ui.seen[f.path];
    }
  }
  return { data, remove, expect };
}

// ---- saved state → screen ----

/**
 * Brings the page up to a version of the journey: untouched answers take
 * the saved value (marked when staff changed them); answers the user is
 * editing keep the user's value, with a note of the newer saved one.
 */
function applyJourney(journey, change) {
  const who = changedBy(journey, change);
  for (const f of allFields()) {
    const path = f.path;
    const saved = get(journey.data, path);
    if (dirty(f)) {
      if (same(saved, read(f))) {
        ui.seen[path] = saved;
        clearRemote(path);
      } else if (!same(saved, ui.seen[path]) && saved !== undefined) {
        note(path, `${who || 'Someone'} changed this to “${formatValue(f, saved)}” while you were typing. Next will ask which to keep.`, 'warn');
      }
      continue;
    }
    if (!same(saved, ui.seen[path])) {
      const first = !(path in ui.seen);
      write(f, saved);
      ui.seen[path] = saved;
      if (!first && who) {
        note(path, `${who} updated this`);
        input(path).classList.add('updated');
      }
    }
  }
  revealed(journey, change);
  banner(journey);
  if (change?.touchpoints?.some((t) => t.kind === 'TOUCHPOINT_KIND_RESUMED')) codeUsed(journey);
  if (journey.state === 'JOURNEY_STATE_COMPLETED') return finish();
  if (change && journey.step && journey.step !== ui.shown && ui.form.steps.some((s) => s.id === journey.step)) {
    showStep(journey.step, { focus: false });
    if (who) status(`${who} moved you to ${titleOf(journey.step)}.`);
  }
  if (!nextStep(ui.form, ui.shown)) summary(journey);
}

/** The customer is told, next to the answer, when staff looked at a sensitive one, and why. */
function revealed(journey, change) {
  for (const tp of change?.touchpoints || []) {
    if (tp.kind !== 'TOUCHPOINT_KIND_REVEALED') continue;
    const name = staffName(journey, tp.actor);
    for (const path of tp.answers || []) {
      if (input(path)) note(path, `${name} looked at this answer: “${tp.reason}”`, 'info');
      status(`${name} looked at your ${labelOf(ui.form, path)}: “${tp.reason}”`);
    }
  }
}

/** The name of the staff member behind a change, as the customer may see it. */
function changedBy(journey, change) {
  const tp = [...(change?.touchpoints || [])].reverse().find((t) => STAFF.includes(t.actor?.role) && t.kind !== 'TOUCHPOINT_KIND_REVEALED');
  return tp ? staffName(journey, tp.actor) : '';
}

function staffName(journey, actor) {
  return actor?.id === journey.assignee && journey.assigneeDisplayName ? journey.assigneeDisplayName : 'An agent';
}

function banner(journey) {
  const el = $('#agent-banner');
  // With someone on the case already, there is no need to offer a call.
  $('#phone').hidden = Boolean(journey.assignee);
  if (!journey.assignee) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  const ch = channelInfo(journey.assigneeChannel);
  el.replaceChildren(
    h('span', { class: 'pulse', 'aria-hidden': 'true' }),
    h('span', {}, 'An agent is helping you: ', h('strong', {}, journey.assigneeDisplayName || 'an agent'),
      ' ', h('span', { class: 'by' }, '(', channelIcon(journey.assigneeChannel), ch.label.toLowerCase(), ')')),
  );
  el.hidden = false;
}

function titleOf(stepId) { return ui.form.steps.find((s) => s.id === stepId)?.title || stepId; }

function showStep(stepId, { focus = true } = {}) {
  const steps = ui.form.steps;
  const i = Math.max(0, steps.findIndex((s) => s.id === stepId));
  const step = steps[i];
  ui.shown = step.id;
  for (const set of document.querySelectorAll('fieldset.step')) set.hidden = set.dataset.step !== step.id;
  for (const li of document.querySelectorAll('#progress li')) {
    const j = steps.findIndex((s) => s.id === li.dataset.step);
    li.className = j < i ? 'done' : (j === i ? 'current' : 'todo');
    if (j === i) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
  }
  const last = !nextStep(ui.form, step.id);
  $('#step-title').textContent = `Step ${i + 1} of ${steps.length}: ${step.title}`;
  $('#step-intro').textContent = step.help;
  $('#back').hidden = !previousStep(ui.form, step.id);
  $('#next').textContent = last ? 'Send' : 'Next';
  $('#summary').hidden = !last;
  if (last && ui.session) summary(ui.session.journey);
  if (focus) $('#step-title').focus();
}

/** On the last step, every answer of the steps before it. */
function summary(journey) {
  const groups = answerGroups(journey, ui.form).filter((g) => g.id !== ui.shown);
  $('#summary').replaceChildren(h('h3', {}, 'Your answers'), ...groups.map((g) => h('div', { class: 'sum-group' },
    h('h4', {}, g.title),
    h('dl', {}, g.answers.flatMap((a) => [h('dt', {}, a.label), h('dd', {}, a.text)])))));
}

// ---- actions ----

function wire() {
  $('#signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    localStorage.setItem(TOKEN_KEY, $('#signin-token').value.trim());
    localStorage.setItem(CUSTOMER_KEY, $('#signin-customer').value.trim() || 'c-42');
    location.reload();
  });
  $('#journey-type').addEventListener('change', (e) => switchType(e.target.value));
  $('#step-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (!validStep(ui.shown)) return;
    const to = nextStep(ui.form, ui.shown);
    if (!to) submitJourney();
    else move(to);
  });
  $('#back').addEventListener('click', () => {
    const to = previousStep(ui.form, ui.shown);
    if (to) move(to);
  });
  $('#continue-by-phone').addEventListener('click', continueByPhone);
  $('#new-quote').addEventListener('click', startOver);
  $('#start-over').addEventListener('click', startOver);
  $('#sign-out').addEventListener('click', () => {
    localStorage.removeItem(TOKEN_KEY);
    location.reload();
  });
}

function validStep(stepId) {
  const set = $(`#step-${stepId}`);
  for (const el of set.querySelectorAll('input, select, textarea')) {
    if (!el.checkValidity()) {
      el.reportValidity();
      el.focus();
      return false;
    }
  }
  return true;
}

/** Saves what changed on this step and moves to another one. */
async function move(toStep) {
  const saved = await saveChanges(toStep);
  if (saved) showStep(toStep);
}

/** Saves the answers changed on the step on screen, and the step; true when saved. */
async function saveChanges(step) {
  if (!ui.session) return false;
  const { data, remove, expect } = changes([ui.shown]);
  status('Saving…');
  $('#conflict').hidden = true;
  showError(null);
  for (const f of fieldsOf(ui.shown)) refused(f.path, '');
  try {
    const j = await ui.session.save({ step, data, remove }, { expect });
    applyJourney(j, null);
    status(`Saved at ${new Date().toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}. You can close this page and come back.`);
    return true;
  } catch (err) {
    status('');
    if (err instanceof ConflictError) conflict(err);
    else if (!showRefused(err)) showError(err);
    return false;
  }
}

/**
 * A save the type refused: each reason goes next to its field
 * (journey.data.vehicle.plate → the plate's input). False when the error
 * names no field on the page.
 */
function showRefused(err) {
  const shown = [];
  for (const v of err.fieldViolations || []) {
    const field = String(v.field);
    const path = field.replace(/^journey\.data\./, '');
    if (!field.startsWith('journey.data.') || !input(path)) continue;
    refused(path, v.description);
    shown.push({ path, why: v.description });
  }
  if (!shown.length) return false;
  const step = shown[0].path.split('.')[0];
  if (step !== ui.shown) showStep(step, { focus: false });
  $('#error').textContent = shown.length === 1
    ? `We could not save “${labelOf(ui.form, shown[0].path)}”: ${shown[0].why}.`
    : `We could not save ${shown.length} answers: see the marked fields.`;
  input(shown[0].path).focus();
  return true;
}

/** Someone saved other values for answers the user changed: let the user choose, per answer. */
function conflict(err) {
  const box = $('#conflict');
  const who = err.journey.assigneeDisplayName || 'Someone';
  const items = err.conflicts.map((c) => {
    const f = allFields().find((x) => x.path === c.path);
    const label = f?.label || c.path;
    const li = h('li', {},
      h('strong', {}, label), `: ${who} saved “${formatValue(f, c.theirs)}”, you typed “${formatValue(f, c.mine)}”. `,
      h('button', { type: 'button', onclick: () => { ui.seen[c.path] = c.theirs; li.remove(); done(); } }, 'Keep mine'),
      ' ',
      h('button', { type: 'button', onclick: () => { if (f) { write(f, c.theirs); clearRemote(c.path); } ui.seen[c.path] = c.theirs; li.remove(); done(); } }, `Use ${who}'s`));
    return li;
  });
  const done = () => {
    if (!box.querySelector('li')) {
      box.hidden = true;
      status('Choose Next to save.');
    }
  };
  box.replaceChildren(h('p', {}, 'Some answers were changed for you while you were typing. Which should we keep?'), h('ul', {}, items));
  box.hidden = false;
}

async function submitJourney() {
  if (!(await saveChanges(ui.shown))) return;
  try {
    await ui.session.client.complete(ui.session.name);
    finish();
  } catch (err) {
    showError(err);
  }
}

function finish() {
  ui.session?.watcher?.close();
  ui.session?.forget();
  clearInterval(ui.codeTimer);
  $('#quote').hidden = true;
  $('#agent-banner').hidden = true;
  $('#done').hidden = false;
  $('#done-title').focus();
}

function startOver() {
  ui.session?.watcher?.close();
  ui.session?.forget();
  location.reload();
}

async function continueByPhone() {
  const btn = $('#continue-by-phone');
  btn.disabled = true;
  try {
    // Whatever is typed on this step goes with the call.
    if (!(await saveChanges(undefined))) return;
    const { code, spoken, expireTime } = await ui.session.continueByPhone();
    $('#handoff-code').textContent = code;
    $('#handoff-code-spoken').textContent = `Your code is ${spoken}`;
    $('#code-panel').hidden = false;
    $('#code-panel').scrollIntoView({ block: 'center' });
    $('#code-text').focus();
    btn.textContent = 'Get a new code';
    const expires = new Date(expireTime);
    const tick = () => {
      const left = Math.round((expires - Date.now()) / 60000);
      const until = expires.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
      if (expires <= Date.now()) {
        $('#code-expiry').textContent = 'This code has expired. Get a new code if you still want to call.';
        $('#handoff-code').classList.add('expired');
        clearInterval(ui.codeTimer);
      } else {
        $('#code-expiry').textContent = `Valid until ${until} (${left < 1 ? 'less than a minute' : `about ${left} minute${left === 1 ? '' : 's'}`} left). Use it once.`;
      }
    };
    $('#handoff-code').classList.remove('expired');
    clearInterval(ui.codeTimer);
    tick();
    ui.codeTimer = setInterval(tick, 15000);
  } catch (err) {
    showError(err);
  } finally {
    btn.disabled = false;
  }
}

function codeUsed(journey) {
  clearInterval(ui.codeTimer);
  $('#code-panel').hidden = true;
  $('#continue-by-phone').textContent = 'Continue by phone';
  status(`${journey.assigneeDisplayName || 'An agent'} has your answers now.`);
}

function status(text) { $('#save-status').textContent = text; }

function showError(err) {
  $('#error').textContent = err ? describeError(err) : '';
}

boot();
