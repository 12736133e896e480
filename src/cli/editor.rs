//! `impt editor vscode|neovim|jetbrains`: the editor kit (files under `templates/editor/`,
//! embedded in the binary). `vscode` writes `.vscode/tasks.json` (the `impt watch` tasks with
//! their problem matchers) and `.vscode/settings.json` (when there is none; otherwise it
//! prints the snippet); `neovim` and `jetbrains` print their file with where it goes.

use std::path::Path;

const VSCODE_TASKS: &str = include_str!("../../templates/editor/vscode/tasks.json");
const VSCODE_SETTINGS: &str = include_str!("../../templates/editor/vscode/settings.json");
const NEOVIM: &str = include_str!("../../templates/editor/neovim/impt-watch.lua");
const JETBRAINS: &str = include_str!("../../templates/editor/jetbrains/impt.xml");

/// The editors `impt editor` knows.
pub const EDITORS: [&str; 3] = ["vscode", "neovim", "jetbrains"];

const USAGE: &str = "Usage: impt editor vscode|neovim|jetbrains [--force]

  vscode     writes .vscode/tasks.json (tasks \"impt watch\" and \"impt watch (simulator)\":
             compile errors and runtime error frames in the Problems panel) and
             .vscode/settings.json (or prints the settings to merge when it exists);
             --force replaces an existing tasks.json
  neovim     prints a Lua module (JSON events to diagnostics) and where it goes
  jetbrains  prints an External Tools file (console links to errors) and where it goes
";

pub fn run(args: &[String]) -> i32 {
    let force = args.iter().any(|a| a == "--force" || a == "-f");
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        crate::output::print_stdout(USAGE);
        return 0;
    }
    let result = match words.as_slice() {
        ["vscode"] => vscode(Path::new("."), force),
        ["neovim"] => {
            crate::output::print_stdout(NEOVIM);
            crate::output::stderr_line(
                "Save this as ~/.config/nvim/lua/impt_watch.lua and add require(\"impt_watch\").setup() to init.lua; then :ImptWatch.",
            );
            Ok(())
        }
        ["jetbrains"] => {
            crate::output::print_stdout(JETBRAINS);
            crate::output::stderr_line(
                "Save this as tools/impt.xml in the IDE's configuration directory and restart the IDE; then Tools > External Tools > impt.",
            );
            Ok(())
        }
        [other] => Err(format!(
            "Unknown editor \"{other}\": impt editor knows {}.",
            EDITORS.join(", ")
        )),
        _ => Err("Please name an editor.".to_string()),
    };
    let ui = crate::output::Ui::new(crate::output::Mode::Default);
    match result {
        Ok(()) => {
            ui.succeeds();
            0
        }
        Err(msg) => {
            ui.error(&crate::error::ImptError::Usage {
                help: USAGE.trim_end().to_string(),
                msg,
            });
            ui.fails();
            1
        }
    }
}

/// Writes the VS Code files below `dir`.
fn vscode(dir: &Path, force: bool) -> Result<(), String> {
    let folder = dir.join(".vscode");
    std::fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let tasks = folder.join("tasks.json");
    if tasks.exists() && !force {
        return Err(format!(
            "{} exists: merge the tasks below into it, or run `impt editor vscode --force` to replace it.\n\n{VSCODE_TASKS}",
            tasks.display()
        ));
    }
    write(&tasks, VSCODE_TASKS)?;
    let settings = folder.join("settings.json");
    if settings.exists() {
        crate::output::print_stdout(&format!(
            "{} exists: merge these settings into it:\n{VSCODE_SETTINGS}",
            settings.display()
        ));
    } else {
        write(&settings, VSCODE_SETTINGS)?;
    }
    crate::output::print_stdout(
        "Run the task \"impt watch\" (Terminal > Run Task...): compile errors and runtime error frames show in the Problems panel and clear when fixed.\n",
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    crate::config::write_atomic(path, text.as_bytes(), false)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    crate::output::print_stdout(&format!("Wrote {}.\n", path.display()));
    Ok(())
}
