/**
 * Argument checks shared by every public entry point. Messages follow one pattern:
 * "Cannot {action} as '{name}' must be {rule}: current value is {value}".
 *
 * @module
 */

/** Renders a value for an error message. */
export function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value) ?? String(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/**
 * Checks that `value` is an integer in `[min, max]`.
 *
 * @throws {TypeError} If it is not a number.
 * @throws {RangeError} If it is not a safe integer or is out of range.
 */
export function checkInteger(
  action: string,
  name: string,
  value: unknown,
  min: number = Number.MIN_SAFE_INTEGER,
  max: number = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a number: current value is ${show(value)}`,
    );
  }
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const rule = max === Number.MAX_SAFE_INTEGER
      ? min === Number.MIN_SAFE_INTEGER ? "a safe integer" : `an integer >= ${min}`
      : `an integer from ${min} to ${max}`;
    throw new RangeError(
      `Cannot ${action} as '${name}' must be ${rule}: current value is ${value}`,
    );
  }
}

/**
 * Checks that `value` is a finite number greater than 0 and at most `max`.
 *
 * @throws {TypeError} If it is not a number.
 * @throws {RangeError} If it is not finite, not positive, or above `max`.
 */
export function checkPositive(
  action: string,
  name: string,
  value: unknown,
  max: number = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== "number") {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a number: current value is ${show(value)}`,
    );
  }
  if (!(value > 0 && value <= max)) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be a number > 0 and <= ${max}: current value is ${value}`,
    );
  }
}

/**
 * Checks that `value` is one of `allowed`.
 *
 * @throws {TypeError} If it is not.
 */
export function checkOneOf<T extends string>(
  action: string,
  name: string,
  value: unknown,
  allowed: readonly T[],
): asserts value is T {
  if (!allowed.includes(value as T)) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be one of ${
        allowed.map((item) => JSON.stringify(item)).join(", ")
      }: current value is ${show(value)}`,
    );
  }
}

/**
 * Checks that `value` is a non-empty string.
 *
 * @throws {TypeError} If it is not.
 */
export function checkName(action: string, name: string, value: unknown): asserts value is string {
  if (typeof value !== "string" || value === "") {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be a non-empty string: current value is ${show(value)}`,
    );
  }
}

/**
 * Checks that `value` is an `AbortSignal` (or undefined).
 *
 * @throws {TypeError} If it is something else.
 */
export function checkSignal(
  action: string,
  value: unknown,
): asserts value is AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new TypeError(
      `Cannot ${action} as 'signal' must be an AbortSignal: current value is ${show(value)}`,
    );
  }
}

/**
 * Checks that `value` is a plain options object (or undefined).
 *
 * @throws {TypeError} If it is something else.
 */
export function checkObject(action: string, name: string, value: unknown): void {
  if (value !== undefined && (typeof value !== "object" || value === null)) {
    throw new TypeError(
      `Cannot ${action} as '${name}' must be an object: current value is ${show(value)}`,
    );
  }
}

/**
 * A user's clock, checked at every reading: it must give a finite number of milliseconds (a
 * `Date` would turn `now + timeout` into text).
 *
 * @throws {TypeError} From the returned function, when the clock gives anything else.
 */
export function checkedClock(action: string, clock: () => number): () => number {
  return () => {
    const ms = clock();
    if (typeof ms !== "number" || !Number.isFinite(ms)) {
      throw new TypeError(
        `Cannot ${action} as 'clock' must return a finite number of milliseconds: it returned ${
          show(ms)
        }`,
      );
    }
    return ms;
  };
}
