// The error taxonomy (SPEC §3) as Error subclasses with a stable `.code`
// (the number every binding shares) and `.kind` (the SPEC name).

export class HystrixError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

function kind(name, code, kindName, message) {
  const cls = {
    [name]: class extends HystrixError {
      constructor(msg = message, options) {
        super(msg, options);
      }
    },
  }[name];
  Object.defineProperty(cls.prototype, "code", { value: code, enumerable: true });
  Object.defineProperty(cls.prototype, "kind", { value: kindName, enumerable: true });
  return cls;
}

/** The circuit was open and no fallback answered. */
export const CircuitOpenError = kind("CircuitOpenError", 3, "short_circuited", "the circuit is open");
/** The bulkhead was full and no fallback answered. */
export const RejectedError = kind("RejectedError", 4, "rejected", "the bulkhead is full");
/** The run timed out and no fallback answered. */
export const TimeoutError = kind("TimeoutError", 2, "timeout", "the run timed out");
/** Throw (or reject with) this from a run for the caller's own fault: no fallback, not counted in health. */
export const BadRequestError = kind("BadRequestError", 5, "bad_request", "bad request");
/** Too many fallbacks were in flight; `.cause` is why the fallback was wanted. */
export const FallbackRejectedError = kind("FallbackRejectedError", 6, "fallback_rejected", "too many fallbacks in flight");
/** The fallback failed; `.cause` is its error, `.original` why it was wanted. */
export const FallbackFailedError = kind("FallbackFailedError", 7, "fallback_failure", "the fallback failed");
/** An option broke a rule; `.key` names it. */
export const InvalidConfigError = kind("InvalidConfigError", 8, "invalid_config", "invalid configuration");
/** The caller cancelled the call before it settled (semantics §18); never passed to a fallback. */
export const CancelledError = kind("CancelledError", 9, "cancelled", "the call was cancelled");
/** The rate limiter refused the call and no fallback answered (semantics §13). */
export const RateLimitedError = kind("RateLimitedError", 10, "rate_limited", "the rate limiter refused the call");
