// The vault benchmarks (not tests): the same stack as the browser suite (../e2e/stack.ts) and
// Debian's Chromium, one worker so that nothing else competes for the CPU while a phase is timed.
//   cd ui && npx playwright test -c tests/bench        (BENCH_RUNS, BENCH_COUNTS: see unlock.bench.ts)
import { defineConfig, devices } from '@playwright/test';

export default defineConfig({
	testDir: '.',
	testMatch: '**/*.bench.ts',
	globalSetup: '../e2e/stack.ts',
	outputDir: '../../test-results/bench-artifacts',
	workers: 1,
	retries: 0,
	timeout: 20 * 60_000,
	reporter: [['list']],
	use: {
		...devices['Desktop Chrome'],
		viewport: { width: 1280, height: 800 },
		headless: true,
		actionTimeout: 60_000,
		navigationTimeout: 30_000,
		launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' }
	},
	projects: [{ name: 'chromium' }]
});
