//! kube-apiserver entry point: parse flags, set up logging, start, and drain on SIGTERM/SIGINT
//! (a second signal exits at once).

use apiserver::Options;
use tokio::signal::unix::{signal, SignalKind};

fn init_tracing(verbosity: u8) {
    let level = match verbosity {
        0..=1 => "info",
        2..=4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},h2=info,tonic=info,hyper=info"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

fn main() {
    let options = match Options::try_parse_from(std::env::args_os()) {
        Ok(o) => o,
        Err(e) if e.use_stderr() => {
            // One clear line for a bad flag, as the daemons' convention asks.
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("invalid arguments");
            eprintln!("kube-apiserver: {}", first.trim_start_matches("error: "));
            std::process::exit(2);
        }
        Err(e) => {
            let _ = e.print();
            std::process::exit(0);
        }
    };
    if let Err(e) = options.validate() {
        eprintln!("kube-apiserver: {e}");
        std::process::exit(2);
    }
    init_tracing(options.verbosity);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("building the tokio runtime");
    let code = runtime.block_on(async move {
        let mut server = match apiserver::start(options).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("kube-apiserver: {e:#}");
                return 1;
            }
        };
        let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("installing the SIGINT handler");
        tokio::select! {
            r = server.serving() => return if r.is_ok() { 0 } else { 1 },
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("shutting down: leaving the kubernetes endpoints, draining requests");
        tokio::select! {
            _ = server.stop() => 0,
            _ = term.recv() => 1,
            _ = int.recv() => 1,
        }
    });
    std::process::exit(code);
}
