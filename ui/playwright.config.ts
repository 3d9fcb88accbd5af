// The browser suite (tests/e2e): the real stack (PostgreSQL, the local enclave, the API server,
// an OpenID provider as Google, the built UI) started once by tests/e2e/stack.ts, and Debian's
// Chromium (never a downloaded browser). Run with `npx playwright test`; scripts/test.d/60-ui.sh
// runs it as part of scripts/test.
// Environment: CHROMIUM_PATH (default /usr/bin/chromium), AILERON_TEST_DATABASE_URL (the server the
// run's database is made on), CARGO_TARGET_DIR (the debug binaries), AILERON_UI_SKIP_BUILD=1 (reuse
// ui/build: only when it was built with this run's API address unneeded, i.e. PUBLIC_API_BASE is
// read at run time, as it is), AILERON_E2E_NO_UI=1 (the stack without the UI, for stack-smoke).
import { defineConfig, devices } from '@playwright/test';

export default defineConfig({
	testDir: './tests/e2e',
	// Not *.spec.ts: vitest (npm run test:unit) would collect those by default.
	testMatch: '**/*.e2e.ts',
	globalSetup: './tests/e2e/stack.ts',
	outputDir: './test-results/artifacts',
	// Each test makes its own user, so files can run side by side; within a file, in order.
	workers: 2,
	fullyParallel: false,
	retries: 0,
	forbidOnly: true,
	timeout: 90_000,
	globalTimeout: 20 * 60_000,
	expect: { timeout: 10_000 },
	reporter: [['list'], ['json', { outputFile: './test-results/results.json' }]],
	use: {
		...devices['Desktop Chrome'],
		viewport: { width: 1280, height: 800 },
		headless: true,
		actionTimeout: 15_000,
		navigationTimeout: 20_000,
		trace: 'retain-on-failure',
		screenshot: 'only-on-failure',
		launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' }
	},
	projects: [{ name: 'chromium' }]
});
