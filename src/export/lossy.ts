/**
 * What an export could not carry over, each with the config line it comes from
 * (`mesh.config.yaml:41:9 bandwidth fault: Istio has no equivalent; skipped`).
 */
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { displayPath } from '../config/display-path.js';
import type { ServiceConfig } from '../config/model.js';
import { SourceMap } from '../config/positions.js';

/** One lossy mapping. */
export interface ExportWarning {
  /** `file:line:column` of the config key. */
  at: string;
  message: string;
}

/** Collects warnings, locating each config path in the file. */
export class LossyMappings {
  readonly warnings: ExportWarning[] = [];
  private readonly sources: SourceMap | undefined;
  private readonly name: string;

  constructor(file: string) {
    this.name = displayPath(file);
    try {
      const text = readFileSync(file, 'utf8');
      const lines = new LineCounter();
      this.sources = new SourceMap(parseDocument(text, { lineCounter: lines }), lines, text);
    } catch {
      this.sources = undefined; // the config came from text: positions are unknown
    }
  }

  /** Records that what stands at `path` in the config was changed or dropped. */
  warn(path: readonly PropertyKey[], message: string): void {
    const { line, column } = this.sources?.locate(path, { key: true }) ?? { line: 0, column: 0 };
    const at = `${this.name}:${line}:${column}`;
    // A service fault applied on several routes is still one thing lost.
    if (this.warnings.some((w) => w.at === at && w.message === message)) return;
    this.warnings.push({ at, message });
  }
}

/** Warns about each route `mirror` of `service`: a system with no traffic mirroring skips it. */
export function warnMirrors(service: ServiceConfig, lossy: LossyMappings, system: string): void {
  service.routes.forEach((route, index) => {
    if (route.mirror)
      lossy.warn(
        ['services', service.name, 'routes', index, 'mirror'],
        `traffic mirroring: ${system} has none; skipped`,
      );
  });
}
