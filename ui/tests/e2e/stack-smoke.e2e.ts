// The stack itself, without the UI: the server answers, the enclave is attested, mail arrives.
import { expect, test } from '@playwright/test';
import { agentRequest, api, createVerifiedUser, seedCredential, stack, tokenFor, uniqueEmail, upstreamSeen } from './helpers';

test('the stack is up: health, an attested local enclave, a mailed code', async () => {
	expect((await api('GET', '/v1/health')).status).toBe(200);
	const token = await createVerifiedUser(uniqueEmail('smoke'));
	const tee = await api('GET', '/v1/tee/status', undefined, token);
	expect(tee.body, JSON.stringify(tee.body)).toMatchObject({ provider: 'local', attested: true, trust: 'enclave' });
	const methods = await api('GET', '/auth/methods');
	expect(methods.body.providers).toContainEqual({ id: 'google', name: 'Google' });
	expect(stack().enclaveDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
});

test('the CLI seeds a credential and an agent request reaches the upstream with the secret', async () => {
	const seed = await seedCredential('smoke-cli');
	const token = await tokenFor(seed.email);
	const listed = await api('GET', '/v1/credentials', undefined, token);
	expect(listed.body[0]).toMatchObject({ name: seed.credential, escrow: { status: 'active' } });
	const agent = await api('POST', '/v1/agent-tokens', { name: 'smoke', credentials: [seed.credential] }, token);
	expect(agent.status, JSON.stringify(agent.body)).toBe(201);
	const path = `/api/smoke-${Date.now()}`;
	const r = await agentRequest(seed, agent.body.token, `${stack().upstream}${path}`);
	expect(r.code, r.stdout + r.stderr).toBe(0);
	const seen = (await upstreamSeen()).find((s) => s.path === path);
	expect(seen?.headers.authorization).toBe(`Bearer ${seed.secret}`);
	expect(r.stdout).not.toContain(seed.secret);
});
