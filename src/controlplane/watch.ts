/**
 * Watches the config file — and the files it points at (OpenAPI specs) — for hot reload.
 * chokidar watches their directories, not the files (editors save by writing a new file
 * and renaming it over the old one); changes are debounced (~150 ms) so a burst of saves
 * becomes one reload. The caller dedupes by content hash.
 */
import path from 'node:path';
import { watch } from 'chokidar';

/** Debounce of config saves, ms. */
export const RELOAD_DEBOUNCE_MS = 150;

/** A running watcher; `setFiles` changes which files count (after a reload). */
export interface ConfigWatcher {
  setFiles(files: readonly string[]): void;
  close(): Promise<void>;
}

/** Calls `onChange` after any of `files` settles; resolves once the watcher is ready. */
export async function watchConfig(
  files: readonly string[],
  onChange: () => void,
): Promise<ConfigWatcher> {
  let targets = new Set(files.map((file) => path.resolve(file)));
  const dirs = () => [...new Set([...targets].map((file) => path.dirname(file)))];
  const watcher = watch(dirs(), { ignoreInitial: true, depth: 0 });
  let timer: NodeJS.Timeout | undefined;
  const fire = (changed: string) => {
    if (!targets.has(path.resolve(changed))) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, RELOAD_DEBOUNCE_MS);
  };
  watcher.on('add', fire).on('change', fire);
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    setFiles(next) {
      targets = new Set(next.map((file) => path.resolve(file)));
      watcher.add(dirs());
    },
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
