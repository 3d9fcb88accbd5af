import { describe, expect, it, vi } from 'vitest';
import { AttestationRefused, attestEnclave, attestationSetup } from './enclave';

const POLICY = JSON.stringify({
	audience: 'https://aileron.local/enclave',
	image_digests: ['sha256:' + 'a'.repeat(64)],
	issuer: 'https://aileron.local/attestation'
});
const deps = () => ({ relay: vi.fn(async () => ({})), nowSeconds: () => 1_900_000_000 });

describe('the attestation settings', () => {
	it.each([
		[{}, /PUBLIC_ATTESTATION_POLICY is unset/],
		[{ PUBLIC_ATTESTATION_POLICY: '  ' }, /PUBLIC_ATTESTATION_POLICY is unset/],
		[{ PUBLIC_ATTESTATION_POLICY: '{"audience": ""}' }, /PUBLIC_ATTESTATION_POLICY is not a valid policy/],
		[{ PUBLIC_ATTESTATION_POLICY: '{"audience": "a", "extra": 1}' }, /not a valid policy/],
		[{ PUBLIC_ATTESTATION_POLICY: POLICY }, /PUBLIC_ATTESTATION_ROOT is unset/]
	])('fails closed on %j', (settings, reason) => {
		const setup = attestationSetup(settings);
		expect(setup.ok).toBe(false);
		expect(setup.ok ? '' : setup.reason).toMatch(reason);
	});

	it('accepts a policy with the word google for the root', () => {
		expect(attestationSetup({ PUBLIC_ATTESTATION_POLICY: POLICY, PUBLIC_ATTESTATION_ROOT: 'google' }).ok).toBe(true);
	});

	it('asks the relay nothing and refuses when the settings are missing', async () => {
		const d = deps();
		const error = await attestEnclave(d, attestationSetup({})).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(AttestationRefused);
		expect((error as Error).message).toMatch(/^The enclave's attestation was refused: this UI has no attestation policy/);
		expect(d.relay).not.toHaveBeenCalled();
	});

	it('refuses a root that is not a certificate before asking the relay', async () => {
		const d = deps();
		const setup = attestationSetup({ PUBLIC_ATTESTATION_POLICY: POLICY, PUBLIC_ATTESTATION_ROOT: 'not a pem' });
		await expect(attestEnclave(d, setup)).rejects.toBeInstanceOf(AttestationRefused);
		expect(d.relay).not.toHaveBeenCalled();
	});

	it('refuses an answer that is not an attestation, with the reason', async () => {
		const setup = attestationSetup({ PUBLIC_ATTESTATION_POLICY: POLICY, PUBLIC_ATTESTATION_ROOT: 'google' });
		const d = deps();
		const error = await attestEnclave(d, setup).catch((e: unknown) => e);
		expect(error).toBeInstanceOf(AttestationRefused);
		expect((error as AttestationRefused).reason).toMatch(/^answer: /);
		expect(d.relay).toHaveBeenCalledWith({ nonce: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/) });
	});
});
