// Playwright's global set-up: the whole Aileron stack on free loopback ports, for one run.
// PostgreSQL (a fresh database), the local enclave, a real OpenID provider playing Google, the
// API server, a mail recorder, a recording upstream and the built UI. What the tests need to
// reach it is put in process.env.AILERON_E2E_STACK (JSON, read by stackInfo() in helpers.ts;
// workers inherit the runner's environment) and written to test-results/stack.json.
// The function returned is the global teardown: every process stopped, the database dropped.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { cp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startMailRecorder, startUpstream, type Recorder } from './recorders';

const run = promisify(execFile);

/** Everything a test needs to know about the running stack. */
export interface StackInfo {
	/** The API as the browser reaches it (same host name as the UI: cookies are SameSite). */
	api: string;
	/** The API for the CLI and node-side calls (the server binds 127.0.0.1 only). */
	apiLoopback: string;
	ui: string;
	mail: string;
	upstream: string;
	enclaveDigest: string;
	caDir: string;
	policyFile: string;
	databaseUrl: string;
	bin: string;
	work: string;
	googleEmail: string;
}

export const UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REPO = path.resolve(UI_DIR, '..');
const TARGET = process.env.CARGO_TARGET_DIR ?? path.join(os.homedir(), '.cache/aileron/target');
const BIN = path.join(TARGET, 'debug');
const ADMIN_DB = process.env.AILERON_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const GOOGLE_CLIENT_ID = 'aileron-ui-test-client';
const GOOGLE_CLIENT_SECRET = 'aileron-ui-test-secret-0123456789';
export const GOOGLE_EMAIL = 'ada.google@example.com';
/** Short, so that the refresh test does not wait long; every test lives with it. */
export const ACCESS_TOKEN_TTL_SECONDS = 5;

interface Running {
	children: ChildProcess[];
	recorders: Recorder[];
	dbName?: string;
	work: string;
}

/** Whether `port` can be bound on 127.0.0.1 right now. */
function canBind(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.once('error', () => resolve(false));
		s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
	});
}

/** The lower end of the kernel's ephemeral range (what a bind to port 0 is given). */
function ephemeralLow(): number {
	try {
		const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
		return Number.isInteger(low) && low > 2048 ? low : 32768;
	} catch {
		return 32768;
	}
}

/**
 * A free port for a process started later, below the ephemeral range: a port taken from that
 * range (listen on 0, close) can be handed by the kernel to the next process that binds port 0
 * (the OpenID provider, a recorder, a CLI) before ours binds it, which once left the UI's port
 * to the OpenID provider. Random within the range, so that parallel runs rarely meet.
 */
async function freePort(): Promise<number> {
	const high = ephemeralLow() - 1;
	const low = Math.max(1024, high - 8000);
	for (let i = 0; i < 200; i++) {
		const port = low + Math.floor(Math.random() * (high - low + 1));
		if (await canBind(port)) return port;
	}
	throw new Error(`no free port in ${low}–${high}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => Promise<boolean> | boolean, ms: number): Promise<void> {
	const end = Date.now() + ms;
	while (Date.now() < end) {
		if (await ok()) return;
		await sleep(100);
	}
	throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Whether `url` answers with the UI's shell (not merely with something, e.g. another server's 404). */
async function isUiShell(url: string): Promise<boolean> {
	try {
		const res = await fetch(url);
		return res.ok && (await res.text()).includes('/_app/');
	} catch {
		return false;
	}
}

/** A minimal environment: nothing from the developer's shell leaks into the processes. */
function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
	return { PATH: process.env.PATH, HOME: process.env.HOME, RUST_LOG: 'info', ...extra };
}

function startProcess(
	r: Running,
	name: string,
	cmd: string,
	args: string[],
	env: NodeJS.ProcessEnv,
	cwd?: string
): ChildProcess {
	const out = openSync(path.join(r.work, `${name}.out`), 'w');
	const err = openSync(path.join(r.work, `${name}.log`), 'w');
	const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', out, err] });
	r.children.push(child);
	return child;
}

function alive(child: ChildProcess, name: string, r: Running): void {
	if (child.exitCode !== null || child.signalCode !== null) {
		const log = readFileSync(path.join(r.work, `${name}.log`), 'utf8').slice(-3000);
		throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}):\n${log}`);
	}
}

function requireBinaries(): void {
	for (const b of ['aileron-server', 'aileron-enclave', 'aileron']) {
		if (!existsSync(path.join(BIN, b))) {
			throw new Error(`${path.join(BIN, b)} is missing: run cargo build --workspace --bins`);
		}
	}
}

function sha256File(file: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const h = createHash('sha256');
		createReadStream(file)
			.on('data', (d) => h.update(d))
			.on('end', () => resolve(h.digest('hex')))
			.on('error', reject);
	});
}

async function createDatabase(r: Running): Promise<string> {
	r.dbName = `aileron_ui_${process.pid}`;
	await run('psql', ['-q', ADMIN_DB, '-c', `DROP DATABASE IF EXISTS ${r.dbName} WITH (FORCE)`]);
	await run('psql', ['-q', ADMIN_DB, '-c', `CREATE DATABASE ${r.dbName}`]);
	const url = new URL(ADMIN_DB);
	url.pathname = `/${r.dbName}`;
	return url.toString();
}

async function startEnclave(r: Running, signingKey: string, caDir: string) {
	const { stdout: admission } = await run(path.join(BIN, 'aileron-server'), ['admission-key'], {
		env: baseEnv({ AILERON_JWT_SIGNING_KEY: signingKey })
	});
	const port = await freePort();
	const child = startProcess(r, 'enclave', path.join(BIN, 'aileron-enclave'), [], baseEnv({
		AILERON_TEE_PROVIDER: 'local',
		AILERON_ENCLAVE_BIND: '127.0.0.1',
		AILERON_ENCLAVE_PORT: String(port),
		AILERON_LOCAL_CA_DIR: caDir,
		AILERON_ENCLAVE_ADMISSION_KEYS: admission.trim(),
		AILERON_ENCLAVE_ATTESTATIONS_PER_MINUTE: '100000',
		AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS: 'true'
	}));
	await until('the enclave ("listening")', () => {
		alive(child, 'enclave', r);
		return readFileSync(path.join(r.work, 'enclave.out'), 'utf8').includes('listening');
	}, 30_000);
	const digest = `sha256:${await sha256File(path.join(BIN, 'aileron-enclave'))}`;
	return { url: `https://127.0.0.1:${port}`, digest };
}

/** The certified `oidc-provider` as Google; it signs in one fixed account. */
async function startGoogle(r: Running, redirectUri: string): Promise<string> {
	const dir = path.join(REPO, 'host/tests/oidc');
	if (!existsSync(path.join(dir, 'node_modules/oidc-provider'))) {
		throw new Error(`run: npm ci --prefix ${dir}`);
	}
	const child = startProcess(r, 'google', 'node', [
		path.join(dir, 'provider.mjs'),
		GOOGLE_CLIENT_ID,
		GOOGLE_CLIENT_SECRET,
		redirectUri,
		GOOGLE_EMAIL,
		'true'
	], baseEnv({}));
	let issuer = '';
	await until('the OpenID provider', () => {
		alive(child, 'google', r);
		const line = readFileSync(path.join(r.work, 'google.out'), 'utf8').split('\n')[0];
		if (line) issuer = JSON.parse(line).issuer;
		return issuer !== '';
	}, 15_000);
	return issuer;
}

async function buildUi(api: string): Promise<void> {
	if (process.env.AILERON_E2E_NO_UI === '1') return;
	if (process.env.AILERON_UI_SKIP_BUILD === '1' && existsSync(path.join(UI_DIR, 'build'))) return;
	await run('npm', ['run', 'build'], {
		cwd: UI_DIR,
		env: { ...process.env, PUBLIC_API_BASE: api },
		maxBuffer: 64 * 1024 * 1024,
		timeout: 5 * 60_000
	});
}

/**
 * The attestation policy the browser verifies the local enclave against: the TOML policy's keys
 * as JSON (policy.toml below says the same), the optional ones left to parsePolicy's defaults
 * except `hwmodels`, which the local issuer's LOCAL_INSECURE must be allowed by.
 */
export function localAttestationPolicy(enclaveDigest: string): string {
	return JSON.stringify({
		audience: 'aileron-enclave',
		image_digests: [enclaveDigest],
		hwmodels: ['LOCAL_INSECURE'],
		allow_debug: true,
		issuer: 'https://aileron.local/attestation',
		allow_dangerous_settings: true
	});
}

/** What the UI server needs to seal to the local enclave (docs/ui.md, "Variables"). */
export interface UiAttestation {
	policy: string;
	/** The PEM text of the local CA's root, written by the enclave when it starts. */
	root: string;
}

/** The built UI (adapter-node). AILERON_E2E_NO_UI=1 leaves it out (to debug the stack alone). */
async function startUi(r: Running, port: number, api: string, attestation: UiAttestation): Promise<void> {
	if (process.env.AILERON_E2E_NO_UI === '1') return;
	// A private copy of the build: a rebuild in ui/ while the suite runs cannot pull files
	// from under the running server. The copy is an ES module package like ui/ itself.
	const build = path.join(r.work, 'ui-build');
	await cp(path.join(UI_DIR, 'build'), build, { recursive: true });
	await writeFile(path.join(r.work, 'package.json'), '{"type": "module"}\n');
	const child = startProcess(r, 'ui', 'node', [build], {
		...baseEnv({}),
		PORT: String(port),
		HOST: '127.0.0.1',
		ORIGIN: `http://localhost:${port}`,
		PUBLIC_API_BASE: api,
		PUBLIC_ATTESTATION_POLICY: attestation.policy,
		PUBLIC_ATTESTATION_ROOT: attestation.root
	}, r.work);
	await until('the UI', async () => {
		alive(child, 'ui', r);
		return isUiShell(`http://127.0.0.1:${port}/`);
	}, 30_000);
}

async function start(r: Running): Promise<StackInfo> {
	requireBinaries();
	const caDir = path.join(r.work, 'ca');
	const signingKey = randomBytes(32).toString('hex');
	const [mail, upstream] = await Promise.all([startMailRecorder(), startUpstream()]);
	r.recorders.push(mail, upstream);
	const [apiPort, uiPort] = [await freePort(), await freePort()];
	const api = `http://localhost:${apiPort}`;
	const ui = `http://localhost:${uiPort}`;
	const [databaseUrl, enclave, issuer] = await Promise.all([
		createDatabase(r),
		startEnclave(r, signingKey, caDir),
		startGoogle(r, `${api}/auth/google/callback`)
	]);
	const server = startProcess(r, 'server', path.join(BIN, 'aileron-server'), [], baseEnv({
		// Every request and answer logged (tower-http at debug), so that a "nothing leaked into
		// the server's log" check reads a log that holds the requests it checks.
		RUST_LOG: 'info,aileron_host=debug,aileron_server=debug,tower_http=debug',
		AILERON_ADDR: `127.0.0.1:${apiPort}`,
		AILERON_PUBLIC_URL: api,
		AILERON_DATABASE_URL: databaseUrl,
		AILERON_JWT_SIGNING_KEY: signingKey,
		AILERON_TEE_PROVIDER: 'local',
		AILERON_ENCLAVE_URL: enclave.url,
		AILERON_ENCLAVE_IMAGE_DIGEST: enclave.digest,
		AILERON_LOCAL_CA_DIR: caDir,
		AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS: 'true',
		AILERON_UI_REDIRECT_URL: `${ui}/`,
		AILERON_ACCESS_TOKEN_TTL: `${ACCESS_TOKEN_TTL_SECONDS}s`,
		// Every test signs in from 127.0.0.1: the per-address limit would otherwise trip.
		AILERON_RATE_LIMIT_PER_ADDR: '100000',
		AILERON_RATE_LIMIT_PER_ACCOUNT: '100000',
		RESEND_API_KEY: 'test-key',
		RESEND_API_URL: mail.url,
		GOOGLE_CLIENT_ID,
		GOOGLE_CLIENT_SECRET,
		GOOGLE_OIDC_ISSUER: issuer
	}));
	const apiLoopback = `http://127.0.0.1:${apiPort}`;
	const uiBuild = buildUi(api);
	await until('the server (GET /v1/health)', async () => {
		alive(server, 'server', r);
		return (await fetch(`${apiLoopback}/v1/health`).catch(() => null))?.ok ?? false;
	}, 60_000);
	await uiBuild;
	await startUi(r, uiPort, api, {
		policy: localAttestationPolicy(enclave.digest),
		root: readFileSync(path.join(caDir, 'root.pem'), 'utf8')
	});
	const policyFile = path.join(r.work, 'policy.toml');
	await writeFile(policyFile, [
		'audience = "aileron-enclave"',
		`image_digests = ["${enclave.digest}"]`,
		'hwmodels = ["LOCAL_INSECURE"]',
		'allow_debug = true',
		'issuer = "https://aileron.local/attestation"',
		'allow_dangerous_settings = true',
		''
	].join('\n'));
	return {
		api,
		apiLoopback,
		ui,
		mail: mail.url,
		upstream: upstream.url,
		enclaveDigest: enclave.digest,
		caDir,
		policyFile,
		databaseUrl,
		bin: BIN,
		work: r.work,
		googleEmail: GOOGLE_EMAIL
	};
}

async function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return;
	const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
	child.kill('SIGTERM');
	const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
	await exited;
	clearTimeout(timer);
}

async function stop(r: Running): Promise<void> {
	await Promise.all(r.children.map(stopChild));
	await Promise.all(r.recorders.map((rec) => rec.close()));
	if (r.dbName) {
		await run('psql', ['-q', ADMIN_DB, '-c', `DROP DATABASE IF EXISTS ${r.dbName} WITH (FORCE)`])
			.catch((e) => console.error(`dropping ${r.dbName}: ${e}`));
	}
	// The processes' logs outlive the run, beside Playwright's report.
	const logs = path.join(UI_DIR, 'test-results/stack-logs');
	mkdirSync(logs, { recursive: true });
	for (const name of ['enclave', 'server', 'google', 'ui']) {
		for (const ext of ['out', 'log']) {
			const f = path.join(r.work, `${name}.${ext}`);
			if (existsSync(f)) await cp(f, path.join(logs, `${name}.${ext}`));
		}
	}
	await rm(r.work, { recursive: true, force: true });
}

/**
 * If the runner dies without its teardown (killed, a broken stdout pipe), nothing outlives it:
 * the children are killed and the database dropped, synchronously, as the process exits.
 */
function lastResort(r: Running): void {
	process.once('exit', () => {
		for (const child of r.children) if (child.exitCode === null) child.kill('SIGKILL');
		if (r.dbName) {
			spawnSync('psql', ['-q', ADMIN_DB, '-c', `DROP DATABASE IF EXISTS ${r.dbName} WITH (FORCE)`]);
		}
		rmSync(r.work, { recursive: true, force: true });
	});
}

export default async function globalSetup(): Promise<() => Promise<void>> {
	const r: Running = { children: [], recorders: [], work: mkdtempSync(path.join(os.tmpdir(), 'aileron-ui-')) };
	lastResort(r);
	try {
		const info = await start(r);
		process.env.AILERON_E2E_STACK = JSON.stringify(info);
		mkdirSync(path.join(UI_DIR, 'test-results'), { recursive: true });
		await writeFile(path.join(UI_DIR, 'test-results/stack.json'), JSON.stringify(info, null, 2));
	} catch (e) {
		await stop(r);
		throw e;
	}
	return () => stop(r);
}
