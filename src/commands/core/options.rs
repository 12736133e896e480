//! Typed command options. Each command declares its options once with `options!`: that
//! gives the option table the cli layer builds help, validation and completions from, and a
//! struct with one typed field per option that the command reads (a misspelt option is a
//! compile error). [`Opt`] and [`Kind`] describe one option of a table. A block can
//! `flatten` another one (its options in place, its struct as one field), so options two
//! commands share are declared once.

use std::borrow::Cow;

/// Kinds of option values.
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
    pub default: Option<Cow<'static, str>>,
    /// Not shown in help (compatibility aliases).
    pub hidden: bool,
    /// A second one-letter alias, not shown in help (older spellings of the Development Guide).
    pub alias: Option<char>,
    /// Values each occurrence takes (1 but for options like `--report FORMAT FILE`).
    pub nargs: usize,
    /// How a value is checked (fields declared `val(T)`/`opt_val(T)`: clap's parser of T).
    pub parser: Option<clap::builder::ValueParser>,
    /// Options (long names) this one cannot be given with.
    pub conflicts: &'static [&'static str],
    /// Options (long names) this one needs.
    pub requires: &'static [&'static str],
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
            parser: None,
            conflicts: &[],
            requires: &[],
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
    pub fn default(mut self, d: impl Into<Cow<'static, str>>) -> Opt {
        self.default = Some(d.into());
        self
    }
    /// This option cannot be given with these (long names).
    pub fn conflicts(mut self, longs: &'static [&'static str]) -> Opt {
        self.conflicts = longs;
        self
    }
    /// This option needs these (long names).
    pub fn requires(mut self, longs: &'static [&'static str]) -> Opt {
        self.requires = longs;
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

/// Declares the typed options of a command:
///
/// ```ignore
/// options! {
///     /// `product create`
///     pub struct CreateOpts {
///         name: str = Opt::s("name", 'n', "product_name", "Name of the Product.").req(),
///         force: flag = Opt::f("force", 'f', "Also deletes …"),
///         port: opt_val(u16) = Opt::s("port", ' ', "PORT", "A port.").long_only(),
///         shared: flatten(SharedOpts),
///     }
/// }
/// ```
///
/// Field kinds and their types: `str` (`Str`/`StrEmpty` options) → `Option<String>`,
/// `strs` (`Array`) → `Vec<String>`, `flag` (`Flag`) → `bool`, `opt_bool` (`OptBool`) →
/// `Option<bool>`, `num` (`PosInt`) → `Option<u64>`, `num_text` (`PosInt`, as typed) →
/// `Option<String>`, `opt_str` (`OptStr`) →
/// `Option<Option<String>>` (outer `None`: not given; inner `None`: given without value),
/// `val(T)` (`Str`, checked by clap's parser of `T`) → `T` (the value, else the option's
/// default, else `T::default()`), `opt_val(T)` → `Option<T>`; `flatten(Block)` → `Block`, the
/// options of another `options!` block in this place.
/// Generates `table()` (the options in order) and `from_args(&Args)`.
macro_rules! options {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $field:ident : $kind:ident $(($ty:ty))? $(= $opt:expr)? ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct $name {
            $( pub $field: options!(@type $kind $(($ty))?), )*
        }

        impl $name {
            /// The option table: drives help, validation and completions.
            #[allow(clippy::vec_init_then_push)]
            pub fn table() -> Vec<$crate::commands::core::options::Opt> {
                #[allow(unused_mut)]
                let mut v: Vec<$crate::commands::core::options::Opt> = Vec::new();
                $( options!(@table v, $name, $kind $(($ty))? $(, $opt)?); )*
                v
            }

            /// The typed values of parsed arguments (unused by the commands that read their
            /// options another way).
            #[allow(unused_variables, dead_code)]
            pub fn from_args(args: &$crate::commands::core::args::Args) -> Self {
                $name {
                    $( $field: options!(@read args, $kind $(($ty))? $(, $opt)?), )*
                }
            }
        }
    };
    (@table $v:ident, $name:ident, flatten($t:ty)) => { $v.extend(<$t>::table()) };
    (@table $v:ident, $name:ident, $kind:ident $(($t:ty))?, $opt:expr) => {{
        #[allow(unused_mut)]
        let mut o: $crate::commands::core::options::Opt = $opt;
        debug_assert!(
            $crate::commands::core::options::fits(stringify!($kind), o.kind),
            "option --{} of {} is declared `{}`",
            o.long,
            stringify!($name),
            stringify!($kind)
        );
        $( o.parser = Some(clap::value_parser!($t).into()); )?
        $v.push(o);
    }};
    (@type str) => { Option<String> };
    (@type strs) => { Vec<String> };
    (@type flag) => { bool };
    (@type opt_bool) => { Option<bool> };
    (@type num) => { Option<u64> };
    (@type num_text) => { Option<String> };
    (@type opt_str) => { Option<Option<String>> };
    (@type val($t:ty)) => { $t };
    (@type opt_val($t:ty)) => { Option<$t> };
    (@type flatten($t:ty)) => { $t };
    (@read $a:ident, flatten($t:ty)) => { <$t>::from_args($a) };
    (@read $a:ident, $kind:ident $(($t:ty))?, $opt:expr) => {{
        let o: $crate::commands::core::options::Opt = $opt;
        options!(@get $kind $(($t))?, $a, o)
    }};
    (@get str, $a:ident, $o:ident) => { $a.str($o.long) };
    (@get strs, $a:ident, $o:ident) => { $a.strs($o.long) };
    (@get flag, $a:ident, $o:ident) => { $a.flag($o.long) };
    (@get opt_bool, $a:ident, $o:ident) => { $a.opt_bool($o.long) };
    (@get num, $a:ident, $o:ident) => { $a.num($o.long) };
    (@get num_text, $a:ident, $o:ident) => { $a.str($o.long) };
    (@get opt_str, $a:ident, $o:ident) => { $a.has($o.long).then(|| $a.str($o.long)) };
    (@get val($t:ty), $a:ident, $o:ident) => {
        $crate::commands::core::options::typed::<$t>($a, &$o).unwrap_or_default()
    };
    (@get opt_val($t:ty), $a:ident, $o:ident) => {
        $crate::commands::core::options::typed::<$t>($a, &$o)
    };
}
pub(crate) use options;

/// Whether an option of kind `kind` can be read as a field declared `declared`.
pub fn fits(declared: &str, kind: Kind) -> bool {
    matches!(
        (declared, kind),
        ("str", Kind::Str | Kind::StrEmpty)
            | ("strs", Kind::Array)
            | ("flag", Kind::Flag)
            | ("opt_bool", Kind::OptBool)
            | ("num" | "num_text", Kind::PosInt)
            | ("opt_str", Kind::OptStr)
            | ("val" | "opt_val", Kind::Str | Kind::StrEmpty)
    )
}

/// The typed value of an option declared `val(T)`/`opt_val(T)`: the given value, else the
/// option's default. clap checked it with its parser of `T`, which reads the narrower integers
/// through i64 and so also takes `-0` (read here as 0).
pub fn typed<T: std::str::FromStr>(args: &super::args::Args, o: &Opt) -> Option<T> {
    let s = args
        .str(o.long)
        .or_else(|| o.default.as_ref().map(|d| d.to_string()))?;
    s.parse()
        .ok()
        .or_else(|| s.strip_prefix('-').and_then(|r| r.parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::core::args::Args;

    options! {
        /// Options of a test command.
        pub struct Sample {
            name: str = Opt::s("name", 'n', "NAME", "A name.").req(),
            descr: str = Opt::s0("descr", 's', "TEXT", "A description."),
            tag: strs = Opt::a("tag", 't', "TAG", "A tag."),
            force: flag = Opt::f("force", 'f', "Forces."),
            flagged: opt_bool = Opt::b("flagged", 'g', "Flags."),
            size: num = Opt::n("page-size", 'z', "N", "A size."),
            unbond: opt_str = Opt::so("unbond", 'u', "KEY", "A key."),
        }
    }

    #[test]
    fn the_table_keeps_the_declared_options_in_order() {
        let t = Sample::table();
        let longs: Vec<&str> = t.iter().map(|o| o.long).collect();
        assert_eq!(
            longs,
            [
                "name",
                "descr",
                "tag",
                "force",
                "flagged",
                "page-size",
                "unbond"
            ]
        );
        assert!(t[0].required);
    }

    #[test]
    fn fields_are_read_by_kind() {
        let none = Sample::from_args(&Args::default());
        assert_eq!(none, Sample::default());
        let a = Args::from_pairs(&[
            ("name", Some("x")),
            ("descr", Some("")),
            ("tag", Some("a")),
            ("tag", Some("b")),
            ("force", None),
            ("flagged", Some("false")),
            ("page-size", Some("7")),
            ("unbond", None),
        ]);
        let s = Sample::from_args(&a);
        assert_eq!(s.name.as_deref(), Some("x"));
        assert_eq!(s.descr.as_deref(), Some(""));
        assert_eq!(s.tag, ["a", "b"]);
        assert!(s.force);
        assert_eq!(s.flagged, Some(false));
        assert_eq!(s.size, Some(7));
        assert_eq!(s.unbond, Some(None));
        let s = Sample::from_args(&Args::from_pairs(&[("unbond", Some("k"))]));
        assert_eq!(s.unbond, Some(Some("k".into())));
    }

    options! {
        /// Options of a command sharing `Sample`'s.
        pub struct Wider {
            port: opt_val(u16) = Opt::s("port", ' ', "PORT", "A port.").long_only(),
            sample: flatten(Sample),
            scale: val(f64) = Opt::s("scale", ' ', "F", "A scale.").long_only().default("1.5"),
        }
    }

    #[test]
    fn a_flattened_block_keeps_its_place_and_its_struct() {
        let longs: Vec<&str> = Wider::table().iter().map(|o| o.long).collect();
        assert_eq!(longs[0], "port");
        assert_eq!(
            longs[1..8],
            Sample::table().iter().map(|o| o.long).collect::<Vec<_>>()
        );
        assert_eq!(longs[8], "scale");
        let w = Wider::from_args(&Args::from_pairs(&[
            ("name", Some("x")),
            ("port", Some("80")),
        ]));
        assert_eq!(w.sample.name.as_deref(), Some("x"));
        assert_eq!(w.port, Some(80));
        assert_eq!(w.scale, 1.5, "the default");
        assert!(
            Wider::table()[0].parser.is_some(),
            "typed options carry clap's parser"
        );
        let w = Wider::from_args(&Args::from_pairs(&[
            ("port", Some("-0")),
            ("scale", Some("2")),
        ]));
        assert_eq!((w.port, w.scale), (Some(0), 2.0));
    }

    #[test]
    fn declared_kinds_must_fit_the_option() {
        assert!(fits("str", Kind::StrEmpty));
        assert!(!fits("str", Kind::Array));
        assert!(!fits("flag", Kind::OptBool));
    }
}
