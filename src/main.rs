fn main() {
    std::process::exit(impt::cli::main());
}
