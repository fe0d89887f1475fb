// The error taxonomy (SPEC §3) as Error subclasses with a stable `.code`
// (the number every binding shares) and `.kind` (the SPEC name).
//
// Every error hystrix makes carries `.command` (the command's name), and
// `.setting`/`.value` (the option behind it and its value then); its
// `message` is built from them only when read (a getter), so making one
// on a refusal path costs no string work. Wording: semantics §3, "Error
// messages" (options named as the JS options are, in camelCase).
//
// Types: each export below is declared with its type from index.d.ts (the
// classes `kind` makes get `code`/`kind`/`message` from their prototype,
// which TypeScript cannot follow), so the glue is checked against the
// public declarations.

/** @typedef {import("./index.js").HystrixError} PublicHystrixError */

/** Base class of every error hystrix itself throws (its subclasses carry `code` and `kind`). */
export class HystrixError extends Error {
  /**
   * @param {string} [message]
   * @param {ErrorOptions} [options]
   */
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * `command 'NAME'`, or `an anonymous command`.
 * @param {string} command
 */
function who(command) {
  return command ? `command '${command}'` : "an anonymous command";
}

/**
 * A value's message for `(after: ...)`, never throwing.
 * @param {unknown} e
 */
function text(e) {
  try {
    return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  } catch {
    return "(unprintable)";
  }
}

/**
 * The message head of an error of `kind` from its fields (undefined without `.command`).
 * @param {PublicHystrixError & { key?: string, existing?: string, given?: string }} err
 */
function head(err) {
  if (err.command === undefined) return undefined;
  const w = who(err.command);
  const { setting, value } = err;
  switch (err.kind) {
    case "timeout":
      return `${w} timed out after ${value} ms (${setting})`;
    case "short_circuited":
      return setting === "forceOpen" ? `${w}: circuit open (forceOpen)` : `${w}: circuit open (${setting} ${value})`;
    case "rejected":
      return `${w} rejected: bulkhead full (${setting} ${value})`;
    case "rate_limited":
      return `${w} rate limited (${setting} ${value})`;
    case "fallback_rejected":
      return `${w}: fallback rejected (${setting} ${value})`;
    case "fallback_failure":
      return `${w}: the fallback failed`;
    case "cancelled":
      return `${w}: cancelled by the caller`;
    case "settings_conflict":
      return (
        `${w} already exists with ${err.key}=${err.existing}; got ${err.key}=${err.given}` +
        " — use configure() to change settings"
      );
    default:
      return undefined;
  }
}

/**
 * The error class `name` of `code`/`kindName`, whose message without
 * `.command` is `message`. Typed `any`: each export states its public type.
 * @param {string} name
 * @param {number} code
 * @param {string} kindName
 * @param {string} message
 * @returns {any}
 */
function kind(name, code, kindName, message) {
  const cls = {
    [name]: class extends HystrixError {
      /**
       * @param {string} [msg]
       * @param {ErrorOptions} [options]
       */
      constructor(msg, options) {
        // No message given: the prototype's getter builds it when read.
        super(msg, options);
      }
    },
  }[name];
  Object.defineProperty(cls.prototype, "code", { value: code, enumerable: true });
  Object.defineProperty(cls.prototype, "kind", { value: kindName, enumerable: true });
  Object.defineProperty(cls.prototype, "message", {
    /** @this {PublicHystrixError & { original?: unknown }} */
    get() {
      const h = head(this);
      if (h === undefined) return message;
      if (kindName === "fallback_rejected") return `${h} (after: ${text(this.cause)})`;
      if (kindName === "fallback_failure") return `${h}: ${text(this.cause)} (after: ${text(this.original)})`;
      return h;
    },
    // A message assigned later (or given to the constructor) is an own property.
    /**
     * @this {Error}
     * @param {string} v
     */
    set(v) {
      Object.defineProperty(this, "message", { value: v, writable: true, configurable: true, enumerable: false });
    },
    configurable: true,
  });
  return cls;
}

/**
 * Fills in where an error came from: `command` (the name), `setting` (the
 * option behind it, camelCase; "" when none) and `value` (its value then).
 * Returns `err`.
 * @template {PublicHystrixError} E
 * @param {E} err
 * @param {string} command
 * @param {string} setting
 * @param {number} value
 * @returns {E}
 */
export function located(err, command, setting, value) {
  err.command = command;
  err.setting = setting;
  err.value = value;
  return err;
}

/**
 * The circuit was open and no fallback answered; `.setting` is `sleepWindowMs` (or `forceOpen`).
 * @type {typeof import("./index.js").CircuitOpenError}
 */
export const CircuitOpenError = kind("CircuitOpenError", 3, "short_circuited", "the circuit is open");
/**
 * The bulkhead was full and no fallback answered; `.setting` is `maxConcurrentRequests` (or `limit`).
 * @type {typeof import("./index.js").RejectedError}
 */
export const RejectedError = kind("RejectedError", 4, "rejected", "the bulkhead is full");
/**
 * The run timed out and no fallback answered; `.setting` is `timeoutMs` (or `deadlineMs`).
 * @type {typeof import("./index.js").TimeoutError}
 */
export const TimeoutError = kind("TimeoutError", 2, "timeout", "the run timed out");
/**
 * Throw (or reject with) this from a run for the caller's own fault: no fallback, not counted in health.
 * @type {typeof import("./index.js").BadRequestError}
 */
export const BadRequestError = kind("BadRequestError", 5, "bad_request", "bad request");
/**
 * Too many fallbacks were in flight; `.cause` is why the fallback was wanted.
 * @type {typeof import("./index.js").FallbackRejectedError}
 */
export const FallbackRejectedError = kind("FallbackRejectedError", 6, "fallback_rejected", "too many fallbacks in flight");
/**
 * The fallback failed; `.cause` is its error, `.original` why it was wanted.
 * @type {typeof import("./index.js").FallbackFailedError}
 */
export const FallbackFailedError = kind("FallbackFailedError", 7, "fallback_failure", "the fallback failed");
/**
 * An option broke a rule; `.key` names it.
 * @type {typeof import("./index.js").InvalidConfigError}
 */
export const InvalidConfigError = kind("InvalidConfigError", 8, "invalid_config", "invalid configuration");
/**
 * The caller cancelled the call before it settled (semantics §18); never passed to a fallback.
 * @type {typeof import("./index.js").CancelledError}
 */
export const CancelledError = kind("CancelledError", 9, "cancelled", "the call was cancelled");
/**
 * The rate limiter refused the call and no fallback answered (semantics §13); `.setting` is `rateLimitForPeriod`.
 * @type {typeof import("./index.js").RateLimitedError}
 */
export const RateLimitedError = kind("RateLimitedError", 10, "rate_limited", "the rate limiter refused the call");
/**
 * A command of that name already exists with a different value for an
 * option given again (semantics §2, "One command per name"): `.command`,
 * `.key` (camelCase), `.existing` and `.given` (as JSON). Change settings
 * with `configure()`.
 * @type {typeof import("./index.js").SettingsConflictError}
 */
export const SettingsConflictError = kind(
  "SettingsConflictError",
  11,
  "settings_conflict",
  "a command of that name exists with other settings",
);
