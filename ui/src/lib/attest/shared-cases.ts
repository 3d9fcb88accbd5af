/**
 * Test helper: the shared attestation cases (attest/tests/data/shared-cases.json), which the Rust
 * suite (attest/tests/shared_cases.rs) decides too, so the two verifiers cannot drift.
 * `SHARED_CASES` names the file; otherwise the repository-relative path from ui/src/lib/attest/
 * is tried first, then the absolute path of the main work tree.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One case of the file. */
export interface SharedCase {
  readonly name: string;
  readonly root: string;
  readonly policy: string;
  readonly nonces: readonly string[];
  readonly at: number;
  readonly token: string;
  readonly expect: string;
}

/** The file, format 1. */
export interface SharedCases {
  readonly format: number;
  readonly roots: Readonly<Record<string, string>>;
  readonly policies: Readonly<Record<string, unknown>>;
  readonly cases: readonly SharedCase[];
}

const RELATIVE = '../../../../attest/tests/data/shared-cases.json';
const ABSOLUTE = '/work/main/attest/tests/data/shared-cases.json';

/** Where the file is read from. */
export function sharedCasesPath(): string {
  const fromEnv = process.env['SHARED_CASES'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const relative = fileURLToPath(new URL(RELATIVE, import.meta.url));
  return existsSync(relative) ? relative : ABSOLUTE;
}

/** Reads and shape-checks the file; a file of another format fails loudly. */
export function loadSharedCases(): SharedCases {
  const doc = JSON.parse(readFileSync(sharedCasesPath(), 'utf8')) as SharedCases;
  if (doc.format !== 1) throw new Error(`shared-cases.json has format ${String(doc.format)}, this reader knows 1`);
  if (!Array.isArray(doc.cases) || doc.cases.length === 0) throw new Error('shared-cases.json has no cases');
  return doc;
}
