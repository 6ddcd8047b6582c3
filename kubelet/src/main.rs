//! The kubelet binary: parses flags (and `--config`), validates them before anything starts
//! (a bad flag or config file exits 1 with one line), initialises logging, and runs the node
//! agent until SIGTERM or SIGINT.

use clap::Parser;

fn main() {
    let options = kubelet::Options::parse();
    let config = match options.resolve() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("kubelet: {e}");
            std::process::exit(1);
        }
    };
    let level = match config.verbosity {
        0..=1 => "info",
        2..=4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("kubelet={level},warn")));
    tracing_subscriber::fmt().with_env_filter(filter).init();
    // Two worker threads are plenty: every pod is a task, not a thread.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("kubelet: starting the runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = runtime.block_on(kubelet::run(config, shutdown_signal()));
    if let Err(e) = result {
        eprintln!("kubelet: {e}");
        std::process::exit(1);
    }
}

/// Completes on the first SIGTERM or SIGINT.
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
