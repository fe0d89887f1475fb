// Timer queue shared by the real and the virtual clock: timers fire by due
// time (whole milliseconds), then in arming order (SPEC §1).
//
// Built for the hot path (one timeout armed and cancelled per call): a
// timer is any object with a `fire()` method. Timers due in the same
// millisecond form an intrusive doubly-linked list (the timer object holds
// its own links), so arming appends and cancelling unlinks in a few field
// writes, with no array to grow and nothing kept alive after a cancel.
// Arming mostly hits the list of one of the last two armings: a retried
// call alternates between two due times (its timeout's and its 0 ms
// backoff's), so the two buckets armed last are kept, even empty, and
// arming into either allocates nothing and touches no Map. A bucket's due
// time is in the heap at most once while it is marked `queued`; entries
// whose bucket emptied or went are skipped (and dropped) when they reach
// the top, so cancelling never searches the heap.

/**
 * What a queue arms: `fire()`, and the links the queue writes into it
 * (absent until first armed; `_bucket` null once fired or cancelled).
 * @typedef {{
 *   fire(): void,
 *   _bucket?: Bucket | null,
 *   _due?: number,
 *   _prev?: Timer | null,
 *   _next?: Timer | null,
 * }} Timer
 */

/** The timers of one due time, in arming order. */
class Bucket {
  /**
   * @param {TimerQueue} queue
   * @param {number} due
   */
  constructor(queue, due) {
    this.queue = queue;
    this.due = due;
    /** @type {Timer | null} */
    this.head = null;
    /** @type {Timer | null} */
    this.tail = null;
    // Whether `due` is in the queue's heap for this bucket (then it stays
    // there until popped: a non-empty bucket is always queued).
    this.queued = false;
  }
}

/** Timers by due time, then arming order. */
export class TimerQueue {
  constructor() {
    /** @type {Map<number, Bucket>} */
    this._buckets = new Map(); // due -> Bucket with at least one timer, or one of the last two armed
    /** @type {number[]} */
    this._heap = []; // due times of queued buckets (min-heap; stale entries skipped)
    /** @type {Bucket | null} */
    this._last = null; // the bucket armed last
    /** @type {Bucket | null} */
    this._lastButOne = null; // the bucket armed last before `_last` (another due time)
  }

  /**
   * Arms `timer` (an object with `fire()`) at `due`; returns it. Cancel with
   * `cancel(timer)`. A timer armed already is moved (re-armed last).
   * @template {Timer} T
   * @param {number} due
   * @param {T} timer
   * @returns {T}
   */
  arm(due, timer) {
    if (timer._bucket != null) this.cancel(timer);
    let b = this._last;
    if (b === null || b.due !== due) b = this._bucketFor(due);
    if (!b.queued) {
      b.queued = true;
      heapPush(this._heap, due);
    }
    const tail = b.tail;
    timer._bucket = b;
    timer._due = due;
    timer._prev = tail;
    timer._next = null;
    if (tail === null) b.head = timer;
    else tail._next = timer;
    b.tail = timer;
    return timer;
  }

  /**
   * The bucket of `due` (not `_last`'s), made the last armed.
   * @param {number} due
   */
  _bucketFor(due) {
    const older = this._lastButOne;
    this._lastButOne = this._last;
    if (older !== null && older.due === due) return (this._last = older);
    // `older` leaves the two kept: dropped if nothing needs it any more.
    if (older !== null) this._drop(older);
    let b = this._buckets.get(due);
    if (b === undefined) {
      b = new Bucket(this, due);
      this._buckets.set(due, b);
    }
    return (this._last = b);
  }

  /**
   * Forgets bucket `b` if it is empty and not one of the two kept (its
   * heap entry, if any, is skipped when it reaches the top).
   * @param {Bucket} b
   */
  _drop(b) {
    if (b.head === null && b !== this._last && b !== this._lastButOne) this._buckets.delete(b.due);
  }

  /**
   * Disarms `timer`; whether it was armed.
   * @param {Timer} timer
   */
  cancel(timer) {
    const b = timer._bucket;
    // Not armed, or armed on another queue.
    if (b === null || b === undefined || b.queue !== this) return false;
    unlink(b, timer);
    this._drop(b);
    return true;
  }

  /** The earliest due time of an armed timer, or undefined. */
  nextDue() {
    const heap = this._heap;
    while (heap.length > 0) {
      const due = heap[0];
      const b = this._buckets.get(due);
      if (b !== undefined && b.head !== null) return due;
      heapPop(heap);
      if (b !== undefined) {
        b.queued = false;
        this._drop(b);
      }
    }
    return undefined;
  }

  /**
   * Removes and returns the first armed timer due at or before `now`, or undefined.
   * @param {number} now
   * @returns {Timer | undefined}
   */
  popDue(now) {
    const due = this.nextDue();
    if (due === undefined || due > now) return undefined;
    // nextDue() returned a due time whose bucket has a timer.
    const b = /** @type {Bucket} */ (this._buckets.get(due));
    const t = /** @type {Timer} */ (b.head);
    unlink(b, t);
    this._drop(b);
    return t;
  }
}

/**
 * Takes `t` out of bucket `b`'s list.
 * @param {Bucket} b
 * @param {Timer} t
 */
function unlink(b, t) {
  // An armed timer has both links (arm() wrote them).
  const prev = /** @type {Timer | null} */ (t._prev);
  const next = /** @type {Timer | null} */ (t._next);
  if (prev === null) b.head = next;
  else prev._next = next;
  if (next === null) b.tail = prev;
  else next._prev = prev;
  t._bucket = null;
  t._prev = null;
  t._next = null;
}

/**
 * Adds `v` to the min-heap `h`.
 * @param {number[]} h
 * @param {number} v
 */
function heapPush(h, v) {
  h.push(v);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p] <= v) break;
    h[i] = h[p];
    i = p;
  }
  h[i] = v;
}

/**
 * Removes the least value of the min-heap `h`.
 * @param {number[]} h
 */
function heapPop(h) {
  const last = /** @type {number} */ (h.pop());
  if (h.length === 0) return;
  let i = 0;
  const n = h.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && h[r] < h[l] ? r : l;
    if (h[c] >= last) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = last;
}
