// The demo website: a four-step car-insurance quote that saves after every
// step through the website kit, resumes after a reload, hands over to the
// phone with a code, and shows an agent's help and edits live.

import { HandoffClient, JourneySession, ConflictError, HandoffError, get, same } from '/sdk/handoff.js';
import form from '/forms/car-insurance-quote.js';
import { answerGroups, formatValue } from '/forms/forms.js';
import { h, $, channelInfo, channelIcon, describeError } from '/assets/ui.js';

const TOKEN_KEY = 'handoff-demo-token';
const CUSTOMER_KEY = 'handoff-demo-customer';
const STAFF = ['ROLE_AGENT', 'ROLE_ADMIN'];

const ui = {
  session: null,
  shown: '', // the step on screen
  seen: {}, // answer path → the saved value its input last showed: what the user's edit started from
  codeTimer: 0,
};

// ---- start ----

function readSignIn() {
  const params = new URLSearchParams(location.search);
  if (params.has('token') || params.has('customer')) {
    if (params.get('token')) localStorage.setItem(TOKEN_KEY, params.get('token'));
    if (params.get('customer')) localStorage.setItem(CUSTOMER_KEY, params.get('customer'));
    // Keep the token out of the address bar and the history.
    params.delete('token');
    params.delete('customer');
    history.replaceState(null, '', location.pathname + (params.size ? `?${params}` : ''));
  }
  return { token: localStorage.getItem(TOKEN_KEY), customer: localStorage.getItem(CUSTOMER_KEY) || 'c-42' };
}

async function boot() {
  buildSteps();
  wire();
  const { token, customer } = readSignIn();
  if (!token) {
    $('.site-footer').hidden = true;
    $('#signin').hidden = false;
    $('#signin-token').focus();
    return;
  }
  const client = new HandoffClient({ token, channel: 'web' });
  try {
    ui.session = await JourneySession.start(client, {
      customer, journeyType: form.journeyType, step: form.steps[0].id,
    });
  } catch (err) {
    if (err instanceof HandoffError && err.code === 'UNAUTHENTICATED') {
      // The sign-in form is right here: ask for another token in it.
      localStorage.removeItem(TOKEN_KEY);
      $('#error').textContent = 'That token was not accepted. Enter a valid customer token below.';
      $('.site-footer').hidden = true;
      $('#signin').hidden = false;
      $('#signin-token').focus();
      return;
    }
    showError(err);
    $('#signin').hidden = false;
    return;
  }
  $('#quote').hidden = false;
  applyJourney(ui.session.journey, null);
  showStep(ui.session.journey.step || form.steps[0].id, { focus: false });
  ui.session.watch({
    onChange: (journey, change) => applyJourney(journey, change),
    onError: (err) => showError(err),
  });
}

// ---- the form ----

function fieldId(step, f) { return `f-${step.id}-${f.key}`; }

function buildSteps() {
  const host = $('#steps');
  for (const step of form.steps) {
    const set = h('fieldset', { id: `step-${step.id}`, class: 'step', hidden: true, dataset: { step: step.id } },
      h('legend', { class: 'sr-only' }, step.title));
    for (const f of step.fields) set.append(fieldEl(step, f));
    host.append(set);
  }
  const progress = $('#progress');
  form.steps.forEach((s, i) => progress.append(h('li', { dataset: { step: s.id } },
    h('span', { class: 'num', 'aria-hidden': 'true' }, String(i + 1)), ' ', s.title)));
}

function fieldEl(step, f) {
  const id = fieldId(step, f);
  const described = [f.hint && `${id}-hint`, `${id}-remote`].filter(Boolean).join(' ');
  let input;
  if (f.type === 'select') {
    input = h('select', { id, name: id, required: f.required, 'aria-describedby': described },
      h('option', { value: '' }, 'Choose…'),
      f.options.map((o) => h('option', { value: String(o.value) }, o.label)));
  } else {
    input = h('input', {
      id, name: id, type: f.type, required: f.required, min: f.min, max: f.max,
      autocomplete: f.autocomplete, 'aria-describedby': described,
      inputmode: f.type === 'number' ? 'numeric' : undefined,
      autocapitalize: f.upper ? 'characters' : undefined,
    });
  }
  input.dataset.path = `${step.id}.${f.key}`;
  if (f.upper) input.classList.add('upper');
  input.addEventListener('input', () => clearRemote(input.dataset.path));
  const remote = h('p', { id: `${id}-remote`, class: 'remote', 'aria-live': 'polite' });
  if (f.type === 'checkbox') {
    return h('div', { class: 'field check' }, input, h('label', { for: id }, f.label), remote);
  }
  return h('div', { class: 'field' },
    h('label', { for: id }, f.label, f.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    input,
    f.hint ? h('p', { id: `${id}-hint`, class: 'hint' }, f.hint) : null,
    remote);
}

function fieldsOf(stepId) {
  return form.steps.find((s) => s.id === stepId)?.fields.map((f) => ({ f, path: `${stepId}.${f.key}` })) || [];
}

function input(path) { return document.querySelector(`[data-path="${CSS.escape(path)}"]`); }

/** The answer an input holds, as saved: numbers as numbers, an empty field as ''. */
function read(path, f) {
  const el = input(path);
  if (f.type === 'checkbox') return el.checked;
  const v = el.value.trim();
  if (v === '') return '';
  if (f.type === 'number' || f.number) return Number(v);
  return f.upper ? v.toUpperCase() : v;
}

function write(path, f, value) {
  const el = input(path);
  if (f.type === 'checkbox') el.checked = value === true;
  else el.value = value === undefined || value === null ? '' : String(value);
}

/** Whether the user changed an answer since it last showed the saved value. */
function dirty(path, f) {
  const v = read(path, f);
  const was = ui.seen[path];
  if (was === undefined) return !(v === '' || v === false);
  return !same(v, was);
}

/** What the user changed on these steps, with what each edit started from. */
function changes(stepIds) {
  const data = {};
  const expect = {};
  for (const id of stepIds) {
    for (const { f, path } of fieldsOf(id)) {
      if (!dirty(path, f)) continue;
      data[id] ??= {};
      data[id][f.key] = read(path, f);
      expect[path] = ui.seen[path];
    }
  }
  return { data, expect };
}

// ---- saved state → screen ----

/**
 * Brings the page up to a version of the journey: untouched answers take
 * the saved value (marked when staff changed them); answers the user is
 * editing keep the user's value, with a note of the newer saved one.
 */
function applyJourney(journey, change) {
  const who = changedBy(journey, change);
  for (const step of form.steps) {
    for (const f of step.fields) {
      const path = `${step.id}.${f.key}`;
      const saved = get(journey.data, path);
      if (dirty(path, f)) {
        if (same(saved, read(path, f))) {
          ui.seen[path] = saved;
          clearRemote(path);
        } else if (!same(saved, ui.seen[path]) && saved !== undefined) {
          note(path, `${who || 'Someone'} changed this to “${formatValue(f, saved)}” while you were typing. Next will ask which to keep.`, 'warn');
        }
        continue;
      }
      if (!same(saved, ui.seen[path])) {
        const first = !(path in ui.seen);
        write(path, f, saved);
        ui.seen[path] = saved;
        if (!first && who) {
          note(path, `${who} updated this`);
          input(path).classList.add('updated');
        }
      }
    }
  }
  banner(journey);
  if (change?.touchpoints?.some((t) => t.kind === 'TOUCHPOINT_KIND_RESUMED')) codeUsed(journey);
  if (journey.state === 'JOURNEY_STATE_COMPLETED') return finish();
  if (change && journey.step && journey.step !== ui.shown && form.steps.some((s) => s.id === journey.step)) {
    showStep(journey.step, { focus: false });
    if (who) status(`${who} moved your quote to ${titleOf(journey.step)}.`);
  }
  if (ui.shown === 'confirm') summary(journey);
}

/** The name of the staff member behind a change, as the customer may see it. */
function changedBy(journey, change) {
  const tp = [...(change?.touchpoints || [])].reverse().find((t) => STAFF.includes(t.actor?.role));
  if (!tp) return '';
  return tp.actor.id === journey.assignee && journey.assigneeDisplayName ? journey.assigneeDisplayName : 'An agent';
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

function note(path, text, kind = '') {
  const el = document.getElementById(`${input(path).id}-remote`);
  el.textContent = text;
  el.className = `remote ${kind}`;
}

function clearRemote(path) {
  const el = input(path);
  el.classList.remove('updated');
  document.getElementById(`${el.id}-remote`).textContent = '';
}

function titleOf(stepId) { return form.steps.find((s) => s.id === stepId)?.title || stepId; }

function showStep(stepId, { focus = true } = {}) {
  const i = Math.max(0, form.steps.findIndex((s) => s.id === stepId));
  const step = form.steps[i];
  ui.shown = step.id;
  for (const set of document.querySelectorAll('fieldset.step')) set.hidden = set.dataset.step !== step.id;
  for (const li of document.querySelectorAll('#progress li')) {
    const j = form.steps.findIndex((s) => s.id === li.dataset.step);
    li.className = j < i ? 'done' : (j === i ? 'current' : 'todo');
    if (j === i) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
  }
  $('#step-title').textContent = `Step ${i + 1} of ${form.steps.length}: ${step.title}`;
  $('#step-intro').textContent = step.intro;
  $('#back').hidden = i === 0;
  $('#next').textContent = i === form.steps.length - 1 ? 'Request my quote' : 'Next';
  $('#summary').hidden = step.id !== 'confirm';
  if (step.id === 'confirm' && ui.session) summary(ui.session.journey);
  if (focus) $('#step-title').focus();
}

function summary(journey) {
  const groups = answerGroups(journey).filter((g) => g.id !== 'confirm');
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
  $('#step-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const i = form.steps.findIndex((s) => s.id === ui.shown);
    if (!validStep(ui.shown)) return;
    if (i === form.steps.length - 1) submitQuote();
    else move(form.steps[i + 1].id);
  });
  $('#back').addEventListener('click', () => {
    const i = form.steps.findIndex((s) => s.id === ui.shown);
    if (i > 0) move(form.steps[i - 1].id);
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
  for (const el of set.querySelectorAll('input, select')) {
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
  const { data, expect } = changes([ui.shown]);
  status('Saving…');
  $('#conflict').hidden = true;
  showError(null);
  try {
    const j = await ui.session.save({ step, data }, { expect });
    applyJourney(j, null);
    status(`Saved at ${new Date().toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}. You can close this page and come back.`);
    return true;
  } catch (err) {
    status('');
    if (err instanceof ConflictError) conflict(err);
    else showError(err);
    return false;
  }
}

/** Someone saved other values for answers the user changed: let the user choose, per answer. */
function conflict(err) {
  const box = $('#conflict');
  const who = err.journey.assigneeDisplayName || 'Someone';
  const items = err.conflicts.map((c) => {
    const f = fieldsOf(c.path.split('.')[0]).find((x) => x.path === c.path)?.f;
    const label = f?.label || c.path;
    const li = h('li', {},
      h('strong', {}, label), `: ${who} saved “${formatValue(f, c.theirs)}”, you typed “${formatValue(f, c.mine)}”. `,
      h('button', { type: 'button', onclick: () => { ui.seen[c.path] = c.theirs; li.remove(); done(); } }, 'Keep mine'),
      ' ',
      h('button', { type: 'button', onclick: () => { write(c.path, f, c.theirs); ui.seen[c.path] = c.theirs; clearRemote(c.path); li.remove(); done(); } }, `Use ${who}'s`));
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

async function submitQuote() {
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
