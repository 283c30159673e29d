import { mkdtempSync, renameSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { watchConfig, type ConfigWatcher, RELOAD_DEBOUNCE_MS } from './watch.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits until `count()` reaches `n` (bounded), then a quiet window longer than the debounce
 * in which an unexpected extra reload would show.
 */
async function settle(count: () => number, n: number): Promise<number> {
  const deadline = Date.now() + 10_000;
  while (count() < n && Date.now() < deadline) await sleep(20);
  await sleep(RELOAD_DEBOUNCE_MS * 4);
  return count();
}

describe('watchConfig', () => {
  let watcher: ConfigWatcher | undefined;
  afterEach(async () => {
    await watcher?.close();
    watcher = undefined;
  });

  function setup() {
    const dir = mkdtempSync(path.join(tmpdir(), 'meshdev-watch-'));
    const config = path.join(dir, 'mesh.config.yaml');
    const spec = path.join(dir, 'orders.yaml');
    writeFileSync(config, 'one');
    writeFileSync(spec, 'spec');
    return { dir, config, spec };
  }

  it('reloads on a rename-save, and not for writes to other files beside it', async () => {
    const { dir, config } = setup();
    let changes = 0;
    watcher = await watchConfig([config], () => changes++);
    // `meshdev up > mesh.log` in the config's directory: 200 writes, no reload.
    for (let i = 0; i < 200; i++) appendFileSync(path.join(dir, 'mesh.log'), `line ${i}\n`);
    writeFileSync(path.join(dir, 'other.yaml'), 'x');
    expect(await settle(() => changes, 0)).toBe(0);
    // Only the file is watched: the log beside it is never looked at.
    expect(watcher.watchedPaths()).toContain(config);
    expect(watcher.watchedPaths()).not.toContain(path.join(dir, 'mesh.log'));
    // An editor's save: a new file renamed over the old one.
    writeFileSync(`${config}.tmp`, 'two');
    renameSync(`${config}.tmp`, config);
    expect(await settle(() => changes, 1)).toBe(1);
    // Deleted, then written again.
    rmSync(config);
    await sleep(50);
    writeFileSync(config, 'three');
    expect(await settle(() => changes, 2)).toBe(2);
  });

  it('follows the files the config points at after setFiles', async () => {
    const { config, spec } = setup();
    let changes = 0;
    watcher = await watchConfig([config], () => changes++);
    writeFileSync(spec, 'spec v2');
    expect(await settle(() => changes, 0)).toBe(0);
    watcher.setFiles([config, spec]);
    await sleep(200); // chokidar's watch on the added file is set up asynchronously
    writeFileSync(spec, 'spec v3');
    expect(await settle(() => changes, 1)).toBe(1);
    watcher.setFiles([config]);
    await sleep(200);
    writeFileSync(spec, 'spec v4');
    expect(await settle(() => changes, 1)).toBe(1);
  });
});
