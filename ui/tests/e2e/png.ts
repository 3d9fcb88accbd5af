// Just enough PNG decoding to tell a rendered page from a blank one: 8-bit RGB or RGBA,
// non-interlaced (what Chromium's screenshots are). No dependency beyond node:zlib.
import { inflateSync } from 'node:zlib';

export interface Pixels {
	width: number;
	height: number;
	/** RGBA, 4 bytes a pixel. */
	data: Uint8Array;
}

function paeth(a: number, b: number, c: number): number {
	const p = a + b - c;
	const pa = Math.abs(p - a);
	const pb = Math.abs(p - b);
	const pc = Math.abs(p - c);
	return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export function decodePng(png: Buffer): Pixels {
	if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
	let off = 8;
	let width = 0;
	let height = 0;
	let channels = 0;
	const idat: Buffer[] = [];
	while (off < png.length) {
		const len = png.readUInt32BE(off);
		const type = png.toString('ascii', off + 4, off + 8);
		const body = png.subarray(off + 8, off + 8 + len);
		if (type === 'IHDR') {
			width = body.readUInt32BE(0);
			height = body.readUInt32BE(4);
			const [depth, colour, , , interlace] = body.subarray(8, 13);
			channels = colour === 6 ? 4 : colour === 2 ? 3 : 0;
			if (depth !== 8 || channels === 0 || interlace !== 0) {
				throw new Error(`unsupported PNG (depth ${depth}, colour type ${colour}, interlace ${interlace})`);
			}
		} else if (type === 'IDAT') idat.push(body);
		else if (type === 'IEND') break;
		off += 12 + len;
	}
	const raw = inflateSync(Buffer.concat(idat));
	const stride = width * channels;
	const out = new Uint8Array(width * height * 4);
	let prev = new Uint8Array(stride);
	for (let y = 0; y < height; y++) {
		const filter = raw[y * (stride + 1)];
		const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
		const cur = new Uint8Array(stride);
		for (let i = 0; i < stride; i++) {
			// Indices are in range by construction (stride bytes a line); `?? 0` satisfies the checker.
			const a = i >= channels ? (cur[i - channels] ?? 0) : 0;
			const b = prev[i] ?? 0;
			const c = i >= channels ? (prev[i - channels] ?? 0) : 0;
			const x = line[i] ?? 0;
			cur[i] = (filter === 0 ? x : filter === 1 ? x + a : filter === 2 ? x + b
				: filter === 3 ? x + ((a + b) >> 1) : x + paeth(a, b, c)) & 0xff;
		}
		for (let x = 0; x < width; x++) {
			const o = (y * width + x) * 4;
			for (let k = 0; k < 3; k++) out[o + k] = cur[x * channels + k] ?? 0;
			out[o + 3] = channels === 4 ? (cur[x * channels + 3] ?? 0) : 255;
		}
		prev = cur;
	}
	return { width, height, data: out };
}

/** How many distinct colours, and what share of pixels differ from the most common one. */
export function colourStats(p: Pixels): { distinct: number; nonBackground: number } {
	const counts = new Map<number, number>();
	const view = new DataView(p.data.buffer, p.data.byteOffset, p.data.byteLength);
	for (let o = 0; o < p.data.length; o += 4) {
		const key = view.getUint32(o);
		counts.set(key, (counts.get(key) ?? 0) + 1);
	}
	const background = Math.max(...counts.values());
	const total = p.width * p.height;
	return { distinct: counts.size, nonBackground: (total - background) / total };
}
