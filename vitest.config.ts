import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'],
    // Several tests spawn the CLI many times (1–2 s each on a loaded 2-core machine):
    // generous bounds, so a slow machine is never mistaken for a failure.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // Worker threads, not vitest 4's default forked processes: a fork that never answers
    // vitest's start message fails the run ("Timeout waiting for worker to respond",
    // vitest-dev/vitest#8968), which a fresh-clone CI run here hit once. Each test file
    // still gets a fresh worker (isolation is unchanged).
    pool: 'threads',
  },
});
