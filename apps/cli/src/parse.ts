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

/** A commander parser for a finite number in [min, max]; the message names the flag. */
export function parseNumber(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number < min || number > max) {
      throw new InvalidArgumentError(`${flag} must be a number in [${min}, ${max}], got '${value}'`);
    }
    return number;
  };
}
