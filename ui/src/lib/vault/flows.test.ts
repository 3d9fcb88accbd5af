import { describe, expect, it } from 'vitest';
import { b64u, fromB64u, utf8, type Bytes } from './bytes';
import { AttestationRefused } from './enclave';
import { isVaultError } from './errors';
import {
	addCredential,
	changePassphrase,
	escrowOne,
	openVault,
	rotateSecret,
	setUpVault,
	unlockWithEnclave,
	unlockWithServerTrust,
	eachAtMost,
	ESCROWS_AT_ONCE,
	type FlowDeps
} from './flows';
import { deriveKekBytes } from './kdf';
import { importKek } from './keys';
import { normalisePassphrase } from './normalise';
import { ESCROW_INFO } from './seal';
import { FakeServer } from './testing/fakeServer';
import { openEscrow } from './testing/hpke';
import { vectors } from './testing/vectors';

const USER = 'user-1';
const PASSPHRASE = 'correct horse battery staple orbit';
const SECRET = 'ghp_exampleSecret123';
const POLICY = JSON.stringify({
	kind: 'bearer',
	inject: { header: 'Authorization', format: 'Bearer {secret}' },
	allow: [{ methods: ['GET'], url_prefix: 'https://api.example.com/' }],
	max_uses: 5
});
const enclave = vectors.escrow_seal[0]!;
const enclavePrivate = (): Bytes => fromB64u(enclave.recipient_private_key, 'sk');
const NOW = Date.parse('2030-01-01T00:00:00Z');

function depsFor(server: FakeServer, attest: FlowDeps['attest'] = async () => fromB64u(enclave.recipient_public_key, 'pk')): FlowDeps {
	return {
		api: server,
		// The worker's code, run in the test's thread.
		deriveKek: async (passphrase, salt, params) => importKek(await deriveKekBytes(normalisePassphrase(passphrase), salt, params)),
		attest,
		now: () => NOW
	};
}

/** Every byte the server received, as text, to search for a secret. */
function everythingSent(server: FakeServer): string {
	return JSON.stringify(server.calls);
}

// Argon2id at 64 MiB takes about half a second per derivation; some tests run several.
describe('the vault flows against a fake server', { timeout: 60_000 }, () => {
	it('sets up a vault that the same passphrase opens, and the server never sees the passphrase', async () => {
		const server = new FakeServer();
		const deps = depsFor(server);
		const opened = await setUpVault(deps, USER, PASSPHRASE);
		expect(opened.userId).toBe(USER);
		expect(server.vault?.kdf).toMatchObject({ algorithm: 'argon2id', version: 19, m_cost_kib: 65536, t_cost: 3, p_cost: 1 });
		expect(fromB64u(server.vault!.wrapped_key, 'wrapped').length).toBe(60);
		await expect(openVault(deps, USER, PASSPHRASE)).resolves.toMatchObject({ userId: USER });
		expect(everythingSent(server)).not.toContain(PASSPHRASE);
		// The keys cannot be read out of the tab's memory as bytes.
		expect(opened.vaultKey.extractable).toBe(false);
		expect(opened.credentialKey.extractable).toBe(false);
	});

	it('refuses a wrong passphrase with only GET /v1/vault sent to the server', async () => {
		const server = new FakeServer();
		await setUpVault(depsFor(server), USER, PASSPHRASE);
		server.calls = [];
		const error = await openVault(depsFor(server), USER, 'not the passphrase at all').catch((e: unknown) => e);
		expect(isVaultError(error, 'wrong_passphrase')).toBe(true);
		expect(server.calls).toEqual([{ method: 'GET', path: '/v1/vault' }]);
	});

	it('adds a credential as ciphertext, and unlocking seals its secret to the attested enclave', async () => {
		const server = new FakeServer();
		const deps = depsFor(server);
		const opened = await setUpVault(deps, USER, PASSPHRASE);
		await addCredential(deps, opened, 'github', POLICY, SECRET);
		expect(everythingSent(server)).not.toContain(SECRET);

		const report = await unlockWithEnclave(deps, await openVault(deps, USER, PASSPHRASE));
		expect(report).toEqual({ trust: 'enclave', escrowed: 1, failures: [], until: NOW / 1000 + 3600 });
		const sealed = server.escrows.get('github')!;
		expect(new TextDecoder().decode(await openEscrow(enclavePrivate(), sealed, ESCROW_INFO))).toBe(SECRET);
		expect(JSON.parse(new TextDecoder().decode(fromB64u(sealed.scope, 'scope')))).toEqual({
			allow: JSON.parse(POLICY).allow,
			inject: JSON.parse(POLICY).inject,
			max_uses: 5,
			expires_at: '2030-01-01T01:00:00Z'
		});
		expect(everythingSent(server)).not.toContain(SECRET);
	});

	it('escrows a few credentials at a time and reports failures in order', async () => {
		const seen: number[] = [];
		let running = 0;
		const results = await eachAtMost(ESCROWS_AT_ONCE, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], async (n) => {
			running += 1;
			seen.push(running);
			await new Promise((resolve) => setTimeout(resolve, 5));
			running -= 1;
			return n * 10;
		});
		expect(results).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
		expect(Math.max(...seen)).toBe(ESCROWS_AT_ONCE);
		expect(await eachAtMost(ESCROWS_AT_ONCE, [], async () => 1)).toEqual([]);
	});

	it('seals nothing when the attestation is refused', async () => {
		const server = new FakeServer();
		const deps = depsFor(server);
		const opened = await setUpVault(deps, USER, PASSPHRASE);
		await addCredential(deps, opened, 'github', POLICY, SECRET);
		const refused = depsFor(server, async () => {
			throw new AttestationRefused('image_digest: not in the policy');
		});
		const error = await unlockWithEnclave(refused, opened).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(AttestationRefused);
		expect((error as Error).message).toMatch(/^The enclave's attestation was refused: image_digest/);
		expect(server.escrows.size).toBe(0);
		expect(server.calls.some((c) => c.path.endsWith('/escrow'))).toBe(false);
	});

	it('lists a credential the server altered as a failure and escrows the others', async () => {
		const server = new FakeServer();
		const deps = depsFor(server);
		const opened = await setUpVault(deps, USER, PASSPHRASE);
		await addCredential(deps, opened, 'github', POLICY, SECRET);
		await addCredential(deps, opened, 'widened', POLICY, SECRET);
		// The server widens where the second secret may go.
		server.credentials[1]!.policy = POLICY.replace('https://api.example.com/', 'https://');
		const report = await unlockWithEnclave(deps, opened);
		expect(report.escrowed).toBe(1);
		expect(report.failures).toEqual([{ name: 'widened', reason: expect.stringMatching(/server changed its policy/) }]);
		expect([...server.escrows.keys()]).toEqual(['github']);
	});

	it('reports an escrow the server refused and goes on', async () => {
		const server = new FakeServer();
		const deps = depsFor(server);
		const opened = await setUpVault(deps, USER, PASSPHRASE);
		await addCredential(deps, opened, 'a', POLICY, SECRET);
		await addCredential(deps, opened, 'b', POLICY, SECRET);
		server.refuseEscrow.add('a');
		const report = await unlockWithEnclave(deps, opened);
		expect(report.escrowed).toBe(1);
		expect(report.failures.map((f) => f.name)).toEqual(['a']);
	});

	it('rotates a secret at the next version and escrows it', async () => {
		const server = new FakeServer();
		const deps = depsFor(server);
		const opened = await setUpVault(deps, USER, PASSPHRASE);
		const stored = await addCredential(deps, opened, 'github', POLICY, SECRET);
		const updated = await rotateSecret(deps, opened, stored, 'the-new-secret');
		expect(updated.version).toBe(2);
		expect(server.calls.at(-1)).toMatchObject({ method: 'PUT', path: '/v1/credentials/github', body: { version: 2, policy: POLICY } });
		await escrowOne(deps, opened, updated);
		expect(new TextDecoder().decode(await openEscrow(enclavePrivate(), server.escrows.get('github')!, ESCROW_INFO))).toBe('the-new-secret');
	});

	it('refuses to rotate a credential whose policy the server changed', async () => {
		const server = new FakeServer();
		const deps = depsFor(server);
		const opened = await setUpVault(deps, USER, PASSPHRASE);
		const stored = await addCredential(deps, opened, 'github', POLICY, SECRET);
		const swapped = { ...stored, policy: POLICY.replace('https://api.example.com/', 'https://evil.example/') };
		const error = await rotateSecret(deps, opened, swapped, 'the-new-secret').catch((e: unknown) => e);
		expect(isVaultError(error, 'credential_tampered')).toBe(true);
		expect(server.calls.some((c) => c.method === 'PUT' && c.path.startsWith('/v1/credentials/'))).toBe(false);
	});

	it('refuses a secret with a line break before anything is sent', async () => {
		const server = new FakeServer();
		const deps = depsFor(server);
		const opened = await setUpVault(deps, USER, PASSPHRASE);
		server.calls = [];
		const error = await addCredential(deps, opened, 'github', POLICY, 'line\nbreak').catch((e: unknown) => e);
		expect(isVaultError(error, 'invalid_secret')).toBe(true);
		expect(server.calls).toEqual([]);
	});

	it('changes the passphrase: the new one opens the same vault, the old one no longer does', async () => {
		const server = new FakeServer();
		const deps = depsFor(server);
		const opened = await setUpVault(deps, USER, PASSPHRASE);
		await addCredential(deps, opened, 'github', POLICY, SECRET);
		await changePassphrase(deps, USER, PASSPHRASE, 'a different long passphrase here');
		const reopened = await openVault(deps, USER, 'a different long passphrase here');
		await expect(unlockWithEnclave(deps, reopened)).resolves.toMatchObject({ escrowed: 1, failures: [] });
		const error = await openVault(deps, USER, PASSPHRASE).catch((e: unknown) => e);
		expect(isVaultError(error, 'wrong_passphrase')).toBe(true);
	});

	it('refuses to change the passphrase when the current one is wrong, changing nothing', async () => {
		const server = new FakeServer();
		const deps = depsFor(server);
		await setUpVault(deps, USER, PASSPHRASE);
		const before = structuredClone(server.vault);
		const error = await changePassphrase(deps, USER, 'wrong passphrase', 'new').catch((e: unknown) => e);
		expect(isVaultError(error, 'wrong_passphrase')).toBe(true);
		expect(server.vault).toEqual(before);
	});

	it('in server-trust mode hands over the credential key only, never the passphrase or a secret', async () => {
		const server = new FakeServer('server');
		const deps = depsFor(server);
		const opened = await setUpVault(deps, USER, PASSPHRASE);
		await addCredential(deps, opened, 'github', POLICY, SECRET);
		const report = await unlockWithServerTrust(deps, opened);
		expect(report).toEqual({ trust: 'server', escrowed: 0, failures: [], until: 2_000_000_000 });
		expect(fromB64u(server.session!.credential_key, 'key').length).toBe(32);
		expect(everythingSent(server)).not.toContain(SECRET);
		expect(everythingSent(server)).not.toContain(PASSPHRASE);
		expect(everythingSent(server)).not.toContain(b64u(utf8(SECRET, 's')));
	});
});
