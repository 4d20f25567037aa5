// Finding a caller by the phone number, e-mail address or social handle on
// the agent's screen (docs/reach.md): a lookup lists the open journeys of
// the customers linked to it by type and step only; each opens after the
// caller's answer to its check matches, as a code redeem opens one.

import { loadForm, pick, titleOf } from '/forms/forms.js';
import { h, $, formatTime, describeError } from '/assets/ui.js';

let ctx = null; // {client: () => HandoffClient, open, findError, announce}
let lookup = null; // the last lookup: {name, matches, expireTime}

export function wireIdentity(c) {
  ctx = c;
  $('#identity-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const identity = $('#identity').value.trim();
    if (identity) find(identity);
  });
}

async function find(identity) {
  ctx.findError(null);
  const list = $('#identity-results');
  try {
    // The channel the agent works on goes with the client's header.
    lookup = await ctx.client().call('POST', 'identityLookups', { body: { identity } });
  } catch (err) {
    list.hidden = true;
    ctx.findError(err);
    return;
  }
  const matches = lookup.matches || [];
  const forms = await Promise.all(matches.map((m) => loadForm(ctx.client(), `${m.journeyType}@${m.journeyTypeVersion}`).catch(() => null)));
  list.hidden = false;
  if (!matches.length) {
    list.replaceChildren(h('li', { class: 'hint' }, 'No open journey is linked to that phone number, address or handle.'));
    return;
  }
  list.replaceChildren(...matches.map((m, i) => matchItem(m, forms[i])));
}

function matchItem(m, form) {
  const journey = { journeyType: m.journeyType, journeyTypeVersion: m.journeyTypeVersion, step: m.step };
  const step = form?.steps.find((s) => s.id === m.step)?.title || m.step || 'the start';
  const head = [h('strong', {}, titleOf(journey, form)), h('span', { class: 'hint' }, ` at ${step} · ${formatTime(m.updateTime)}`)];
  if (!m.checkAnswer) {
    return h('li', { class: 'match', 'data-match': String(m.match) }, ...head,
      h('p', { class: 'hint' }, 'No check the caller can answer yet: ask them for a handoff code instead.'));
  }
  const id = `identity-answer-${m.match}`;
  const error = h('div', { class: 'alert', role: 'alert' });
  const input = h('input', { id, type: 'text', autocomplete: 'off', spellcheck: 'false', required: '' });
  const form_ = h('form', { class: 'verify' },
    h('label', { for: id }, `Ask the caller: ${pick(m.checkLabel) || m.checkAnswer}`),
    input,
    h('button', { type: 'submit', class: 'primary' }, 'Verify'),
    error);
  form_.addEventListener('submit', (e) => {
    e.preventDefault();
    verify(m.match, input, error);
  });
  return h('li', { class: 'match', 'data-match': String(m.match) }, ...head, form_);
}

/** The answer as typed: JSON when it reads as JSON (1988, true), else the text. */
function answerOf(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

async function verify(match, input, error) {
  error.textContent = '';
  try {
    const j = await ctx.client().call('POST', `${lookup.name}:verify`, {
      body: { match, answer: answerOf(input.value.trim()), view: 'JOURNEY_VIEW_FULL' },
    });
    input.value = '';
    $('#identity').value = '';
    $('#identity-results').hidden = true;
    await ctx.open(j);
    ctx.announce(`The caller's answer matches: opened the journey of customer ${j.name.split('/')[1]}. The case is yours.`);
  } catch (err) {
    // Never the answer itself: only what the server says went wrong.
    error.textContent = err.code === 'FAILED_PRECONDITION' && /does not match/.test(err.message)
      ? 'The answer does not match. Ask again, or ask the caller for a handoff code.'
      : describeError(err);
    input.select();
  }
}
