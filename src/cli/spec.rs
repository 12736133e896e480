//! Declarative command tables: every command is a [`CmdSpec`] (its option table comes from
//! the command's typed options, see [`crate::commands::core::options`]), from which the clap
//! command, the help text and the validation of the original impt are derived.

pub use crate::commands::core::options::{Kind, Opt};

/// A command-specific validation: `Err(message)` fails the parse (help printed).
pub type CheckFn = fn(&crate::commands::Args) -> Result<(), String>;

/// What runs a command: reads its typed options from the parsed arguments and calls the
/// command's function (see [`run!`](crate::cli::spec::run)).
pub type Handler = for<'a> fn(
    &'a crate::commands::CommandCtx,
    &'a crate::commands::Args,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = crate::error::Result<()>> + 'a>,
>;

/// The [`Handler`] of a command function: `run!(f)` calls `f(ctx)`, `run!(f, Opts)` calls
/// `f(ctx, &Opts::from_args(args))`, `run!(f, Opts, More)` passes two option blocks, and
/// `run!(sync f, Opts)` calls a function that is not async.
macro_rules! run {
    ($f:path) => {
        |ctx, _args| Box::pin($f(ctx))
    };
    (sync $f:path, $o:ty) => {
        |ctx, args| {
            let r = $f(ctx, &<$o>::from_args(args));
            Box::pin(async move { r })
        }
    };
    ($f:path, $o:ty) => {
        |ctx, args| {
            let o = <$o>::from_args(args);
            Box::pin(async move { $f(ctx, &o).await })
        }
    };
    ($f:path, $o:ty, $b:ty) => {
        |ctx, args| {
            let (o, b) = (<$o>::from_args(args), <$b>::from_args(args));
            Box::pin(async move { $f(ctx, &o, &b).await })
        }
    };
}
pub(crate) use run;

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
    /// What runs it.
    pub handler: Option<Handler>,
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
            handler: None,
        }
    }
    /// What runs the command (see [`run!`]).
    pub fn run(mut self, h: Handler) -> CmdSpec {
        self.handler = Some(h);
        self
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
