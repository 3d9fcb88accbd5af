// A credential's policy (sdk/src/vault/policy.rs): how the secret is injected and where it may
// be used. The UI builds it from the form, shows a preview and the CLI command that stores it;
// whether a request is allowed is always asked of the server (POST /v1/scope/check), never
// decided here.

export type Kind = 'bearer' | 'header' | 'basic';

export const KINDS: { value: Kind; label: string }[] = [
	{ value: 'bearer', label: 'Bearer token' },
	{ value: 'header', label: 'Custom header' },
	{ value: 'basic', label: 'HTTP Basic' }
];

export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

export const SECRET_MASK = '••••••';

export interface AllowRule {
	methods: string[];
	url_prefix: string;
}

export interface Inject {
	header: string;
	format: string;
	username?: string;
}

export interface Policy {
	kind: Kind;
	inject: Inject;
	allow: AllowRule[];
	max_uses?: number;
}

/** The form's state. Strings as typed; `buildPolicy` turns them into a policy. */
export interface Draft {
	name: string;
	kind: Kind;
	header: string;
	format: string;
	username: string;
	maxUses: string;
	rules: { methods: string[]; urlPrefix: string }[];
}

export function emptyDraft(): Draft {
	return {
		name: '',
		kind: 'bearer',
		header: 'Authorization',
		format: '{secret}',
		username: '',
		maxUses: '',
		rules: [{ methods: ['GET'], urlPrefix: '' }]
	};
}

/** The policy the CLI would store for this draft, field order as the SDK serialises it. */
export function buildPolicy(draft: Draft): Policy {
	const policy: Policy = { kind: draft.kind, inject: inject(draft), allow: rules(draft) };
	const maxUses = Number(draft.maxUses);
	if (draft.maxUses.trim() !== '' && Number.isInteger(maxUses) && maxUses > 0) {
		policy.max_uses = maxUses;
	}
	return policy;
}

function inject(draft: Draft): Inject {
	switch (draft.kind) {
		case 'bearer':
			return { header: draft.header.trim() || 'Authorization', format: 'Bearer {secret}' };
		case 'header':
			return { header: draft.header.trim(), format: draft.format || '{secret}' };
		case 'basic':
			return { header: 'Authorization', format: 'Basic {secret}', username: draft.username };
	}
}

function rules(draft: Draft): AllowRule[] {
	return draft.rules.map((rule) => ({
		methods: METHODS.filter((m) => rule.methods.includes(m)),
		url_prefix: rule.urlPrefix.trim()
	}));
}

/** What the form still needs before the CLI command is worth copying. */
export function draftProblems(draft: Draft): string[] {
	const problems: string[] = [];
	if (!/^(?!\.+$)[A-Za-z0-9._-]{1,64}$/.test(draft.name)) {
		problems.push('Name: 1 to 64 of A–Z, a–z, 0–9, dot, underscore and hyphen (not only dots).');
	}
	if (draft.kind === 'header' && !draft.header.trim()) problems.push('Header name is required.');
	if (draft.kind === 'header' && draft.format.split('{secret}').length !== 2) {
		problems.push('Format must contain {secret} exactly once.');
	}
	if (draft.kind === 'basic' && !draft.username) problems.push('Username is required.');
	const maxUses = Number(draft.maxUses);
	if (draft.maxUses.trim() !== '' && !(Number.isInteger(maxUses) && maxUses > 0)) {
		problems.push('Max uses must be a whole number above 0, or empty.');
	}
	draft.rules.forEach((rule, i) => {
		if (rule.methods.length === 0) problems.push(`Rule ${i + 1}: choose at least one method.`);
		if (!rule.urlPrefix.trim()) problems.push(`Rule ${i + 1}: the URL prefix is required.`);
	});
	return problems;
}

/** Parses a stored policy. Stored policies were checked by the server; a bad one gives undefined. */
export function parsePolicy(json: string): Policy | undefined {
	try {
		const value: unknown = JSON.parse(json);
		if (typeof value !== 'object' || value === null) return undefined;
		const p = value as Partial<Policy>;
		if (!p.inject || !Array.isArray(p.allow) || typeof p.kind !== 'string') return undefined;
		return p as Policy;
	} catch {
		return undefined;
	}
}

/** The header the upstream receives, with the secret masked. */
export function injectionPreview(policy: Pick<Policy, 'inject'>): string {
	const { header, format, username } = policy.inject;
	const value =
		username === undefined
			? format.replace('{secret}', SECRET_MASK)
			: format.replace('{secret}', `base64(${username}:${SECRET_MASK})`);
	return `${header || 'Header'}: ${value}`;
}

/** A rule as the CLI's --allow takes it: "GET,POST https://api.github.com/". */
export function ruleText(rule: AllowRule): string {
	return `${rule.methods.join(',')} ${rule.url_prefix}`;
}

/** Quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
	return /^[A-Za-z0-9._\/:=@%+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The `aileron credential add` command that stores this policy (it then asks for the secret). */
export function cliCommand(name: string, policy: Policy): string {
	const args = ['aileron', 'credential', 'add', '--name', shellQuote(name || 'NAME')];
	if (policy.kind !== 'bearer') args.push('--kind', policy.kind);
	if (policy.kind === 'bearer' && policy.inject.header !== 'Authorization') {
		args.push('--header', shellQuote(policy.inject.header));
	}
	if (policy.kind === 'header') {
		args.push('--header', shellQuote(policy.inject.header));
		if (policy.inject.format !== '{secret}') args.push('--format', shellQuote(policy.inject.format));
	}
	if (policy.kind === 'basic') args.push('--username', shellQuote(policy.inject.username ?? ''));
	for (const rule of policy.allow) args.push('--allow', `'${ruleText(rule).replace(/'/g, `'\\''`)}'`);
	if (policy.max_uses !== undefined) args.push('--max-uses', String(policy.max_uses));
	return args.join(' ');
}
