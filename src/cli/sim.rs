//! `impt sim` (placeholder until the simulator lands).

pub fn run(_args: &[String]) -> i32 {
    eprintln!("impt sim is not available in this build");
    2
}
