// handoff.js: the website kit for handoff. One ES module, no dependencies.
//
//   import { HandoffClient, JourneySession } from '/sdk/handoff.js';
//   const client = new HandoffClient({ token, channel: 'web' });
//   const session = await JourneySession.start(client, {
//     customer: 'c-42', journeyType: 'car-insurance-quote', step: 'vehicle' });
//   await session.save({ step: 'driver', data: { vehicle: { plate: 'AB-123-C' } } });
//   const { code, expireTime } = await session.continueByPhone();
//   session.watch({ onChange: (journey) => render(journey) });
//
// docs/integration.md in the handoff repository is the guide.

const GRPC_CODES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND',
  'ALREADY_EXISTS', 'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION',
  'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** The channels a call can come from, as the X-Handoff-Channel header names them. */
export const CHANNELS = ['web', 'app', 'phone', 'chat', 'social', 'email', 'in_person'];

/** channelEnum('in_person') is 'CHANNEL_IN_PERSON', as the JSON API spells it. */
export function channelEnum(channel) {
  if (!channel) return 'CHANNEL_UNSPECIFIED';
  const c = String(channel).toUpperCase().replace(/-/g, '_');
  return c.startsWith('CHANNEL_') ? c : `CHANNEL_${c}`;
}

/** channelName('CHANNEL_IN_PERSON') is 'in_person'. */
export function channelName(value) {
  return String(value || '').replace(/^CHANNEL_/, '').toLowerCase();
}

/**
 * A call the API refused. `code` is the gRPC code name ('ABORTED',
 * 'NOT_FOUND', ...), `status` the HTTP status, `fieldViolations` the
 * google.rpc.BadRequest entries ({field, reason, description}) when there
 * are any; reason is a stable word such as 'ANSWER_TOO_LONG'.
 */
export class HandoffError extends Error {
  constructor(status, body) {
    const message = (body && body.message) || `HTTP ${status}`;
    super(message);
    this.name = 'HandoffError';
    this.status = status;
    this.code = typeof body?.code === 'number' ? (GRPC_CODES[body.code] || String(body.code)) : (body?.code || 'UNKNOWN');
    this.details = body?.details || [];
    this.fieldViolations = this.details.flatMap((d) => d.fieldViolations || []);
  }
}

/**
 * A save that would overwrite answers someone else changed since the caller
 * read them. Nothing was saved. `conflicts` lists each answer with the
 * caller's value (`mine`), the value now saved (`theirs`) and the value the
 * caller started from (`base`); `journey` is the journey as it is now.
 * Save again with `{ base: err.journey }` to keep yours.
 */
export class ConflictError extends Error {
  constructor(conflicts, journey) {
    super(`${conflicts.length} answer(s) changed since you read them: ${conflicts.map((c) => c.path).join(', ')}`);
    this.name = 'ConflictError';
    this.code = 'ABORTED';
    this.conflicts = conflicts;
    this.journey = journey;
  }
}

/** A thin client for the REST API. Every method returns the JSON answer or throws HandoffError. */
export class HandoffClient {
  /**
   * @param {object} opts
   * @param {string} opts.token bearer token
   * @param {string} [opts.channel] the channel calls come from: 'web' (default) or 'app' with a
   *   customer token; any of CHANNELS with an agent or service token (a customer stating 'phone' gets 403)
   * @param {string} [opts.channelDetail] where on that channel: staff write free text; with a customer or
   *   service token a source name ('whatsapp', 1 to 32 letters, digits, '.', '_', '-'), recorded as 'customer: whatsapp'
   * @param {string} [opts.baseUrl] where handoffd answers; default this origin
   */
  constructor({ token, channel = 'web', channelDetail = '', baseUrl = '', fetch: fetchFn } = {}) {
    this.token = token;
    this.channel = channel;
    this.channelDetail = channelDetail;
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.fetch = fetchFn || globalThis.fetch.bind(globalThis);
  }

  async call(method, path, { query, body } = {}) {
    const q = query ? new URLSearchParams(Object.entries(query).filter(([, v]) => v !== undefined && v !== '')) : null;
    const url = `${this.baseUrl}/v1/${path}${q && q.size ? `?${q}` : ''}`;
    const headers = { Authorization: `Bearer ${this.token}`, Accept: 'application/json' };
    if (this.channel) headers['X-Handoff-Channel'] = this.channel;
    if (this.channelDetail) headers['X-Handoff-Channel-Detail'] = this.channelDetail;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let resp;
    try {
      resp = await this.fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (e) {
      throw new HandoffError(0, { code: 14, message: `cannot reach handoff: ${e.message}` });
    }
    const text = await resp.text();
    let json = null;
    try { json = text ? JSON.parse(text) : {}; } catch { json = { message: text.trim() }; }
    if (!resp.ok) throw new HandoffError(resp.status, json);
    return json;
  }

  createJourney(customer, { journeyType, step, data, journeyId, requestId } = {}) {
    return this.call('POST', `customers/${enc(customer)}/journeys`, {
      query: { journeyId, requestId },
      body: prune({ journeyType, step, data }),
    });
  }

  /**
   * The journey; with {view: 'full'} also who last changed each answer
   * (answerProvenance), which a website rarely needs and the store reads
   * only when asked.
   */
  getJourney(name, { view } = {}) { return this.call('GET', name, { query: { view: journeyView(view) } }); }

  async listJourneys(customer, { state = 'JOURNEY_STATE_ACTIVE', pageSize } = {}) {
    const out = [];
    let pageToken;
    do {
      const page = await this.call('GET', `customers/${enc(customer)}/journeys`, { query: { state, pageSize, pageToken } });
      out.push(...(page.journeys || []));
      pageToken = page.nextPageToken;
    } while (pageToken);
    return out;
  }

  /** The timeline, oldest first: every page, or only the first with {all: false}. */
  async listTouchpoints(name, { pageSize, all = true } = {}) {
    const out = [];
    let pageToken;
    do {
      const page = await this.call('GET', `${name}/touchpoints`, { query: { pageSize, pageToken } });
      out.push(...(page.touchpoints || []));
      pageToken = all ? page.nextPageToken : undefined;
    } while (pageToken);
    return out;
  }

  /** A raw save: exactly the keys in data (and step, when given); etag makes it conditional. */
  updateJourney(name, { etag, step, data, updateMask } = {}) {
    return this.call('PATCH', name, {
      query: { updateMask: updateMask && updateMask.join(',') },
      body: prune({ etag, step, data }),
    });
  }

  handoff(name, { note } = {}) { return this.call('POST', `${name}:handoff`, { body: prune({ note }) }); }
  redeem(code, { view } = {}) {
    return this.call('POST', `handoffs/${enc(String(code).trim())}:redeem`, { body: prune({ view: journeyView(view) }) });
  }
  claim(name, { takeOver } = {}) { return this.call('POST', `${name}:claim`, { body: prune({ takeOver }) }); }
  release(name, { note } = {}) { return this.call('POST', `${name}:release`, { body: prune({ note }) }); }
  transfer(name, { toAgent, toChannel, note } = {}) {
    return this.call('POST', `${name}:transfer`, {
      body: prune({ toAgent, toChannel: toChannel ? channelEnum(toChannel) : undefined, note }),
    });
  }
  complete(name, { etag, note } = {}) { return this.call('POST', `${name}:complete`, { body: prune({ etag, note }) }); }
  abandon(name, { etag, note } = {}) { return this.call('POST', `${name}:abandon`, { body: prune({ etag, note }) }); }

  /** Follows a journey live; see JourneyWatch. */
  watch(name, handlers = {}) { return new JourneyWatch(this, name, handlers); }
}

/**
 * A live view of one journey over Server-Sent Events. The first event is
 * the journey as it is (`snapshot: true`), then every change in revision
 * order. The browser's EventSource reconnects by itself with Last-Event-ID;
 * when it gives up (the server refused, or was gone), the watch opens a new
 * one with after_revision, backing off up to 30 s, unless the refusal is
 * final (bad token, no such journey), which goes to onError.
 */
export class JourneyWatch {
  #es = null;
  #timer = 0;
  #backoff = 1000;
  #closed = false;

  /**
   * @param {HandoffClient} client
   * @param {string} name the journey
   * @param {object} h
   * @param {(change: object) => void} h.onChange every change: {revision, journey, touchpoints, snapshot, changedPaths}; apply it with applyChange
   * @param {(state: 'connecting'|'live'|'reconnecting'|'closed') => void} [h.onState]
   * @param {(err: HandoffError) => void} [h.onError] the watch stopped for good
   * @param {number} [h.afterRevision] start after this revision instead of with a snapshot
   */
  constructor(client, name, { onChange, onState, onError, afterRevision = 0 } = {}) {
    this.client = client;
    this.name = name;
    this.revision = afterRevision;
    this.onChange = onChange || (() => {});
    this.onState = onState || (() => {});
    this.onError = onError || (() => {});
    this.state = '';
    this.#open();
  }

  close() {
    this.#closed = true;
    clearTimeout(this.#timer);
    if (this.#es) this.#es.close();
    this.#setState('closed');
  }

  #setState(s) {
    if (this.state !== s) { this.state = s; this.onState(s); }
  }

  #open() {
    if (this.#closed) return;
    this.#setState(this.state === '' ? 'connecting' : 'reconnecting');
    const q = new URLSearchParams({ access_token: this.client.token });
    if (this.revision > 0) q.set('after_revision', String(this.revision));
    const es = new EventSource(`${this.client.baseUrl}/v1/${this.name}:watch?${q}`);
    this.#es = es;
    es.addEventListener('open', () => { this.#backoff = 1000; this.#setState('live'); });
    es.addEventListener('change', (e) => {
      this.#backoff = 1000;
      this.#setState('live');
      let c;
      try { c = JSON.parse(e.data); } catch { return; }
      const rev = Number(c.revision);
      if (!c.snapshot && rev <= this.revision) return; // already seen
      this.revision = rev;
      c.revision = rev;
      c.touchpoints = c.touchpoints || [];
      this.onChange(c);
    });
    // Two kinds of `error`: the server's own `event: error` (a status as
    // data, the stream then ends and EventSource reconnects by itself), and
    // the browser's connection error (no data).
    es.addEventListener('error', (e) => {
      if (this.#closed || es !== this.#es) return;
      if (e.data) {
        let st = {};
        try { st = JSON.parse(e.data); } catch { /* keep {} */ }
        const err = new HandoffError(0, st);
        if (final(err.code)) { this.#stop(err); return; }
        this.#setState('reconnecting');
        return;
      }
      if (es.readyState === EventSource.CLOSED) {
        this.#retryOrStop();
      } else {
        this.#setState('reconnecting');
      }
    });
  }

  // EventSource gave up: it does not say why, so ask the API with the same
  // token (the timeline: an unaudited read) and stop only on a final answer.
  async #retryOrStop() {
    this.#es.close();
    this.#setState('reconnecting');
    try {
      await this.client.listTouchpoints(this.name, { pageSize: 1, all: false });
    } catch (err) {
      if (err instanceof HandoffError && final(err.code)) { this.#stop(err); return; }
    }
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#open(), this.#backoff);
    this.#backoff = Math.min(this.#backoff * 2, 30000);
  }

  #stop(err) {
    this.close();
    this.onError(err);
  }
}

function final(code) {
  return ['UNAUTHENTICATED', 'PERMISSION_DENIED', 'NOT_FOUND', 'INVALID_ARGUMENT'].includes(code);
}

/**
 * One customer's journey as a website (or console) works on it: create or
 * resume, save with etags and without losing anyone's answers, ask for a
 * code, follow changes live. `journey` is always the newest version the
 * session has seen.
 */
export class JourneySession {
  constructor(client, journey, { storage, storageKey } = {}) {
    this.client = client;
    this.journey = journey;
    this.storage = storage;
    this.storageKey = storageKey;
    this.watcher = null;
  }

  get name() { return this.journey.name; }
  get etag() { return this.journey.etag; }

  /**
   * Resumes the journey this browser started (its name is kept in
   * localStorage under storageKey) while it is still active, or starts a
   * new one. A create that failed half-way is retried with the same request
   * id, so it never makes two journeys.
   */
  static async start(client, { customer, journeyType, step, data, storage = globalThis.localStorage,
    storageKey = `handoff:${customer}:${journeyType}` } = {}) {
    const saved = storage?.getItem(storageKey);
    if (saved) {
      try {
        const j = await client.getJourney(saved);
        if (j.state === 'JOURNEY_STATE_ACTIVE') return new JourneySession(client, j, { storage, storageKey });
      } catch (err) {
        if (!(err instanceof HandoffError) || err.code !== 'NOT_FOUND') throw err;
      }
    }
    let requestId = storage?.getItem(`${storageKey}:request`);
    if (!requestId) {
      requestId = randomId();
      storage?.setItem(`${storageKey}:request`, requestId);
    }
    const j = await client.createJourney(customer, { journeyType, step, data, requestId });
    storage?.setItem(storageKey, j.name);
    storage?.removeItem(`${storageKey}:request`);
    return new JourneySession(client, j, { storage, storageKey });
  }

  /** Forgets the journey in this browser (after it is completed, say). */
  forget() {
    this.storage?.removeItem(this.storageKey);
  }

  /** Takes a newer version of the journey (from a read, a save or a watch). */
  adopt(journey) {
    if (!this.journey || Number(journey.revision) >= Number(this.journey.revision)) this.journey = journey;
    return this.journey;
  }

  async refresh() {
    return this.adopt(await this.client.getJourney(this.name));
  }

  /**
   * Saves the step and the answers in `data` (nested like the journey's
   * data; only the keys given are saved). Safe against lost updates:
   *
   * - It is sent with the etag of `base` (default: the newest journey this
   *   session has seen). When the server answers 409, the journey is read
   *   again and the save is retried as long as none of the answers it
   *   carries changed since `base`; answers changed by someone else end in
   *   a ConflictError with both values, and nothing is saved.
   * - `expect` names the value an answer had when the user started editing
   *   it ({'vehicle.plate': 'AB-123-C'}), for pages that show live changes:
   *   the session's journey may already hold someone else's newer value.
   * - `remove` names answers to remove ('vehicle.year'), as a user who
   *   empties a field means; they are checked like the answers in data
   *   (a removal's `mine` is undefined).
   *
   * Answers whose value is already what you send are not sent. Resolves to
   * the saved journey.
   */
  async save({ step, data, remove = [] } = {}, { base = this.journey, expect = {} } = {}) {
    const mine = leaves(data || {});
    for (const p of remove) mine[p] = undefined;
    const expected = {};
    for (const p of Object.keys(mine)) expected[p] = p in expect ? expect[p] : get(base.data, p);
    let current = base;
    for (let attempt = 0; attempt < 5; attempt++) {
      const conflicts = [];
      const send = {};
      const removing = [];
      for (const [p, v] of Object.entries(mine)) {
        const now = get(current.data, p);
        if (same(now, v)) continue; // nothing to do for this answer
        if (!same(now, expected[p])) conflicts.push({ path: p, mine: v, theirs: now, base: expected[p] });
        else if (v === undefined) removing.push(p);
        else send[p] = v;
      }
      if (conflicts.length) {
        this.adopt(current);
        throw new ConflictError(conflicts, current);
      }
      const stepChanges = step !== undefined && step !== current.step;
      if (!stepChanges && Object.keys(send).length === 0 && removing.length === 0) return this.adopt(current);
      try {
        const saved = await this.client.updateJourney(this.name, {
          etag: current.etag,
          step: stepChanges ? step : undefined,
          data: Object.keys(send).length ? unflatten(send) : undefined,
          // A removal is a path named in the mask and absent from the body;
          // without one the server derives the mask from the body.
          updateMask: removing.length
            ? [...(stepChanges ? ['step'] : []), ...[...Object.keys(send), ...removing].map((p) => `data.${p}`)]
            : undefined,
        });
        return this.adopt(saved);
      } catch (err) {
        if (!(err instanceof HandoffError) || err.code !== 'ABORTED') throw err;
        current = await this.client.getJourney(this.name);
        this.adopt(current);
      }
    }
    throw new HandoffError(409, { code: 10, message: 'the journey kept changing while saving; try again' });
  }

  /**
   * Asks for a code the customer reads out to an agent. Resolves to
   * {code: 'K7QM-X2HD', expireTime, spoken: 'K 7 Q M, X 2 H D'}.
   */
  async continueByPhone({ note } = {}) {
    const r = await this.client.handoff(this.name, { note });
    const code = groupCode(r.code);
    return { code, expireTime: r.expireTime, spoken: code.split('-').map((g) => g.split('').join(' ')).join(', ') };
  }

  /**
   * Follows the journey live: onChange(journey, change) for every newer
   * version, whoever made it. Returns the JourneyWatch (close() it).
   */
  watch({ onChange = () => {}, onState, onError } = {}) {
    if (this.watcher) this.watcher.close();
    this.watcher = this.client.watch(this.name, {
      onState,
      onError,
      onChange: (c) => {
        const before = this.journey;
        if (c.journey && (c.snapshot || Number(c.revision) > Number(before.revision))) this.journey = applyChange(before, c);
        onChange(this.journey, c, before);
      },
    });
    return this.watcher;
  }
}

/** groupCode('k7qmx2hd') is 'K7QM-X2HD'. */
export function groupCode(code) {
  const raw = String(code).replace(/[\s-]/g, '').toUpperCase();
  return raw.match(/.{1,4}/g)?.join('-') || raw;
}

/**
 * applyChange(journey, change) is the journey after a watched change. A
 * snapshot is the whole journey; a change carries only what it changed:
 * `change.changedPaths` names the fields (`step`, `assignee`, ...), `data`
 * (every answer replaced) and answers (`data.vehicle.plate`), and
 * `change.journey` holds their values after the change. A path named but
 * absent was cleared (an answer: removed). `journey` is left as it was.
 */
export function applyChange(journey, change) {
  if (change.snapshot || !journey) return change.journey;
  const next = structuredClone(journey);
  const from = change.journey || {};
  for (const p of change.changedPaths || []) {
    if (p === 'data') {
      next.data = structuredClone(from.data || {});
    } else if (p.startsWith('data.')) {
      const path = p.slice('data.'.length);
      const v = get(from.data, path);
      next.data ??= {};
      if (v === undefined) removeAt(next.data, path);
      else setAt(next.data, path, structuredClone(v));
    } else {
      // Paths are the .proto's field names; JSON spells them in camelCase.
      const key = p.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
      if (key in from) next[key] = structuredClone(from[key]);
      else delete next[key];
    }
  }
  next.revision = change.revision;
  return next;
}

function setAt(data, path, v) {
  const keys = path.split('.');
  let o = data;
  for (const k of keys.slice(0, -1)) {
    if (o[k] === null || typeof o[k] !== 'object' || Array.isArray(o[k])) o[k] = {};
    o = o[k];
  }
  o[keys.at(-1)] = v;
}

// removeAt deletes the answer at path; objects emptied on the way stay, as
// the server keeps them.
function removeAt(data, path) {
  const keys = path.split('.');
  let o = data;
  for (const k of keys.slice(0, -1)) {
    o = o?.[k];
    if (o === null || typeof o !== 'object' || Array.isArray(o)) return;
  }
  delete o[keys.at(-1)];
}

/** get(data, 'vehicle.plate'): the answer at a dotted path, or undefined. */
export function get(data, path) {
  let v = data;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !(k in v)) return undefined;
    v = v[k];
  }
  return v;
}

/** leaves({vehicle: {plate: 'X'}}) is {'vehicle.plate': 'X'}; arrays are answers, not folders. */
export function leaves(obj, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(obj)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) leaves(v, p, out);
    else if (v !== undefined) out[p] = v;
  }
  return out;
}

/** unflatten({'vehicle.plate': 'X'}) is {vehicle: {plate: 'X'}}. */
export function unflatten(flat) {
  const out = {};
  for (const [p, v] of Object.entries(flat)) {
    const keys = p.split('.');
    let o = out;
    for (const k of keys.slice(0, -1)) o = (o[k] ??= {});
    o[keys.at(-1)] = v;
  }
  return out;
}

/** same(a, b): equal as JSON values, whatever the key order. */
export function same(a, b) {
  return canonical(a) === canonical(b);
}

function canonical(v) {
  if (v === undefined) return 'undefined';
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
}

/** journeyView('full') is the API's JOURNEY_VIEW_FULL; undefined stays undefined. */
function journeyView(view) {
  return view ? `JOURNEY_VIEW_${String(view).toUpperCase()}` : undefined;
}

function prune(o) {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));
}

function enc(s) { return encodeURIComponent(s); }

function randomId() {
  const b = new Uint8Array(12);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
