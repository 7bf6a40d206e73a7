import { describe, expect, it } from "vitest";
import { Backoff } from "../../src/client/backoff.js";

describe("Backoff (exponential, full jitter)", () => {
  it("doubles the cap from initialMs up to maxMs", () => {
    const b = new Backoff({ initialMs: 500, maxMs: 10_000 }, () => 0.999999);
    const caps: number[] = [];
    for (let i = 0; i < 7; i++) {
      caps.push(b.cap());
      b.next();
    }
    expect(caps).toEqual([500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
    expect(b.attempts).toBe(7);
  });

  it("draws each wait uniformly between 0 and the cap from the injected random source", () => {
    const draws = [0, 0.5, 0.25, 1];
    const b = new Backoff({ initialMs: 100, maxMs: 1000 }, () => draws.shift()!);
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([0, 100, 100, 800]);
  });

  it("starts again from initialMs after reset", () => {
    const b = new Backoff({ initialMs: 200, maxMs: 5000 }, () => 1);
    b.next();
    b.next();
    b.next();
    expect(b.cap()).toBe(1600);
    b.reset();
    expect(b.attempts).toBe(0);
    expect(b.next()).toBe(200);
  });

  it("never returns NaN or a value outside [0, cap] when the random source misbehaves", () => {
    const bad = [Number.NaN, -3, 7];
    const b = new Backoff({ initialMs: 100, maxMs: 100 }, () => bad.shift()!);
    expect([b.next(), b.next(), b.next()]).toEqual([100, 0, 100]);
  });

  it("does not overflow after a very long outage", () => {
    const b = new Backoff({ initialMs: 500, maxMs: 10_000 }, () => 1);
    for (let i = 0; i < 5000; i++) b.next();
    expect(b.next()).toBe(10_000);
  });

  it("rejects options that make no sense, naming the field", () => {
    expect(() => new Backoff({ initialMs: 0, maxMs: 10 }, Math.random)).toThrow(/initialMs/);
    expect(() => new Backoff({ initialMs: 500, maxMs: 100 }, Math.random)).toThrow(/maxMs/);
    expect(() => new Backoff({ initialMs: Number.NaN, maxMs: 100 }, Math.random)).toThrow(/initialMs/);
  });
});
