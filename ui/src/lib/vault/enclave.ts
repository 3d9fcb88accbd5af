// Attesting the enclave from the page, as the CLI does through the server's relay
// (sdk/src/host.rs `attest`): a fresh nonce, `POST /v1/tee/attestation {nonce}`, the token
// verified here against this UI's own policy and pinned root with the nonce and the binding of
// the enclave's boot and keys. Only a key that passed is returned to seal to.
//
// The policy and root are run-time settings of the UI service (PUBLIC_ATTESTATION_POLICY,
// PUBLIC_ATTESTATION_ROOT). Unset or invalid, nothing is sealed: the pages say why.
import {
	checkAttestation,
	freshNonce,
	googleTrustAnchor,
	parsePolicy,
	trustAnchorFromPem,
	type Policy,
	type TrustAnchor
} from '$lib/attest';
import type { Bytes } from './bytes';

export interface AttestationSettings {
	PUBLIC_ATTESTATION_POLICY?: string;
	PUBLIC_ATTESTATION_ROOT?: string;
}

/** The settings, checked: a policy and a way to the pinned root, or why nothing can be sealed. */
export type AttestationSetup =
	| { ok: true; policy: Policy; root: () => Promise<TrustAnchor> }
	| { ok: false; reason: string };

/** Reads the two settings. Fails closed: unset or invalid means no attestation passes. */
export function attestationSetup(settings: AttestationSettings): AttestationSetup {
	const policyText = settings.PUBLIC_ATTESTATION_POLICY?.trim();
	if (!policyText) {
		return { ok: false, reason: 'this UI has no attestation policy (PUBLIC_ATTESTATION_POLICY is unset), so it cannot check the enclave and seals nothing' };
	}
	let policy: Policy;
	try {
		policy = parsePolicy(policyText);
	} catch (error) {
		return { ok: false, reason: `PUBLIC_ATTESTATION_POLICY is not a valid policy: ${(error as Error).message}` };
	}
	const rootText = settings.PUBLIC_ATTESTATION_ROOT?.trim();
	if (!rootText) {
		return { ok: false, reason: 'this UI has no pinned attestation root (PUBLIC_ATTESTATION_ROOT is unset: a PEM certificate, or google)' };
	}
	let anchor: Promise<TrustAnchor> | undefined;
	const root = () => (anchor ??= rootText === 'google' ? googleTrustAnchor() : trustAnchorFromPem(rootText));
	return { ok: true, policy, root };
}

/** The enclave's attestation did not pass: nothing may be sealed to it. */
export class AttestationRefused extends Error {
	override readonly name = 'AttestationRefused';
	constructor(readonly reason: string) {
		super(`The enclave's attestation was refused: ${reason}`);
	}
}

/** What attesting needs: the relay call and the clock (seconds). */
export interface AttestDeps {
	relay: (body: { nonce: string }) => Promise<unknown>;
	nowSeconds: () => number;
}

/** The attested enclave's HPKE public key, or AttestationRefused. */
export async function attestEnclave(deps: AttestDeps, setup: AttestationSetup): Promise<Bytes> {
	if (!setup.ok) throw new AttestationRefused(setup.reason);
	let root: TrustAnchor;
	try {
		root = await setup.root();
	} catch (error) {
		throw new AttestationRefused(`the pinned root (PUBLIC_ATTESTATION_ROOT) cannot be read: ${(error as Error).message}`);
	}
	const nonce = freshNonce();
	const answer = await deps.relay({ nonce });
	const verdict = await checkAttestation(answer, setup.policy, root, nonce, deps.nowSeconds());
	if (!verdict.ok) throw new AttestationRefused(`${verdict.check}: ${verdict.detail}`);
	return new Uint8Array(verdict.hpkePublicKey);
}
