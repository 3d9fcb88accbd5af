// The enclave's side of an escrow seal, for tests only: the browser never opens one.

import { fromB64u, type Bytes } from '../bytes';
import { escrowSuite, type EscrowRequest } from '../seal';

export async function openEscrow(privateKey: Bytes, sealed: EscrowRequest, info: Bytes): Promise<Bytes> {
	const suite = escrowSuite();
	const recipientKey = await suite.kem.deserializePrivateKey(privateKey);
	const opened = await suite.open(
		{ recipientKey, enc: fromB64u(sealed.enc, 'enc'), info },
		fromB64u(sealed.ciphertext, 'ciphertext'),
		fromB64u(sealed.scope, 'scope')
	);
	return new Uint8Array(opened);
}
