//! Secrets typed by a person or piped in: from an echo-free prompt when standard input is a
//! terminal, else from standard input (one value per line when several are asked for). Never
//! from the command line, where `ps` and shell history would see them.

use std::io::{IsTerminal as _, Read as _};

use secrecy::SecretString;
use zeroize::Zeroizing;

use crate::Failure;

/// Largest input read from standard input.
const MAX_INPUT: u64 = 1 << 20;

/// One secret. From standard input, everything up to the end (a trailing newline is dropped).
pub(crate) fn hidden(what: &str) -> Result<SecretString, Failure> {
    if std::io::stdin().is_terminal() {
        return prompt(what);
    }
    let all = read_stdin(what)?;
    non_empty(all.trim_end_matches(['\n', '\r']), what)
}

/// Several secrets: prompted one after the other, or one per line of standard input.
pub(crate) fn hidden_lines(whats: &[&str]) -> Result<Vec<SecretString>, Failure> {
    if std::io::stdin().is_terminal() {
        return whats.iter().map(|w| prompt(w)).collect();
    }
    let all = read_stdin(whats.join(" and ").as_str())?;
    let mut lines = all.lines();
    whats
        .iter()
        .map(|what| non_empty(lines.next().unwrap_or_default(), what))
        .collect()
}

fn prompt(what: &str) -> Result<SecretString, Failure> {
    let typed = Zeroizing::new(
        rpassword::prompt_password(format!("{what} (not echoed): "))
            .map_err(|e| Failure::Usage(format!("cannot read the {what}: {e}")))?,
    );
    non_empty(&typed, what)
}

fn read_stdin(what: &str) -> Result<Zeroizing<String>, Failure> {
    let mut all = Zeroizing::new(String::new());
    std::io::stdin()
        .take(MAX_INPUT)
        .read_to_string(&mut all)
        .map_err(|e| Failure::Usage(format!("cannot read the {what} from stdin: {e}")))?;
    Ok(all)
}

fn non_empty(value: &str, what: &str) -> Result<SecretString, Failure> {
    if value.is_empty() {
        return Err(Failure::Usage(format!("the {what} is empty")));
    }
    Ok(SecretString::from(value.to_owned()))
}
