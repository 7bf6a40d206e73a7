import { randomBytes } from "node:crypto";

// Command ids are the idempotency key of the protocol: the server answers a
// repeated id with the original answer and applies nothing twice. So an id must
// never be reused for a different command, even by another cockpit process of
// the same user: a random per-process part plus a counter gives that.

const ID_PREFIX = /^[0-9a-z]+$/;

/** A generator of ids `c-<prefix>-<counter>`, counter from 1. */
export function createCommandIds(prefix: string): () => string {
  if (!ID_PREFIX.test(prefix)) throw new RangeError(`command id prefix: must be lowercase letters and digits, got ${JSON.stringify(prefix)}`);
  let counter = 0;
  return () => {
    counter += 1;
    return `c-${prefix}-${counter}`;
  };
}

/** 10 hex digits from the OS random source: a fresh prefix per process. */
export function randomIdPrefix(): string {
  return randomBytes(5).toString("hex");
}

/** The process-wide generator: every connection of this process shares one counter. */
export const nextCommandId: () => string = createCommandIds(randomIdPrefix());
