//! kube-scheduler: parses flags, starts logging, runs the scheduler until SIGTERM or SIGINT.

use clap::Parser;

#[tokio::main]
async fn main() {
    let opts = match scheduler::Options::try_parse() {
        Ok(o) => o,
        Err(e) => e.exit(),
    };
    let level = match opts.verbosity {
        0..=1 => "info",
        2..=4 => "debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .with_ansi(false)
        .init();
    // Checked before connecting to anything, so a bad flag or config exits with one line.
    if let Err(e) = opts.settings() {
        eprintln!("kube-scheduler: {e}");
        std::process::exit(1);
    }
    let shutdown = async {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    if let Err(e) = scheduler::run(opts, shutdown).await {
        eprintln!("kube-scheduler: {e}");
        std::process::exit(1);
    }
}
