// Rendering the open journey: steps, answers grouped by step, who holds the
// case, and the timeline, labelled by the journey type's definition (the
// form, from forms.js; null for a journey of no declared type). Pure
// functions of the state they are given, so they can run on every change a
// watch delivers.

import { humanize, stepsOf, answerGroups, titleOf, labelOf, formatValue, inFormOrder } from '/forms/forms.js';
import { same } from '/sdk/handoff.js';
import { h, $, channelInfo, channelIcon, channelBadge, timeEl, formatTime } from '/assets/ui.js';

const KINDS = {
  TOUCHPOINT_KIND_STARTED: 'Started',
  TOUCHPOINT_KIND_PROGRESS_SAVED: 'Saved progress',
  TOUCHPOINT_KIND_HANDOFF_OFFERED: 'Asked for a code',
  TOUCHPOINT_KIND_RESUMED: 'Resumed with the code',
  TOUCHPOINT_KIND_CLAIMED: 'Claimed the case',
  TOUCHPOINT_KIND_RELEASED: 'Released the case',
  TOUCHPOINT_KIND_COMPLETED: 'Completed',
  TOUCHPOINT_KIND_ABANDONED: 'Gave up',
  TOUCHPOINT_KIND_TRANSFERRED: 'Transferred the case',
  TOUCHPOINT_KIND_TAKEN_OVER: 'Took over the case',
  TOUCHPOINT_KIND_VIEWED: 'Looked at the journey',
  TOUCHPOINT_KIND_REVEALED: 'Revealed',
  TOUCHPOINT_KIND_LOOKED_UP: 'Found by phone, e-mail or handle',
  TOUCHPOINT_KIND_IDENTIFIED: 'Identified the caller',
  TOUCHPOINT_KIND_CHECK_FAILED: 'Caller\'s answer did not match',
};

const MOMENT_OF_TRUTH = 'Moment of truth: customers decide here';

/** Who an actor is, for a person: "Customer c-42", "Website (shop-website)", "alice (you)". */
export function actorName(actor, me) {
  const id = actor?.id || '?';
  switch (actor?.role) {
    case 'ROLE_CUSTOMER': return `Customer ${id}`;
    case 'ROLE_SERVICE': return `Website (${id})`;
    case 'ROLE_SYSTEM': return 'handoff';
    case 'ROLE_ADMIN': return `${id} (supervisor)${id === me ? ', you' : ''}`;
    default: return id === me ? `${id} (you)` : id;
  }
}

export function title(journey, form) {
  return titleOf(journey, form);
}

export function renderHeader(journey, form) {
  $('#journey-title').textContent = title(journey, form);
  const customer = journey.name.split('/')[1];
  const state = journey.state === 'JOURNEY_STATE_ACTIVE' ? '' : ` · ${humanize(journey.state.replace('JOURNEY_STATE_', ''))}`;
  $('#journey-meta').replaceChildren(
    `Customer ${customer}${state} · last touch `, channelBadge(journey.channel), ' at ', timeEl(journey.updateTime));
}

export function renderSteps(journey, form) {
  $('#steps').replaceChildren(...stepsOf(journey, form).map((s, i) => h('li', {
    class: s.status, 'aria-current': s.status === 'current' ? 'step' : undefined, dataset: { step: s.id },
  },
  h('span', { class: 'num', 'aria-hidden': 'true' }, s.status === 'done' ? '✓' : String(i + 1)),
  ' ', s.title,
  s.momentOfTruth ? momentOfTruth() : null,
  s.status === 'current' ? h('span', { class: 'now' }, ' · customer is here') : null,
  s.status === 'todo' ? h('span', { class: 'sr-only' }, ' (not reached yet)') : null)));
}

function momentOfTruth() {
  return h('span', { class: 'mot', title: MOMENT_OF_TRUTH },
    h('span', { 'aria-hidden': 'true' }, ' ◆'), h('span', { class: 'sr-only' }, ' (moment of truth)'));
}

/**
 * Every answer, grouped by step in the type's order, with who changed it
 * last. Answers that changed since `before` are marked, so a change the
 * customer just made stands out. Masked answers offer Reveal; one revealed
 * (`revealed`: path → {value, masked, touchpoint}) shows its value while
 * the answer is still the one it was revealed for.
 */
export function renderAnswers(journey, before, { form, revealed, onEdit, onReveal, onHide }) {
  const groups = answerGroups(journey, form);
  const steps = stepsOf(journey, form);
  const current = journey.step;
  const editable = journey.state === 'JOURNEY_STATE_ACTIVE';
  const provenance = journey.answerProvenance || {};
  const sections = groups.map((g) => h('section', {
    class: `group${g.id === current ? ' current' : ''}`, 'aria-labelledby': `group-${g.id || 'other'}`, dataset: { group: g.id },
  },
  h('h3', { id: `group-${g.id || 'other'}` }, g.title,
    g.momentOfTruth ? momentOfTruth() : null,
    g.id === current ? h('span', { class: 'tag' }, 'current step') : null),
  h('dl', {}, g.answers.map((a) => {
    const changed = before && !same(valueAt(before, a.path), a.value);
    const prov = provenance[a.path];
    // A value revealed before the answer changed is not this answer's any more.
    const r = revealed.get(a.path);
    const shown = a.masked && r && r.masked === a.value && r.touchpoint === prov?.touchpoint ? r : null;
    return h('div', { class: `answer${changed ? ' changed' : ''}${a.masked ? ' masked' : ''}`, dataset: { path: a.path } },
      h('dt', {}, a.label),
      h('dd', {},
        h('div', { class: 'line' },
          h('span', { class: 'value' }, shown ? formatValue(a.field, shown.value) : a.text),
          changed ? h('span', { class: 'sr-only' }, ' (just changed)') : null,
          a.masked && !shown
            ? h('button', { type: 'button', class: 'reveal quiet', 'aria-label': `Reveal ${a.label}`, dataset: { path: a.path }, onclick: () => onReveal(a.path) }, 'Reveal')
            : null,
          shown
            ? h('button', { type: 'button', class: 'hide quiet', 'aria-label': `Hide ${a.label}`, dataset: { path: a.path }, onclick: () => onHide(a.path) }, 'Hide')
            : null,
          // A masked value saved back would replace the customer's: never offered.
          editable && !a.masked && isEditable(a.value)
            ? h('button', { type: 'button', class: 'edit quiet', 'aria-label': `Edit ${a.label}`, dataset: { path: a.path }, onclick: () => onEdit(a.path) }, 'Edit')
            : null),
        shown || prov ? h('p', { class: 'prov' },
          shown ? h('span', { class: 'tag revealed' }, 'revealed to you') : null, shown && prov ? ' ' : null,
          prov ? changedBy(prov) : null) : null));
  }))));
  if (!groups.some((g) => g.id === current) && steps.some((s) => s.id === current)) {
    const s = steps.find((x) => x.id === current);
    sections.push(h('section', { class: 'group current', dataset: { group: current } },
      h('h3', {}, s.title, s.momentOfTruth ? momentOfTruth() : null, h('span', { class: 'tag' }, 'current step')),
      h('p', { class: 'hint' }, 'No answers on this step yet.')));
  }
  $('#answers').replaceChildren(...sections);
}

const BY_ROLE = {
  ROLE_CUSTOMER: () => 'the customer',
  ROLE_AGENT: (id) => `agent ${id}`,
  ROLE_ADMIN: (id) => `supervisor ${id}`,
  ROLE_SERVICE: (id) => `the website (${id})`,
  ROLE_SYSTEM: () => 'handoff',
};

const ON_CHANNEL = {
  CHANNEL_WEB: 'on the web',
  CHANNEL_APP: 'in the app',
  CHANNEL_PHONE: 'on the phone',
  CHANNEL_CHAT: 'in a chat',
  CHANNEL_SOCIAL: 'on social media',
  CHANNEL_EMAIL: 'by e-mail',
  CHANNEL_IN_PERSON: 'in person',
};

/** "changed by the customer on the web, 4 minutes ago", from an answer's provenance. */
function changedBy(prov) {
  const who = (BY_ROLE[prov.actor?.role] || ((id) => id || 'someone'))(prov.actor?.id);
  const where = ON_CHANNEL[prov.channel];
  return h('span', {}, `changed by ${who}${where ? ` ${where}` : ''}, `, agoEl(prov.time));
}

/** A <time> saying how long ago, kept up to date by refreshAges. */
function agoEl(ts) {
  return h('time', { class: 'ago', datetime: ts, title: formatTime(ts) }, ago(ts));
}

/** ago(ts): 'just now', '4 minutes ago', '2 hours ago', or the date. */
export function ago(ts, now = Date.now()) {
  const s = Math.max(0, (now - new Date(ts)) / 1000);
  if (s < 45) return 'just now';
  if (s < 90) return 'a minute ago';
  if (s < 3600) return `${Math.round(s / 60)} minutes ago`;
  if (s < 5400) return 'an hour ago';
  if (s < 86400) return `${Math.round(s / 3600)} hours ago`;
  return `on ${formatTime(ts)}`;
}

/** Brings every "… ago" on the page up to date. */
export function refreshAges() {
  for (const el of document.querySelectorAll('time.ago')) el.textContent = ago(el.getAttribute('datetime'));
}

function valueAt(journey, path) {
  let v = journey.data;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? v[k] : undefined;
  return v;
}

function isEditable(v) {
  return v === null || ['string', 'number', 'boolean'].includes(typeof v);
}

/** Who holds the case and what the agent can do about it. */
export function renderCase(journey, me) {
  $('#case').hidden = false;
  const held = journey.assignee;
  const mine = held && held === me;
  const holder = $('#holder');
  if (!held) {
    holder.replaceChildren('Nobody holds this case. Claim it to work on it.');
  } else {
    holder.replaceChildren(
      h('strong', {}, journey.assigneeDisplayName || held),
      mine ? ' (you)' : (journey.assigneeDisplayName && journey.assigneeDisplayName !== held ? ` (${held})` : ''),
      ' on ', channelBadge(journey.assigneeChannel),
      journey.claimExpireTime ? h('span', { class: 'hint' }, ' · claim runs to ', timeEl(journey.claimExpireTime)) : null);
  }
  const active = journey.state === 'JOURNEY_STATE_ACTIVE';
  // Until the console knows who is signed in (from the first case they
  // hold), it offers every action and lets the server say no.
  const someoneElse = held && me && held !== me;
  if (someoneElse) holder.append(h('span', { class: 'hint block' }, `Ask ${journey.assigneeDisplayName || held} to release or transfer it.`));
  $('#claim').hidden = !active || (held && !mine);
  $('#claim').textContent = mine ? 'Renew claim' : 'Claim';
  $('#show-release').hidden = !held || someoneElse;
  $('#show-transfer').hidden = !active || !held || someoneElse;
}

/**
 * The timeline, oldest first. Consecutive looks at the journey by the same
 * person fold into one line, so views do not drown out what happened. A
 * save names the answers it changed (labels, never values); a reveal names
 * the answer and the reason the customer reads too.
 */
export function renderTimeline(touchpoints, me, form) {
  $('#timeline-section').hidden = false;
  const items = [];
  for (const tp of touchpoints) {
    const last = items.at(-1);
    if (tp.kind === 'TOUCHPOINT_KIND_VIEWED' && last && last.tp.kind === tp.kind && last.tp.actor?.id === tp.actor?.id) {
      last.count++;
      last.latest = tp;
      continue;
    }
    items.push({ tp, count: 1, latest: tp });
  }
  const list = $('#timeline');
  followEnd(list);
  list.replaceChildren(...items.map(({ tp, count, latest }) => {
    const ch = channelInfo(tp.channel);
    const labels = inFormOrder(form, tp.answers || []).map((p) => labelOf(form, p));
    const revealed = tp.kind === 'TOUCHPOINT_KIND_REVEALED';
    let what = KINDS[tp.kind] || humanize(String(tp.kind).replace('TOUCHPOINT_KIND_', ''));
    if (revealed) what = `Revealed ${labels.join(', ') || 'an answer'}`;
    const t = tp.transfer;
    return h('li', { class: `tp ${String(tp.kind).replace('TOUCHPOINT_KIND_', '').toLowerCase()}` },
      h('span', { class: 'tp-icon', title: ch.label }, channelIcon(tp.channel)),
      h('div', { class: 'tp-body' },
        h('div', { class: 'tp-line' },
          h('span', { class: 'tp-what' }, what, count > 1 ? ` ×${count}` : ''),
          h('span', { class: 'tp-time' }, timeEl(latest.time))),
        h('div', { class: 'tp-who hint' },
          actorName(tp.actor, me), ' · ', h('span', { class: 'sr-only' }, 'on '), ch.label,
          tp.channelDetail ? ` (${tp.channelDetail})` : '',
          tp.step ? ` · at step ${stepTitle(form, tp.step)}` : ''),
        !revealed && labels.length ? h('div', { class: 'tp-answers' }, h('span', { class: 'sr-only' }, 'Answers changed: '), labels.join(', ')) : null,
        revealed && tp.reason ? h('div', { class: 'tp-note' }, 'Reason: ', `“${tp.reason}”`) : null,
        t ? h('div', { class: 'tp-note' }, `${t.fromAgent} → ${t.toAgent || 'the open queue'} (${channelInfo(t.toChannel).label})`) : null,
        tp.note ? h('div', { class: 'tp-note' }, `“${tp.note}”`) : null));
  }));
  if (list.dataset.stick !== 'no') list.scrollTop = list.scrollHeight;
}

function stepTitle(form, id) {
  return form?.steps.find((s) => s.id === id)?.title || humanize(id);
}

/**
 * Keeps the newest touchpoint in view, unless the agent scrolled up to read
 * older ones; also when the list gets shorter because a form opened above it.
 */
function followEnd(list) {
  if (list.dataset.follow) return;
  list.dataset.follow = 'yes';
  list.addEventListener('scroll', () => {
    list.dataset.stick = list.scrollHeight - list.scrollTop - list.clientHeight < 24 ? 'yes' : 'no';
  });
  new ResizeObserver(() => {
    if (list.dataset.stick !== 'no') list.scrollTop = list.scrollHeight;
  }).observe(list);
}

/** One line per open journey found by customer number; formOf(journey) is its type's form, if loaded. */
export function renderResults(journeys, onOpen, formOf) {
  const list = $('#results');
  list.hidden = false;
  if (!journeys.length) {
    list.replaceChildren(h('li', { class: 'hint' }, 'No open journeys for this customer.'));
    return;
  }
  list.replaceChildren(...journeys.map((j) => h('li', {},
    h('button', { type: 'button', class: 'result', onclick: () => onOpen(j.name) },
      h('strong', {}, title(j, formOf(j))),
      h('span', { class: 'hint' }, ` at ${j.step ? stepTitle(formOf(j), j.step) : 'the start'} · ${formatTime(j.updateTime)}`),
      j.assignee ? h('span', { class: 'hint' }, ` · held by ${j.assigneeDisplayName || j.assignee}`) : null))));
}
