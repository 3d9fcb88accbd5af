import { createPrivateKey, createPublicKey } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { b64u, fromB64u, fromHex, utf8, type Bytes } from './bytes';
import { importCredentialKey } from './keys';
import { ESCROW_INFO, escrowCredential, escrowScope, rfc3339, sealToEnclave, type EscrowRequest } from './seal';
import { openEscrow } from './testing/hpke';
import { refusal } from './testing/refusal';
import { flip, vectors } from './testing/vectors';

const v = vectors.escrow_seal[0]!;
const privateKey = (): Bytes => fromB64u(v.recipient_private_key, 'sk');
const publicKey = (): Bytes => fromB64u(v.recipient_public_key, 'pk');
const EXPIRY = new Date('2030-01-01T00:00:00Z');
const policyOf = (kind: string): string => vectors.credential.find((c) => JSON.parse(c.policy).kind === kind)!.policy;

/** The X25519 public key of a raw private key, by Node's own crypto (independent of HPKE's). */
function x25519Public(raw: Bytes): string {
	const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), raw]);
	const jwk = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
	return jwk.x!;
}

describe('the escrow_seal vector', () => {
	it('uses the info aileron/escrow/v1 and a key pair that matches', () => {
		expect(new TextDecoder().decode(ESCROW_INFO)).toBe(v.info);
		expect(x25519Public(privateKey())).toBe(v.recipient_public_key);
	});

	it('opens to the secret with the recipient\'s private key, the info and the scope', async () => {
		expect(new TextDecoder().decode(await openEscrow(privateKey(), v, ESCROW_INFO))).toBe(v.secret);
	});

	it('carries scope_json as its scope, which escrowScope builds byte for byte from the basic policy', () => {
		expect(new TextDecoder().decode(fromB64u(v.scope, 'scope'))).toBe(v.scope_json);
		expect(b64u(escrowScope(policyOf('basic'), EXPIRY))).toBe(v.scope);
	});

	it.each<[string, () => [Bytes, EscrowRequest, Bytes]]>([
		['another scope', () => [privateKey(), { ...v, scope: b64u(utf8(v.scope_json.replace('api.example.com', 'evil.example'), 't')) }, ESCROW_INFO]],
		['another info', () => [privateKey(), v, utf8('aileron/escrow/v2', 't')]],
		['another private key', () => [flip(privateKey(), 5), v, ESCROW_INFO]],
		['an altered ciphertext', () => [privateKey(), { ...v, ciphertext: b64u(flip(fromB64u(v.ciphertext, 'ct'), -1)) }, ESCROW_INFO]]
	])('does not open with %s', async (_, inputs) => {
		await expect(openEscrow(...inputs())).rejects.toThrow();
	});
});

describe('sealToEnclave', () => {
	const scope = (): Bytes => escrowScope(policyOf('basic'), EXPIRY);

	it('seals what the vector\'s private key opens, binding the scope and the info', async () => {
		const sealed = await sealToEnclave(publicKey(), utf8(v.secret, 't'), scope());
		expect(sealed.scope).toBe(v.scope);
		expect(fromB64u(sealed.enc, 'enc').length).toBe(32);
		expect(fromB64u(sealed.ciphertext, 'ct').length).toBe(v.secret.length + 16);
		expect(new TextDecoder().decode(await openEscrow(privateKey(), sealed, ESCROW_INFO))).toBe(v.secret);
		await expect(openEscrow(privateKey(), { ...sealed, scope: b64u(utf8('{}', 't')) }, ESCROW_INFO)).rejects.toThrow();
		await expect(openEscrow(privateKey(), sealed, utf8('aileron/escrow/v0', 't'))).rejects.toThrow();
	});

	it('uses a fresh ephemeral key every time', async () => {
		const one = await sealToEnclave(publicKey(), utf8(v.secret, 't'), scope());
		const two = await sealToEnclave(publicKey(), utf8(v.secret, 't'), scope());
		expect(one.enc).not.toBe(two.enc);
		expect(one.ciphertext).not.toBe(two.ciphertext);
	});

	it.each([31, 33, 0])('refuses a public key of %i bytes as malformed', async (length) => {
		expect(await refusal(sealToEnclave(new Uint8Array(length), utf8('s', 't'), scope()))).toBe('malformed');
	});

	it('refuses the all-zero public key (a low-order point) as seal_failed', async () => {
		expect(await refusal(sealToEnclave(new Uint8Array(32), utf8('s', 't'), scope()))).toBe('seal_failed');
	});
});

describe('escrowScope', () => {
	const parse = (bytes: Bytes): Record<string, unknown> => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;

	it('takes allow, inject and max_uses from the policy, not kind, with expires_at', () => {
		const scope = parse(escrowScope(policyOf('header'), EXPIRY));
		const policy = JSON.parse(policyOf('header')) as Record<string, unknown>;
		expect(scope).toEqual({ allow: policy.allow, inject: policy.inject, expires_at: '2030-01-01T00:00:00Z', max_uses: 100 });
	});

	it('leaves max_uses out when the policy has none', () => {
		expect(Object.keys(parse(escrowScope(policyOf('bearer'), EXPIRY)))).toEqual(['allow', 'inject', 'expires_at']);
	});

	it('writes RFC 3339 in whole UTC seconds', () => {
		expect(rfc3339(new Date('2031-02-03T04:05:06.789Z'))).toBe('2031-02-03T04:05:06Z');
	});

	it.each([
		['a policy that is not JSON', '{"allow":'],
		['a policy without allow', '{"kind":"bearer","inject":{}}'],
		['a policy whose inject is a list', '{"allow":[],"inject":[]}']
	])('refuses %s as malformed', async (_, policy) => {
		expect(await refusal(() => escrowScope(policy, EXPIRY))).toBe('malformed');
	});

	it('refuses an invalid date as malformed', async () => {
		expect(await refusal(() => escrowScope(policyOf('bearer'), new Date(Number.NaN)))).toBe('malformed');
	});
});

describe('escrowCredential', () => {
	const c = vectors.credential.find((x) => JSON.parse(x.policy).kind === 'basic')!;
	const binding = { userId: c.user_id, credentialId: c.credential_id, version: c.version, policy: c.policy };
	const key = (): Promise<CryptoKey> => importCredentialKey(fromHex(c.credential_key_hex));

	it('opens a vault credential and seals its secret with the policy\'s scope', async () => {
		const sealed = await escrowCredential(await key(), fromB64u(c.ciphertext, 'ct'), binding, publicKey(), EXPIRY);
		expect(sealed.scope).toBe(v.scope);
		expect(new TextDecoder().decode(await openEscrow(privateKey(), sealed, ESCROW_INFO))).toBe(c.secret);
	});

	it('refuses a credential whose policy the server widened, sealing nothing', async () => {
		const widened = c.policy.replace('"GET","POST"', '"GET","POST","DELETE"');
		expect(widened).not.toBe(c.policy);
		const code = await refusal(escrowCredential(await key(), fromB64u(c.ciphertext, 'ct'), { ...binding, policy: widened }, publicKey(), EXPIRY));
		expect(code).toBe('credential_tampered');
	});
});
