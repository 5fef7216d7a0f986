//! The terminal type a command with a terminal (`--pty`) gets.

/// With a terminal, the caller's `TERM` (unless the config sets one), so
/// that `less`, `clear` and colours work; only a plain terminal name.
pub fn terminal_type(env: &mut Vec<(String, String)>) {
    if env.iter().any(|(k, _)| k == "TERM") {
        return;
    }
    let Ok(term) = std::env::var("TERM") else {
        return;
    };
    let plain = !term.is_empty()
        && term.len() <= 64
        && term
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b));
    if plain {
        env.push(("TERM".to_string(), term));
    }
}
