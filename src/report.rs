//! How the `weld` command shows an error to a user: the message and its chain of causes,
//! long causes elided, never a Rust backtrace.

/// Prints an error and its chain of causes (like anyhow's `{:?}`, but never with a Rust
/// backtrace, which says nothing to a user).
pub fn print_error(e: &anyhow::Error) {
    eprintln!("error: {e}");
    let causes: Vec<String> = e.chain().skip(1).map(|c| c.to_string()).collect();
    if !causes.is_empty() {
        eprintln!("\nCaused by:");
        for (i, cause) in causes.iter().enumerate() {
            let cause = weld_wast::elide_lines(cause, 40).replace('\n', "\n       ");
            if causes.len() == 1 {
                eprintln!("    {cause}");
            } else {
                eprintln!("    {i}: {cause}");
            }
        }
    }
}
