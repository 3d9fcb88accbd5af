// Seals with fresh randomness in the shapes of sdk/vectors/vault-v1.json and checks that each
// opens here; with TS_SEALED_OUT set, writes them there for the Rust side to open
// (`npm run interop` writes out/ts-sealed.json).

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

import { describe, expect, it } from 'vitest';

import { b64u, fromB64u, fromHex, hex, utf8 } from './bytes';
import { aad, credentialAad, openCredential, sealCredential, unwrapVaultKey, wrapVaultKey, type Binding } from './format';
import { credentialKeyBytesForServerTrust, importCredentialKey, importKek } from './keys';
import { ESCROW_INFO, escrowCredential, escrowScope, sealToEnclave, type EscrowRequest } from './seal';
import { openEscrow } from './testing/hpke';
import { vectors, VECTORS_PATH } from './testing/vectors';

const OUT = process.env.TS_SEALED_OUT;
const EXPIRY = new Date('2030-01-01T00:00:00Z');
const escrow = vectors.escrow_seal[0]!;
const recipient = fromB64u(escrow.recipient_public_key, 'pk');

function escrowEntry(sealed: EscrowRequest, secret: string): Record<string, string> {
	return {
		recipient_private_key: escrow.recipient_private_key,
		recipient_public_key: escrow.recipient_public_key,
		info: escrow.info,
		scope: sealed.scope,
		scope_json: new TextDecoder().decode(fromB64u(sealed.scope, 'scope')),
		enc: sealed.enc,
		ciphertext: sealed.ciphertext,
		secret
	};
}

async function credentialEntries(): Promise<Record<string, unknown>[]> {
	return Promise.all(
		vectors.credential.map(async (c) => {
			const binding: Binding = { userId: c.user_id, credentialId: c.credential_id, version: c.version, policy: c.policy };
			const key = await importCredentialKey(fromHex(c.credential_key_hex));
			const ciphertext = await sealCredential(key, utf8(c.secret, 't'), binding);
			expect(new TextDecoder().decode(await openCredential(key, ciphertext, binding))).toBe(c.secret);
			expect(b64u(ciphertext)).not.toBe(c.ciphertext);
			return { ...c, aad_hex: hex(await credentialAad(binding)), nonce_hex: hex(ciphertext.subarray(0, 12)), ciphertext: b64u(ciphertext) };
		})
	);
}

async function wrapEntry(): Promise<Record<string, unknown>> {
	const w = vectors.wrap[0]!;
	const kek = await importKek(fromHex(w.kek_hex));
	const wrapped = await wrapVaultKey(kek, fromHex(w.vault_key_hex), w.user_id);
	const opened = await unwrapVaultKey(kek, wrapped, w.user_id);
	expect(hex(await credentialKeyBytesForServerTrust(opened))).toBe(vectors.derive[0]!.credential_key_hex);
	const aadHex = hex(aad('wrap', [utf8(w.user_id, 't')]));
	return { ...w, aad_hex: aadHex, nonce_hex: hex(wrapped.subarray(0, 12)), wrapped_key: b64u(wrapped) };
}

describe('the file for the Rust side', () => {
	it('holds seals made here that open here (written when TS_SEALED_OUT is set)', async () => {
		const sealed = await sealToEnclave(recipient, utf8(escrow.secret, 't'), escrowScope(policyOf('basic'), EXPIRY));
		const basic = vectors.credential.find((c) => JSON.parse(c.policy).kind === 'basic')!;
		const unlocked = await escrowCredential(
			await importCredentialKey(fromHex(basic.credential_key_hex)),
			fromB64u(basic.ciphertext, 'ct'),
			{ userId: basic.user_id, credentialId: basic.credential_id, version: basic.version, policy: basic.policy },
			recipient,
			EXPIRY
		);
		const sk = fromB64u(escrow.recipient_private_key, 'sk');
		expect(new TextDecoder().decode(await openEscrow(sk, sealed, ESCROW_INFO))).toBe(escrow.secret);
		expect(new TextDecoder().decode(await openEscrow(sk, unlocked, ESCROW_INFO))).toBe(basic.secret);
		const file = {
			about:
				'Sealed by the TypeScript vault client (ui/src/lib/vault) with fresh randomness, in the shapes of sdk/vectors/vault-v1.json. ' +
				'escrow_seal: HPKE seals to the vectors\' recipient key (open with recipient_private_key, info and the scope as aad). ' +
				'escrow_credential: the same for the unlock path (credential[2] opened, its secret sealed with its policy\'s scope). ' +
				'credential and wrap: envelopes under the vectors\' keys with random nonces (nonce_hex is the one used).',
			generated_at: new Date().toISOString(),
			vectors: VECTORS_PATH,
			escrow_seal: [escrowEntry(sealed, escrow.secret)],
			escrow_credential: [escrowEntry(unlocked, basic.secret)],
			credential: await credentialEntries(),
			wrap: [await wrapEntry()]
		};
		if (OUT === undefined) return;
		mkdirSync(dirname(OUT), { recursive: true });
		writeFileSync(OUT, JSON.stringify(file, null, 2) + '\n');
	});
});

function policyOf(kind: string): string {
	return vectors.credential.find((c) => JSON.parse(c.policy).kind === kind)!.policy;
}
