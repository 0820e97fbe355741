/**
 * A whole-number option of a component (a poll interval, a number of attempts): the caller's
 * value, else the default, within its range. Out of range is a misconfiguration, refused when the
 * component is built with a RangeError that names the option, not found later as odd behaviour.
 */
export function wholeOption(
  name: string,
  value: number | undefined,
  fallback: number,
  [minimum, maximum]: readonly [number, number],
): number {
  const chosen = value ?? fallback;
  if (!Number.isSafeInteger(chosen) || chosen < minimum || chosen > maximum) {
    throw new RangeError(`${name} ${chosen} is not within ${minimum}..${maximum}`);
  }
  return chosen;
}
