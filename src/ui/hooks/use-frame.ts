/**
 * Takes a frame of the mesh every `intervalMs` (250 ms: at most 4 renders a second),
 * whatever the traffic: the dashboard never renders per request.
 */
import { useEffect, useState } from 'react';
import type { DashboardFrame, DashboardSource } from '../source.js';

/** Frames per second the dashboard renders at most. */
export const MAX_FPS = 4;

export function useFrame(source: DashboardSource, intervalMs = 1000 / MAX_FPS): DashboardFrame {
  const [frame, setFrame] = useState(() => source.frame());
  useEffect(() => {
    const timer = setInterval(() => setFrame(source.frame()), intervalMs);
    return () => clearInterval(timer);
  }, [source, intervalMs]);
  return frame;
}
