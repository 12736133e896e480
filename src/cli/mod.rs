//! Argument parsing and dispatch.

pub mod sim;

pub fn main() -> i32 {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("sim") {
        return sim::run(&args[1..]);
    }
    0
}
