/**
 * Watches the config file for hot reload. chokidar watches the file's directory, not the
 * file (editors save by writing a new file and renaming it over the old one); changes are
 * debounced (~150 ms) so a burst of saves becomes one reload. The caller dedupes by
 * content hash.
 */
import path from 'node:path';
import { watch } from 'chokidar';

/** Debounce of config saves, ms. */
export const RELOAD_DEBOUNCE_MS = 150;

/** Calls `onChange` after the file settles; resolves once the watcher is ready. */
export async function watchConfig(
  file: string,
  onChange: () => void,
): Promise<{ close(): Promise<void> }> {
  const target = path.resolve(file);
  const watcher = watch(path.dirname(target), {
    ignoreInitial: true,
    depth: 0,
    ignored: (candidate) =>
      candidate !== path.dirname(target) && path.resolve(candidate) !== target,
  });
  let timer: NodeJS.Timeout | undefined;
  const fire = (changed: string) => {
    if (path.resolve(changed) !== target) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, RELOAD_DEBOUNCE_MS);
  };
  watcher.on('add', fire).on('change', fire);
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return {
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
