/**
 * The live dashboard of `meshdev up` on a terminal: header, services table, live calls,
 * API usage, and the topology, details, logs, fault and split views. It renders frames
 * taken at most 4 times a second, always fits the terminal, and changes the mesh only
 * through the runtime API (as overlays that `meshdev status` lists).
 */
import { Box, Text, useApp, useInput } from 'ink';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { CallRecord } from '../telemetry/call-record.js';
import { CallsPane } from './components/CallsPane.js';
import { Details } from './components/Details.js';
import { FaultEditor, SplitEditor } from './components/Editors.js';
import { Header } from './components/Header.js';
import { Help } from './components/Help.js';
import { LogsPane } from './components/LogsPane.js';
import { ServicesTable } from './components/ServicesTable.js';
import { ContractsPane } from './components/ContractsPane.js';
import { ConsumersPane } from './components/ConsumersPane.js';
import { Topology } from './components/Topology.js';
import { UsagePane } from './components/UsagePane.js';
import { instanceLabel } from './format.js';
import { useFrame } from './hooks/use-frame.js';
import { useTerminalSize } from './hooks/use-terminal-size.js';
import type { DashboardFrame, DashboardSource } from './source.js';
import {
  initialUiState,
  reduce,
  type Effect,
  type KeyPress,
  type UiContext,
} from './view-model.js';

/** Below this size the calls and usage panes are hidden rather than wrapped. */
export const MIN_COLUMNS = 80;
export const MIN_ROWS = 24;

export interface DashboardProps {
  source: DashboardSource;
  /** Called once when the user quits (q or Ctrl-C). */
  onQuit: () => void;
  /** Frame interval, ms (tests shorten it). */
  intervalMs?: number;
  /** How long a note about a change stays before the key hints come back, ms. */
  noteMs?: number;
}

/** A note about a change stays this long, then the key hints come back (ms). */
export const NOTE_MS = 4_000;

export function Dashboard({ source, onQuit, intervalMs, noteMs = NOTE_MS }: DashboardProps) {
  const { exit } = useApp();
  const frame = useFrame(source, intervalMs);
  const size = useTerminalSize();
  const [ui, setUi] = useState(initialUiState);
  const [frozen, setFrozen] = useState<CallRecord[] | undefined>(undefined);
  const context = useMemo(() => uiContext(frame), [frame]);
  // Keys can arrive faster than renders: reduce from the latest state, not a render's copy.
  const latest = useRef({ ui, context, frame });
  latest.current.context = context;
  latest.current.frame = frame;

  // A note fades: the key hints are what a user needs most of the time.
  useEffect(() => {
    if (ui.note === undefined) return;
    const note = ui.note;
    const timer = setTimeout(() => {
      if (latest.current.ui.note !== note) return;
      latest.current.ui = { ...latest.current.ui, note: undefined };
      setUi(latest.current.ui);
    }, noteMs);
    return () => clearTimeout(timer);
  }, [ui.note, noteMs]);

  useInput((input, key) => {
    // Keys typed faster than stdin is read arrive together ("a5\r"): take them one by one.
    const presses: KeyPress[] =
      input.length > 1 && !key.ctrl && !key.meta
        ? [...input].map((char) =>
            char === '\r' || char === '\n' ? { input: '', return: true } : { input: char },
          )
        : [{ input, ...key }];
    for (const press of presses) {
      const current = latest.current;
      const [next, effects] = reduce(current.ui, press, current.context);
      if (next.paused !== current.ui.paused)
        setFrozen(next.paused ? current.frame.calls : undefined);
      current.ui = next;
      setUi(next);
      for (const effect of effects) apply(effect);
    }
  });

  const refused = (error: unknown) => {
    latest.current.ui = {
      ...latest.current.ui,
      note: `not applied: ${(error as Error).message}`,
    };
    setUi(latest.current.ui);
  };
  const apply = (effect: Effect) => {
    try {
      let done: void | Promise<void> = undefined;
      if (effect.type === 'quit') {
        exit();
        onQuit();
      } else if (effect.type === 'addFault')
        done = source.addFault(effect.service, effect.kind, effect.percent, effect.condition);
      else if (effect.type === 'removeFault') done = source.removeFault(effect.id);
      else done = source.setSplit(effect.service, effect.weights);
      // Over the admin API (`meshdev top`) a refusal comes back later.
      if (done) done.catch(refused);
    } catch (error) {
      refused(error);
    }
  };

  const width = Math.max(20, size.columns);
  const rows = Math.max(6, size.rows);
  const selected = frame.services[Math.min(ui.selected, frame.services.length - 1)];
  const tableHeight = Math.max(3, Math.min(frame.services.length + 1, Math.floor((rows - 2) / 3)));
  const small = size.columns < MIN_COLUMNS || size.rows < MIN_ROWS;
  const bottom = rows - 2 - tableHeight - 1; // one row spare so the frame never scrolls
  const calls = frozen ?? frame.calls;
  const left = Math.floor(width * 0.58);
  const right = width - left - 1;

  return (
    <Box flexDirection="column" width={width} height={rows - 1} overflow="hidden">
      <Header
        frame={frame}
        note={
          ui.mode === 'filter' ? `filter: ${ui.filter}▌ (enter to keep, esc to clear)` : ui.note
        }
        width={width}
      />
      <ServicesTable frame={frame} selected={ui.selected} width={width} height={tableHeight} />
      {small ? (
        <Text wrap="truncate-end">{`terminal ${size.columns}×${size.rows}: enlarge to ${MIN_COLUMNS}×${MIN_ROWS} for calls, usage and topology`}</Text>
      ) : ui.mode === 'help' ? (
        <Help height={bottom} />
      ) : ui.mode === 'topology' ? (
        <Topology stats={frame.stats} width={width} height={bottom} />
      ) : ui.mode === 'consumers' ? (
        <ConsumersPane usage={frame.usage?.()} width={width} height={bottom} />
      ) : ui.mode === 'contracts' ? (
        <ContractsPane
          contracts={frame.contracts?.()}
          service={selected?.name}
          width={width}
          height={bottom}
        />
      ) : ui.mode === 'details' && selected ? (
        <Details frame={frame} service={selected.name} width={width} height={bottom} />
      ) : ui.mode === 'logs' && selected ? (
        <LogsPane
          service={selected.name}
          lines={selected.versions.flatMap((version) =>
            source.logs(instanceLabel(selected.name, version)),
          )}
          width={width}
          height={bottom}
        />
      ) : (
        <Box flexDirection="row" height={bottom}>
          {ui.mode === 'faults' && selected ? (
            <FaultEditor service={selected} ui={ui} width={left} height={bottom} />
          ) : ui.mode === 'split' && ui.split ? (
            <SplitEditor draft={ui.split} width={left} height={bottom} />
          ) : (
            <CallsPane
              calls={calls}
              filter={ui.filter}
              paused={ui.paused}
              width={left}
              height={bottom}
            />
          )}
          <Box width={1} />
          <UsagePane stats={frame.stats} width={right} height={bottom} />
        </Box>
      )}
    </Box>
  );
}

/** What the view model needs of a frame. */
export function uiContext(frame: DashboardFrame): UiContext {
  return {
    services: frame.services.map((service) => ({
      name: service.name,
      versions: service.versions,
      split: service.split?.weights ?? null,
      runtimeFaults: service.faults
        .filter((fault) => fault.source === 'runtime')
        .map((fault) => fault.id),
    })),
  };
}
