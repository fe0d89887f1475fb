// The stack headroom check in front of every call into the wasm (issue 11,
// item 1). A JS caller that has almost used up the stack (a recursion bug)
// must not run out of it inside a wasm frame: the engine's RangeError would
// unwind the Rust code wherever it stands — mid-allocation, a lock or a
// wasm-bindgen borrow held, a permit taken and not yet recorded — and break
// the instance for every command. So before each crossing the glue calls
// `probe`, a wasm function whose frame is `HEADROOM` bytes: engines check
// a frame that large against the stack limit before making it (V8: Liftoff
// and TurboFan alike, for any frame over 4 KB), so `probe` returns only if
// that much stack is free, and throws the engine's RangeError otherwise —
// before anything in the instance changed. It costs one call and one
// compare. What a crossing itself needs (its deepest chain of wasm frames,
// the wasm-bindgen glue around it, a listener's delivery shim) stays well
// below `HEADROOM` (BENCHMARKS.md, "Session 9: a JS caller out of stack").

/** Bytes of stack that must be free before any call into the wasm. */
export const HEADROOM = 64 << 10;

/** Values kept live across a call per batch (V8 allows up to 1000 results). */
const PER_BATCH = 1024 / 2;
/** f64 value type. */
const F64 = 0x7c;

/**
 * The probe module's bytes (about 1 KB): `probe()` keeps `HEADROOM / 8`
 * f64 values live across a call, which no register file holds, so every
 * tier gives it that many spill slots. They are only made under a flag
 * that is never set (a mutable global: no compiler can fold it away), so
 * a call reserves the frame, checks it, and returns.
 * @returns {Uint8Array<ArrayBuffer>}
 */
function probeBytes() {
  /** @param {number} n @returns {number[]} */
  const leb = (n) => {
    const out = [];
    do {
      const b = n & 0x7f;
      n >>>= 7;
      out.push(n === 0 ? b : b | 0x80);
    } while (n !== 0);
    return out;
  };
  /** @param {number[][]} items @returns {number[]} */
  const vec = (items) => [...leb(items.length), ...items.flat()];
  /** @param {number} id @param {number[]} body @returns {number[]} */
  const section = (id, body) => [id, ...leb(body.length), ...body];
  /** @param {string} s @returns {number[]} */
  const name = (s) => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];
  const many = new Array(PER_BATCH).fill(F64);
  const batches = HEADROOM / 8 / PER_BATCH;
  // Types: 0 `[] -> []`, 1 `[] -> [f64 x PER_BATCH]`, 2 `[f64 x PER_BATCH] -> []`.
  const types = vec([[0x60, 0, 0], [0x60, 0, ...leb(PER_BATCH), ...many], [0x60, ...leb(PER_BATCH), ...many, 0]]);
  // Imports (functions 0 and 1, never called): a source and a sink of values.
  const imports = vec([
    [...name("h"), ...name("make"), 0, 1],
    [...name("h"), ...name("take"), 0, 2],
  ]);
  const body = [0, 0x23, 0, 0x04, 0x40]; // no locals; global.get 0; if
  for (let i = 0; i < batches; i++) body.push(0x10, 0); // call make
  body.push(0x10, 2); // call probe: the values stay live across it
  for (let i = 0; i < batches; i++) body.push(0x10, 1); // call take
  body.push(0x0b, 0x0b); // end if; end
  return new Uint8Array([
    ...[0, 0x61, 0x73, 0x6d, 1, 0, 0, 0],
    ...section(1, types),
    ...section(2, imports),
    ...section(3, vec([[0]])), // function 2 (`probe`): type 0
    ...section(6, vec([[0x7f, 1, 0x41, 0, 0x0b]])), // global 0: mutable i32 = 0
    ...section(7, vec([[...name("probe"), 0, 2]])),
    ...section(10, vec([[...leb(body.length), ...body]])),
  ]);
}

/** Never called: the probe's value source and sink (only under its flag). */
const unused = () => {
  throw new Error("hystrix: internal error: the stack probe's flag was set");
};

/**
 * Returns if `HEADROOM` bytes of stack are free; else throws the engine's
 * RangeError ("Maximum call stack size exceeded"), having changed nothing.
 * @type {() => void}
 */
export const probe = /** @type {() => void} */ (
  new WebAssembly.Instance(new WebAssembly.Module(probeBytes()), { h: { make: unused, take: unused } }).exports.probe
);

/**
 * Puts `probe` in front of every method of a wasm-bindgen class — static
 * or not, getters too — except the hot ones in `hot`, which the caller
 * wraps with fixed arity (a rest-argument wrapper costs tens of ns).
 * Constructors are not methods: their callers call `probe` first.
 * @param {Function} cls
 * @param {string[]} hot
 */
export function guardClass(cls, hot) {
  for (const target of [cls, cls.prototype]) {
    for (const key of Reflect.ownKeys(target)) {
      if (typeof key === "string" && (key === "constructor" || key.startsWith("__") || hot.includes(key))) continue;
      const d = /** @type {PropertyDescriptor} */ (Reflect.getOwnPropertyDescriptor(target, key));
      if (typeof d.value === "function") {
        const fn = d.value;
        d.value = guarded(fn);
      } else if (typeof d.get === "function") d.get = guarded(d.get);
      else continue;
      Reflect.defineProperty(target, key, d);
    }
  }
}

/**
 * `fn` behind the probe.
 * @template {(...args: any[]) => any} F
 * @param {F} fn
 * @returns {F}
 */
export function guarded(fn) {
  return /** @type {F} */ (
    /** @this {unknown} @param {any[]} args */
    function (...args) {
      probe();
      return fn.apply(this, args);
    }
  );
}
