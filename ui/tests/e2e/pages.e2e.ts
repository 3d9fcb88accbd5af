// Every page: no serious or critical accessibility violation (axe-core), rendered at desktop and
// phone widths (screenshots in test-results/screenshots, each checked not blank), and the
// planted secret nowhere a browser could see it.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { colourStats, decodePng } from './png';
import { UI_DIR } from './stack';
import {
	agentRequest, api, expectHeading, PAGES, PASSWORD, PUBLIC_PAGES, seedCredential, seedEscrow, seriousViolations,
	signInContext, stack, tokenFor, uniqueEmail, upstreamSeen, type Seeded
} from './helpers';

const WIDTHS = [
	{ width: 1280, height: 800 },
	{ width: 375, height: 740 }
];
const SHOTS = path.join(UI_DIR, 'test-results/screenshots');

let seed: Seeded;
let agentToken: string;

// One user whose every page has something on it: a credential, an escrow, an agent token and a
// brokered request (so the audit log has events).
test.beforeAll(async () => {
	seed = await seedCredential('pages');
	await seedEscrow(seed, 'demo');
	const token = await tokenFor(seed.email);
	const agent = await api('POST', '/v1/agent-tokens', { name: 'pages-bot', credentials: [seed.credential] }, token);
	expect(agent.status).toBe(201);
	agentToken = agent.body.token;
	const r = await agentRequest(seed, agentToken, `${seed.prefix}pages`);
	expect(r.code, r.stdout + r.stderr).toBe(0);
});

async function visit(page: Page, p: { path: string; h1: string | RegExp }): Promise<void> {
	await page.goto(`${stack().ui}${p.path}`);
	await expectHeading(page, p.h1);
	await page.waitForLoadState('networkidle');
	await expect(page.getByRole('heading', { level: 1 })).toHaveCount(1);
}

/** Collects what the browser reports the page's Content-Security-Policy blocked. */
function cspViolations(page: Page, into: string[]): void {
	page.on('console', (m) => {
		if (m.type() === 'error' && m.text().includes('Content Security Policy')) into.push(`${page.url()}: ${m.text()}`);
	});
}

test('no page has a serious or critical accessibility violation, nor a CSP violation', async ({ browser }) => {
	const found: string[] = [];
	const blocked: string[] = [];
	const signedIn = await browser.newContext();
	await signInContext(signedIn, seed.email);
	const page = await signedIn.newPage();
	cspViolations(page, blocked);
	for (const p of PAGES) {
		await visit(page, p);
		found.push(...(await seriousViolations(page, p.name)));
	}
	// The delete dialog, open.
	await visit(page, PAGES.find((p) => p.name === 'credential')!);
	await page.getByRole('button', { name: 'Delete credential' }).click();
	await expect(page.getByRole('dialog')).toBeVisible();
	found.push(...(await seriousViolations(page, 'credential (delete dialog)')));
	await signedIn.close();

	const signedOut = await browser.newContext();
	const out = await signedOut.newPage();
	cspViolations(out, blocked);
	for (const p of PUBLIC_PAGES) {
		await visit(out, p);
		found.push(...(await seriousViolations(out, p.name)));
	}
	// The sign-up's code step.
	await out.getByLabel('Email', { exact: true }).fill(uniqueEmail('axe'));
	await out.getByLabel('Password', { exact: true }).fill(PASSWORD);
	await out.getByRole('button', { name: 'Create account' }).click();
	await expectHeading(out, 'Check your email');
	found.push(...(await seriousViolations(out, 'sign-up (code step)')));
	await signedOut.close();
	expect(found, found.join('\n')).toEqual([]);
	// The policy allows what the pages need and nothing they do is blocked.
	expect(blocked, blocked.join('\n')).toEqual([]);
});

async function screenshot(page: Page, name: string, width: number): Promise<void> {
	const file = path.join(SHOTS, `${name}-${width}.png`);
	const png = await page.screenshot({ path: file, fullPage: true });
	const stats = colourStats(decodePng(png));
	// A blank page is one colour; a rendered one has text (anti-aliased: many colours).
	expect(stats.distinct, `${name} at ${width}px: distinct colours`).toBeGreaterThan(8);
	expect(stats.nonBackground, `${name} at ${width}px: share of non-background pixels`).toBeGreaterThan(0.002);
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	expect.soft(overflow, `${name} at ${width}px scrolls sideways`).toBeLessThanOrEqual(1);
}

test('every page renders at desktop and phone widths', async ({ browser }) => {
	mkdirSync(SHOTS, { recursive: true });
	for (const size of WIDTHS) {
		const signedIn = await browser.newContext({ viewport: size });
		await signInContext(signedIn, seed.email);
		const page = await signedIn.newPage();
		for (const p of PAGES) {
			await visit(page, p);
			await screenshot(page, p.name, size.width);
		}
		await signedIn.close();
		const signedOut = await browser.newContext({ viewport: size });
		const out = await signedOut.newPage();
		for (const p of PUBLIC_PAGES) {
			await visit(out, p);
			await screenshot(out, p.name, size.width);
		}
		await signedOut.close();
	}
	// The checker itself fails on a blank page.
	const blank = await browser.newPage({ viewport: WIDTHS[0] });
	await blank.setContent('<html><body style="background:#fff"></body></html>');
	const stats = colourStats(decodePng(await blank.screenshot()));
	expect(stats.distinct).toBe(1);
	await blank.close();
});

/** Everything the page's origin keeps in localStorage, sessionStorage and IndexedDB, as text. */
async function storedByPage(page: Page): Promise<{ local: string; session: string; idb: string }> {
	return page.evaluate(async () => {
		const dump = (s: Storage) => JSON.stringify(Object.fromEntries(Object.entries(s)));
		const dbs = indexedDB.databases ? await indexedDB.databases() : [];
		const records: unknown[] = [];
		for (const info of dbs) {
			if (!info.name) continue;
			const db = await new Promise<IDBDatabase>((ok, fail) => {
				const req = indexedDB.open(info.name!);
				req.onsuccess = () => ok(req.result);
				req.onerror = () => fail(req.error);
			});
			for (const store of Array.from(db.objectStoreNames)) {
				const all = await new Promise<unknown[]>((ok, fail) => {
					const req = db.transaction(store).objectStore(store).getAll();
					req.onsuccess = () => ok(req.result);
					req.onerror = () => fail(req.error);
				});
				records.push({ db: info.name, store, all });
			}
			db.close();
		}
		return { local: dump(localStorage), session: dump(sessionStorage), idb: JSON.stringify({ dbs, records }) };
	});
}

async function cookieValues(context: BrowserContext): Promise<string[]> {
	return (await context.cookies()).filter((c) => c.name.startsWith('aileron_')).map((c) => c.value);
}

test('the planted secret and the session tokens stay out of pages, responses and storage', async ({ context, page }) => {
	// Positive control: the secret exists, and the upstream received it through the enclave.
	const seen = (await upstreamSeen()).filter((s) => s.headers.authorization === `Bearer ${seed.secret}`);
	expect(seen.length).toBeGreaterThan(0);

	await signInContext(context, seed.email);
	const bodies: { url: string; text: string }[] = [];
	const pending: Promise<void>[] = [];
	page.on('response', (res) => {
		pending.push(res.body().then((b) => { bodies.push({ url: res.url(), text: b.toString('utf8') }); }, () => {}));
	});
	const html: string[] = [];
	const tokens = new Set<string>();
	for (const p of PAGES) {
		await visit(page, p);
		html.push(await page.content());
		for (const v of await cookieValues(context)) tokens.add(v);
	}
	// Show an agent token in the page too, as the agent-tokens page does once.
	await visit(page, PAGES.find((p) => p.name === 'agent-tokens')!);
	await page.getByLabel('Name', { exact: true }).fill('hygiene');
	await page.getByRole('button', { name: 'Create token' }).click();
	const shownToken = await page.getByLabel('Agent token', { exact: true }).inputValue();
	expect(shownToken.length).toBeGreaterThan(20);
	await Promise.all(pending);

	// What was captured really is the pages and the UI server's answers.
	const ui = stack().ui;
	expect(html.join('\n')).toContain(seed.credential);
	expect(bodies.some((b) => b.url.startsWith(ui))).toBe(true);
	expect(bodies.some((b) => b.url.includes('/v1/credentials'))).toBe(true);
	expect(tokens.size).toBeGreaterThan(0);

	// Nothing went anywhere but the UI and the API (no third party sees the pages).
	const elsewhere = bodies.map((b) => new URL(b.url).origin).filter((o) => o !== ui && o !== stack().api);
	expect(elsewhere).toEqual([]);

	for (const h of html) expect(h).not.toContain(seed.secret);
	for (const b of bodies) expect(b.text, b.url).not.toContain(seed.secret);
	for (const b of bodies.filter((b) => b.url.startsWith(ui))) {
		for (const t of tokens) expect(b.text, `${b.url} holds a session token`).not.toContain(t);
	}

	const stored = await storedByPage(page);
	const everything = `${stored.local}\n${stored.session}\n${stored.idb}`;
	for (const t of [seed.secret, shownToken, agentToken, ...tokens]) expect(everything).not.toContain(t);
	expect(everything).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
	expect(everything).not.toMatch(/ail_agent_/);
	// The session cookies are HttpOnly: no script reads them.
	const scriptCookies = await page.evaluate(() => document.cookie);
	for (const t of tokens) expect(scriptCookies).not.toContain(t);
});
