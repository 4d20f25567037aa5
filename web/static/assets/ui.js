// Small helpers the console and the demo share: building DOM without
// innerHTML (so answers are never read as markup), channel names and icons,
// times.

/** h('p', {class: 'x', onclick: f}, 'text', child): an element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** $('#id'): the one element, or an error naming the selector. */
export function $(sel, root = document) {
  const el = root.querySelector(sel);
  if (!el) throw new Error(`no element ${sel}`);
  return el;
}

// Channel icons are drawn as inline SVG: emoji fonts are missing on many
// desks (and in headless browsers), and inline SVG needs nothing from CSP.
const ICONS = {
  web: [['circle', { cx: 12, cy: 12, r: 9 }], ['path', { d: 'M3 12h18M12 3c3.5 3.5 3.5 14.5 0 18M12 3c-3.5 3.5-3.5 14.5 0 18' }]],
  app: [['rect', { x: 7, y: 2.5, width: 10, height: 19, rx: 2 }], ['path', { d: 'M11 18h2' }]],
  phone: [['path', { d: 'M5 3.5h3.5l2 5-2.5 1.6a11 11 0 0 0 5.4 5.4l1.6-2.5 5 2V19a2 2 0 0 1-2 2A17 17 0 0 1 3 5.5a2 2 0 0 1 2-2z' }]],
  chat: [['path', { d: 'M4 4.5h16v11.5H10l-6 4.5z' }], ['path', { d: 'M8 9h8M8 12.5h5' }]],
  social: [['path', { d: 'M3 10v4h3l9 5.5V4.5L6 10z' }], ['path', { d: 'M18.5 8.5a5 5 0 0 1 0 7' }]],
  email: [['rect', { x: 3, y: 5, width: 18, height: 14, rx: 2 }], ['path', { d: 'M3.5 6.5l8.5 6.5 8.5-6.5' }]],
  in_person: [['path', { d: 'M4.5 10.5V20h15v-9.5M3 10.5 5 4h14l2 6.5z' }], ['path', { d: 'M10 20v-5.5h4V20' }]],
  unknown: [['circle', { cx: 12, cy: 12, r: 3 }]],
};

const CHANNELS = {
  CHANNEL_WEB: { icon: 'web', label: 'Web' },
  CHANNEL_APP: { icon: 'app', label: 'App' },
  CHANNEL_PHONE: { icon: 'phone', label: 'Phone' },
  CHANNEL_CHAT: { icon: 'chat', label: 'Chat' },
  CHANNEL_SOCIAL: { icon: 'social', label: 'Social media' },
  CHANNEL_EMAIL: { icon: 'email', label: 'E-mail' },
  CHANNEL_IN_PERSON: { icon: 'in_person', label: 'In person' },
};

/** channelInfo('CHANNEL_PHONE') is {icon: 'phone', label: 'Phone'}. */
export function channelInfo(value) {
  return CHANNELS[value] || { icon: 'unknown', label: 'Unknown channel' };
}

/** The icon of a channel as an SVG element, hidden from screen readers (the label says it). */
export function channelIcon(value) {
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  for (const [tag, attrs] of ICONS[channelInfo(value).icon]) {
    const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
    svg.append(el);
  }
  return svg;
}

/** A channel as its icon and its name. */
export function channelBadge(value) {
  return h('span', { class: 'channel' }, channelIcon(value), channelInfo(value).label);
}

/** 14:32:05 (today) or 3 Dec, 14:32 (another day). */
export function formatTime(ts) {
  if (!ts) return '';
  const d = new Date(ts);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : d.toLocaleString(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
}

/** A <time> element for a timestamp. */
export function timeEl(ts) {
  return h('time', { datetime: ts }, formatTime(ts));
}

/** The message a person should read for an error from the SDK. */
export function describeError(err) {
  if (!err) return '';
  const v = (err.fieldViolations || []).map((f) => `${f.field}: ${f.description}`);
  if (err.code === 'UNAUTHENTICATED') return 'That token was not accepted. Sign out and sign in with a valid token.';
  if (err.code === 'PERMISSION_DENIED') return `Your token may not do this: ${err.message}`;
  return v.length && !err.message.includes(v[0]) ? `${err.message} (${v.join('; ')})` : err.message;
}
