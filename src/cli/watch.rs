//! `impt watch` (placeholder until the watch loop lands).

pub fn run(_args: &[String]) -> i32 {
    eprintln!("impt watch is not available in this build");
    2
}
