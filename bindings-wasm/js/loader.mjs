// One loading of a wasm module, however often it is asked for (internal):
// what `init()` of `hystrix-resilience/init` and of
// `hystrix-resilience/dashboard/init` share.

/**
 * A function that runs `load(source)` once and returns its promise to every
 * caller, or a resolved one once `loaded()` says so; after a failure the
 * next call runs `load` again.
 * @template S
 * @param {(source: S | undefined) => Promise<void>} load
 * @param {() => boolean} loaded
 * @returns {(source?: S) => Promise<void>}
 */
export function loadOnce(load, loaded) {
  /** @type {Promise<void> | null} */
  let loading = null;
  return (source) => {
    if (loaded()) return Promise.resolve();
    if (loading === null) {
      loading = load(source).catch((e) => {
        loading = null;
        throw e;
      });
    }
    return loading;
  };
}
