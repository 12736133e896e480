//! Argument parsing and dispatch.

pub fn main() -> i32 {
    0
}
