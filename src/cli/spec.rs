//! Declarative option tables: every command is a [`CmdSpec`], from which the clap command,
//! the help text and the validation of the original impt are derived.

/// Kinds of option values (see the commands digest §1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One non-empty string.
    Str,
    /// One string, empty allowed.
    StrEmpty,
    /// Repeatable string.
    Array,
    /// A flag without value.
    Flag,
    /// A boolean with an optional value (`--x`, `--x true`, `--x false`).
    OptBool,
    /// A positive integer.
    PosInt,
    /// A string with an optional value (given alone = remove the setting).
    OptStr,
}

#[derive(Clone, Debug)]
pub struct Opt {
    pub long: &'static str,
    pub short: Option<char>,
    pub kind: Kind,
    pub required: bool,
    pub value_name: &'static str,
    pub desc: &'static str,
    pub choices: &'static [&'static str],
    pub default: Option<&'static str>,
    /// Not shown in help (compatibility aliases).
    pub hidden: bool,
    /// A second one-letter alias, not shown in help (older spellings of the Development Guide).
    pub alias: Option<char>,
    /// Values each occurrence takes (1 but for options like `--report FORMAT FILE`).
    pub nargs: usize,
}

impl Opt {
    fn new(
        long: &'static str,
        short: Option<char>,
        kind: Kind,
        value_name: &'static str,
        desc: &'static str,
    ) -> Opt {
        Opt {
            long,
            short,
            kind,
            required: false,
            value_name,
            desc,
            choices: &[],
            default: None,
            hidden: false,
            alias: None,
            nargs: 1,
        }
    }
    pub fn s(long: &'static str, short: char, value_name: &'static str, desc: &'static str) -> Opt {
        Opt::new(long, Some(short), Kind::Str, value_name, desc)
    }
    pub fn s0(
        long: &'static str,
        short: char,
        value_name: &'static str,
        desc: &'static str,
    ) -> Opt {
        Opt::new(long, Some(short), Kind::StrEmpty, value_name, desc)
    }
    pub fn a(long: &'static str, short: char, value_name: &'static str, desc: &'static str) -> Opt {
        Opt::new(long, Some(short), Kind::Array, value_name, desc)
    }
    pub fn f(long: &'static str, short: char, desc: &'static str) -> Opt {
        Opt::new(long, Some(short), Kind::Flag, "", desc)
    }
    pub fn b(long: &'static str, short: char, desc: &'static str) -> Opt {
        Opt::new(long, Some(short), Kind::OptBool, "true|false", desc)
    }
    pub fn n(long: &'static str, short: char, value_name: &'static str, desc: &'static str) -> Opt {
        Opt::new(long, Some(short), Kind::PosInt, value_name, desc)
    }
    pub fn so(
        long: &'static str,
        short: char,
        value_name: &'static str,
        desc: &'static str,
    ) -> Opt {
        Opt::new(long, Some(short), Kind::OptStr, value_name, desc)
    }
    /// A long-only option.
    pub fn long_only(mut self) -> Opt {
        self.short = None;
        self
    }
    pub fn req(mut self) -> Opt {
        self.required = true;
        self
    }
    pub fn choices(mut self, c: &'static [&'static str]) -> Opt {
        self.choices = c;
        self
    }
    pub fn default(mut self, d: &'static str) -> Opt {
        self.default = Some(d);
        self
    }
    pub fn hidden(mut self) -> Opt {
        self.hidden = true;
        self
    }
    /// Each occurrence takes `n` values (kept in order, flattened).
    pub fn nargs(mut self, n: usize) -> Opt {
        self.nargs = n;
        self
    }
    /// Adds a hidden second one-letter alias.
    pub fn alias(mut self, c: char) -> Opt {
        self.alias = Some(c);
        self
    }
    pub fn takes_value(&self) -> bool {
        !matches!(self.kind, Kind::Flag)
    }
}

/// A command-specific validation: `Err(message)` fails the parse (help printed).
pub type CheckFn = fn(&crate::commands::Args) -> Result<(), String>;

#[derive(Clone, Debug)]
pub struct CmdSpec {
    pub group: &'static str,
    pub name: &'static str,
    /// One-line description for the group's command list.
    pub about: &'static str,
    /// The longer description shown in the command's help.
    pub long_about: &'static str,
    pub opts: Vec<Opt>,
    /// A hand-written usage line (replaces the generated one).
    pub usage: Option<&'static str>,
    /// Command-specific validation (step 4 of the parser): `Err(message)` fails with help.
    pub check: Option<CheckFn>,
    /// One required positional argument (its name in help), kept as `Args::positional`.
    pub positional: Option<&'static str>,
    /// The command prints its result raw, without the `IMPT COMMAND SUCCEEDS` line.
    pub raw: bool,
}

impl CmdSpec {
    pub fn new(
        group: &'static str,
        name: &'static str,
        about: &'static str,
        long_about: &'static str,
        opts: Vec<Opt>,
    ) -> CmdSpec {
        CmdSpec {
            group,
            name,
            about,
            long_about,
            opts,
            usage: None,
            check: None,
            positional: None,
            raw: false,
        }
    }
    pub fn positional(mut self, name: &'static str) -> CmdSpec {
        self.positional = Some(name);
        self
    }
    pub fn raw(mut self) -> CmdSpec {
        self.raw = true;
        self
    }
    pub fn check(mut self, f: CheckFn) -> CmdSpec {
        self.check = Some(f);
        self
    }
    pub fn usage(mut self, u: &'static str) -> CmdSpec {
        self.usage = Some(u);
        self
    }
    pub fn opt(&self, long: &str) -> Option<&Opt> {
        self.opts.iter().find(|o| o.long == long)
    }
}

/// The `--output` option every command has.
pub fn output_opt() -> Opt {
    Opt::s(
        "output",
        'z',
        "mode",
        "Adjusts the command's output: minimal, json or debug.",
    )
    .choices(&["minimal", "json", "debug"])
}

/// A command group.
pub struct GroupSpec {
    pub name: &'static str,
    pub about: &'static str,
    pub commands: Vec<CmdSpec>,
}
