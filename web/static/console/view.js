// Rendering the open journey: steps, answers grouped by step, who holds the
// case, and the timeline. Pure functions of the state they are given, so
// they can run on every change a watch delivers.

import { formFor, humanize, stepsOf, answerGroups } from '/forms/forms.js';
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
};

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

export function title(journey) {
  return formFor(journey.journeyType)?.title || humanize(journey.journeyType || 'journey');
}

export function renderHeader(journey) {
  $('#journey-title').textContent = title(journey);
  const customer = journey.name.split('/')[1];
  const state = journey.state === 'JOURNEY_STATE_ACTIVE' ? '' : ` · ${humanize(journey.state.replace('JOURNEY_STATE_', ''))}`;
  $('#journey-meta').replaceChildren(
    `Customer ${customer}${state} · last touch `, channelBadge(journey.channel), ' at ', timeEl(journey.updateTime));
}

export function renderSteps(journey) {
  $('#steps').replaceChildren(...stepsOf(journey).map((s, i) => h('li', {
    class: s.status, 'aria-current': s.status === 'current' ? 'step' : undefined, dataset: { step: s.id },
  },
  h('span', { class: 'num', 'aria-hidden': 'true' }, s.status === 'done' ? '✓' : String(i + 1)),
  ' ', s.title,
  s.status === 'current' ? h('span', { class: 'now' }, ' · customer is here') : null,
  s.status === 'todo' ? h('span', { class: 'sr-only' }, ' (not reached yet)') : null)));
}

/**
 * Every answer, grouped by step. Answers that changed since `before` are
 * marked, so a change the customer just made stands out.
 */
export function renderAnswers(journey, before, onEdit) {
  const groups = answerGroups(journey);
  const steps = stepsOf(journey);
  const current = journey.step;
  const editable = journey.state === 'JOURNEY_STATE_ACTIVE';
  const sections = groups.map((g) => h('section', {
    class: `group${g.id === current ? ' current' : ''}`, 'aria-labelledby': `group-${g.id || 'other'}`, dataset: { group: g.id },
  },
  h('h3', { id: `group-${g.id || 'other'}` }, g.title, g.id === current ? h('span', { class: 'tag' }, 'current step') : null),
  h('dl', {}, g.answers.map((a) => {
    const changed = before && !same(valueAt(before, a.path), a.value);
    return h('div', { class: `answer${changed ? ' changed' : ''}`, dataset: { path: a.path } },
      h('dt', {}, a.label),
      h('dd', {},
        h('span', { class: 'value' }, a.text),
        changed ? h('span', { class: 'sr-only' }, ' (just changed)') : null,
        editable && isEditable(a.value)
          ? h('button', { type: 'button', class: 'edit quiet', 'aria-label': `Edit ${a.label}`, dataset: { path: a.path }, onclick: () => onEdit(a.path) }, 'Edit')
          : null));
  }))));
  if (!groups.some((g) => g.id === current) && steps.some((s) => s.id === current)) {
    const s = steps.find((x) => x.id === current);
    sections.push(h('section', { class: 'group current', dataset: { group: current } },
      h('h3', {}, s.title, h('span', { class: 'tag' }, 'current step')),
      h('p', { class: 'hint' }, 'No answers on this step yet.')));
  }
  $('#answers').replaceChildren(...sections);
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
 * person fold into one line, so views do not drown out what happened.
 */
export function renderTimeline(touchpoints, me) {
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
    const what = KINDS[tp.kind] || humanize(String(tp.kind).replace('TOUCHPOINT_KIND_', ''));
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
          tp.step ? ` · at step ${humanize(tp.step)}` : ''),
        t ? h('div', { class: 'tp-note' }, `${t.fromAgent} → ${t.toAgent || 'the open queue'} (${channelInfo(t.toChannel).label})`) : null,
        tp.note ? h('div', { class: 'tp-note' }, `“${tp.note}”`) : null));
  }));
  if (list.dataset.stick !== 'no') list.scrollTop = list.scrollHeight;
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

/** One line per open journey found by customer number. */
export function renderResults(journeys, onOpen) {
  const list = $('#results');
  list.hidden = false;
  if (!journeys.length) {
    list.replaceChildren(h('li', { class: 'hint' }, 'No open journeys for this customer.'));
    return;
  }
  list.replaceChildren(...journeys.map((j) => h('li', {},
    h('button', { type: 'button', class: 'result', onclick: () => onOpen(j.name) },
      h('strong', {}, title(j)),
      h('span', { class: 'hint' }, ` at ${humanize(j.step || 'start')} · ${formatTime(j.updateTime)}`),
      j.assignee ? h('span', { class: 'hint' }, ` · held by ${j.assigneeDisplayName || j.assignee}`) : null))));
}
