import { InvalidArgumentError } from 'commander';

/** A commander parser for a whole number ≥ `min`; the message names the flag. */
export function parseCount(flag: string, min = 1): (value: string) => number {
  return (value) => {
    if (!/^\s*\d+\s*$/.test(value) || Number(value) < min) {
      throw new InvalidArgumentError(`${flag} must be a whole number of at least ${min}, got '${value}'`);
    }
    return Number(value);
  };
}
