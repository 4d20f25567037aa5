// Editing one answer, with the input its journey type asks for. The edit
// remembers the journey it started from; the website kit saves with that
// etag, so a customer's save in the meantime comes back as a conflict with
// both values and the agent chooses. Nothing is overwritten without the
// agent seeing the customer's newer value. Masked answers are never
// offered here: their masked value saved back would replace the real one.

import { ConflictError, get, same, unflatten } from '/sdk/handoff.js';
import { fieldFor, formatValue, humanize, inputAttrs, optionValue } from '/forms/forms.js';
import { h, $, describeError, formatTime } from '/assets/ui.js';

let edit = null; // {path, field, base, baseValue, conflict}

/** Opens the editor for the answer at path, as the session's journey has it now; form is its type's (or null). */
export function openEditor(session, path, { form, onSaved, whoSaved }) {
  const journey = session.journey;
  const value = get(journey.data, path);
  const field = fieldFor(form, path) || inferField(path, value);
  edit = { session, path, field, base: journey, baseValue: value, conflict: null, onSaved, whoSaved };
  const id = 'editor-input';
  const label = field.label;
  const step = form?.steps.find((s) => s.id === path.split('.')[0])?.title || humanize(path.split('.')[0]);
  $('#editor-title').textContent = `Edit: ${label}`;
  $('#editor-step').textContent = `Step: ${step}. Saved value when you opened this: ${formatValue(field, value)}`;
  let input;
  if (field.kind === 'select') {
    input = h('select', { id }, h('option', { value: '' }, '—'), field.options.map((o) => h('option', { value: String(o.value) }, o.label)));
    input.value = value === undefined ? '' : String(value);
  } else if (field.kind === 'checkbox') {
    input = h('input', { id, type: 'checkbox' });
    input.checked = value === true;
  } else {
    // The schema's hints, but not `required`: the agent may clear an answer.
    const attrs = { ...inputAttrs(field), id, required: undefined, autocomplete: 'off' };
    input = h(field.kind === 'textarea' ? 'textarea' : 'input', attrs);
    input.value = value === undefined || value === null ? '' : String(value);
  }
  $('#editor-field').replaceChildren(h('label', { for: id }, label), input,
    field.hint ? h('p', { class: 'hint' }, field.hint) : null);
  $('#editor-live').hidden = true;
  $('#editor-conflict').hidden = true;
  $('#editor-actions').hidden = false;
  $('#editor-error').textContent = '';
  $('#editor').showModal();
  input.focus();
  if (input.select) input.select();
}

/** Called on every change while the editor is open: says when the answer moved under the agent. */
export function editorSees(journey) {
  if (!edit || edit.conflict) return;
  const now = get(journey.data, edit.path);
  const live = $('#editor-live');
  if (same(now, edit.baseValue)) {
    live.hidden = true;
    return;
  }
  live.textContent = `${edit.whoSaved()} just changed this to “${formatValue(edit.field, now)}”. If you save, you will be asked which value to keep.`;
  live.hidden = false;
}

export function editing() { return edit?.path || ''; }

/**
 * The answer the input holds. Emptied, it is removed (undefined): an empty
 * string is no answer to a type, whose schemas mostly refuse one. A journey
 * of no declared type keeps its empty answer, as it always did.
 */
function read() {
  const el = $('#editor-input');
  const f = edit.field;
  if (f.kind === 'checkbox') return el.checked;
  const v = el.value.trim();
  if (v === '') return f.free ? '' : undefined;
  if (f.kind === 'select') return optionValue(f, v);
  if (f.number) return Number(v);
  return v;
}

async function save(base) {
  const mine = read();
  $('#editor-error').textContent = '';
  $('#editor-save').disabled = true;
  try {
    const change = mine === undefined ? { remove: [edit.path] } : { data: unflatten({ [edit.path]: mine }) };
    const j = await edit.session.save(change, { base, expect: base === edit.base ? { [edit.path]: edit.baseValue } : {} });
    const { onSaved, path } = edit;
    close();
    onSaved(j, path);
  } catch (err) {
    if (err instanceof ConflictError) showConflict(err);
    else $('#editor-error').textContent = describeError(err);
  } finally {
    $('#editor-save').disabled = false;
  }
}

function showConflict(err) {
  const c = err.conflicts.find((x) => x.path === edit.path) || err.conflicts[0];
  edit.conflict = { journey: err.journey, theirs: c.theirs, mine: c.mine };
  $('#conflict-theirs-label').textContent = `${edit.whoSaved()} saved (${formatTime(err.journey.updateTime)})`;
  $('#conflict-theirs').textContent = formatValue(edit.field, c.theirs);
  $('#conflict-mine').textContent = formatValue(edit.field, c.mine);
  $('#editor-live').hidden = true;
  $('#editor-actions').hidden = true;
  $('#editor-conflict').hidden = false;
  $('#keep-mine').focus();
}

function close() {
  const path = edit?.path;
  edit = null;
  if ($('#editor').open) $('#editor').close();
  // The answers may have been drawn again meanwhile: find the button anew.
  if (path) document.querySelector(`button.edit[data-path="${CSS.escape(path)}"]`)?.focus();
}

export function wireEditor({ onKeptTheirs }) {
  $('#editor-form').addEventListener('submit', (e) => {
    e.preventDefault();
    if (edit && !edit.conflict) save(edit.base);
  });
  $('#editor-cancel').addEventListener('click', close);
  $('#editor').addEventListener('cancel', (e) => {
    e.preventDefault();
    close();
  });
  $('#keep-mine').addEventListener('click', () => {
    if (!edit?.conflict) return;
    // Save over the value the agent has now seen, and only that one.
    const base = edit.conflict.journey;
    edit.conflict = null;
    $('#editor-conflict').hidden = true;
    $('#editor-actions').hidden = false;
    save(base);
  });
  $('#take-theirs').addEventListener('click', () => {
    if (!edit?.conflict) return;
    const { path, field, conflict } = edit;
    close();
    onKeptTheirs(path, formatValue(field, conflict.theirs));
  });
}

// A journey of no declared type: the input follows the value saved.
function inferField(path, value) {
  const label = humanize(path.split('.').at(-1));
  const base = { key: path.split('.').at(-1), path, label, hint: '', required: false, sensitive: false, options: [], schema: {}, free: true };
  if (typeof value === 'number') return { ...base, kind: 'number', number: true };
  if (typeof value === 'boolean') return { ...base, kind: 'checkbox', number: false };
  return { ...base, kind: 'text', number: false };
}
