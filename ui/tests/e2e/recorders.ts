// Two loopback stand-ins the stack needs, run inside Playwright's runner process:
// - a mail recorder answering like Resend's POST /emails, so tests can read the mailed codes;
// - a recording upstream, the service a brokered request reaches, so tests can assert that the
//   enclave injected the secret (which the UI must never show).
// Tests read what they recorded over HTTP (the workers are other processes): GET /__messages on
// the mail recorder, GET /__seen on the upstream. Paths under /__ are never recorded.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Mail {
	to: string[];
	subject: string;
	text: string;
	authorization: string | undefined;
}

export interface SeenRequest {
	method: string;
	path: string;
	headers: http.IncomingHttpHeaders;
}

export interface Recorder {
	url: string;
	close(): Promise<void>;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks).toString('utf8');
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
	res.writeHead(status, { 'content-type': 'application/json' });
	res.end(JSON.stringify(body));
}

async function listen(server: http.Server): Promise<Recorder> {
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address() as AddressInfo;
	return {
		url: `http://127.0.0.1:${port}`,
		close: () =>
			new Promise<void>((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			})
	};
}

/** Answers POST /emails like Resend and keeps every message; GET /__messages?to= lists them. */
export function startMailRecorder(): Promise<Recorder> {
	const messages: Mail[] = [];
	const server = http.createServer(async (req, res) => {
		const url = new URL(req.url ?? '/', 'http://recorder');
		if (req.method === 'POST' && url.pathname === '/emails') {
			const body = JSON.parse(await readBody(req));
			messages.push({
				to: body.to,
				subject: body.subject,
				text: body.text,
				authorization: req.headers.authorization
			});
			return json(res, 200, { id: `mail-${messages.length}` });
		}
		if (req.method === 'GET' && url.pathname === '/__messages') {
			const to = url.searchParams.get('to');
			return json(res, 200, to ? messages.filter((m) => m.to.includes(to)) : messages);
		}
		json(res, 404, { error: 'not found' });
	});
	return listen(server);
}

/** Records method, path and headers of every request and answers 200 JSON. */
export function startUpstream(): Promise<Recorder> {
	const seen: SeenRequest[] = [];
	const server = http.createServer(async (req, res) => {
		const url = new URL(req.url ?? '/', 'http://upstream');
		if (url.pathname === '/__seen') return json(res, 200, seen);
		await readBody(req);
		seen.push({ method: req.method ?? '', path: url.pathname + url.search, headers: req.headers });
		json(res, 200, { login: 'octocat', path: url.pathname });
	});
	return listen(server);
}
