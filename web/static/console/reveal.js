// Revealing a masked answer. The agent says why (1 to 200 characters); the
// server returns the value and records the reveal, reason included, on the
// timeline the customer reads. The value is shown to this agent in place
// and kept nowhere: the journey stays masked.

import { $, describeError } from '/assets/ui.js';

const MAX_REASON = 200;

let pending = null; // {path, reveal, onRevealed}

/** Asks for the reason to reveal the answer at path; reveal(path, reason) calls the server. */
export function openReveal(path, label, { reveal, onRevealed }) {
  pending = { path, reveal, onRevealed };
  $('#reveal-title').textContent = `Reveal: ${label}`;
  $('#reveal-reason').value = '';
  $('#reveal-error').textContent = '';
  $('#reveal').showModal();
  $('#reveal-reason').focus();
}

function close() {
  const path = pending?.path;
  pending = null;
  if ($('#reveal').open) $('#reveal').close();
  if (path) document.querySelector(`#answers button.reveal[data-path="${CSS.escape(path)}"]`)?.focus();
}

async function submit() {
  if (!pending) return;
  const reason = $('#reveal-reason').value.trim();
  if (!reason || [...reason].length > MAX_REASON) {
    $('#reveal-error').textContent = `Say why you need to see it, in 1 to ${MAX_REASON} characters: the customer reads it.`;
    $('#reveal-reason').focus();
    return;
  }
  $('#reveal-submit').disabled = true;
  $('#reveal-error').textContent = '';
  try {
    const { path, reveal, onRevealed } = pending;
    const r = await reveal(path, reason);
    pending = null;
    $('#reveal').close();
    onRevealed(path, r.value);
  } catch (err) {
    $('#reveal-error').textContent = describeError(err);
  } finally {
    $('#reveal-submit').disabled = false;
  }
}

export function wireReveal() {
  $('#reveal-form').addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  $('#reveal-cancel').addEventListener('click', close);
  $('#reveal').addEventListener('cancel', (e) => {
    e.preventDefault();
    close();
  });
}
