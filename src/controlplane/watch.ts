/**
 * Watches the config file — and the files it points at (OpenAPI specs) — for hot reload.
 * chokidar watches the files themselves, not their directories: a directory watch rescans
 * the whole directory on every write in it, so `meshdev up > mesh.log` beside the config
 * cost a directory scan per log line (#14). chokidar follows a file across the
 * write-new-then-rename saves of editors and a delete followed by a re-create. Changes
 * are debounced (~150 ms) so a burst of saves becomes one reload; the caller dedupes by
 * content hash.
 */
import path from 'node:path';
import { watch } from 'chokidar';

/** Debounce of config saves, ms. */
export const RELOAD_DEBOUNCE_MS = 150;

/** A running watcher; `setFiles` changes which files count (after a reload). */
export interface ConfigWatcher {
  setFiles(files: readonly string[]): void;
  /** Every path chokidar watches (to prove no directory is scanned). */
  watchedPaths(): string[];
  close(): Promise<void>;
}

/** Calls `onChange` after any of `files` settles; resolves once the watcher is ready. */
export async function watchConfig(
  files: readonly string[],
  onChange: () => void,
): Promise<ConfigWatcher> {
  let targets = new Set(files.map((file) => path.resolve(file)));
  const watcher = watch([...targets], { ignoreInitial: true });
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
      const wanted = new Set(next.map((file) => path.resolve(file)));
      const gone = [...targets].filter((file) => !wanted.has(file));
      const added = [...wanted].filter((file) => !targets.has(file));
      targets = wanted;
      if (gone.length > 0) watcher.unwatch(gone);
      if (added.length > 0) watcher.add(added);
    },
    watchedPaths: () =>
      Object.entries(watcher.getWatched()).flatMap(([dir, names]) =>
        names.map((name) => path.join(dir, name)),
      ),
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}
