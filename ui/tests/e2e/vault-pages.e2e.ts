// The vault page on a phone (375 × 740): in each of its three states (no vault, locked, unlocked)
// no serious or critical accessibility violation and no sideways scroll; the unlocked page's
// screenshot in test-results/screenshots, checked not blank.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { createVerifiedUser, expectHeading, navLink, seriousViolations, signInContext, stack, uniqueEmail } from './helpers';
import { colourStats, decodePng } from './png';
import { UI_DIR } from './stack';
import { addCredential, openVaultPage, plantedSecret, setPassphrase, strongPassphrase, unlock } from './vault-kit';

const PHONE = { width: 375, height: 740 };
const SHOTS = path.join(UI_DIR, 'test-results/screenshots');

/** How far the page scrolls sideways, in CSS pixels (0: it fits). */
function sidewaysScroll(page: Page): Promise<number> {
	return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

/** The page once settled: its axe violations, and that it fits the phone's width. */
async function checkState(page: Page, state: string, found: string[]): Promise<void> {
	await page.waitForLoadState('networkidle');
	found.push(...(await seriousViolations(page, `vault (${state})`)));
	expect(await sidewaysScroll(page), `the vault page (${state}) scrolls sideways at ${PHONE.width}px`).toBeLessThanOrEqual(1);
}

test('the vault page at phone width: three states accessible, none scrolls sideways', async ({ browser }) => {
	test.setTimeout(120_000);
	const context = await browser.newContext({ viewport: PHONE });
	const page = await context.newPage();
	const email = uniqueEmail('vault-phone');
	await createVerifiedUser(email);
	await signInContext(context, email);
	const found: string[] = [];

	await openVaultPage(page);
	await expect(page.getByRole('heading', { level: 2, name: 'Set a passphrase' })).toBeVisible();
	await checkState(page, 'no vault', found);

	const passphrase = strongPassphrase('phone');
	await setPassphrase(page, passphrase);
	await addCredential(page, 'phone-api', `${stack().upstream}/api/`, plantedSecret('phone'));

	// A full load forgets the key this tab held: locked here.
	await openVaultPage(page);
	await expect(page.getByRole('heading', { level: 2, name: 'Unlock', exact: true })).toBeVisible();
	await checkState(page, 'locked', found);

	await unlock(page, passphrase, 1);
	await expect(page.getByRole('heading', { level: 2, name: 'Lock', exact: true })).toBeVisible();
	await checkState(page, 'unlocked', found);
	mkdirSync(SHOTS, { recursive: true });
	const png = await page.screenshot({ path: path.join(SHOTS, 'vault-unlocked-375.png'), fullPage: true });
	const stats = colourStats(decodePng(png));
	expect(stats.distinct, 'distinct colours of the unlocked vault page').toBeGreaterThan(8);
	expect(stats.nonBackground, 'share of non-background pixels').toBeGreaterThan(0.002);
	expect(found, found.join('\n')).toEqual([]);

	// The phone's navigation still reaches the page's neighbours (the layout is not broken).
	await expect(navLink(page, 'Credentials')).toBeAttached();
	await context.close();
});
