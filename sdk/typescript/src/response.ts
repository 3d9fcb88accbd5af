/** The upstream's answer as `Client.request` returns it. */

import type { HeaderPair } from "./wire.js";

/**
 * The upstream's answer, as the enclave received it, with every form of the secret replaced by
 * `[REDACTED]`. An upstream 4xx or 5xx is an `AileronResponse`, not an error.
 */
export class AileronResponse {
  /** The upstream's status. */
  readonly status: number;
  /** The upstream's headers as `[name, value]` pairs, in order, repeated names kept. */
  readonly headers: readonly HeaderPair[];
  /** The body, whole (the enclave buffers it to redact it). */
  readonly body: Uint8Array;

  constructor(status: number, headers: readonly HeaderPair[], body: Uint8Array) {
    this.status = status;
    this.headers = headers;
    this.body = body;
  }

  /** Whether the status is below 400. */
  get ok(): boolean {
    return this.status < 400;
  }

  /** The first value of the header `name` (case-insensitive), or null. */
  header(name: string): string | null {
    const wanted = name.toLowerCase();
    return this.headers.find(([n]) => n.toLowerCase() === wanted)?.[1] ?? null;
  }

  /** The body decoded with the charset of its Content-Type (UTF-8 when none is named or known). */
  text(): string {
    return decoder(this.header("content-type")).decode(this.body);
  }

  /** The body parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  toString(): string {
    return `AileronResponse(${this.status}, ${this.body.length} bytes)`;
  }
}

function decoder(contentType: string | null): TextDecoder {
  for (const param of (contentType ?? "").split(";").slice(1)) {
    const [key, value] = param.trim().split("=", 2);
    if (key?.toLowerCase() === "charset" && value) {
      try {
        return new TextDecoder(value.replace(/^"|"$/g, ""));
      } catch {
        break; // an unknown label: UTF-8, as when none is named
      }
    }
  }
  return new TextDecoder("utf-8");
}
