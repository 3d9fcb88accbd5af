// The docs site (scripts/build-docs): the API reference that Scalar renders from the server's own
// OpenAPI document lists every operation, the guides' search works, and neither page loads
// anything from off this machine. Needs only the built site, served here by a small static
// server on a free loopback port: AILERON_DOCS_SITE names it (scripts/test.d/66-docs.sh builds it
// before the UI suite runs); without it the tests are skipped, with the reason.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';

const SITE = process.env.AILERON_DOCS_SITE;
const TYPES: Record<string, string> = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.json': 'application/json',
	'.svg': 'image/svg+xml',
	'.png': 'image/png',
	'.woff2': 'font/woff2',
	'.woff': 'font/woff',
	'.ttf': 'font/ttf',
	'.txt': 'text/plain; charset=utf-8'
};

/** Serves `root` read-only; a directory without its trailing slash redirects, as nginx does. */
function serve(root: string): Promise<http.Server> {
	const server = http.createServer((req, res) => {
		const url = new URL(req.url ?? '/', 'http://127.0.0.1');
		const file = path.join(root, path.normalize(decodeURIComponent(url.pathname)));
		if (file !== root && !file.startsWith(root + path.sep)) {
			res.writeHead(403).end();
			return;
		}
		if (existsSync(file) && statSync(file).isDirectory() && !url.pathname.endsWith('/')) {
			res.writeHead(301, { location: `${url.pathname}/` }).end();
			return;
		}
		const target = existsSync(file) && statSync(file).isDirectory() ? path.join(file, 'index.html') : file;
		if (!existsSync(target) || !statSync(target).isFile()) {
			res.writeHead(404).end('not found');
			return;
		}
		res.writeHead(200, { 'content-type': TYPES[path.extname(target)] ?? 'application/octet-stream' });
		createReadStream(target).pipe(res);
	});
	return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Every request the page makes, to assert afterwards that none left loopback. */
function recordRequests(page: Page): string[] {
	const urls: string[] = [];
	page.on('request', (r) => urls.push(r.url()));
	return urls;
}

function offLoopback(urls: string[]): string[] {
	return urls.filter((u) => {
		const { protocol, hostname } = new URL(u);
		if (protocol === 'data:' || protocol === 'blob:') return false;
		return hostname !== '127.0.0.1' && hostname !== 'localhost';
	});
}

/** Whitespace collapsed, as the rendered page's text has it. */
const flat = (s: string) => s.replace(/\s+/g, ' ').trim();

test.describe('the docs site', () => {
	test.skip(!SITE, 'AILERON_DOCS_SITE is unset: build the site with scripts/build-docs and set it to the output directory');

	let server: http.Server;
	let base: string;

	test.beforeAll(async () => {
		const root = path.resolve(SITE ?? '');
		if (!existsSync(path.join(root, 'api/openapi.json'))) {
			throw new Error(`${root} is not a built docs site (no api/openapi.json): run scripts/build-docs ${root}`);
		}
		server = await serve(root);
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});

	test.afterAll(async () => {
		await new Promise((resolve) => server?.close(resolve));
	});

	test('the API reference lists every operation of openapi.json and loads nothing from off this machine', async ({ page }) => {
		const doc = JSON.parse(readFileSync(path.join(path.resolve(SITE ?? ''), 'api/openapi.json'), 'utf8'));
		const methods = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];
		const operations: { method: string; path: string; summary?: string }[] = [];
		for (const [p, item] of Object.entries(doc.paths as Record<string, Record<string, { summary?: string }>>)) {
			for (const m of methods) if (item[m]) operations.push({ method: m, path: p, summary: item[m].summary });
		}
		expect(operations.length, 'operations in openapi.json').toBeGreaterThan(10);

		const requests = recordRequests(page);
		const failed: string[] = [];
		page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
		// The page's Content-Security-Policy (docs/api/index.html) must be all Scalar needs.
		const refused: string[] = [];
		page.on('console', (m) => {
			if (m.text().includes('Content Security Policy')) refused.push(m.text());
		});
		const response = await page.goto(`${base}/api/`);
		expect(response?.status()).toBe(200);
		// Scalar renders the document's title once it has loaded and parsed the document.
		await expect(page.getByRole('heading', { name: doc.info.title }).first()).toBeVisible({ timeout: 30_000 });

		// Scalar titles an operation by its summary (operationTitleSource "summary"): in the
		// sidebar and in the operation's own section. An operation without one shows its path.
		await expect
			.poll(async () => {
				const text = flat(await page.locator('body').innerText());
				return operations
					.filter((op) => !text.includes(flat(op.summary ?? op.path)))
					.map((op) => `${op.method.toUpperCase()} ${op.path}: ${op.summary ?? '(no summary)'}`);
			}, { message: 'operations missing from the rendered API reference', timeout: 20_000 })
			.toEqual([]);

		expect(requests.some((u) => u.endsWith('/api/openapi.json')), 'the page fetched ./openapi.json').toBe(true);
		expect(requests.some((u) => u.endsWith('/api/scalar/standalone.js')), 'the page loaded the local bundle').toBe(true);
		expect(offLoopback(requests), 'requests that left loopback').toEqual([]);
		expect(failed, 'failed requests').toEqual([]);
		expect(refused, 'Content-Security-Policy violations').toEqual([]);
	});

	test("the guides' search finds attestation, and the guides load nothing from off this machine", async ({ page }) => {
		const requests = recordRequests(page);
		await page.goto(`${base}/index.html`);
		await page.locator('#mdbook-search-toggle').click();
		const box = page.locator('#mdbook-searchbar');
		await expect(box).toBeVisible();
		// The toggle loads the search index; mdBook searches on keyup once it has loaded.
		await expect(page.locator('#mdbook-search-index')).toBeAttached();
		await expect(page.locator('#mdbook-searchbar-outer')).not.toHaveClass(/searching/);
		await box.pressSequentially('attestation');
		const results = page.locator('#mdbook-searchresults li a');
		await expect(results.first()).toBeVisible();
		await expect(page.locator('#mdbook-searchresults-header')).toContainText(/\d+ search results? for 'attestation'/i);
		// The attestation guide is among the hits, and following one opens that page.
		const hrefs = await results.evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href') ?? ''));
		expect(hrefs.some((h) => h.startsWith('attestation.html'))).toBe(true);
		await results.filter({ has: page.locator('xpath=self::a[starts-with(@href, "attestation.html")]') }).first().click();
		await expect(page).toHaveURL(/\/attestation\.html/);
		await expect(page.locator('main h1')).toContainText('Attestation');
		expect(offLoopback(requests), 'requests that left loopback').toEqual([]);
	});
});
