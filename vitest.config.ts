import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One temporary folder for the whole run (TMPDIR), removed at its end: see test/setup/tempRoot.ts.
    globalSetup: ['test/setup/tempRoot.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Vitest's default is one worker on a 2-core machine; the long end-to-end files spend most of
    // their time waiting on child processes (promptfoo, npm, servers), so two files at a time keep
    // both cores busy. Every file writes only to its own temporary folder or pid-named files.
    maxWorkers: 2,
  },
});
