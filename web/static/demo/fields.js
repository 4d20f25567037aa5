// The demo's inputs: one per answer a journey type declares, drawn from
// its definition (forms.js), with room beside it for the server's reason
// when it refuses the answer and for news of someone else's change. The
// page's state (what was saved, what is on screen) stays in demo.js.

import { inputAttrs, optionValue } from '/forms/forms.js';
import { h } from '/assets/ui.js';

/** fieldId(vehicle.plate's field) is 'f-vehicle-plate': the id of its input. */
export function fieldId(f) { return `f-${f.path.replace('.', '-')}`; }

/** The label, input, hint and message lines of a field. */
export function fieldEl(f) {
  const id = fieldId(f);
  const described = [f.hint && `${id}-hint`, `${id}-error`, `${id}-remote`].filter(Boolean).join(' ');
  const attrs = { ...inputAttrs(f), id, name: id, 'aria-describedby': described };
  let el;
  if (f.kind === 'select') {
    el = h('select', { id, name: id, required: f.required, 'aria-describedby': described },
      h('option', { value: '' }, 'Choose…'),
      f.options.map((o) => h('option', { value: String(o.value) }, o.label)));
  } else if (f.kind === 'checkbox') {
    el = h('input', { id, name: id, type: 'checkbox', required: f.required, 'aria-describedby': described });
  } else if (f.kind === 'textarea') {
    el = h('textarea', attrs);
  } else {
    el = h('input', { ...attrs, title: attrs.pattern ? f.hint || undefined : undefined });
  }
  el.dataset.path = f.path;
  el.addEventListener('input', () => {
    clearRemote(f.path);
    refused(f.path, '');
  });
  const error = h('p', { id: `${id}-error`, class: 'field-error' });
  const remote = h('p', { id: `${id}-remote`, class: 'remote', 'aria-live': 'polite' });
  const star = f.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null;
  if (f.kind === 'checkbox') {
    return h('div', { class: 'field check' }, el, h('label', { for: id }, f.label, star), error, remote);
  }
  return h('div', { class: 'field' },
    h('label', { for: id }, f.label, star),
    el,
    f.hint ? h('p', { id: `${id}-hint`, class: 'hint' }, f.hint) : null,
    error,
    remote);
}

/** The input of an answer path. */
export function input(path) { return document.querySelector(`[data-path="${CSS.escape(path)}"]`); }

/** The answer an input holds, as saved: numbers as numbers, an empty field as ''. */
export function read(f) {
  const el = input(f.path);
  if (f.kind === 'checkbox') return el.checked;
  const v = el.value.trim();
  if (v === '') return '';
  if (f.kind === 'select') return optionValue(f, v);
  if (f.number) return Number(v);
  return v;
}

/** Shows a saved answer in its input. */
export function write(f, value) {
  const el = input(f.path);
  if (f.kind === 'checkbox') el.checked = value === true;
  else el.value = value === undefined || value === null ? '' : String(value);
}

/** A line beside the field about someone else's doing ('warn' and 'info' colour it). */
export function note(path, text, kind = '') {
  const el = document.getElementById(`${input(path).id}-remote`);
  el.textContent = text;
  el.className = `remote ${kind}`;
}

export function clearRemote(path) {
  const el = input(path);
  el.classList.remove('updated');
  document.getElementById(`${el.id}-remote`).textContent = '';
}

/** Shows (or, with '', clears) why the server refused an answer, next to its field. */
export function refused(path, reason) {
  const el = input(path);
  // The server's reasons start in lower case, to follow a field's name.
  document.getElementById(`${el.id}-error`).textContent = reason && reason.charAt(0).toUpperCase() + reason.slice(1);
  if (reason) el.setAttribute('aria-invalid', 'true');
  else el.removeAttribute('aria-invalid');
}
