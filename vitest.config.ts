import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx', 'test/**/*.test.ts'],
    // Several tests spawn the CLI many times (1–2 s each on a loaded 2-core machine):
    // generous bounds, so a slow machine is never mistaken for a failure.
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
