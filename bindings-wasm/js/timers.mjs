// Timer queue shared by the real and the virtual clock: timers fire by due
// time (whole milliseconds), then in arming order (SPEC §1).
//
// Built for the hot path (one timeout armed and cancelled per call): a
// timer is any object with a `fire()` method, stored in the array of its
// due millisecond; arming mostly hits the bucket of the previous arming,
// cancelling flags the timer and frees a bucket once nothing in it is live.

class Bucket {
  constructor(due) {
    this.due = due;
    this.items = [];
    this.next = 0; // index of the first item not yet fired
    this.live = 0;
  }
}

export class TimerQueue {
  constructor() {
    this._buckets = new Map(); // due -> Bucket
    this._heap = []; // distinct due times (min-heap)
    this._last = null; // the bucket armed last
  }

  /** Arms `timer` (an object with `fire()`) at `due`; returns it. Cancel with `cancel(timer)`. */
  arm(due, timer) {
    let b = this._last;
    if (b === null || b.due !== due) {
      // The previous bucket, if nothing in it is live, holds only garbage.
      if (b !== null && b.live === 0) this._buckets.delete(b.due);
      b = this._buckets.get(due);
      if (b === undefined) {
        b = new Bucket(due);
        this._buckets.set(due, b);
        heapPush(this._heap, due);
      }
      this._last = b;
    }
    timer._bucket = b;
    timer._due = due;
    b.items.push(timer);
    b.live++;
    return timer;
  }

  /** Disarms `timer`; whether it was armed. */
  cancel(timer) {
    const b = timer._bucket;
    if (b === null || b === undefined) return false;
    timer._bucket = null;
    if (--b.live === 0 && b !== this._last) this._buckets.delete(b.due);
    return true;
  }

  /** The earliest due time of a live timer, or undefined. */
  nextDue() {
    const heap = this._heap;
    while (heap.length > 0) {
      const due = heap[0];
      const b = this._buckets.get(due);
      if (b !== undefined && b.live > 0) return due;
      if (b !== undefined) {
        this._buckets.delete(due);
        if (this._last === b) this._last = null;
      }
      heapPop(heap);
    }
    return undefined;
  }

  /** Removes and returns the first live timer due at or before `now`, or undefined. */
  popDue(now) {
    const due = this.nextDue();
    if (due === undefined || due > now) return undefined;
    const b = this._buckets.get(due);
    while (b.next < b.items.length) {
      const t = b.items[b.next++];
      if (t._bucket === b) {
        t._bucket = null;
        if (--b.live === 0) {
          this._buckets.delete(due);
          if (this._last === b) this._last = null;
        }
        return t;
      }
    }
    return undefined;
  }
}

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

function heapPop(h) {
  const last = h.pop();
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
