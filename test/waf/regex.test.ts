// @rx never backtracks: every CRS pattern, on inputs built to make a backtracking engine blow up
// on it, takes time linear in the input (16× the bytes → about 16× the CPU time, never the 256×
// of a quadratic engine, let alone exponential) — in test() and in captures(). And, for contrast,
// the classic catastrophic patterns that do blow up V8's backtracking RegExp stay fast here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { operatorRegex } from '../../src/waf/regex.ts';
import { adversarialInputs, crsAbsent, crsRxPatterns } from '../helpers/crs-rx.ts';

const SMALL = 2 * 1024;
const LARGE = 32 * 1024;
const CALLS_PER_SMALL_SAMPLE = LARGE / SMALL;
/** Linear is 16× for 16× the bytes; anything below this bound (plus ALLOWANCE_US) is not super-linear. */
const MAX_GROWTH = 40;
/** CPU time no call is judged on: timer and scheduler noise (measured excess over 40×: under 10 µs). */
const ALLOWANCE_US = 250;

/**
 * CPU microseconds of the process for `run`, the least of `samples` runs (the least disturbed one).
 * Not threadCpuUsage: on this kind of VM it is tick-based and can read a few µs for 3 ms of work.
 */
function cpuMicros(run: () => void, samples: number): number {
  let least = Infinity;
  for (let i = 0; i < samples; i++) {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    least = Math.min(least, used.user + used.system);
  }
  return least;
}

interface Growth {
  readonly smallUs: number;
  readonly largeUs: number;
}

/** CPU time of one call on the 2 KB input (averaged over 16 calls) and of one call on the 32 KB input. */
function growth(call: (value: string) => unknown, small: string, large: string, samples: number): Growth {
  call(small);
  call(large);
  const smallUs = cpuMicros(() => {
    for (let k = 0; k < CALLS_PER_SMALL_SAMPLE; k++) call(small);
  }, samples) / CALLS_PER_SMALL_SAMPLE;
  return { smallUs, largeUs: cpuMicros(() => call(large), samples) };
}

const superLinear = ({ smallUs, largeUs }: Growth) => largeUs > MAX_GROWTH * smallUs + ALLOWANCE_US;

test('the growth check tells a quadratic scan from a linear one', () => {
  const small = 'a'.repeat(SMALL);
  const large = 'a'.repeat(LARGE);
  const scanFrom = (value: string, start: number) => {
    for (let i = start; i < value.length; i++) if (value.charCodeAt(i) === 0x62) return i;
    return -1;
  };
  const linear = (value: string) => scanFrom(value, 0);
  // What a backtracking engine does with `a*b`: from every position, scan to the end (every 64th
  // position here, to keep the test fast; still 256× the work for 16× the bytes).
  const quadratic = (value: string) => {
    let found = -1;
    for (let i = 0; i < value.length; i += 64) found = Math.max(found, scanFrom(value, i));
    return found;
  };
  assert.equal(superLinear(growth(linear, small, large, 3)), false);
  const measured = growth(quadratic, small, large, 3);
  assert.ok(superLinear(measured), `quadratic: 2 KB ${measured.smallUs} µs, 32 KB ${measured.largeUs} µs`);
});

test('every CRS @rx pattern takes linear time on adversarial inputs, in test() and captures()', { skip: crsAbsent }, (t) => {
  const patterns = crsRxPatterns();
  assert.ok(patterns.length > 250, `only ${patterns.length} @rx patterns found in CRS`);
  const failures: string[] = [];
  let pairs = 0;
  let matched = 0;
  let slowest = { us: 0, what: '' };
  for (const { pattern, ruleIds } of patterns) {
    const regex = operatorRegex(pattern);
    const small = adversarialInputs(pattern, SMALL);
    const large = adversarialInputs(pattern, LARGE);
    assert.deepEqual(
      large.map((input) => input.name),
      small.map((input) => input.name),
    );
    for (const [i, { name, value }] of small.entries()) {
      pairs++;
      const found = regex.test(large[i].value);
      assert.equal(typeof found, 'boolean');
      if (found) matched++;
      for (const [method, call] of [
        ['test', (value: string) => regex.test(value)],
        ['captures', (value: string) => regex.captures(value)],
      ] as const) {
        let measured = growth(call, value, large[i].value, 2);
        // A suspect figure is measured again, longer, before it counts: one slow sample is noise.
        if (superLinear(measured)) measured = growth(call, value, large[i].value, 7);
        const what = `rule ${ruleIds.join(',')} ${method}() on ${name}: 2 KB ${measured.smallUs.toFixed(1)} µs, 32 KB ${measured.largeUs.toFixed(0)} µs`;
        if (superLinear(measured)) failures.push(what);
        if (measured.largeUs > slowest.us) slowest = { us: measured.largeUs, what };
      }
    }
  }
  t.diagnostic(`${patterns.length} patterns, ${pairs} adversarial inputs of each size (${matched} of the 32 KB ones match); slowest: ${slowest.what}`);
  assert.deepEqual(failures, [], `super-linear growth (more than ${MAX_GROWTH}× for 16× the bytes)`);
});

interface Catastrophe {
  readonly pattern: string;
  /** The bait of n bytes: it almost matches, in a number of ways that grows exponentially with n. */
  readonly input: (n: number) => string;
  /** The largest n the bait stays a non-match at. */
  readonly maxN: number;
}

const CATASTROPHES: readonly Catastrophe[] = [
  { pattern: '(a+)+$', input: (n) => `${'a'.repeat(n)}!`, maxN: 40 },
  { pattern: '(a|aa)+$', input: (n) => `${'a'.repeat(n)}!`, maxN: 40 },
  { pattern: '(.*a){20}', input: (n) => `${'a'.repeat(n)}!`, maxN: 19 },
];
/** V8 must be this many times slower than us on the same bait before the comparison is made. */
const V8_FACTOR = 50;
/** And at least this slow, so that the ratio is not timer noise. */
const V8_FLOOR_US = 5000;
/** The most CPU time the V8 side may spend per pattern; the comparison is skipped beyond it. */
const V8_BUDGET_US = 1_000_000;

test('classic catastrophic patterns: V8 backtracking blows up where this engine stays linear', async (t) => {
  for (const { pattern, input, maxN } of CATASTROPHES) {
    await t.test(pattern, (t) => {
      const ours = operatorRegex(pattern);
      const backtracking = new RegExp(pattern, 'sm');
      let spent = 0;
      let previousUs = 0;
      for (let n = 10; n <= maxN; n++) {
        const bait = input(n);
        assert.equal(ours.test(bait), false);
        const v8Us = cpuMicros(() => backtracking.test(bait), 1);
        spent += v8Us;
        const oursUs = cpuMicros(() => ours.test(bait), 3);
        if (v8Us >= V8_FLOOR_US && v8Us > V8_FACTOR * oursUs) {
          // The same bait 32 KB long: still well under what V8 took on a few dozen bytes.
          const longUs = cpuMicros(() => ours.test(input(LARGE)), 3);
          t.diagnostic(`n=${n}: V8 ${v8Us.toFixed(0)} µs, ours ${oursUs.toFixed(1)} µs (and ${longUs.toFixed(0)} µs at 32 KB)`);
          assert.ok(longUs < v8Us, `32 KB took ${longUs} µs here, more than V8's ${v8Us} µs on ${n + 1} bytes`);
          return;
        }
        // Each step costs V8 a roughly constant factor more than the last.
        const nextUs = previousUs > 0 ? (v8Us * v8Us) / previousUs : v8Us;
        if (spent + nextUs > V8_BUDGET_US) break;
        previousUs = v8Us;
      }
      t.skip(`V8 did not reach ${V8_FACTOR}× our time within ${V8_BUDGET_US / 1e6} s of CPU`);
    });
  }
});
