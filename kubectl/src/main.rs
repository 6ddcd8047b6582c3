//! kubectl: upstream's verbs, flags and output, over the shared client crate.

mod apply;
mod cmd;
mod describe;
mod discovery;
mod jsonpath;
mod kubeconfig;
mod manifest;
mod output;
mod printers;
mod rest;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Flags every command takes.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct GlobalFlags {
    /// Path to the kubeconfig file to use for CLI requests.
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The name of the kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// If present, the namespace scope for this CLI request.
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,
    /// The address and port of the Kubernetes API server.
    #[arg(short = 's', long, global = true)]
    pub server: Option<String>,
    /// Bearer token for authentication to the API server.
    #[arg(long, global = true)]
    pub token: Option<String>,
    /// If true, the server's certificate will not be checked for validity.
    #[arg(long, global = true)]
    pub insecure_skip_tls_verify: bool,
    /// Number for the log level verbosity (accepted for compatibility).
    #[arg(short = 'v', long = "v", global = true, default_value_t = 0)]
    pub verbosity: u8,
    /// The length of time to wait before giving up on a single server request.
    #[arg(long, global = true)]
    pub request_timeout: Option<String>,
}

#[derive(Parser, Debug)]
#[command(
    name = "kubectl",
    about = "kubectl controls the Kubernetes cluster manager.",
    disable_version_flag = true
)]
struct Cli {
    #[command(flatten)]
    global: GlobalFlags,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Display one or many resources.
    Get(cmd::get::GetArgs),
    /// Create a resource from a file or from stdin.
    Create(cmd::create::CreateArgs),
    /// Apply a configuration to a resource by file name or stdin.
    Apply(apply::ApplyArgs),
    /// Delete resources by file names, stdin, resources and names, or by resources and label selector.
    Delete(cmd::delete::DeleteArgs),
    /// Update the labels on a resource.
    Label(cmd::label::LabelArgs),
    /// Update the annotations on a resource.
    Annotate(cmd::label::LabelArgs),
    /// Update fields of a resource.
    Patch(cmd::patch::PatchArgs),
    /// Set a new size for a deployment, replica set, replication controller, or stateful set.
    Scale(cmd::scale::ScaleArgs),
    /// Show details of a specific resource or group of resources.
    Describe(describe::DescribeArgs),
    /// Edit a resource on the server.
    Edit(cmd::edit::EditArgs),
    /// Get documentation for a resource.
    Explain(cmd::explain::ExplainArgs),
    /// Print the logs for a container in a pod.
    Logs(cmd::misc::LogsArgs),
    /// Execute a command in a container.
    Exec(cmd::stream::ExecArgs),
    /// Attach to a running container.
    Attach(cmd::stream::AttachArgs),
    /// Forward one or more local ports to a pod.
    PortForward(cmd::stream::PortForwardArgs),
    /// Inspect authorization.
    #[command(subcommand)]
    Auth(cmd::misc::AuthCommand),
    /// Wait for a specific condition on one or many resources.
    Wait(cmd::misc::WaitArgs),
    /// Manage the rollout of a resource.
    #[command(subcommand)]
    Rollout(cmd::rollout::RolloutCommand),
    /// Print the client and server version information.
    Version(cmd::info::VersionArgs),
    /// Print the supported API resources on the server.
    ApiResources(cmd::info::ApiResourcesArgs),
    /// Print the supported API versions on the server, in the form of "group/version".
    ApiVersions,
    /// Display cluster information.
    ClusterInfo,
    /// Modify kubeconfig files.
    #[command(subcommand)]
    Config(kubeconfig::ConfigCommand),
}

/// An error already reported to the user; exit 1 without saying more.
#[derive(Debug, thiserror::Error)]
#[error("")]
pub struct Reported;

fn main() {
    // Usage errors exit 1, as upstream's do; help exits 0.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { 1 } else { 0 });
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building the tokio runtime");
    let result = runtime.block_on(run(cli));
    if let Err(e) = result {
        // A remote command's exit code is ours, as upstream's exec passes it on.
        if let Some(cmd::stream::Exit(code)) = e.downcast_ref::<cmd::stream::Exit>() {
            eprintln!("{e}");
            std::process::exit(*code);
        }
        if e.downcast_ref::<Reported>().is_none() {
            report(&e);
        }
        std::process::exit(1);
    }
}

/// Prints an error as upstream does: the server's `Error from server (...)` lines as they
/// are, anything else after `error: `.
pub fn report(e: &anyhow::Error) {
    if let Some(r) = e.downcast_ref::<rest::RestError>() {
        eprintln!("{}", r.user_message());
        return;
    }
    if let Some(s) = e.downcast_ref::<cmd::create::Sourced>() {
        eprintln!("{s}");
        return;
    }
    if let Some(discovery::DiscoveryError::Rest(r)) = e.downcast_ref::<discovery::DiscoveryError>()
    {
        eprintln!("{}", r.user_message());
        return;
    }
    eprintln!("error: {e}");
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let g = cli.global;
    match cli.command {
        Command::Config(c) => kubeconfig::run(&g, c),
        Command::Version(a) => cmd::info::version(&g, a).await,
        command => {
            let mut ctx = cmd::Ctx::new(&g).await?;
            match command {
                Command::Get(a) => cmd::get::run(&mut ctx, a).await,
                Command::Create(a) => cmd::create::run(&mut ctx, a).await,
                Command::Apply(a) => apply::run(&mut ctx, a).await,
                Command::Delete(a) => cmd::delete::run(&mut ctx, a).await,
                Command::Label(a) => cmd::label::run(&mut ctx, a, cmd::label::Which::Labels).await,
                Command::Annotate(a) => {
                    cmd::label::run(&mut ctx, a, cmd::label::Which::Annotations).await
                }
                Command::Patch(a) => cmd::patch::run(&mut ctx, a).await,
                Command::Scale(a) => cmd::scale::run(&mut ctx, a).await,
                Command::Describe(a) => describe::run(&mut ctx, a).await,
                Command::Edit(a) => cmd::edit::run(&mut ctx, a).await,
                Command::Explain(a) => cmd::explain::run(&mut ctx, a).await,
                Command::Logs(a) => cmd::misc::logs(&mut ctx, a).await,
                Command::Exec(a) => cmd::stream::exec(&mut ctx, a).await,
                Command::Attach(a) => cmd::stream::attach(&mut ctx, a).await,
                Command::PortForward(a) => cmd::stream::port_forward(&mut ctx, a).await,
                Command::Auth(c) => cmd::misc::auth(&mut ctx, c).await,
                Command::Wait(a) => cmd::misc::wait(&mut ctx, a).await,
                Command::Rollout(c) => cmd::rollout::rollout(&mut ctx, c).await,
                Command::ApiResources(a) => cmd::info::api_resources(&mut ctx, a).await,
                Command::ApiVersions => cmd::info::api_versions(&mut ctx).await,
                Command::ClusterInfo => cmd::info::cluster_info(&mut ctx).await,
                Command::Config(_) | Command::Version(_) => unreachable!("handled above"),
            }
        }
    }
}
