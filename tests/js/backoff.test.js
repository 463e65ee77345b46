// The reconnect schedule: 0.5 s doubling to 8 s, jittered downward, reset on success.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Backoff } from "../../static/js/net/backoff.js";

test("without jitter the delays double from 500 ms and stop at 8 s", () => {
  const b = new Backoff({ random: () => 0 });
  const delays = Array.from({ length: 8 }, () => b.next());
  assert.deepEqual(delays, [500, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
});

test("jitter only shortens a delay, by at most half", () => {
  const b = new Backoff({ random: () => 0.999999 });
  const delays = Array.from({ length: 6 }, () => b.next());
  assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 4000]);
});

test("jittered delays stay inside [ceiling/2, ceiling]", () => {
  const b = new Backoff();
  for (let n = 0; n < 50; n++) {
    const cap = b.ceiling(b.attempt);
    const d = b.next();
    assert.ok(d >= cap / 2 && d <= cap, `${d} not in [${cap / 2}, ${cap}]`);
  }
});

test("reset starts the schedule over", () => {
  const b = new Backoff({ random: () => 0 });
  b.next();
  b.next();
  b.next();
  b.reset();
  assert.equal(b.next(), 500);
});

test("a huge attempt count does not overflow", () => {
  const b = new Backoff({ random: () => 0 });
  b.attempt = 5000;
  assert.equal(b.next(), 8000);
});
