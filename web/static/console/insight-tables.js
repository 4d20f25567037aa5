// The tables under the journey map: every figure the map draws, readable
// with a keyboard and a screen reader, each with a "Download CSV" made in
// the page from the table itself (so the file holds what is shown, in
// numbers a spreadsheet reads: counts, rates as fractions, times in
// seconds).

import { h } from '/assets/ui.js';
import { fmtCount, fmtRate, fmtDuration, channelLabel, fmtDay } from '/console/insight-model.js';

// A cell: what the table shows and what the CSV holds.
const count = (n) => ({ text: fmtCount(n), value: n, num: true });
const rate = (r) => ({ text: fmtRate(r), value: Number(r.toFixed(6)), num: true });
const time = (s) => ({ text: fmtDuration(s), value: s === null ? '' : Number(s.toFixed(3)), num: true });
const text = (t) => ({ text: t, value: t });

/**
 * The tables of a model (insight-model.js): [{id, title, note, columns:
 * [{label, csv}], rows, foot}], rows being lists of cells.
 */
export function tablesOf(m) {
  const stepCell = (st) => text(st.title);
  const all = m.steps;
  const resumed = all.reduce((a, st) => a + st.resumed, 0);
  const moves = all.flatMap((st) => [
    ...st.switches.map((f) => ({ st, kind: 'Changed channel', f })),
    ...st.resumes.map((f) => ({ st, kind: 'Resumed by staff', f, resume: true })),
  ]).filter((x) => x.f.count > 0);
  const started = m.entryChannels.reduce((a, e) => a + e.started, 0);
  const completed = m.entryChannels.reduce((a, e) => a + e.completed, 0);
  return [
    {
      id: 'funnel',
      title: 'Funnel',
      note: 'Journeys whose furthest step became this one, and of those how many went on to a later step or were completed; the others stopped there.',
      columns: [col('Step'), idCol, col('Moment of truth'), col('Reached'), col('Went on', 'Left forward'), col('Stopped'), col('Drop-off', 'Drop-off rate')],
      rows: all.map((st) => [stepCell(st), text(st.id), text(st.momentOfTruth ? 'yes' : ''), count(st.reached), count(st.leftForward), count(st.stopped), rate(st.dropOffRate)]),
    },
    {
      id: 'resumes',
      title: 'Resumes by staff and the wait for them',
      note: 'A code redeemed, a caller identified or a case claimed, first since the customer last saved; the wait is the time from that save.',
      columns: [col('Step'), idCol, col('Resumed'), col('Resume rate'), col('Waits timed'), col('Wait p50', 'Wait p50 (s)'), col('Wait p90', 'Wait p90 (s)')],
      rows: all.map((st) => [stepCell(st), text(st.id), count(st.resumed), rate(st.resumeRate), count(st.timeToResume.count), time(st.timeToResume.p50), time(st.timeToResume.p90)]),
      foot: [[text('All steps'), text(''), count(resumed), text(''), count(m.timeToResume.count), time(m.timeToResume.p50), time(m.timeToResume.p90)]],
    },
    {
      id: 'expiries',
      title: 'Expiries',
      note: m.expiredThrough
        ? `Active journeys that expired on the step, on days through ${fmtDay(m.expiredThrough)} (a day counts once it has ended).`
        : 'None of these days has ended yet, so no expiry is counted.',
      columns: [col('Step'), idCol, col('Expired'), col('Never resumed', 'Expired never resumed')],
      rows: all.map((st) => [stepCell(st), text(st.id), count(st.expired), count(st.expiredUnresumed)]),
    },
    {
      id: 'moves',
      title: 'Channel changes per step',
      note: 'Touches on another channel than the touch before (a resume by staff is one too), and resumes by staff, per pair of channels; a resume\'s rate is of the journeys that reached the step.',
      columns: [col('Step'), idCol, col('What'), col('From'), col('To'), col('Journeys'), col('Rate')],
      rows: moves.map(({ st, kind, f, resume }) => [stepCell(st), text(st.id), text(kind), text(channelLabel(f.from)), text(channelLabel(f.to)), count(f.count),
        resume ? rate(f.rate) : { text: '', value: '', num: true }]),
      empty: 'No journey changed channel in these days.',
    },
    {
      id: 'entry-channels',
      title: 'Completion by entry channel',
      note: 'The channel a journey started on, and how many of those started in these days were completed in them.',
      columns: [col('Entry channel'), col('Started'), col('Completed'), col('Completion rate')],
      rows: m.entryChannels.map((e) => [text(channelLabel(e.channel)), count(e.started), count(e.completed), rate(e.completionRate)]),
      foot: [[text('All channels'), count(started), count(completed), rate(started ? completed / started : 0)]],
      empty: 'No journey started in these days.',
    },
    {
      id: 'reminders',
      title: 'Reminders',
      note: 'Reminders sent before a journey expires, and the journeys the customer saved again after one.',
      columns: [col('Sent'), col('Brought back'), col('Rate')],
      rows: [[count(m.reminders.sent), count(m.reminders.broughtBack), rate(m.reminders.rate)]],
    },
  ];
}

function col(label, csv = label) {
  return { label, csv };
}

// The step's id is in the file (a key that stays when a label changes)
// but not on screen, where the step's title says it.
const idCol = { label: 'Step id', csv: 'Step id', fileOnly: true };

/**
 * renderTables(container, model, {fileStem}) draws every table with its
 * Download CSV button; files are named `<fileStem>-<table>.csv`.
 */
export function renderTables(container, m, { fileStem = 'insight' } = {}) {
  container.replaceChildren(...tablesOf(m).map((t) => {
    const headId = `table-${t.id}-title`;
    const table = h('table', { id: `table-${t.id}`, class: 'figures-table', 'aria-labelledby': headId },
      h('thead', {}, h('tr', {}, t.columns.map((c, i) => h('th', {
        scope: 'col', class: cls(c.fileOnly && 'file-only', t.rows[0]?.[i]?.num && 'num'), dataset: { csv: c.csv },
      }, c.label)))),
      h('tbody', {}, t.rows.length
        ? t.rows.map((r) => row(r, t.columns))
        : h('tr', { class: 'empty-row' }, h('td', { colspan: t.columns.length }, t.empty || 'Nothing in these days.'))),
      t.foot ? h('tfoot', {}, t.foot.map((r) => row(r, t.columns, true))) : null);
    const file = `${fileStem}-${t.id}.csv`;
    return h('section', { class: 'table-section', 'aria-labelledby': headId, dataset: { table: t.id } },
      h('div', { class: 'table-head' },
        h('h2', { id: headId }, t.title),
        h('button', {
          type: 'button', class: 'csv quiet', 'aria-label': `Download ${t.title} as CSV`, dataset: { file },
          onclick: () => download(file, tableCSV(table)),
        }, 'Download CSV')),
      h('p', { class: 'hint' }, t.note),
      h('div', { class: 'table-wrap' }, table));
  }));
}

function row(cells, columns, foot = false) {
  return h('tr', {}, cells.map((c, i) => h(foot && i === 0 ? 'th' : 'td', {
    class: cls(columns[i].fileOnly && 'file-only', c.num && 'num'), scope: foot && i === 0 ? 'row' : undefined, dataset: { value: String(c.value) },
  }, c.text)));
}

const cls = (...names) => names.filter(Boolean).join(' ') || undefined;

/**
 * tableCSV(table) is the table as CSV (RFC 4180, CRLF line ends): the
 * header's CSV names, then every row of the body and the foot, each cell's
 * data-value (its number) or else its text. A table with no rows is its
 * header alone.
 */
export function tableCSV(table) {
  const lines = [[...table.querySelectorAll('thead th')].map((th) => th.dataset.csv || th.textContent)];
  for (const tr of table.querySelectorAll('tbody tr:not(.empty-row), tfoot tr')) {
    lines.push([...tr.cells].map((td) => td.dataset.value ?? td.textContent));
  }
  return lines.map((l) => l.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** One CSV field: quoted when it must be; text a spreadsheet would run as a formula is kept text. */
export function csvField(v) {
  let s = String(v ?? '');
  if (/^[=+\-@\t\r]/.test(s) && s.length > 1 && !/^-?\d+(\.\d+)?$/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Hands text to the browser as a file download, made in the page (nothing goes to the server). */
export function download(name, content) {
  const url = URL.createObjectURL(new Blob([content], { type: 'text/csv;charset=utf-8' }));
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
