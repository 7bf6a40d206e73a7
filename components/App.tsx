import React, { memo, useCallback, useMemo, useRef, useState } from "react";
import { Box, useApp, useInput, type Key } from "ink";
import type { StoreApi } from "zustand/vanilla";
import type { CommandRequest } from "../src/client/connection.js";
import type { KeyContext } from "../src/keymap/keymap.js";
import type { CockpitView } from "../src/store/cockpit-store.js";
import { makeSelectSeriesOf, selectOpenIncident, selectRolloutsSorted, selectStale } from "../src/store/selectors.js";
import { bannerLines, selectBanner } from "../src/tui/banner.js";
import { createController, selectedAlert, selectedRollout, type Controller } from "../src/tui/controller.js";
import { computeLayout, detailWidth, MIN_COLUMNS, MIN_ROWS } from "../src/tui/layout.js";
import { span } from "../src/tui/spans.js";
import { AlertList } from "./AlertList.js";
import { ChooseList, chooseHeight } from "./ChooseList.js";
import { ConfirmDialog, confirmHeight } from "./ConfirmDialog.js";
import { CockpitProvider, useCockpit, useCockpitContext, useUi, type CockpitContextValue } from "./context.js";
import { Header, StaleBanner } from "./Header.js";
import { HelpOverlay } from "./HelpOverlay.js";
import { Line } from "./Line.js";
import { RolloutDetail, detailLinesWanted } from "./RolloutDetail.js";
import { RolloutList } from "./RolloutList.js";
import { Footer, StatusLine } from "./StatusBar.js";
import { Timeline } from "./Timeline.js";
import { useTerminalSize } from "./useTerminalSize.js";

// The whole screen. It owns no data: the cockpit store (fed by the connection)
// and the UI store (fed by the controller from key presses) are read through
// narrow selectors; commands leave through `sender`, never a socket.

export interface AppProps {
  store: StoreApi<CockpitView>;
  /** sends a command (the connection's send): returns its id */
  sender: (cmd: CommandRequest) => string;
  /** writes a post-mortem draft, resolving to where; without it the key is not offered */
  onExportDraft?: () => Promise<string>;
  /** called on q / Ctrl+C; default: unmount the Ink app */
  onQuit?: () => void;
  /** false under NO_COLOR (default: colour on; glyphs and words are there either way) */
  color?: boolean;
  /** read-only whatever the store says: no key that changes anything */
  readonly?: boolean;
}

const RolloutListM = memo(RolloutList);
const RolloutDetailM = memo(RolloutDetail);
const AlertListM = memo(AlertList);
const TimelineM = memo(Timeline);

function useContextReadonly(): boolean {
  return useCockpitContext().readonly;
}

/** The key context from narrow reads, so the footer re-renders only when what it shows may change. */
function useKeyContext(hasExport: boolean, forceReadonly: boolean): KeyContext {
  const mode = useUi((u) => u.mode);
  const pane = useUi((u) => u.pane);
  const rolloutId = useUi((u) => u.rolloutId);
  const alertId = useUi((u) => u.alertId);
  const session = useCockpit((v) => v.connection.session);
  const readonly = useCockpit((v) => v.readonly) || forceReadonly;
  const rollout = useCockpit((v) => selectedRollout(v, { rolloutId }));
  const alert = useCockpit((v) => selectedAlert(v, { alertId }));
  const incident = useCockpit(selectOpenIncident);
  return useMemo(() => {
    const ctx: KeyContext = { mode, pane, readonly, has: { exportDraft: hasExport } };
    if (session) {
      ctx.role = session.role;
      ctx.actor = session.actor;
    }
    if (rollout) ctx.rollout = rollout;
    if (alert) ctx.alert = alert;
    if (incident) ctx.incident = incident;
    return ctx;
  }, [mode, pane, readonly, hasExport, session, rollout, alert, incident]);
}

function FooterBar({ width, lines, hasExport }: { width: number; lines: number; hasExport: boolean }) {
  const ctx = useKeyContext(hasExport, useContextReadonly());
  return <Footer width={width} lines={lines} ctx={ctx} />;
}

function HelpArea({ width, height, hasExport }: { width: number; height: number; hasExport: boolean }) {
  const ctx = useKeyContext(hasExport, useContextReadonly());
  return <HelpOverlay ctx={ctx} width={width} height={height} />;
}

function Screen({ hasExport }: { hasExport: boolean }) {
  const { columns, rows } = useTerminalSize();
  const mode = useUi((u) => u.mode);
  const pane = useUi((u) => u.pane);
  const confirm = useUi((u) => u.confirm);
  const choose = useUi((u) => u.choose);
  const rolloutId = useUi((u) => u.rolloutId);
  const stale = useCockpit(selectStale);
  // Primitives, so the selectors give equal answers for an unchanged banner.
  const bannerText = useCockpit((v) => selectBanner(v)?.text ?? "");
  const bannerTone = useCockpit((v) => selectBanner(v)?.tone ?? "bad");
  const bannerMax = useCockpit((v) => selectBanner(v)?.maxLines ?? 1);
  const banner = bannerText === "" ? null : { text: bannerText, tone: bannerTone, maxLines: bannerMax };
  const rolloutCount = useCockpit((v) => selectRolloutsSorted(v).length);
  const alertCount = useCockpit((v) => v.state.alerts.length);
  const rollout = useCockpit((v) => selectedRollout(v, { rolloutId }));
  const selectSeries = useMemo(() => makeSelectSeriesOf(rollout), [rollout]);
  const seriesCount = useCockpit((v) => selectSeries(v).length);

  const bannerRows = bannerLines(banner, Math.max(1, columns));
  const overlay = confirm && (mode === "confirm" || mode === "reason") ? confirmHeight(confirm, columns) : choose && mode === "choose" ? chooseHeight(choose) : 0;
  const layout = computeLayout({
    columns,
    rows,
    bannerLines: bannerRows.length,
    overlay,
    want: { rollouts: rolloutCount, detail: detailLinesWanted(rollout, seriesCount, detailWidth(columns, rows)), alerts: alertCount },
  });
  const width = layout.columns;

  if (layout.tooSmall) {
    return (
      <Box flexDirection="column" width={width} height={layout.height} overflowY="hidden">
        <Header width={width} />
        <Line spans={[span(`Terminal ${columns}x${rows} is too small: the cockpit needs at least ${MIN_COLUMNS}x${MIN_ROWS}.`, { tone: "warn", bold: true })]} width={width} />
        <FooterBar width={width} lines={1} hasExport={hasExport} />
      </Box>
    );
  }

  const middleHeight = layout.height - 1 - layout.bannerLines - 1 - layout.footerLines;
  let middle: React.ReactNode;
  if (mode === "help") {
    middle = <HelpArea width={width} height={middleHeight} hasExport={hasExport} />;
  } else {
    const panes = layout.wide ? (
      <Box flexDirection="row">
        <Box flexDirection="column" width={layout.leftWidth}>
          <RolloutListM width={layout.rollouts.width} lines={layout.rollouts.lines} focused={pane === "rollouts"} stale={stale} />
          <RolloutDetailM width={layout.detail.width} lines={layout.detail.lines} focused={pane === "detail"} stale={stale} />
        </Box>
        <Box width={1} />
        <Box flexDirection="column" width={layout.rightWidth}>
          <AlertListM width={layout.alerts.width} lines={layout.alerts.lines} focused={pane === "alerts"} stale={stale} />
          <TimelineM width={layout.timeline.width} lines={layout.timeline.lines} focused={pane === "timeline"} stale={stale} />
        </Box>
      </Box>
    ) : (
      <Box flexDirection="column">
        <RolloutListM width={width} lines={layout.rollouts.lines} focused={pane === "rollouts"} stale={stale} />
        <RolloutDetailM width={width} lines={layout.detail.lines} focused={pane === "detail"} stale={stale} />
        <AlertListM width={width} lines={layout.alerts.lines} focused={pane === "alerts"} stale={stale} />
        <TimelineM width={width} lines={layout.timeline.lines} focused={pane === "timeline"} stale={stale} />
      </Box>
    );
    middle = (
      <Box flexDirection="column" height={middleHeight} overflowY="hidden">
        {confirm && (mode === "confirm" || mode === "reason") ? <ConfirmDialog confirm={confirm} width={width} editingReason={mode === "reason"} /> : null}
        {choose && mode === "choose" ? <ChooseList choose={choose} width={width} /> : null}
        {panes}
      </Box>
    );
  }

  return (
    <Box flexDirection="column" width={width} height={layout.height} overflowY="hidden">
      <Header width={width} />
      {bannerRows.length > 0 ? <StaleBanner rows={bannerRows} tone={bannerTone} width={width} /> : null}
      {middle}
      <StatusLine width={width} />
      <FooterBar width={width} lines={layout.footerLines} hasExport={hasExport} />
    </Box>
  );
}

export function App({ store, sender, onExportDraft, onQuit, color = true, readonly = false }: AppProps) {
  const { exit } = useApp();
  // The controller is made once; these refs let it call the newest props.
  const senderRef = useRef(sender);
  const exportRef = useRef(onExportDraft);
  const quitRef = useRef(onQuit ?? (() => exit()));
  senderRef.current = sender;
  exportRef.current = onExportDraft;
  quitRef.current = onQuit ?? (() => exit());
  const hasExport = onExportDraft !== undefined;
  const [controller] = useState<Controller>(() =>
    createController({
      cockpit: store,
      sender: (cmd) => senderRef.current(cmd),
      onQuit: () => quitRef.current(),
      readonly,
      ...(hasExport ? { onExportDraft: () => (exportRef.current ? exportRef.current() : Promise.reject(new Error("no post-mortem export here"))) } : {}),
    }),
  );
  // A stable handler: Ink re-subscribes to stdin whenever the handler changes.
  const onInput = useCallback((input: string, key: Key) => controller.handleInput(input, key), [controller]);
  useInput(onInput);
  const value = useMemo<CockpitContextValue>(() => ({ cockpit: store, ui: controller.ui, controller, color, readonly }), [store, controller, color, readonly]);
  return (
    <CockpitProvider value={value}>
      <Screen hasExport={hasExport} />
    </CockpitProvider>
  );
}
