// Passphrase strength, as the CLI judges it: zxcvbn's score, refused below 3 of 4
// (docs/vault.md). The estimator and its dictionaries (about 1 MB) load only when a page asks.
import type { ZxcvbnResult } from '@zxcvbn-ts/core';

/** The least score a new passphrase may have. */
export const MIN_SCORE = 3;
export const SCORE_WORDS = ['Very weak', 'Weak', 'Fair', 'Strong', 'Very strong'] as const;

export interface Strength {
	score: 0 | 1 | 2 | 3 | 4;
	/** The meter's word for the score. */
	words: (typeof SCORE_WORDS)[number];
	/** The estimator's warning and suggestions, for people. */
	feedback: string[];
	acceptable: boolean;
}

type Check = (passphrase: string, userInputs: string[]) => ZxcvbnResult;
let checker: Promise<Check> | undefined;

function load(): Promise<Check> {
	checker ??= (async () => {
		const [{ ZxcvbnFactory }, common, en] = await Promise.all([
			import('@zxcvbn-ts/core'),
			import('@zxcvbn-ts/language-common'),
			import('@zxcvbn-ts/language-en')
		]);
		const factory = new ZxcvbnFactory({
			dictionary: { ...common.dictionary, ...en.dictionary },
			graphs: common.adjacencyGraphs,
			translations: en.translations
		});
		return (passphrase, userInputs) => factory.check(passphrase, userInputs);
	})();
	return checker;
}

/** The strength of `passphrase`; `userInputs` (the email, the name) count as guessable. */
export async function strengthOf(passphrase: string, userInputs: string[] = []): Promise<Strength> {
	const result = (await load())(passphrase, userInputs);
	const feedback = [result.feedback.warning, ...result.feedback.suggestions].filter((s): s is string => !!s);
	return { score: result.score, words: SCORE_WORDS[result.score], feedback, acceptable: result.score >= MIN_SCORE };
}
