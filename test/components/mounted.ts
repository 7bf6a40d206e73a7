import { afterEach } from "vitest";
import type { CockpitStore } from "../../src/store/cockpit-store.js";

// Cockpits a test file renders, each unmounted and its store disposed after
// every test. Kept apart from harness.tsx, which imports Ink: a file may need
// to set FORCE_COLOR before Ink loads.

export interface Mounted {
  store: CockpitStore;
  r?: { unmount(): void };
}

/** Call at the top of a test file; push what each test renders onto the returned list. */
export function unmountAfterEach(): Mounted[] {
  const open: Mounted[] = [];
  afterEach(() => {
    for (const o of open.splice(0)) {
      o.r?.unmount();
      o.store.dispose();
    }
  });
  return open;
}
