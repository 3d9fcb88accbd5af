#!/usr/bin/env node
// The overview's weight and time to interactive in Debian's Chromium (scripts/bench-ui starts
// the stack and runs this). Each run is a fresh browser context (a cold cache), like a first
// visit. Measures, from the navigation's start: the DOM ready, the h1 painted, and "interactive":
// the overview's data loaded and rendered (the "Get started" checklist present) with the main
// thread idle. Also the JavaScript and CSS the page shipped, as transferred (compressed) and
// decoded bytes.
//
//   node scripts/bench-overview.mjs UI_URL [RUNS]
import { chromium } from '@playwright/test';

const [url, runsArg = '20'] = process.argv.slice(2);
if (!url) {
	console.error('usage: bench-overview.mjs UI_URL [RUNS]');
	process.exit(2);
}
const runs = Math.max(1, Math.min(200, Number(runsArg) || 20));
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
	headless: true
});
const samples = { dom: [], h1: [], interactive: [] };
let weight = null;
try {
	for (let i = 0; i < runs; i++) {
		const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
		const page = await context.newPage();
		await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 30_000 });
		await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor({ timeout: 30_000 });
		await page.getByText('Get started').first().waitFor({ timeout: 30_000 });
		// The main thread is idle once a long-enough requestIdleCallback fires.
		const m = await page.evaluate(
			() =>
				new Promise((resolve) =>
					requestIdleCallback(
						() => {
							const nav = performance.getEntriesByType('navigation')[0];
							const h1 = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
							const assets = performance
								.getEntriesByType('resource')
								.filter((r) => /\.(js|css)(\?|$)/.test(r.name));
							resolve({
								dom: nav.domContentLoadedEventEnd,
								h1: h1 ? h1.startTime : NaN,
								interactive: performance.now(),
								transferred: assets.reduce((s, r) => s + r.transferSize, 0),
								encoded: assets.reduce((s, r) => s + r.encodedBodySize, 0),
								decoded: assets.reduce((s, r) => s + r.decodedBodySize, 0),
								files: assets.length
							});
						},
						{ timeout: 2000 }
					)
				)
		);
		for (const k of Object.keys(samples)) samples[k].push(m[k]);
		weight ??= m;
		await context.close();
	}
} finally {
	await browser.close();
}
const pct = (xs, p) => {
	const s = [...xs].sort((a, b) => a - b);
	return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
console.log(`overview, ${runs} cold loads (fresh context each), Chromium headless, 1280x800`);
for (const [k, label] of [
	['dom', 'DOMContentLoaded'],
	['h1', 'first contentful paint'],
	['interactive', 'interactive (data rendered, main thread idle)']
]) {
	console.log(`  ${label.padEnd(48)} p50 ${pct(samples[k], 50).toFixed(0).padStart(5)} ms   p90 ${pct(samples[k], 90).toFixed(0).padStart(5)} ms`);
}
console.log(
	`  JS and CSS: ${weight.files} files, ${(weight.encoded / 1024).toFixed(1)} KiB as sent (compressed), ${(weight.decoded / 1024).toFixed(1)} KiB decoded`
);
