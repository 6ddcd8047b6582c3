//! kube-proxy: parses flags, starts logging, programs Services until SIGTERM or SIGINT (or
//! removes everything with `--cleanup`).

use clap::Parser;

#[tokio::main]
async fn main() {
    let opts = match kube_proxy::Options::try_parse() {
        Ok(o) => o,
        Err(e) => e.exit(),
    };
    client::daemon::init_logging(opts.verbosity);
    if let Err(e) = opts.validate() {
        eprintln!("kube-proxy: {e}");
        std::process::exit(1);
    }
    if let Err(e) = kube_proxy::run(opts, client::daemon::shutdown_signal()).await {
        eprintln!("kube-proxy: {e}");
        std::process::exit(1);
    }
}
