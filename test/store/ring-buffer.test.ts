import { describe, expect, it } from "vitest";
import { RingBuffer } from "../../src/store/ring-buffer.js";

const filled = (capacity: number, values: number[]): RingBuffer => {
  const b = new RingBuffer(capacity);
  for (const v of values) b.push(v);
  return b;
};

describe("RingBuffer", () => {
  it("starts empty", () => {
    const b = new RingBuffer(4);
    expect(b.capacity).toBe(4);
    expect(b.length).toBe(0);
    expect(b.last()).toBeNaN();
    expect(b.min()).toBeNaN();
    expect(b.max()).toBeNaN();
    expect(Array.from(b.toArray())).toEqual([]);
  });

  it("keeps samples in order until full", () => {
    const b = filled(4, [1, 2, 3]);
    expect(b.length).toBe(3);
    expect([b.get(0), b.get(1), b.get(2)]).toEqual([1, 2, 3]);
    expect(b.last()).toBe(3);
    expect(Array.from(b.toArray())).toEqual([1, 2, 3]);
  });

  it("drops the oldest sample on wrap-around, index 0 staying the oldest kept", () => {
    const b = filled(3, [1, 2, 3, 4, 5]);
    expect(b.length).toBe(3);
    expect(b.capacity).toBe(3);
    expect([b.get(0), b.get(1), b.get(2)]).toEqual([3, 4, 5]);
    expect(b.last()).toBe(5);
    expect(Array.from(b.toArray())).toEqual([3, 4, 5]);
  });

  it("stays correct over many laps", () => {
    const b = new RingBuffer(7);
    for (let i = 1; i <= 1000; i++) b.push(i);
    expect(Array.from(b.toArray())).toEqual([994, 995, 996, 997, 998, 999, 1000]);
    expect(b.min()).toBe(994);
    expect(b.max()).toBe(1000);
  });

  it("toArray(max) gives the newest max samples, oldest first, across the wrap point", () => {
    const b = filled(5, [1, 2, 3, 4, 5, 6, 7]); // slots hold 6 7 3 4 5
    expect(Array.from(b.toArray(4))).toEqual([4, 5, 6, 7]);
    expect(Array.from(b.toArray(2))).toEqual([6, 7]);
    expect(Array.from(b.toArray(1))).toEqual([7]);
    expect(Array.from(b.toArray(0))).toEqual([]);
    expect(Array.from(b.toArray(99))).toEqual([3, 4, 5, 6, 7]);
    expect(Array.from(b.toArray(-1))).toEqual([]);
  });

  it("toArray returns a copy the caller may keep", () => {
    const b = filled(3, [1, 2]);
    const copy = b.toArray();
    b.push(9);
    b.push(10);
    expect(Array.from(copy)).toEqual([1, 2]);
  });

  it("returns NaN for an index outside what it holds", () => {
    const b = filled(3, [1, 2]);
    expect(b.get(-1)).toBeNaN();
    expect(b.get(2)).toBeNaN();
    expect(b.get(0.5)).toBeNaN();
  });

  it("min and max skip NaN samples, before and after wrapping", () => {
    const b = filled(4, [NaN, 5, NaN, -2]);
    expect(b.min()).toBe(-2);
    expect(b.max()).toBe(5);
    b.push(NaN);
    b.push(NaN);
    b.push(NaN); // only -2 and three NaN left
    expect(b.min()).toBe(-2);
    expect(b.max()).toBe(-2);
    b.push(NaN);
    expect(b.min()).toBeNaN();
    expect(b.max()).toBeNaN();
  });

  it("keeps NaN as a sample (no data) in get and toArray", () => {
    const b = filled(3, [1, NaN, 3]);
    expect(b.get(1)).toBeNaN();
    expect(b.toArray()[1]).toBeNaN();
    expect(b.length).toBe(3);
  });

  it("clear forgets the samples but keeps the capacity, and works again afterwards", () => {
    const b = filled(3, [1, 2, 3, 4]);
    b.clear();
    expect(b.length).toBe(0);
    expect(b.capacity).toBe(3);
    expect(b.last()).toBeNaN();
    expect(b.max()).toBeNaN();
    b.push(8);
    b.push(9);
    expect(Array.from(b.toArray())).toEqual([8, 9]);
    expect(b.min()).toBe(8);
  });

  it("works with a capacity of one", () => {
    const b = filled(1, [1, 2, 3]);
    expect(Array.from(b.toArray())).toEqual([3]);
    expect(b.get(0)).toBe(3);
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
    expect(() => new RingBuffer(-1)).toThrow(/positive integer, got -1/);
    expect(() => new RingBuffer(2.5)).toThrow(RangeError);
    expect(() => new RingBuffer(NaN)).toThrow(RangeError);
  });
});
