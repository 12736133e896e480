//! Directives, expressions, local includes, line control, line map and errors.

use std::path::Path;

use impt_builder::{
    has_directives, preprocess_file, preprocess_str, ErrorKind, Options, SourcePos,
};
use serde_json::json;

fn run(src: &str) -> String {
    run_opts(src, &Options::default())
}

fn run_opts(src: &str, opts: &Options) -> String {
    let dir = tempfile::tempdir().unwrap();
    preprocess_str(src, "main.nut", dir.path(), opts)
        .unwrap()
        .code
}

fn err(src: &str) -> impt_builder::BuilderError {
    let dir = tempfile::tempdir().unwrap();
    preprocess_str(src, "main.nut", dir.path(), &Options::default()).unwrap_err()
}

fn write(dir: &Path, name: &str, text: &str) {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

#[test]
fn set_and_inline_expressions() {
    let src = "@set A = 10\n@set B \"str\"\n@set C = (12 > 4)\nv(@{A}, \"@{B}\", @{C}, @{A * 3 + 1}, @{A / 4}, @{-A % 3})\n";
    assert_eq!(run(src), "v(10, \"str\", true, 31, 2.5, -1)\n");
    assert_eq!(run("@{123 * 456}.\n"), "56088.\n");
    assert_eq!(
        run("@{\"a\" + 1 + 2} @{1 + 2 + \"a\"} @{null + 1} @{true + 1}\n"),
        "a12 3a 1 2\n"
    );
    assert_eq!(
        run("@{0.1 + 0.2} @{1e21} @{1/3} @{2e-7}\n"),
        "0.30000000000000004 1e+21 0.3333333333333333 2e-7\n"
    );
    assert_eq!(
        run("@{1 == '1'} @{null == 0} @{'10' < '9'} @{10 < 9} @{'b' > 'a'}\n"),
        "true false true false true\n"
    );
    assert_eq!(
        run("@{0 || 'x'} @{1 && 'y'} @{!0} @{!'a'}\n"),
        "x y true false\n"
    );
    assert_eq!(
        run("@{1 ? 'a' : 'b'} @{([1, 2, 3])[1]} @{([1, 2]).length} @{[1, [2, 3]]}\n"),
        "a 2 2 1,2,3\n"
    );
    assert_eq!(
        run("@{UNDEFINED_VAR_X} @{defined(UNDEFINED_VAR_X)} @{defined(abs)}\n"),
        "null false true\n"
    );
    assert_eq!(
        run("@{'a\\tb' | escape} @{'hello' | base64} @{-5 | abs}\n"),
        "a\\tb aGVsbG8= 5\n"
    );
    assert_eq!(
        run("@{min(3, 1, 2)} @{max(3, '7')} @{abs(-2.5)} @{min(1, 'x')}\n"),
        "1 7 2.5 NaN\n"
    );
    assert_eq!(
        run("@{S.toUpperCase('ab')} @{S.substr('abcdef', 1, 3)} @{S.split('a,b', ',')} @{S.repeat('-', 3)} @{'  x ' | S.trim}|\n"),
        "AB bcd a,b --- x|\n"
    );
    assert_eq!(
        run("@{'abc' | S.concat('d', 1)} @{S.startsWith('abc', 'ab')} @{S.includes('abc', 'd')}\n"),
        "abcd1 true false\n"
    );
    // several expressions on a line, braces inside strings
    assert_eq!(run("a @{1} b @{\"}\"} c @{'x'}\n"), "a 1 b } c x\n");
    // builder variables
    assert_eq!(
        run("@{__FILE__}:@{__LINE__}\n\n@{__LINE__}\n"),
        "main.nut:1\n\n3\n"
    );
}

#[test]
fn command_line_variables_win_over_set() {
    let mut opts = Options::default();
    opts.vars.insert("A".into(), json!("cli"));
    opts.vars.insert("N".into(), json!(5));
    assert_eq!(
        run_opts("@set A = \"set\"\n@{A} @{N + 1} @{defined(A)}\n", &opts),
        "cli 6 true\n"
    );
}

#[test]
fn environment_variables_are_a_fallback() {
    // PATH, as inherited: the suite never changes its own process's environment (tests run
    // in parallel threads of one process).
    let path = std::env::var("PATH").expect("PATH is set");
    assert!(!path.is_empty());
    assert_eq!(run("@{PATH}\n"), format!("{path}\n"));
    assert_eq!(run("@set PATH = 1\n@{PATH}\n"), "1\n");
    let opts = Options {
        no_env: true,
        ..Default::default()
    };
    assert_eq!(run_opts("@{PATH}\n", &opts), "null\n");
}

#[test]
fn conditionals() {
    let src = "@set X = 2\n@if X == 1\none\n@elseif X == 2\ntwo\n@elseif X == 2\ntwo again\n@else\nother\n@endif\n@if 0\n@else\nelse\n@end\n";
    assert_eq!(run(src), "two\nelse\n");
    assert_eq!(
        run("@if 1\n  @if 0\n  no\n  @else\n  yes\n  @endif\n@endif\n"),
        "  yes\n"
    );
}

#[test]
fn comments() {
    let src = "@ a builder comment\n@\n@set A = 1 // trailing comment\n@set B = \"http://x\" /* c */\n@{A} @{B}\n// squirrel comment stays\n";
    assert_eq!(run(src), "1 http://x\n// squirrel comment stays\n");
}

#[test]
fn loops() {
    let src = "@set myvar = 12\n@while myvar > 9\n@set myvar = myvar - 1\nvar: @{myvar} i=@{loop.index} it=@{loop.iteration}\n@end\n";
    assert_eq!(
        run(src),
        "var: 11 i=0 it=1\nvar: 10 i=1 it=2\nvar: 9 i=2 it=3\n"
    );
    assert_eq!(
        run("@repeat 3\n@{loop.index}\n@endrepeat\n@repeat 0\nnever\n@end\n"),
        "0\n1\n2\n"
    );
}

#[test]
fn macros() {
    let src = "@macro some_macro(a, b, c)\n    Hello, @{a}!\n    Roses are @{b},\n    And violets are @{defined(c) ? c : \"of undefined color\"}.\n@end\npoem <- @\"@{some_macro(\"username\", \"red\", \"blue\")}\";\npoem <- @\"\n@include some_macro(\"username\", \"red\")\n\";\n";
    let expected = "poem <- @\"    Hello, username!\n    Roses are red,\n    And violets are blue.\";\npoem <- @\"\n    Hello, username!\n    Roses are red,\n    And violets are of undefined color.\n\";\n";
    assert_eq!(run(src), expected);
    // macros see globals, parameters shadow them; `@include once` always includes macros
    let src =
        "@set a = \"g\"\n@macro m(a)\n[@{a}]\n@endmacro\n@include once m(1)\n@include once m()\n";
    assert_eq!(run(src), "[1]\n[g]\n");
    let e = err("@macro m()\n@end\n@macro m()\n@end\n");
    assert_eq!(e.kind, ErrorKind::MacroRedeclared);
    assert!(e
        .builder_message()
        .starts_with("Macro \"m\" is already declared in main.nut:1 ("));
}

#[test]
fn local_includes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "main.nut", "@include \"lib/a.nut\"\n@include once \"lib/a.nut\"\n@include once \"lib/copy.nut\"\nend @{__FILE__}\n");
    write(d, "lib/a.nut", "a in @{__FILE__}\n@include \"sub/b.nut\"");
    write(
        d,
        "lib/copy.nut",
        "a in @{__FILE__}\n@include \"sub/b.nut\"",
    );
    write(
        d,
        "lib/sub/b.nut",
        "b @{__LINE__} @{S.substr(__PATH__, S.split(__PATH__, '/').length * 0 - 7)}\n",
    );
    let opts = Options {
        run_dir: Some(d.to_path_buf()),
        ..Default::default()
    };
    let p = preprocess_file(Path::new("main.nut"), &opts).unwrap();
    assert_eq!(p.code, "a in a.nut\nb 1 lib/sub\nend main.nut\n");
    let mut files: Vec<String> = p
        .files
        .iter()
        .map(|f| f.strip_prefix(d).unwrap().display().to_string())
        .collect();
    files.sort();
    // copy.nut was read (and skipped as identical content): the watcher must see it too
    assert_eq!(
        files,
        vec!["lib/a.nut", "lib/copy.nut", "lib/sub/b.nut", "main.nut"]
    );
    // include() function inlines a file (trailing newline trimmed), with filters
    write(d, "t.txt", "x \"q\"\n");
    let p = preprocess_str(
        "s = \"@{include(\"t.txt\") | escape}\";\n",
        "m.nut",
        d,
        &Options::default(),
    )
    .unwrap();
    assert_eq!(p.code, "s = \"x \\\"q\\\"\";\n");
    // absolute path
    let abs = d.join("t.txt");
    let src = format!("@include \"{}\"\n", abs.display());
    assert_eq!(
        preprocess_str(&src, "m.nut", Path::new("/"), &Options::default())
            .unwrap()
            .code,
        "x \"q\"\n"
    );
}

#[test]
fn line_control_and_line_map() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "main.nut", "first\n@include \"inc.nut\"\nlast @{1}\n");
    write(d, "inc.nut", "@set X = 1\ninc line\n");
    let opts = Options {
        line_control: true,
        run_dir: Some(d.to_path_buf()),
        ..Default::default()
    };
    let p = preprocess_file(Path::new("main.nut"), &opts).unwrap();
    let root = d.display().to_string();
    assert_eq!(
        p.code,
        format!("#line 1 \"{root}/main.nut\"\nfirst\n#line 2 \"{root}/inc.nut\"\ninc line\n#line 3 \"{root}/main.nut\"\nlast 1\n")
    );
    let lines: Vec<(String, usize)> = p
        .line_map
        .iter()
        .map(|s| (s.file.clone(), s.line))
        .collect();
    let m = format!("{root}/main.nut");
    let i = format!("{root}/inc.nut");
    assert_eq!(
        lines,
        vec![
            (m.clone(), 1),
            (m.clone(), 1),
            (i.clone(), 2),
            (i.clone(), 2),
            (m.clone(), 3),
            (m.clone(), 3)
        ]
    );
    // without -l the map still has one entry per output line
    let opts = Options {
        run_dir: Some(d.to_path_buf()),
        ..Default::default()
    };
    let p = preprocess_file(Path::new("main.nut"), &opts).unwrap();
    assert_eq!(p.code.lines().count(), p.line_map.len());
    assert_eq!(p.source_of(2), Some(&SourcePos { file: i, line: 2 }));
}

#[test]
fn warnings_are_collected() {
    let dir = tempfile::tempdir().unwrap();
    let p = preprocess_str(
        "@warning \"careful \" + 1\nok\n",
        "main.nut",
        dir.path(),
        &Options::default(),
    )
    .unwrap();
    assert_eq!(p.code, "ok\n");
    assert_eq!(p.warnings, vec!["careful 1".to_string()]);
}

#[test]
fn errors() {
    let e = err("line\n@error \"Platform \" + 3 + \" is unsupported\"\n");
    assert_eq!(e.kind, ErrorKind::User);
    assert_eq!(e.builder_message(), "Platform 3 is unsupported");
    assert!(
        e.to_string()
            .ends_with("main.nut:2: Platform 3 is unsupported"),
        "{}",
        e
    );

    let e = err("\n@include \"nope.nut\"\n");
    assert_eq!(e.kind, ErrorKind::Include);
    assert!(e
        .builder_message()
        .starts_with("Local file \"nope.nut\" not found ("));
    assert!(
        e.to_string()
            .ends_with("main.nut:2: Local file \"nope.nut\" not found"),
        "{}",
        e
    );

    let e = err("@if 1\nx\n");
    assert_eq!(e.kind, ErrorKind::Syntax);
    assert_eq!(e.builder_message(), "Unclosed @if statement (main.nut:2)");
    assert_eq!(e.to_string(), "main.nut:2: Unclosed @if statement");

    for (src, msg) in [
        ("@endif\n", "Unexpected @endif (main.nut:1)"),
        (
            "@if 1\n@else\n@else\n@end\n",
            "Multiple @else statements are not allowed (main.nut:3)",
        ),
        (
            "@if 1\n@else\n@elseif 1\n@end\n",
            "@elseif after @else is not allowed (main.nut:3)",
        ),
        ("@set\n", "Syntax error in @set (main.nut:1)"),
        ("@include\n", "Syntax error in @include (main.nut:1)"),
        ("@macro m()\n", "Unclosed @macro statement (main.nut:1)"),
        ("@while 0\n", "Unclosed @while statement (main.nut:1)"),
        (
            "a @{1 +} b\n",
            "Syntax error in the inline instruction at (main.nut:1)",
        ),
    ] {
        assert_eq!(err(src).builder_message(), msg, "{src}");
    }

    let e = err("@{1 +* 2}\n");
    assert_eq!(e.kind, ErrorKind::Syntax);
    let e = err("\n@set A = 1 / 0\n");
    assert_eq!(e.kind, ErrorKind::Expression);
    assert!(e.builder_message().starts_with("Division by zero ("));
    assert_eq!(e.line, 2);
    assert!(err("@{nofunc(1)}\n")
        .builder_message()
        .starts_with("Function \"nofunc\" is not defined ("));
    assert!(err("@{a.b}\n")
        .builder_message()
        .starts_with("Owner of \"b\" property is undefined ("));

    // include cycle
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.nut", "@include \"b.nut\"\n");
    write(dir.path(), "b.nut", "@include \"a.nut\"\n");
    let opts = Options {
        run_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let e = preprocess_file(Path::new("a.nut"), &opts).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cycle);
    assert!(e
        .builder_message()
        .starts_with("Maximum execution depth reached, possible cyclic reference?"));
}

#[test]
fn quick_directive_check() {
    assert!(has_directives("x\n@include \"a.nut\"\n"));
    assert!(has_directives("  @set A 1"));
    assert!(has_directives("v = @{A};"));
    assert!(!has_directives(
        "local a = 1; // user@example.com\nb <- @\"verbatim\";\n"
    ));
}

#[test]
fn spec_style_sample_tree() {
    // a fixture tree written for this project
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/builder/tree");
    let opts = Options {
        run_dir: Some(root.clone()),
        ..Default::default()
    };
    let p = preprocess_file(Path::new("main.nut"), &opts).unwrap();
    let expected = std::fs::read_to_string(root.join("main.nut.out")).unwrap();
    assert_eq!(p.code, expected);
}
