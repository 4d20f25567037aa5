// What a journey's answers mean to a person: labels, step order and
// readable values. Journey types without a form description still read
// well: keys are turned into words ("birthYear" → "Birth year").

import carInsuranceQuote from './car-insurance-quote.js';

const forms = { [carInsuranceQuote.journeyType]: carInsuranceQuote };

/** The form description of a journey type, or null. */
export function formFor(journeyType) {
  return forms[journeyType] || null;
}

/** humanize('birthYear') is 'Birth year'; humanize('car-insurance-quote') is 'Car insurance quote'. */
export function humanize(key) {
  const words = String(key)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_.]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The readable form of an answer: option labels, Yes/No, dates, lists. */
export function formatValue(field, value) {
  if (value === undefined || value === null || value === '') return '—';
  if (field?.options) {
    const opt = field.options.find((o) => String(o.value) === String(value));
    if (opt) return opt.label;
  }
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (field?.type === 'date' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const d = new Date(`${value}T00:00:00`);
    return d.toLocaleDateString(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
  }
  if (Array.isArray(value)) return value.map((v) => formatValue(null, v)).join(', ');
  if (typeof value === 'object') {
    return Object.entries(value).map(([k, v]) => `${humanize(k)}: ${formatValue(null, v)}`).join('; ');
  }
  return String(value);
}

/**
 * The steps of a journey in order, each {id, title, status}, status being
 * 'done', 'current' or 'todo'. Without a form description the steps are the
 * answer groups in the order they were saved, then the current step.
 */
export function stepsOf(journey) {
  const form = formFor(journey.journeyType);
  const ids = form ? form.steps.map((s) => s.id) : Object.keys(journey.data || {}).filter((k) => isGroup(journey.data[k]));
  if (journey.step && !ids.includes(journey.step)) ids.push(journey.step);
  const cur = ids.indexOf(journey.step);
  return ids.map((id, i) => ({
    id,
    title: form?.steps.find((s) => s.id === id)?.title || humanize(id),
    status: i === cur ? 'current' : (cur === -1 || i < cur ? 'done' : 'todo'),
  }));
}

/**
 * Every answer, grouped by step: [{id, title, answers: [{path, label,
 * value, text, field}]}]. Known fields come in form order, then anything
 * else the website saved, so nothing is hidden.
 */
export function answerGroups(journey) {
  const data = journey.data || {};
  const form = formFor(journey.journeyType);
  const groups = [];
  const seen = new Set();
  const addGroup = (id, title, fields) => {
    const values = isGroup(data[id]) ? data[id] : {};
    const answers = [];
    for (const f of fields) {
      if (f.key in values) answers.push(answer(`${id}.${f.key}`, f.label, values[f.key], f));
    }
    for (const [k, v] of Object.entries(values)) {
      if (!fields.some((f) => f.key === k)) answers.push(answer(`${id}.${k}`, humanize(k), v, null));
    }
    if (answers.length) groups.push({ id, title, answers });
    seen.add(id);
  };
  for (const s of form?.steps || []) addGroup(s.id, s.title, s.fields);
  for (const [k, v] of Object.entries(data)) {
    if (!seen.has(k) && isGroup(v)) addGroup(k, humanize(k), []);
  }
  const loose = Object.entries(data).filter(([k, v]) => !seen.has(k) && !isGroup(v));
  if (loose.length) {
    groups.push({ id: '', title: 'Other answers', answers: loose.map(([k, v]) => answer(k, humanize(k), v, null)) });
  }
  return groups;
}

function answer(path, label, value, field) {
  return { path, label, value, text: formatValue(field, value), field };
}

function isGroup(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** fieldFor(journeyType, 'vehicle.plate'): the form's field for an answer path, or null. */
export function fieldFor(journeyType, path) {
  const [step, key] = path.split('.');
  return formFor(journeyType)?.steps.find((s) => s.id === step)?.fields.find((f) => f.key === key) || null;
}
