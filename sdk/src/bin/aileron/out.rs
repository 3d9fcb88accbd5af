//! Standard output for the CLI. A closed pipe (the reader exited, as `head` does) ends the
//! program quietly with status 0: there is nobody left to tell.

use std::io::Write as _;

/// Writes formatted text to standard output.
pub(crate) fn write(args: std::fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    finish(stdout.write_fmt(args).and_then(|()| stdout.flush()));
}

/// Writes raw bytes (a brokered answer's body) to standard output.
pub(crate) fn write_bytes(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    finish(stdout.write_all(bytes).and_then(|()| stdout.flush()));
}

fn finish(result: std::io::Result<()>) {
    match result {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            std::process::exit(1)
        }
    }
}
