// What a journey's answers mean to a person: labels, step order, inputs and
// readable values, drawn from the journey type's definition as the server
// keeps it (GET /v1/journeyTypes/{type}@{version}, docs/journeytypes.md).
// Nothing here knows any one type. Journeys of no declared type still read
// well: keys are turned into words ("birthYear" → "Birth year").

const cache = new Map(); // 'type@version' → Promise of the form

/**
 * The language labels are shown in: the page's (navigator.language, 'nl'
 * of 'nl-BE'); pick() falls back to English, then to the first there is.
 */
export const language = (globalThis.navigator?.language || 'en').split('-')[0].toLowerCase();

/** pick({en: 'Vehicle', nl: 'Voertuig'}) is the label in the page's language, else English, else the first; '' when none. */
export function pick(labels) {
  if (!labels || typeof labels !== 'object') return '';
  return labels[language] || labels.en || Object.values(labels).find(Boolean) || '';
}

/** typeRef(journey) is 'car-insurance-quote@1', or '' for a journey of no declared type. */
export function typeRef(journey) {
  const v = Number(journey?.journeyTypeVersion || 0);
  return journey?.journeyType && v > 0 ? `${journey.journeyType}@${v}` : '';
}

/**
 * The form of a journey type version, fetched once with the caller's
 * client and kept: a version never changes. ref is 'type@version' or a
 * journey; resolves to null for a journey of no declared type.
 */
export function loadForm(client, ref) {
  const key = typeof ref === 'string' ? ref : typeRef(ref);
  if (!key) return Promise.resolve(null);
  if (!cache.has(key)) {
    const p = client.call('GET', `journeyTypes/${key}`).then(formOf);
    // A failed fetch is not kept: the next draw asks again.
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return cache.get(key);
}

/**
 * The latest version of every journey type: [{id, version, title, form}].
 * Each form is kept under its version too, so drawing a journey of it
 * needs no second call.
 */
export async function listTypes(client) {
  const { journeyTypes = [] } = await client.call('GET', 'journeyTypes');
  return journeyTypes.map((def) => {
    const form = formOf(def);
    const key = `${form.journeyType}@${form.version}`;
    if (!cache.has(key)) cache.set(key, Promise.resolve(form));
    return { id: form.journeyType, version: form.version, title: form.title, form };
  });
}

/**
 * formOf(definition) turns a JourneyType as the API returns it into what a
 * page draws: {journeyType, version, title, steps: [{id, title, help,
 * momentOfTruth, next, fields: [{key, path, label, hint, kind, options,
 * required, sensitive, ...}]}]}, labels in the page's language.
 */
export function formOf(def) {
  const journeyType = String(def.name || '').replace(/^journeyTypes\//, '').replace(/@.*$/, '');
  const steps = (def.steps || []).map((s) => ({
    id: s.id,
    title: pick(s.label) || humanize(s.id),
    help: pick(s.help),
    momentOfTruth: Boolean(s.momentOfTruth),
    next: s.next || [],
    fields: (s.answers || []).map((a) => fieldOf(s.id, a)),
  }));
  return { journeyType, version: Number(def.version || 0), title: pick(def.title) || humanize(journeyType), steps };
}

function fieldOf(stepId, a) {
  const schema = a.schema || {};
  const options = (a.options || []).map((o) => ({ value: o.value, label: pick(o.label) || String(o.value) }));
  return {
    key: a.key,
    path: `${stepId}.${a.key}`,
    label: pick(a.label) || humanize(a.key),
    hint: pick(a.help),
    kind: a.kind || 'text',
    required: Boolean(a.required),
    sensitive: Boolean(a.sensitive),
    options,
    schema,
    // Whether the answer is saved as a number ('250', not '250').
    number: a.kind === 'number' || (schema.type === 'number' || schema.type === 'integer') ||
      (options.length > 0 && options.every((o) => typeof o.value === 'number')),
  };
}

/**
 * The HTML attributes an input for a field takes from its schema, where
 * HTML has them: min and max for numbers, minlength, maxlength and pattern
 * for text. The server checks the schema on every save in any case.
 */
export function inputAttrs(field) {
  const s = field.schema || {};
  const attrs = { required: field.required || undefined };
  switch (field.kind) {
    case 'number':
      attrs.type = 'number';
      attrs.min = s.minimum ?? s.exclusiveMinimum;
      attrs.max = s.maximum ?? s.exclusiveMaximum;
      attrs.step = s.type === 'integer' ? '1' : 'any';
      attrs.inputmode = s.type === 'integer' ? 'numeric' : 'decimal';
      break;
    case 'date':
      attrs.type = 'date';
      break;
    case 'email':
    case 'tel':
      attrs.type = field.kind;
      attrs.autocomplete = field.kind;
      break;
    case 'textarea':
      break;
    default:
      attrs.type = 'text';
  }
  if (['text', 'email', 'tel', 'textarea'].includes(field.kind)) {
    attrs.maxlength = s.maxLength;
    attrs.minlength = s.minLength;
    if (field.kind !== 'textarea') attrs.pattern = htmlPattern(s.pattern);
  }
  return attrs;
}

// A JSON Schema pattern matches anywhere unless anchored; an HTML pattern
// must match the whole value, and is compiled with the 'v' flag, which
// refuses some patterns JSON Schema takes: those are left to the server.
function htmlPattern(pattern) {
  if (typeof pattern !== 'string') return undefined;
  const p = `${pattern.startsWith('^') ? '' : '.*'}(?:${pattern})${pattern.endsWith('$') ? '' : '.*'}`;
  try {
    new RegExp(p, 'v');
    return p;
  } catch {
    return undefined;
  }
}

/** The value of an option element back as the answer: 250, not '250'. */
export function optionValue(field, text) {
  const opt = field.options.find((o) => String(o.value) === text);
  return opt ? opt.value : text;
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

/** Whether a value is what staff see of a sensitive answer: '•••• 4300' or '••••'. */
export function looksMasked(value) {
  return typeof value === 'string' && value.startsWith('••••');
}

/** The readable form of an answer: option labels, Yes/No, dates, lists. */
export function formatValue(field, value) {
  if (value === undefined || value === null || value === '') return '—';
  if (looksMasked(value)) return value;
  if (field?.options?.length) {
    const opt = field.options.find((o) => String(o.value) === String(value));
    if (opt) return opt.label;
  }
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (field?.kind === 'date' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const d = new Date(`${value}T00:00:00`);
    return d.toLocaleDateString(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
  }
  if (Array.isArray(value)) return value.map((v) => formatValue(null, v)).join(', ');
  if (typeof value === 'object') {
    return Object.entries(value).map(([k, v]) => `${humanize(k)}: ${formatValue(null, v)}`).join('; ');
  }
  return String(value);
}

/** The title of a journey: its type's, or its type name in words. */
export function titleOf(journey, form) {
  return form?.title || humanize(journey.journeyType || 'journey');
}

/**
 * The steps of a journey in order, each {id, title, status, momentOfTruth},
 * status being 'done', 'current' or 'todo'. Without a form the steps are
 * the answer groups in the order they were saved, then the current step.
 */
export function stepsOf(journey, form) {
  const ids = form ? form.steps.map((s) => s.id) : Object.keys(journey.data || {}).filter((k) => isGroup(journey.data[k]));
  if (journey.step && !ids.includes(journey.step)) ids.push(journey.step);
  const cur = ids.indexOf(journey.step);
  return ids.map((id, i) => {
    const s = form?.steps.find((x) => x.id === id);
    return {
      id,
      title: s?.title || humanize(id),
      momentOfTruth: Boolean(s?.momentOfTruth),
      status: i === cur ? 'current' : (cur === -1 || i < cur ? 'done' : 'todo'),
    };
  });
}

/** The answer paths in the order the type asks them; undeclared ones after, as given. */
export function inFormOrder(form, paths) {
  const order = new Map((form?.steps || []).flatMap((s) => s.fields.map((f) => f.path)).map((p, i) => [p, i]));
  const rank = (p) => (order.has(p) ? order.get(p) : order.size);
  return paths.map((p, i) => [p, i]).sort((a, b) => rank(a[0]) - rank(b[0]) || a[1] - b[1]).map(([p]) => p);
}

/** The label of an answer path: the field's, or its key in words. */
export function labelOf(form, path) {
  return fieldFor(form, path)?.label || humanize(String(path).split('.').at(-1));
}

/**
 * Every answer, grouped by step: [{id, title, momentOfTruth, answers:
 * [{path, label, value, text, field, masked}]}]. Known fields come in
 * definition order, then anything else saved, so nothing is hidden.
 */
export function answerGroups(journey, form) {
  const data = journey.data || {};
  const masked = new Set(journey.maskedAnswers || []);
  const groups = [];
  const seen = new Set();
  const answer = (path, label, value, field) => ({
    path, label, value, field,
    text: formatValue(field, value),
    // A watched change does not list masked paths: the definition says which are.
    masked: masked.has(path) || (Boolean(field?.sensitive) && looksMasked(value)),
  });
  const addGroup = (id, title, fields, momentOfTruth) => {
    const values = isGroup(data[id]) ? data[id] : {};
    const answers = [];
    for (const f of fields) {
      if (f.key in values) answers.push(answer(`${id}.${f.key}`, f.label, values[f.key], f));
    }
    for (const [k, v] of Object.entries(values)) {
      if (!fields.some((f) => f.key === k)) answers.push(answer(`${id}.${k}`, humanize(k), v, null));
    }
    if (answers.length) groups.push({ id, title, momentOfTruth, answers });
    seen.add(id);
  };
  for (const s of form?.steps || []) addGroup(s.id, s.title, s.fields, s.momentOfTruth);
  for (const [k, v] of Object.entries(data)) {
    if (!seen.has(k) && isGroup(v)) addGroup(k, humanize(k), [], false);
  }
  const loose = Object.entries(data).filter(([k, v]) => !seen.has(k) && !isGroup(v));
  if (loose.length) {
    groups.push({ id: '', title: 'Other answers', momentOfTruth: false, answers: loose.map(([k, v]) => answer(k, humanize(k), v, null)) });
  }
  return groups;
}

function isGroup(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** fieldFor(form, 'vehicle.plate'): the form's field for an answer path, or null. */
export function fieldFor(form, path) {
  const [step, key] = String(path).split('.');
  return form?.steps.find((s) => s.id === step)?.fields.find((f) => f.key === key) || null;
}

/** The step after stepId as the type says: the first of its next, else the following one; '' at the end. */
export function nextStep(form, stepId) {
  const i = form.steps.findIndex((s) => s.id === stepId);
  if (i === -1) return '';
  return form.steps[i].next[0] || form.steps[i + 1]?.id || '';
}

/**
 * The step before stepId on the way a customer comes (from the first step,
 * always taking the next one), else the previous one in order; '' at the
 * start. The server lets a journey go back to any earlier step.
 */
export function previousStep(form, stepId) {
  let at = form.steps[0]?.id || '';
  const seen = new Set();
  while (at && !seen.has(at)) {
    seen.add(at);
    const n = nextStep(form, at);
    if (n === stepId) return at;
    at = n;
  }
  const i = form.steps.findIndex((s) => s.id === stepId);
  return i > 0 ? form.steps[i - 1].id : '';
}
