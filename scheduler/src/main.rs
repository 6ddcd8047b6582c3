//! kube-scheduler: parses flags, starts logging, runs the scheduler until SIGTERM or SIGINT.

use clap::Parser;

#[tokio::main]
async fn main() {
    let opts = match scheduler::Options::try_parse() {
        Ok(o) => o,
        Err(e) => e.exit(),
    };
    client::daemon::init_logging(opts.verbosity);
    // Checked before connecting to anything, so a bad flag or config exits with one line.
    if let Err(e) = opts.settings() {
        eprintln!("kube-scheduler: {e}");
        std::process::exit(1);
    }
    if let Err(e) = scheduler::run(opts, client::daemon::shutdown_signal()).await {
        eprintln!("kube-scheduler: {e}");
        std::process::exit(1);
    }
}
