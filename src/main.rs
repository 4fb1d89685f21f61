//! The pgstate binary: runs `pgstate::run` on the process's arguments and exits with its code.

fn main() {
    let code = pgstate::run(
        std::env::args_os(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(i32::from(code));
}
