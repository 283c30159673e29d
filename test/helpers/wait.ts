/** Waiting in tests for something the mesh does after answering (call records, copies). */

/**
 * Resolves once `condition` holds, polling every 10 ms; fails after `timeoutMs` (generous:
 * the machines running the suite are loaded) saying how long it waited.
 */
export async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
