//! The only place that prints. Commands report through [`Ui`]: info lines, results, dialogs,
//! prompts and errors; `Ui` renders them for the chosen `--output` mode. The watch loop hands
//! its events to a [`watch`] renderer; the few lines of the dispatcher (help, version,
//! completions, usage errors) go through the free functions at the end of this file.

pub mod errors;
pub mod logfilter;
pub mod render;
pub mod testrun;
pub mod watch;

use std::io::{BufRead, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::error::{ImptError, Result};
use crate::sync::lock;

/// `--output` modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Default,
    Minimal,
    Json,
    Debug,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "minimal" => Some(Mode::Minimal),
            "json" => Some(Mode::Json),
            "debug" => Some(Mode::Debug),
            _ => None,
        }
    }
}

/// Where a [`Ui`] writes: the process's stdout and stderr, or buffers (see [`Ui::buffered`]).
enum Sink {
    Std,
    Buffer(Captured),
}

/// What a buffered [`Ui`] printed, one buffer per stream.
#[derive(Clone, Default)]
pub struct Captured {
    out: Arc<Mutex<Vec<u8>>>,
    err: Arc<Mutex<Vec<u8>>>,
}

impl Captured {
    /// Everything printed to stdout so far.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&lock(&self.out)).into_owned()
    }
    /// Everything printed to stderr so far.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&lock(&self.err)).into_owned()
    }
}

/// Where commands report to. Cheap to share (`&Ui`) across tasks.
pub struct Ui {
    mode: Mode,
    sink: Sink,
    color: bool,
    spinner: Mutex<Option<indicatif::ProgressBar>>,
    spinner_enabled: std::sync::atomic::AtomicBool,
    /// Answers read from stdin (prompts and confirmations), one line each.
    input: Mutex<Option<Box<dyn BufRead + Send>>>,
}

impl Ui {
    pub fn new(mode: Mode) -> Ui {
        let tty = std::io::stdout().is_terminal();
        let forced = std::env::var("CLICOLOR_FORCE").is_ok_and(|v| v != "0");
        let no_color = std::env::var_os("NO_COLOR").is_some();
        let color_mode = matches!(mode, Mode::Default | Mode::Debug);
        Ui {
            mode,
            sink: Sink::Std,
            color: color_mode && !no_color && (tty || forced),
            spinner: Mutex::new(None),
            spinner_enabled: std::sync::atomic::AtomicBool::new(
                mode == Mode::Default && tty && std::io::stderr().is_terminal(),
            ),
            input: Mutex::new(None),
        }
    }

    /// A Ui that prints into buffers instead of the process's streams, without colors or
    /// spinner, answering prompts from the lines of `input`: command logic can be tested
    /// without a process.
    pub fn buffered(mode: Mode, input: &str) -> (Ui, Captured) {
        let captured = Captured::default();
        let ui = Ui {
            mode,
            sink: Sink::Buffer(captured.clone()),
            color: false,
            spinner: Mutex::new(None),
            spinner_enabled: std::sync::atomic::AtomicBool::new(false),
            input: Mutex::new(Some(Box::new(std::io::Cursor::new(
                input.as_bytes().to_vec(),
            )))),
        };
        (ui, captured)
    }

    /// A Ui of the same mode and colors that prints into buffers: the lines of one of
    /// several jobs running at once, shown together when it ends (see [`Ui::raw`]).
    pub fn capture(&self) -> (Ui, Captured) {
        let (mut ui, captured) = Ui::buffered(self.mode, "");
        ui.color = self.color;
        (ui, captured)
    }

    /// Writes `text` to stdout (or its buffer) as it is.
    fn write_out(&self, text: &str) {
        match &self.sink {
            Sink::Std => write_stdout(text.as_bytes()),
            Sink::Buffer(c) => lock(&c.out).extend_from_slice(text.as_bytes()),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn is_json(&self) -> bool {
        self.mode == Mode::Json
    }

    fn style(&self) -> render::Style {
        render::Style {
            color: self.color,
            inline_sep: if self.mode == Mode::Minimal {
                ","
            } else {
                ", "
            },
        }
    }

    fn out(&self, text: &str) {
        self.stop_spinner();
        self.write_out(&format!("{text}\n"));
    }

    /// An info line: progress, success messages, list headers. Default and debug modes only.
    pub fn info(&self, msg: &str) {
        if matches!(self.mode, Mode::Default | Mode::Debug) {
            self.out(msg);
        }
    }

    /// A line of an interactive dialog: printed in every mode, as text.
    pub fn dialog(&self, msg: &str) {
        self.out(msg);
    }

    /// A line printed in every mode but json (the test runner's `[test]`/`[error]` lines).
    pub fn text(&self, msg: &str) {
        if !self.is_json() {
            self.out(msg);
        }
    }

    /// A line on stderr, in every mode (the original's few `console.error` lines).
    pub fn stderr_line(&self, msg: &str) {
        self.stop_spinner();
        match &self.sink {
            Sink::Std => eprintln!("{msg}"),
            Sink::Buffer(c) => lock(&c.err).extend_from_slice(format!("{msg}\n").as_bytes()),
        }
    }

    /// Text printed exactly as given (no added line end), in every mode: generated code.
    pub fn raw(&self, text: &str) {
        self.stop_spinner();
        self.write_out(text);
    }

    /// API traces: debug mode only.
    pub fn debug(&self, msg: &str) {
        if self.mode == Mode::Debug {
            self.out(msg);
        }
    }

    /// A result object: rendered as text, or as one pretty JSON document in json mode.
    pub fn result(&self, value: &Value) {
        if self.is_json() {
            self.out(&to_json(value));
            return;
        }
        let empty = match value {
            Value::Null => true,
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => false,
        };
        if !empty {
            self.out(&render::render(value, 0, self.style()).join("\n"));
        }
    }

    /// Renders a value as text lines, whatever the mode (for dialogs and summaries).
    pub fn dialog_value(&self, value: &Value) {
        let style = render::Style {
            color: self.color,
            inline_sep: ", ",
        };
        let lines = render::render(value, 0, style);
        if !lines.is_empty() {
            self.out(&lines.join("\n"));
        }
    }

    /// `{}` for commands without a result object, in json mode.
    pub fn json_empty(&self) {
        if self.is_json() {
            self.out("{}");
        }
    }

    /// A log line of a stream or history: text in text modes, the raw object in json mode
    /// (pretty, as the original prints it; one object per line with `--json-lines`, like
    /// `impt watch -z json`). Lines the installed [`logfilter`] hides are skipped.
    pub fn log_line(&self, text: &str, raw: &Value) {
        let filter = logfilter::current();
        let Some(text) = filter.shown(text, raw) else {
            return;
        };
        let text = text.as_str();
        if self.is_json() && filter.json_lines() {
            self.out(&raw.to_string());
        } else if self.is_json() {
            self.out(&to_json(raw));
        } else {
            self.out(text);
        }
    }

    pub fn succeeds(&self) {
        self.info("IMPT COMMAND SUCCEEDS");
    }

    pub fn fails(&self) {
        self.info("IMPT COMMAND FAILS");
    }

    /// Prints an error the way the original does (see [`errors`]).
    pub fn error(&self, err: &ImptError) {
        errors::print(self, err);
    }

    /// Shows `Contacting impCentral...` on a terminal while a request runs.
    pub fn start_spinner(&self) {
        if !self
            .spinner_enabled
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        let mut guard = lock(&self.spinner);
        if guard.is_none() {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg}")
                    .unwrap()
                    .tick_chars("|/-\\ "),
            );
            pb.set_message("Contacting impCentral...");
            pb.enable_steady_tick(std::time::Duration::from_millis(60));
            *guard = Some(pb);
        }
    }

    /// Turns the spinner off for the rest of the run (`test run` prints its own progress).
    pub fn disable_spinner(&self) {
        self.spinner_enabled
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.stop_spinner();
    }

    pub fn stop_spinner(&self) {
        if let Some(pb) = lock(&self.spinner).take() {
            pb.finish_and_clear();
        }
    }

    fn read_line(&self, hidden: bool) -> Result<Option<String>> {
        self.stop_spinner();
        let mut guard = lock(&self.input);
        if let Some(input) = guard.as_mut() {
            let mut line = String::new();
            return Ok(match input.read_line(&mut line)? {
                0 => None,
                _ => Some(line.trim_end_matches(['\r', '\n']).to_string()),
            });
        }
        drop(guard);
        if hidden && std::io::stdin().is_terminal() {
            let line = console::Term::stdout().read_secure_line()?;
            return Ok(Some(line));
        }
        if std::io::stdin().is_terminal() {
            let mut line = String::new();
            return Ok(match std::io::stdin().lock().read_line(&mut line)? {
                0 => None,
                _ => Some(line.trim_end_matches(['\r', '\n']).to_string()),
            });
        }
        // Not a terminal: answers must already be on their way (a pipe or a file). A stdin
        // that stays silent counts as no answer instead of hanging forever.
        Ok(piped_line(PIPED_ANSWER_WAIT))
    }

    fn ask(&self, prompt: &str) {
        self.stop_spinner();
        self.write_out(prompt);
    }

    /// `Are you sure you want to continue?` dialog. Returns Err(Canceled) on 'n' or no input.
    pub fn confirm(&self, message: Option<&str>) -> Result<()> {
        if let Some(m) = message {
            self.dialog(m);
        }
        self.dialog("Are you sure you want to continue?");
        loop {
            self.ask("Enter 'y' (yes) or 'n' (no): ");
            let answer = self.read_line(false)?;
            let Some(answer) = answer else {
                self.dialog("");
                return Err(ImptError::Canceled);
            };
            match answer.trim().to_lowercase().as_str() {
                "y" => {
                    self.dialog("");
                    return Ok(());
                }
                "n" => {
                    self.dialog("");
                    return Err(ImptError::Canceled);
                }
                _ => self.dialog("Invalid value!"),
            }
        }
    }

    /// `Enter <what>: ` prompt; `hidden` reads without echo on a terminal.
    pub fn prompt(&self, what: &str, hidden: bool) -> Result<String> {
        self.ask(&format!("Enter {what}: "));
        match self.read_line(hidden)? {
            Some(v) => Ok(v),
            None => {
                self.dialog("");
                Err(ImptError::msg(format!("No {what} is entered.")))
            }
        }
    }

    /// Numeric choice, e.g. the authentication method of `auth login`.
    pub fn choose(&self, title: &str, options: &[&str]) -> Result<usize> {
        self.dialog(title);
        for (i, o) in options.iter().enumerate() {
            self.dialog(&format!("  ({}) {o}", i + 1));
        }
        self.dialog("");
        let range = (1..=options.len())
            .map(|i| i.to_string())
            .collect::<Vec<_>>();
        let prompt = format!("Enter {}: ", range.join(" or "));
        loop {
            self.ask(&prompt);
            let Some(answer) = self.read_line(false)? else {
                self.dialog("");
                return Err(ImptError::Canceled);
            };
            if let Ok(n) = answer.trim().parse::<usize>() {
                if (1..=options.len()).contains(&n) {
                    self.dialog("");
                    return Ok(n);
                }
            }
            self.dialog("Invalid value!");
        }
    }
}

/// How long a prompt waits for a line on a non-terminal stdin.
const PIPED_ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// The next line of a non-terminal stdin, read by one background thread for the whole run;
/// `None` at end of input or when nothing arrives in `wait`.
fn piped_line(wait: std::time::Duration) -> Option<String> {
    use std::sync::mpsc;
    use std::sync::OnceLock;
    static LINES: OnceLock<Mutex<mpsc::Receiver<Option<String>>>> = OnceLock::new();
    let rx = LINES.get_or_init(|| {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let stdin = std::io::stdin();
            loop {
                let mut line = String::new();
                let got = match stdin.lock().read_line(&mut line) {
                    Ok(0) | Err(_) => None,
                    Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
                };
                let end = got.is_none();
                if tx.send(got).is_err() || end {
                    return;
                }
            }
        });
        Mutex::new(rx)
    });
    lock(rx).recv_timeout(wait).ok().flatten()
}

pub use crate::api::to_json;

/// Text on stdout exactly as given (help, version, completions of the dispatcher).
pub fn print_stdout(text: &str) {
    write_stdout(text.as_bytes());
}

/// Text on stdout of a process that keeps running when nobody reads it any more (the sim's
/// banner lines): write errors are ignored.
pub fn print_stdout_lenient(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// The exit status when stdout's reader has gone (`impt ... | head -1`): what shells report
/// for a process ended by SIGPIPE (128 + 13), as other command-line tools do.
pub const CLOSED_PIPE_STATUS: i32 = 141;

/// Stdout as an `io::Write` that ends the process like [`write_stdout`] on a closed pipe.
pub struct StdoutOrExit;

impl Write for StdoutOrExit {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        write_stdout(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes to stdout; when the reader has closed the pipe, the process ends quietly with
/// [`CLOSED_PIPE_STATUS`] instead of writing on into the void or panicking.
pub fn write_stdout(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    let res = stdout.write_all(bytes).and_then(|()| stdout.flush());
    if let Err(e) = res {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(CLOSED_PIPE_STATUS);
        }
    }
}

/// A line on stderr, outside any command (usage errors of the dispatcher, `impt sim`).
pub fn stderr_line(text: &str) {
    eprintln!("{text}");
}

/// Shell completions of `cmd` on stdout.
pub fn completions(shell: clap_complete::Shell, cmd: &mut clap::Command) {
    let mut text = Vec::new();
    clap_complete::generate(shell, cmd, "impt", &mut text);
    write_stdout(&text);
}
