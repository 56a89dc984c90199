//! The `slipway` binary: everything lives in the `server` library; this only runs its CLI.

fn main() -> std::process::ExitCode {
    server::cli::main()
}
