//! kube-controller-manager: parses flags, starts logging, runs the controllers until SIGTERM or
//! SIGINT.

use clap::Parser;

#[tokio::main]
async fn main() {
    let opts = match controller_manager::Options::try_parse() {
        Ok(o) => o,
        Err(e) => e.exit(),
    };
    client::daemon::init_logging(opts.verbosity);
    // Checked before connecting to anything, so a bad flag or config exits with one line.
    if let Err(e) = opts.validate() {
        eprintln!("kube-controller-manager: {e}");
        std::process::exit(1);
    }
    if let Err(e) = controller_manager::run(opts, client::daemon::shutdown_signal()).await {
        eprintln!("kube-controller-manager: {e}");
        std::process::exit(1);
    }
}
