import React, { createContext, useContext } from "react";
import { useStore } from "zustand";
import type { StoreApi } from "zustand/vanilla";
import type { CockpitView } from "../src/store/cockpit-store.js";
import type { Controller, UiState } from "../src/tui/controller.js";

// What every component may read: the cockpit's store, the UI's own store and
// whether colour is on. Components read through narrow selectors and never
// see the socket; key presses go to the controller, not to components.

export interface CockpitContextValue {
  cockpit: StoreApi<CockpitView>;
  ui: StoreApi<UiState>;
  controller: Controller;
  /** false under NO_COLOR: glyphs and words carry everything, colour is only added on top */
  color: boolean;
  /** forced read-only (--readonly), on top of the store's own flag */
  readonly: boolean;
}

const CockpitContext = createContext<CockpitContextValue | null>(null);

export function CockpitProvider({ value, children }: { value: CockpitContextValue; children: React.ReactNode }) {
  return <CockpitContext.Provider value={value}>{children}</CockpitContext.Provider>;
}

export function useCockpitContext(): CockpitContextValue {
  const v = useContext(CockpitContext);
  if (!v) throw new Error("cockpit components must be rendered inside <App> (CockpitProvider missing)");
  return v;
}

/** A narrow read of the cockpit view; re-renders only when the selected value changes. */
export function useCockpit<T>(selector: (v: CockpitView) => T): T {
  return useStore(useCockpitContext().cockpit, selector);
}

export function useUi<T>(selector: (u: UiState) => T): T {
  return useStore(useCockpitContext().ui, selector);
}
