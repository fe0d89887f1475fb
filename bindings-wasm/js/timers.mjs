// Timer queue shared by the real and the virtual clock: timers fire by due
// time (whole milliseconds), then in arming order (SPEC §1). Arming and
// cancelling are O(1) apart from one heap push per distinct due time.

export class TimerQueue {
  constructor() {
    this._buckets = new Map(); // due -> Set of timers, in arming order
    this._heap = []; // distinct due times (min-heap)
  }

  /** Arms `fn` at `due`; returns a timer with `cancel()`. */
  arm(due, fn) {
    const timer = { due, fn, queue: this, cancel: cancelTimer };
    let bucket = this._buckets.get(due);
    if (bucket === undefined) {
      bucket = new Set();
      this._buckets.set(due, bucket);
      heapPush(this._heap, due);
    }
    bucket.add(timer);
    return timer;
  }

  /** The earliest due time of a live timer, or undefined. */
  nextDue() {
    const heap = this._heap;
    while (heap.length > 0) {
      const due = heap[0];
      const bucket = this._buckets.get(due);
      if (bucket !== undefined && bucket.size > 0) return due;
      this._buckets.delete(due);
      heapPop(heap);
    }
    return undefined;
  }

  /** Removes and returns the first timer due at or before `now`, or undefined. */
  popDue(now) {
    const due = this.nextDue();
    if (due === undefined || due > now) return undefined;
    const bucket = this._buckets.get(due);
    const timer = bucket.values().next().value;
    bucket.delete(timer);
    timer.queue = null;
    return timer;
  }
}

function cancelTimer() {
  const q = this.queue;
  if (q === null) return;
  this.queue = null;
  const bucket = q._buckets.get(this.due);
  if (bucket !== undefined) bucket.delete(this);
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
