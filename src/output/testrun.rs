//! How `impt test run` shows its progress: the original's `[+TOTAL/SINCE_LASTs TAG] text`
//! lines and their colours. The runner (commands/test) says what a line is ([`Tag`]) and
//! what a text means ([`Tone`]); the escape codes live here only.

use std::time::Instant;

use super::Ui;

/// What a text means, hence its colour (when colours are on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tone {
    /// A failure, an error, a failed session or run (red).
    Failure,
    /// A success (green).
    Success,
    /// A warning (yellow).
    Warning,
    /// Output of the tests themselves: `info()` messages, an external command's output (cyan).
    Note,
}

impl Tone {
    /// The SGR foreground colour.
    fn code(self) -> u8 {
        match self {
            Tone::Failure => 31,
            Tone::Success => 32,
            Tone::Warning => 33,
            Tone::Note => 36,
        }
    }
}

/// The kind of a progress line: its `[…]` head and the head's colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tag {
    Info,
    Warning,
    Error,
    Test,
}

impl Tag {
    fn name(self) -> &'static str {
        match self {
            Tag::Info => "info",
            Tag::Warning => "warning",
            Tag::Error => "error",
            Tag::Test => "test",
        }
    }

    /// The head's colour: grey (SGR 90) for info and test lines.
    fn code(self) -> u8 {
        match self {
            Tag::Info | Tag::Test => 90,
            Tag::Warning => Tone::Warning.code(),
            Tag::Error => Tone::Failure.code(),
        }
    }
}

/// The times a run's lines show: since the first line, and since the previous one.
#[derive(Clone, Copy, Debug, Default)]
pub struct LineClock {
    start: Option<Instant>,
    last: Option<Instant>,
}

impl LineClock {
    /// Continues after `other`'s last line (the lines of a parallel job shown in turn).
    pub fn follow(&mut self, other: &LineClock) {
        if other.last.is_some() {
            self.last = other.last;
        }
    }

    /// `+TOTAL/SINCE_LASTs ` (empty for the first line), and the line is counted.
    fn tick(&mut self) -> String {
        let now = Instant::now();
        let timing = match (self.start, self.last) {
            (Some(start), Some(last)) => format!(
                "+{:.2}/{:.2}s ",
                (now - start).as_secs_f64(),
                (now - last).as_secs_f64()
            ),
            _ => {
                self.start = Some(now);
                String::new()
            }
        };
        self.last = Some(now);
        timing
    }
}

impl Ui {
    /// `text` in the colour of `tone` when colours are on.
    pub fn tint(&self, tone: Tone, text: &str) -> String {
        self.paint(tone.code(), text)
    }

    /// Wraps `text` in an ANSI foreground color (SGR `code`) when colors are on.
    fn paint(&self, code: u8, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[39m")
        } else {
            text.to_string()
        }
    }

    /// A progress line of a test run (`[+1.20/0.01s test] text`), in every mode but json.
    /// Warning and error lines take their tag's colour as a whole.
    pub fn test_progress(&self, clock: &mut LineClock, tag: Tag, text: &str) {
        if self.is_json() {
            return;
        }
        let text = match tag {
            Tag::Warning => self.tint(Tone::Warning, text),
            Tag::Error => self.tint(Tone::Failure, text),
            Tag::Info | Tag::Test => text.to_string(),
        };
        let timing = clock.tick();
        let head = self.paint(tag.code(), &format!("[{timing}{}]", tag.name()));
        self.text(&format!("{head} {text}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::Mode;

    #[test]
    fn lines_and_colours() {
        let (mut ui, out) = Ui::buffered(Mode::Default, "");
        let mut clock = LineClock::default();
        ui.test_progress(&mut clock, Tag::Info, "first");
        ui.test_progress(&mut clock, Tag::Test, "second");
        let text = out.stdout();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "[info] first");
        assert!(lines[1].starts_with("[+0.") && lines[1].ends_with("s test] second"));
        // colours only when on
        assert_eq!(ui.tint(Tone::Failure, "x"), "x");
        ui.color = true;
        assert_eq!(ui.tint(Tone::Failure, "x"), "\x1b[31mx\x1b[39m");
        ui.test_progress(&mut clock, Tag::Error, "bad");
        let last = out.stdout().lines().last().unwrap().to_string();
        assert!(last.starts_with("\x1b[31m[+"), "{last:?}");
        assert!(
            last.ends_with("error]\x1b[39m \x1b[31mbad\x1b[39m"),
            "{last:?}"
        );
        // json mode prints none
        let (ui, out) = Ui::buffered(Mode::Json, "");
        ui.test_progress(&mut clock, Tag::Test, "x");
        assert_eq!(out.stdout(), "");
    }
}
