import { describe, expect, it } from 'vitest';
import { buildPolicy, cliCommand, draftProblems, emptyDraft, injectionPreview, parsePolicy, shellQuote, type Draft } from './policy';

function draft(changes: Partial<Draft>): Draft {
	return { ...emptyDraft(), name: 'github', ...changes };
}

const github = draft({ rules: [{ methods: ['POST', 'GET'], urlPrefix: ' https://api.github.com/ ' }] });

describe('buildPolicy', () => {
	it('serialises a bearer policy as the SDK does (field order, methods in canonical order)', () => {
		expect(JSON.stringify(buildPolicy(github))).toBe(
			'{"kind":"bearer","inject":{"header":"Authorization","format":"Bearer {secret}"},' +
				'"allow":[{"methods":["GET","POST"],"url_prefix":"https://api.github.com/"}]}'
		);
	});

	it('adds max_uses only when it is a whole number above 0', () => {
		expect(buildPolicy(draft({ maxUses: '5' })).max_uses).toBe(5);
		expect(buildPolicy(draft({ maxUses: '' })).max_uses).toBeUndefined();
		expect(buildPolicy(draft({ maxUses: '1.5' })).max_uses).toBeUndefined();
	});

	it('builds a basic policy with the username and the fixed header', () => {
		expect(buildPolicy(draft({ kind: 'basic', username: 'ada', header: 'X-Ignored' })).inject).toEqual({
			header: 'Authorization',
			format: 'Basic {secret}',
			username: 'ada'
		});
	});
});

describe('draftProblems', () => {
	it('accepts a complete draft', () => {
		expect(draftProblems(draft({ rules: [{ methods: ['GET'], urlPrefix: 'https://a.example/' }] }))).toEqual([]);
	});

	it.each<[string, Partial<Draft>, RegExp]>([
		['a name of dots', { name: '..' }, /Name/],
		['a name with a space', { name: 'my key' }, /Name/],
		['a header kind without a header', { kind: 'header', header: ' ' }, /Header name/],
		['a format without {secret}', { kind: 'header', format: 'token' }, /\{secret\}/],
		['a format with {secret} twice', { kind: 'header', format: '{secret}{secret}' }, /\{secret\}/],
		['basic without a username', { kind: 'basic', username: '' }, /Username/],
		['a rule without methods', { rules: [{ methods: [], urlPrefix: 'https://a.example/' }] }, /method/],
		['a rule without a prefix', { rules: [{ methods: ['GET'], urlPrefix: '' }] }, /URL prefix/],
		['max uses of 0', { maxUses: '0' }, /Max uses/]
	])('reports %s', (_name, changes, problem) => {
		const base = { rules: [{ methods: ['GET'], urlPrefix: 'https://a.example/' }], ...changes };
		expect(draftProblems(draft(base)).join('\n')).toMatch(problem);
	});
});

describe('injectionPreview', () => {
	it('masks the secret', () => {
		expect(injectionPreview(buildPolicy(github))).toBe('Authorization: Bearer ••••••');
		expect(injectionPreview(buildPolicy(draft({ kind: 'header', header: 'X-Api-Key', format: 'key={secret}' })))).toBe(
			'X-Api-Key: key=••••••'
		);
		expect(injectionPreview(buildPolicy(draft({ kind: 'basic', username: 'ada' })))).toBe(
			'Authorization: Basic base64(ada:••••••)'
		);
	});
});

describe('cliCommand', () => {
	it('gives the command that stores the same policy', () => {
		expect(cliCommand('github', buildPolicy(draft({ ...github, maxUses: '10' })))).toBe(
			"aileron credential add --name github --allow 'GET,POST https://api.github.com/' --max-uses 10"
		);
	});

	it('names the kind, header and format of a custom header', () => {
		const policy = buildPolicy(draft({ kind: 'header', header: 'X-Api-Key', format: 'key {secret}' }));
		expect(cliCommand('k', policy)).toContain("--kind header --header X-Api-Key --format 'key {secret}'");
	});

	it('quotes what a shell would interpret', () => {
		expect(shellQuote("it's")).toBe(`'it'\\''s'`);
		expect(shellQuote('$(rm -rf ~)')).toBe(`'$(rm -rf ~)'`);
		expect(shellQuote('plain-name_1.0')).toBe('plain-name_1.0');
	});
});

describe('parsePolicy', () => {
	it('reads a stored policy and refuses what is not one', () => {
		expect(parsePolicy(JSON.stringify(buildPolicy(github)))?.allow[0]?.url_prefix).toBe('https://api.github.com/');
		expect(parsePolicy('not json')).toBeUndefined();
		expect(parsePolicy('{"kind":"bearer"}')).toBeUndefined();
	});
});
