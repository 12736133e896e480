//! Keys: `r` redeploy now, `c` clear, `l` (re)open the log stream (after another client
//! took the account's one stream), `q` quit (Ctrl-C too); with `--sim`, `d` cut or restore
//! the virtual devices' connection, `p` power-cycle them, `b` toggle the `--button` pin.
//! On a terminal single key presses; otherwise lines on stdin (`r`, `c`, `l`, `q`, `d`,
//! `p`, `b`), so that scripts can drive the loop.

use std::io::{BufRead, IsTerminal};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Redeploy,
    Clear,
    /// Open the log stream again.
    Stream,
    Quit,
    /// `--sim`: cut the devices' connection, or restore it.
    Link,
    /// `--sim`: power the devices off and on.
    Power,
    /// `--sim`: toggle the `--button` pin.
    Button,
}

fn key_of(c: char) -> Option<Key> {
    match c.to_ascii_lowercase() {
        'r' => Some(Key::Redeploy),
        'c' => Some(Key::Clear),
        'l' => Some(Key::Stream),
        'q' => Some(Key::Quit),
        'd' => Some(Key::Link),
        'p' => Some(Key::Power),
        'b' => Some(Key::Button),
        _ => None,
    }
}

/// Reads keys on a thread of its own until `send` returns false.
pub fn spawn(send: impl Fn(Key) -> bool + Send + 'static) {
    let tty = std::io::stdin().is_terminal() && console::Term::stdout().is_term();
    std::thread::spawn(move || {
        if tty {
            let term = console::Term::stdout();
            loop {
                let key = match term.read_key() {
                    Ok(console::Key::Char(c)) => key_of(c),
                    Ok(console::Key::CtrlC) => Some(Key::Quit),
                    Ok(_) => None,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Some(Key::Quit),
                    Err(_) => return,
                };
                if let Some(k) = key {
                    if !send(k) || k == Key::Quit {
                        return;
                    }
                }
            }
        } else {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { return };
                if let Some(k) = line.trim().chars().next().and_then(key_of) {
                    if !send(k) {
                        return;
                    }
                }
            }
        }
    });
}
