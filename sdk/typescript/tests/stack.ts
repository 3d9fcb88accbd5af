/**
 * A real local Aileron stack for the tests, as sdk/python/tests/stack.py (and scripts/stack.sh)
 * start it: PostgreSQL (a fresh database), the local enclave, the API server and a recording
 * upstream on free loopback ports, then a user signed in with the CLI, a vault, two credentials
 * and an agent token given only the first of them.
 *
 * tests/live.test.ts starts it once for every live test, in the tests' own process. The tests
 * need only its addresses (`StackInfo`): they read what the upstream saw from its `/_test/seen`
 * route and run the CLI themselves.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, randomUUID } from "node:crypto";
import { once } from "node:events";
import { createReadStream, existsSync, mkdtempSync, openSync, closeSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

export const PASSWORD = "sdk-typescript-password-123";
export const PASSPHRASE = "planted vault passphrase: harbour ferret 7316";
export const SECRET = "ghp_plantedSecret_braveHeron_2718_lantern";
export const CREDENTIAL = "github";
/** A second credential of the same owner that the agent token is NOT given. */
export const OTHER = "billing";
export const OTHER_SECRET = "sk_live_plantedOther_amberLynx_5519";
const SIGNING_KEY = "sdk-typescript-signing-key-0123456789abcdef012345678";

/** What the tests need to reach the stack. */
export interface StackInfo {
  server: string;
  token: string;
  upstream: string;
  work: string;
  bin: string;
}

/** One request the upstream received. */
export interface Seen {
  method: string;
  path: string;
  headers: [string, string][];
  /** base64 */
  body: string;
}

/** A loopback HTTP server that records every request and echoes what it was sent, including the
 * injected Authorization (so that redaction has something to remove). */
export class Upstream {
  readonly seen: Seen[] = [];
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(): Promise<Upstream> {
    let upstream: Upstream | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => upstream!.#answer(req.method ?? "", req.url ?? "", req.rawHeaders, Buffer.concat(chunks), res));
    });
    upstream = new Upstream(server);
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    return upstream;
  }

  get base(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  #answer(method: string, path: string, raw: string[], body: Buffer, res: import("node:http").ServerResponse): void {
    if (path === "/_test/seen") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(this.seen));
      return;
    }
    const headers: [string, string][] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);
    this.seen.push({ method, path, headers, body: body.toString("base64") });
    const status = path.startsWith("/api/status/") ? Number(path.split("/").pop()) : 200;
    const auth = headers.find(([n]) => n.toLowerCase() === "authorization")?.[1] ?? "";
    const answer = JSON.stringify({ login: "octocat", method, path, saw_authorization: auth, body: body.toString() });
    res.writeHead(status, { "content-type": "application/json", "x-echo-authorization": auth, "x-upstream": "recording" });
    res.end(answer);
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((ok) => this.#server.close(() => ok()));
  }
}

/** A port free on loopback now. */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

/** Where the debug binaries are; an error naming what is missing otherwise. */
export function binaries(): string {
  const target = process.env["CARGO_TARGET_DIR"] || join(homedir(), ".cache/aileron/target");
  const found = join(target, "debug");
  const missing = ["aileron-server", "aileron-enclave", "aileron"].filter((b) => !existsSync(join(found, b)));
  if (missing.length > 0) throw new Error(`build the binaries first (cargo build): missing ${missing.join(", ")} in ${found}`);
  return found;
}

/** The environment every service and the CLI get: the machine's, less any AILERON_ setting. */
function baseEnv(work: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("AILERON_")) env[k] = v;
  return {
    ...env,
    AILERON_DANGEROUS_ALLOW_PRIVATE_UPSTREAMS: "true",
    AILERON_JWT_SIGNING_KEY: SIGNING_KEY,
    AILERON_LOCAL_CA_DIR: join(work, "ca"),
    RUST_LOG: "warn",
  };
}

/**
 * Runs the CLI as the signed-in owner; its standard output, or an error with its stderr. Never
 * synchronously: the upstream answers from this process, and `aileron request` waits on it.
 */
export async function cli(info: Pick<StackInfo, "bin" | "work">, args: string[], stdin = ""): Promise<string> {
  const env = { ...baseEnv(info.work), AILERON_CONFIG_DIR: join(info.work, "config") };
  const child = spawn(join(info.bin, "aileron"), args, { env, timeout: 120_000 });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (c: Buffer) => out.push(c));
  child.stderr.on("data", (c: Buffer) => err.push(c));
  // The CLI may exit before reading its input; its status and stderr then say why.
  child.stdin.on("error", () => undefined);
  child.stdin.end(stdin);
  const [status, signal] = (await once(child, "close")) as [number | null, NodeJS.Signals | null];
  const stdout = Buffer.concat(out).toString();
  if (status !== 0) {
    throw new Error(`aileron ${args.slice(0, 2).join(" ")} failed (${status ?? signal}): ${Buffer.concat(err).toString()}${stdout}`);
  }
  return stdout;
}

export const lock = (info: StackInfo): Promise<string> => cli(info, ["vault", "lock"]);
export const unlock = (info: StackInfo): Promise<string> => cli(info, ["vault", "unlock"], `${PASSPHRASE}\n`);

/** Everything the upstream received so far (read over HTTP, as any client of the stack would). */
export async function seen(info: StackInfo): Promise<Seen[]> {
  return (await (await fetch(`${info.upstream}/_test/seen`)).json()) as Seen[];
}

/** Everything the services printed (for the tests that look for leaks). */
export function logs(info: StackInfo): string {
  return readdirSync(info.work)
    .filter((f) => f.endsWith(".log") || f.endsWith(".out"))
    .sort()
    .map((f) => readFileSync(join(info.work, f), "utf8"))
    .join("");
}

/** The whole stack; `start` brings it up, `stop` takes it down and drops the database. */
export class Stack {
  readonly bin = binaries();
  readonly work = mkdtempSync(join(tmpdir(), "aileron-sdk-ts-"));
  readonly adminUrl = process.env["AILERON_TEST_DATABASE_URL"] || "postgres://postgres@127.0.0.1:5432/test";
  readonly db = `aileron_sdk_ts_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
  readonly #processes: ChildProcess[] = [];
  #upstream: Upstream | undefined;
  #dbCreated = false;
  server = "";
  token = "";

  get info(): StackInfo {
    return { server: this.server, token: this.token, upstream: this.#upstream?.base ?? "", work: this.work, bin: this.bin };
  }

  async start(): Promise<void> {
    this.#upstream = await Upstream.start();
    const [enclaveUrl, digest] = await this.#startEnclave();
    this.#psql(`CREATE DATABASE ${this.db}`);
    this.#dbCreated = true;
    await this.#startServer(enclaveUrl, digest);
    await this.#signIn(digest);
    await cli(this.info, ["vault", "set"], `${PASSPHRASE}\n`);
    const allow = `GET,POST ${this.#upstream.base}/api/`;
    await cli(this.info, ["credential", "add", "--name", CREDENTIAL, "--allow", allow], `${PASSPHRASE}\n${SECRET}\n`);
    await cli(this.info, ["credential", "add", "--name", OTHER, "--allow", allow], `${PASSPHRASE}\n${OTHER_SECRET}\n`);
    const out = await cli(this.info, ["agent-token", "create", "--name", "bot", "--credential", CREDENTIAL]);
    this.token = (JSON.parse(out) as { token: string }).token;
  }

  async #startEnclave(): Promise<[string, string]> {
    const env = baseEnv(this.work);
    const keys = spawnSync(join(this.bin, "aileron-server"), ["admission-key"], { env, encoding: "utf8" });
    if (keys.status !== 0) throw new Error(`aileron-server admission-key failed: ${keys.stderr}`);
    const port = await freePort();
    Object.assign(env, {
      AILERON_TEE_PROVIDER: "local",
      AILERON_ENCLAVE_BIND: "127.0.0.1",
      AILERON_ENCLAVE_PORT: String(port),
      AILERON_ENCLAVE_ATTESTATIONS_PER_MINUTE: "100000",
      AILERON_ENCLAVE_ADMISSION_KEYS: keys.stdout.trim(),
    });
    const out = join(this.work, "enclave.out");
    const log = join(this.work, "enclave.log");
    this.#spawn("aileron-enclave", env, out, log);
    await waitFor(async () => read(out).includes("listening"), "the enclave did not start", log);
    return [`https://127.0.0.1:${port}`, `sha256:${await sha256(join(this.bin, "aileron-enclave"))}`];
  }

  async #startServer(enclaveUrl: string, digest: string): Promise<void> {
    const port = await freePort();
    this.server = `http://127.0.0.1:${port}`;
    const database = new URL(this.adminUrl);
    database.pathname = `/${this.db}`;
    const env = {
      ...baseEnv(this.work),
      AILERON_ADDR: `127.0.0.1:${port}`,
      AILERON_PUBLIC_URL: this.server,
      AILERON_DATABASE_URL: database.toString(),
      AILERON_AUTO_VERIFY_EMAIL: "true",
      AILERON_RATE_LIMIT_PER_ADDR: "100000000",
      AILERON_RATE_LIMIT_PER_ACCOUNT: "100000000",
      AILERON_TEE_PROVIDER: "local",
      AILERON_ENCLAVE_URL: enclaveUrl,
      AILERON_ENCLAVE_IMAGE_DIGEST: digest,
    };
    const log = join(this.work, "server.log");
    this.#spawn("aileron-server", env, log, log);
    await waitFor(() => healthy(this.server), "the server did not start", log);
  }

  async #signIn(digest: string): Promise<void> {
    const email = "sdk-typescript@example.com";
    const answer = await fetch(`${this.server}/auth/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: PASSWORD }),
    });
    if (!answer.ok) throw new Error(`signup failed: HTTP ${answer.status} ${await answer.text()}`);
    const policy = join(this.work, "policy.toml");
    writeFileSync(
      policy,
      'audience = "aileron-enclave"\n' +
        `image_digests = ["${digest}"]\n` +
        'hwmodels = ["LOCAL_INSECURE"]\n' +
        "allow_debug = true\n" +
        'issuer = "https://aileron.local/attestation"\n' +
        "allow_dangerous_settings = true\n",
    );
    const root = join(this.work, "ca", "root.pem");
    const args = ["login", "--server", this.server, "--email", email, "--policy", policy, "--root", root];
    await cli(this.info, args, `${PASSWORD}\n`);
  }

  /** Ends every process (TERM, then KILL after 15 s), stops the upstream, drops the database. */
  async stop(): Promise<void> {
    await Promise.all(this.#processes.map((p) => terminate(p)));
    await this.#upstream?.stop();
    try {
      if (this.#dbCreated) this.#psql(`DROP DATABASE IF EXISTS ${this.db} WITH (FORCE)`);
    } finally {
      rmSync(this.work, { recursive: true, force: true });
    }
  }

  /** Last resort when the process exits without `stop`: no child outlives the tests. */
  killNow(): void {
    for (const p of this.#processes) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  }

  #spawn(binary: string, env: NodeJS.ProcessEnv, out: string, err: string): void {
    const stdout = openSync(out, "a");
    const stderr = err === out ? stdout : openSync(err, "a");
    try {
      this.#processes.push(spawn(join(this.bin, binary), [], { env, stdio: ["ignore", stdout, stderr] }));
    } finally {
      closeSync(stdout);
      if (stderr !== stdout) closeSync(stderr);
    }
  }

  #psql(statement: string): void {
    const done = spawnSync("psql", ["-q", this.adminUrl, "-c", statement], { encoding: "utf8" });
    if (done.status !== 0) throw new Error(`psql ${statement} failed: ${done.stderr}`);
  }
}

async function terminate(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((ok) => p.once("exit", () => ok()));
  p.kill("SIGTERM");
  const timer = setTimeout(() => p.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}

async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function healthy(base: string): Promise<boolean> {
  try {
    return (await fetch(`${base}/v1/health`, { signal: AbortSignal.timeout(1000) })).status === 200;
  } catch {
    return false;
  }
}

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

async function waitFor(ready: () => Promise<boolean> | boolean, what: string, log: string, seconds = 30): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (await ready()) return;
    await new Promise((ok) => setTimeout(ok, 100));
  }
  throw new Error(`${what}:\n${read(log).slice(-4000)}`);
}
