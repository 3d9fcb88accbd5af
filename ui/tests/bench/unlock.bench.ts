// How long "Unlock" on /vault takes in Chromium, for a vault of 1 and of 20 credentials, with
// the key derivation apart from the attestation, the seals and the escrows. Not a test: a
// measurement, run by hand against the browser suite's stack (debug server and enclave, so the
// server-side round trips are slower than a release build's; the browser's work is not).
//
//   cd ui && npx playwright test -c tests/bench
//   BENCH_RUNS=10 BENCH_COUNTS=1,5,20 npx playwright test -c tests/bench
//
// Output: a table per vault size (median, min, max over BENCH_RUNS runs, default 5) and every
// sample in test-results/bench-unlock.json.
//
// How the phases are split. The page exposes no timing of its own, so the bench reads the page's
// Resource Timing entries (startTime and responseEnd of each fetch, on the page's own clock;
// exposed for cross-origin fetches too) and two marks set in the page: the form's submit
// (a capturing listener) and the moment the summary "Unlocked: …" is in the DOM (a
// MutationObserver). The unlock flow (src/lib/vault/flows.ts openVault + unlockWithEnclave) is
// strictly sequential, so the gaps between its calls are the browser's work:
//   vault       submit → GET /v1/vault answered
//   kdf         GET /v1/vault answered → GET /v1/credentials sent: Argon2id in its Web Worker
//               (worker start included) + unwrapping the vault key + deriving the credential key
//   list        GET /v1/credentials round trip
//   attest      POST /v1/tee/attestation round trip (the server relays to the enclave)
//   verify+seal attestation answered → first escrow sent: the token verified here (chain,
//               signature, claims, binding) + the first credential opened and sealed (HPKE)
//   seal        escrow i answered → escrow i+1 sent (one credential opened and sealed), mean
//   escrow      POST …/escrow round trip, mean
//   seals+escrows  attestation answered → last escrow answered (verify, every seal and escrow)
//   render      last escrow answered → summary in the DOM
//   total       submit → summary in the DOM
// Before each run the vault is locked through the API and the page loaded afresh, so every run
// unlocks from locked, with a cold worker.
import { mkdtempSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { api, cli, createVerifiedUser, PASSPHRASE, PASSWORD, signInContext, stack, tokenFor, uniqueEmail } from '../e2e/helpers';
import { UI_DIR } from '../e2e/stack';

const RUNS = Math.max(1, Math.min(50, Number(process.env.BENCH_RUNS ?? 5) || 5));
const COUNTS = (process.env.BENCH_COUNTS ?? '1,20').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0 && n <= 100);

type Sample = Record<string, number>;

/** A user whose vault (set by the real CLI) holds `count` credentials. */
async function vaultWith(count: number): Promise<string> {
	const s = stack();
	const email = uniqueEmail(`bench-${count}`);
	await createVerifiedUser(email);
	const configDir = mkdtempSync(path.join(s.work, 'bench-'));
	const ok = async (args: string[], stdin: string) => {
		const r = await cli(args, { configDir, stdin });
		expect(r.code, `aileron ${args.join(' ')}\n${r.stderr}`).toBe(0);
	};
	await ok(['login', '--server', s.apiLoopback, '--email', email, '--policy', s.policyFile,
		'--root', path.join(s.caDir, 'root.pem')], `${PASSWORD}\n`);
	await ok(['vault', 'set'], `${PASSPHRASE}\n`);
	for (let i = 0; i < count; i++) {
		await ok(['credential', 'add', '--name', `bench-${i}`, '--allow', `GET ${s.upstream}/api/${i}/`],
			`${PASSPHRASE}\nbench-secret-${i}-${Math.random().toString(36).slice(2)}\n`);
	}
	return email;
}

/** Marks the form's submit and the summary's arrival on the page's clock. */
async function instrument(page: Page): Promise<void> {
	await page.evaluate(() => {
		const w = window as unknown as { __bench: { submit?: number; summary?: number } };
		w.__bench = {};
		performance.clearResourceTimings();
		performance.setResourceTimingBufferSize(1000);
		document.addEventListener('submit', () => { w.__bench.submit ??= performance.now(); }, { capture: true });
		new MutationObserver(() => {
			if (w.__bench.summary === undefined && document.body.innerText.includes('Unlocked: ')) w.__bench.summary = performance.now();
		}).observe(document.body, { subtree: true, childList: true, characterData: true });
	});
}

/** The phases of the unlock just made, from the page's marks and resource entries. */
async function phases(page: Page, apiBase: string): Promise<Sample> {
	const raw = await page.evaluate((base) => {
		const w = window as unknown as { __bench: { submit: number; summary: number } };
		const calls = performance.getEntriesByType('resource')
			.filter((e) => e.name.startsWith(`${base}/`) && (e as PerformanceResourceTiming).initiatorType === 'fetch')
			.map((e) => ({ path: new URL(e.name).pathname, start: e.startTime, end: (e as PerformanceResourceTiming).responseEnd }));
		return { marks: w.__bench, calls };
	}, apiBase);
	const after = raw.calls.filter((c) => c.start >= raw.marks.submit - 1);
	const find = (p: string) => {
		const c = after.find((x) => x.path === p);
		if (!c) throw new Error(`no ${p} after the submit: ${JSON.stringify(after.map((x) => x.path))}`);
		return c;
	};
	const vault = find('/v1/vault');
	const list = find('/v1/credentials');
	const attest = find('/v1/tee/attestation');
	const escrows = after.filter((c) => c.path.endsWith('/escrow')).sort((a, b) => a.start - b.start);
	const first = escrows[0];
	const last = escrows.at(-1);
	if (!first || !last) throw new Error('no escrow was sent');
	const seals = escrows.slice(1).map((e, i) => e.start - (escrows[i]?.end ?? e.start));
	const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);
	return {
		vault: vault.end - raw.marks.submit,
		kdf: list.start - vault.end,
		list: list.end - list.start,
		attest: attest.end - attest.start,
		'verify+seal': first.start - attest.end,
		seal: mean(seals),
		escrow: mean(escrows.map((e) => e.end - e.start)),
		'seals+escrows': last.end - attest.end,
		render: raw.marks.summary - last.end,
		total: raw.marks.summary - raw.marks.submit,
		escrows: escrows.length
	};
}

function summarise(samples: Sample[]): Record<string, { median: number; min: number; max: number }> {
	const out: Record<string, { median: number; min: number; max: number }> = {};
	for (const key of Object.keys(samples[0] ?? {})) {
		const xs = samples.map((s) => s[key] ?? NaN).filter(Number.isFinite).sort((a, b) => a - b);
		out[key] = { median: xs[Math.floor(xs.length / 2)] ?? NaN, min: xs[0] ?? NaN, max: xs.at(-1) ?? NaN };
	}
	return out;
}

test('unlock time by vault size, key derivation apart from attestation, seals and escrows', async ({ browser }) => {
	const report: Record<string, { samples: Sample[]; summary: ReturnType<typeof summarise> }> = {};
	for (const count of COUNTS) {
		const email = await vaultWith(count);
		const samples: Sample[] = [];
		for (let run = 0; run < RUNS; run++) {
			const locked = await api('POST', '/v1/vault/lock', undefined, await tokenFor(email));
			expect(locked.status).toBeLessThan(300);
			const context = await browser.newContext();
			await signInContext(context, email);
			const page = await context.newPage();
			await page.goto(`${stack().ui}/vault`);
			await page.getByRole('heading', { level: 2, name: 'Unlock', exact: true }).waitFor();
			await page.waitForLoadState('networkidle');
			await instrument(page);
			await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
			await page.getByRole('button', { name: 'Unlock', exact: true }).click();
			const noun = count === 1 ? 'credential' : 'credentials';
			await expect(page.getByRole('status').filter({ hasText: `Unlocked: ${count} ${noun} escrowed` }))
				.toBeVisible({ timeout: 5 * 60_000 });
			samples.push(await phases(page, stack().api));
			await context.close();
		}
		report[String(count)] = { samples, summary: summarise(samples) };
		console.log(`\nUnlock, ${count} ${count === 1 ? 'credential' : 'credentials'}, ${RUNS} runs (ms: median [min–max])`);
		for (const [phase, s] of Object.entries(report[String(count)]!.summary)) {
			if (phase === 'escrows') continue;
			const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : '—');
			console.log(`  ${phase.padEnd(14)} ${ms(s.median).padStart(6)}  [${ms(s.min)}–${ms(s.max)}]`);
		}
	}
	writeFileSync(path.join(UI_DIR, 'test-results/bench-unlock.json'), JSON.stringify({ runs: RUNS, report }, null, 2));
});
