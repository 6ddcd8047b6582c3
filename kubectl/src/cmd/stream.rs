//! `exec`, `attach` and `port-forward`: the pod's streaming subresources over kube-rs's
//! websocket client (`v5.channel.k8s.io`/`v4.channel.k8s.io`, `portforward.k8s.io`), with
//! upstream's client-side checks and messages (completed pods, container defaulting, pods
//! that are not running).

use std::io::IsTerminal as _;
use std::net::{IpAddr, SocketAddr};

use anyhow::{bail, Context as _};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams, AttachedProcess};
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;

use super::Ctx;
use crate::rest::RestError;

/// The remote command's exit code, which becomes ours.
#[derive(Debug, thiserror::Error)]
#[error("command terminated with exit code {0}")]
pub struct Exit(pub i32);

#[derive(clap::Args, Debug)]
pub struct ExecArgs {
    /// POD or TYPE/NAME.
    pub name: Option<String>,
    /// Not accepted: the command goes after `--`.
    #[arg(hide = true)]
    pub old_command: Vec<String>,
    /// The command and its arguments, after `--`.
    #[arg(last = true)]
    pub command: Vec<String>,
    /// Container name. If omitted, the kubectl.kubernetes.io/default-container annotation or
    /// the first container in the pod is chosen.
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Pass stdin to the container.
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// Stdin is a TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Only print output from the remote session.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(clap::Args, Debug)]
pub struct AttachArgs {
    /// POD or TYPE/NAME.
    pub name: Option<String>,
    /// Container name. If omitted, the kubectl.kubernetes.io/default-container annotation or
    /// the first container in the pod is chosen.
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Pass stdin to the container.
    #[arg(short = 'i', long)]
    pub stdin: bool,
    /// Stdin is a TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Only print output from the remote session.
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

#[derive(clap::Args, Debug)]
pub struct PortForwardArgs {
    /// POD or TYPE/NAME, then [LOCAL_PORT:]REMOTE_PORT...
    pub args: Vec<String>,
    /// Addresses to listen on (comma separated): IP addresses or localhost.
    #[arg(long, value_delimiter = ',', default_value = "localhost")]
    pub address: Vec<String>,
}

/// A failed API call as kubectl reports it (`Error from server (BadRequest): ...`).
fn api_error(e: kube::Error) -> anyhow::Error {
    match e {
        kube::Error::Api(s) => {
            let code = s.code;
            let status = serde_json::to_value(&*s).unwrap_or(Value::Null);
            RestError::Status {
                code,
                status: Box::new(status),
            }
            .into()
        }
        other => anyhow::Error::new(other),
    }
}

/// The pod a `POD` or `TYPE/NAME` argument names: the pod itself, or the first pod the
/// workload's or service's selector picks (a running one if there is one).
async fn pod_for(ctx: &mut Ctx, arg: &str) -> anyhow::Result<Pod> {
    let pods: Api<Pod> = Api::namespaced(ctx.rest.client.clone(), &ctx.namespace);
    let Some((ty, name)) = arg.split_once('/') else {
        return pods.get(arg).await.map_err(api_error);
    };
    let r = ctx.disco.resolve(ty).await?.remove(0);
    if r.kind == "Pod" {
        return pods.get(name).await.map_err(api_error);
    }
    let path = format!(
        "{}/{name}",
        r.collection_path(super::ns_for(&r, &ctx.namespace))
    );
    let obj = ctx.rest.get_json(&path).await?;
    let labels = if r.kind == "Service" {
        obj.pointer("/spec/selector").cloned()
    } else {
        obj.pointer("/spec/selector/matchLabels").cloned()
    };
    let selector: Vec<String> = labels
        .as_ref()
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    if selector.is_empty() {
        bail!(
            "cannot attach to {}: selector for {} not implemented",
            r.qualified_plural(),
            r.qualified_plural()
        );
    }
    let list = pods
        .list(&kube::api::ListParams::default().labels(&selector.join(",")))
        .await
        .map_err(api_error)?;
    let running = list.items.iter().find(|p| phase(p) == "Running").cloned();
    running
        .or_else(|| list.items.into_iter().next())
        .with_context(|| format!("no pods found for {}/{name}", r.singular))
}

fn phase(p: &Pod) -> &str {
    p.status
        .as_ref()
        .and_then(|s| s.phase.as_deref())
        .unwrap_or_default()
}

fn pod_name(p: &Pod) -> &str {
    p.metadata.name.as_deref().unwrap_or_default()
}

/// `a, b, i (init), e (ephem)`, as upstream lists a pod's containers.
pub fn all_container_names(p: &Pod) -> String {
    let Some(spec) = &p.spec else {
        return String::new();
    };
    let mut names: Vec<String> = spec.containers.iter().map(|c| c.name.clone()).collect();
    for c in spec.init_containers.iter().flatten() {
        names.push(format!("{} (init)", c.name));
    }
    for c in spec.ephemeral_containers.iter().flatten() {
        names.push(format!("{} (ephem)", c.name));
    }
    names.join(", ")
}

/// The container to use: the one asked for, else the default-container annotation, else the
/// first; says which when the pod has more than one, as upstream does.
pub fn choose_container(p: &Pod, asked: Option<&str>, quiet: bool) -> anyhow::Result<String> {
    let spec = p.spec.as_ref().context("the pod has no spec")?;
    if let Some(c) = asked.filter(|c| !c.is_empty()) {
        return Ok(c.to_string());
    }
    let annotated = p
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("kubectl.kubernetes.io/default-container"))
        .filter(|name| spec.containers.iter().any(|c| &&c.name == name))
        .cloned();
    let chosen = match annotated {
        Some(c) => c,
        None => spec
            .containers
            .first()
            .map(|c| c.name.clone())
            .with_context(|| format!("pod {} does not have any containers", pod_name(p)))?,
    };
    let several = spec.containers.len() > 1
        || spec.init_containers.as_ref().is_some_and(|c| !c.is_empty())
        || spec
            .ephemeral_containers
            .as_ref()
            .is_some_and(|c| !c.is_empty());
    if !quiet && several {
        eprintln!(
            "Defaulted container {chosen:?} out of: {}",
            all_container_names(p)
        );
    }
    Ok(chosen)
}

/// Copies the process's output to ours, our stdin to it, and turns its final Status into our
/// exit: `command terminated with exit code N` and N, or the failure's message.
async fn pump(mut proc: AttachedProcess, stdin: bool) -> anyhow::Result<()> {
    if stdin {
        if let Some(mut remote) = proc.stdin() {
            tokio::spawn(async move {
                let mut local = tokio::io::stdin();
                let _ = tokio::io::copy(&mut local, &mut remote).await;
                let _ = remote.shutdown().await;
            });
        }
    }
    let out = proc.stdout().map(|mut r| {
        tokio::spawn(async move {
            let mut o = tokio::io::stdout();
            let _ = tokio::io::copy(&mut r, &mut o).await;
            let _ = o.flush().await;
        })
    });
    let err = proc.stderr().map(|mut r| {
        tokio::spawn(async move {
            let mut o = tokio::io::stderr();
            let _ = tokio::io::copy(&mut r, &mut o).await;
            let _ = o.flush().await;
        })
    });
    let status = match proc.take_status() {
        Some(s) => s.await,
        None => None,
    };
    for t in [out, err].into_iter().flatten() {
        let _ = t.await;
    }
    let _ = proc.join().await;
    let Some(status) = status else {
        return Ok(());
    };
    if status.status.as_deref() != Some("Failure") {
        return Ok(());
    }
    if status.reason.as_deref() == Some("NonZeroExitCode") {
        let code = status
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .into_iter()
            .flatten()
            .find(|c| c.reason.as_deref() == Some("ExitCode"))
            .and_then(|c| c.message.as_deref())
            .and_then(|m| m.parse::<i32>().ok());
        if let Some(code) = code {
            return Err(Exit(code).into());
        }
    }
    bail!("{}", status.message.unwrap_or_default())
}

/// Whether `-t` can be honored: upstream warns and goes on without a TTY otherwise.
fn tty_usable(tty: bool, stdin: bool, quiet: bool) -> bool {
    if !tty {
        return false;
    }
    if !stdin {
        if !quiet {
            eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
        }
        return false;
    }
    if !std::io::stdin().is_terminal() {
        if !quiet {
            eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
        }
        return false;
    }
    true
}

pub async fn exec(ctx: &mut Ctx, a: ExecArgs) -> anyhow::Result<()> {
    let Some(name) = a.name.as_deref() else {
        bail!("pod, type/name or --filename must be specified");
    };
    if !a.old_command.is_empty() {
        bail!("exec [POD] [COMMAND] is not supported anymore. Use exec [POD] -- [COMMAND] instead");
    }
    if a.command.is_empty() {
        bail!("you must specify at least one command for the container");
    }
    let pod = pod_for(ctx, name).await?;
    let phase = phase(&pod);
    if phase == "Succeeded" || phase == "Failed" {
        bail!("cannot exec into a container in a completed pod; current phase is {phase}");
    }
    let container = choose_container(&pod, a.container.as_deref(), a.quiet)?;
    let tty = tty_usable(a.tty, a.stdin, a.quiet);
    let params = AttachParams {
        container: Some(container),
        stdin: a.stdin,
        stdout: true,
        stderr: !tty,
        tty,
        ..AttachParams::default()
    };
    let pods: Api<Pod> = Api::namespaced(ctx.rest.client.clone(), &ctx.namespace);
    let proc = pods
        .exec(pod_name(&pod), a.command.clone(), &params)
        .await
        .map_err(api_error)?;
    pump(proc, a.stdin).await
}

pub async fn attach(ctx: &mut Ctx, a: AttachArgs) -> anyhow::Result<()> {
    let Some(name) = a.name.as_deref() else {
        bail!("expected POD, TYPE/NAME, or TYPE NAME, (at most 2 arguments) saw 0: []");
    };
    let pod = pod_for(ctx, name).await?;
    let phase = phase(&pod);
    if phase == "Succeeded" || phase == "Failed" {
        bail!("cannot attach a container in a completed pod; current phase is {phase}");
    }
    let container = choose_container(&pod, a.container.as_deref(), a.quiet)?;
    let tty = tty_usable(a.tty, a.stdin, a.quiet);
    if !a.quiet {
        eprintln!("If you don't see a command prompt, try pressing enter.");
    }
    let params = AttachParams {
        container: Some(container),
        stdin: a.stdin,
        stdout: true,
        stderr: !tty,
        tty,
        ..AttachParams::default()
    };
    let pods: Api<Pod> = Api::namespaced(ctx.rest.client.clone(), &ctx.namespace);
    let proc = pods
        .attach(pod_name(&pod), &params)
        .await
        .map_err(api_error)?;
    pump(proc, a.stdin).await
}

/// One `[LOCAL:]REMOTE` argument; the remote side may be a port name.
#[derive(Debug, Clone, PartialEq)]
pub struct PortSpec {
    /// 0: any free port.
    pub local: u16,
    pub remote: String,
}

pub fn parse_port_spec(s: &str) -> anyhow::Result<PortSpec> {
    let (local, remote) = match s.split_once(':') {
        Some((l, r)) => (l, r),
        None => (s, s),
    };
    if remote.is_empty() {
        bail!("Remote port cannot be empty");
    }
    let local = if local.is_empty() {
        0
    } else {
        local
            .parse::<u16>()
            .map_err(|_| anyhow::anyhow!("Error parsing local port '{local}': invalid port"))?
    };
    if s.split_once(':').is_none() && remote.parse::<u16>().is_err() {
        // A named port needs a local port: there is no number to reuse.
        bail!("Error parsing local port '{remote}': invalid port");
    }
    Ok(PortSpec {
        local,
        remote: remote.to_string(),
    })
}

/// The container port a remote port names on the pod (a number as it is).
fn container_port(p: &Pod, remote: &str) -> anyhow::Result<u16> {
    if let Ok(n) = remote.parse::<u16>() {
        if n == 0 {
            bail!("Error parsing remote port '{remote}': port must be > 0");
        }
        return Ok(n);
    }
    p.spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .flat_map(|c| c.ports.iter().flatten())
        .find(|cp| cp.name.as_deref() == Some(remote))
        .and_then(|cp| u16::try_from(cp.container_port).ok())
        .with_context(|| {
            format!(
                "Pod '{}' does not have a named port '{remote}'",
                pod_name(p)
            )
        })
}

/// A service's port to the pod's container port (its `targetPort`, by number or name).
async fn service_target(ctx: &mut Ctx, svc: &str, port: &str, pod: &Pod) -> anyhow::Result<String> {
    let obj = ctx
        .rest
        .get_json(&format!(
            "/api/v1/namespaces/{}/services/{svc}",
            ctx.namespace
        ))
        .await?;
    let ports = obj
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let found = ports.iter().find(|p| {
        p.get("port")
            .and_then(Value::as_i64)
            .map(|n| n.to_string())
            .as_deref()
            == Some(port)
            || p.get("name").and_then(Value::as_str) == Some(port)
    });
    let Some(found) = found else {
        bail!("Service {svc} does not have a service port {port}");
    };
    let target = match found.get("targetPort") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => found
            .get("port")
            .and_then(Value::as_i64)
            .unwrap_or_default()
            .to_string(),
    };
    Ok(container_port(pod, &target)?.to_string())
}

pub async fn port_forward(ctx: &mut Ctx, a: PortForwardArgs) -> anyhow::Result<()> {
    const USAGE: &str = "TYPE/NAME and list of ports are required for port-forward\nSee 'kubectl port-forward -h' for help and examples";
    let [target, specs @ ..] = a.args.as_slice() else {
        bail!(USAGE);
    };
    if specs.is_empty() {
        bail!(USAGE);
    }
    let mut parsed: Vec<PortSpec> = specs
        .iter()
        .map(|s| parse_port_spec(s))
        .collect::<anyhow::Result<_>>()?;
    let pod = pod_for(ctx, target).await?;
    if let Some(svc) = target
        .split_once('/')
        .filter(|(t, _)| matches!(*t, "svc" | "service" | "services"))
        .map(|(_, n)| n.to_string())
    {
        for p in &mut parsed {
            p.remote = service_target(ctx, &svc, &p.remote, &pod).await?;
        }
    }
    if phase(&pod) != "Running" {
        bail!(
            "unable to forward port because pod is not running. Current status={}",
            phase(&pod)
        );
    }
    let mut addresses: Vec<IpAddr> = Vec::new();
    for addr in &a.address {
        if addr == "localhost" {
            addresses.push(IpAddr::from([127, 0, 0, 1]));
            addresses.push("::1".parse().expect("a valid address"));
        } else {
            addresses.push(
                addr.parse()
                    .map_err(|_| anyhow::anyhow!("{addr} is not a valid IP"))?,
            );
        }
    }
    let pods: Api<Pod> = Api::namespaced(ctx.rest.client.clone(), &ctx.namespace);
    let name = pod_name(&pod).to_string();
    let mut tasks = tokio::task::JoinSet::new();
    for spec in &parsed {
        let remote = container_port(&pod, &spec.remote)?;
        let mut local = spec.local;
        let mut bound_any = false;
        for ip in &addresses {
            let listener = match tokio::net::TcpListener::bind(SocketAddr::new(*ip, local)).await {
                Ok(l) => l,
                // `localhost` covers IPv6 only where the machine has it.
                Err(_) if a.address.iter().any(|a| a == "localhost") && ip.is_ipv6() => continue,
                Err(e) => bail!("unable to listen on port {local}: {e}"),
            };
            let addr = listener.local_addr()?;
            local = addr.port();
            bound_any = true;
            println!("Forwarding from {addr} -> {remote}");
            let pods = pods.clone();
            let name = name.clone();
            tasks.spawn(async move {
                loop {
                    let Ok((mut conn, _)) = listener.accept().await else {
                        break;
                    };
                    println!("Handling connection for {}", addr.port());
                    let pods = pods.clone();
                    let name = name.clone();
                    tokio::spawn(async move {
                        match pods.portforward(&name, &[remote]).await {
                            Ok(mut pf) => {
                                if let Some(mut upstream) = pf.take_stream(remote) {
                                    let _ = tokio::io::copy_bidirectional(&mut conn, &mut upstream)
                                        .await;
                                }
                                drop(pf);
                            }
                            Err(e) => {
                                eprintln!(
                                    "E0000 an error occurred forwarding {} -> {remote}: {e}",
                                    addr.port()
                                );
                            }
                        }
                    });
                }
            });
        }
        if !bound_any {
            bail!("unable to listen on any of the requested ports: [{local}]");
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => Ok(()),
        _ = async { while tasks.join_next().await.is_some() {} } => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_specs() {
        assert_eq!(
            parse_port_spec("8080").unwrap(),
            PortSpec {
                local: 8080,
                remote: "8080".into()
            }
        );
        assert_eq!(parse_port_spec(":80").unwrap().local, 0);
        assert_eq!(parse_port_spec("5000:http").unwrap().remote, "http");
        assert!(parse_port_spec("x:80").is_err());
        assert!(parse_port_spec("80:").is_err());
        assert!(parse_port_spec("http").is_err());
    }

    #[test]
    fn container_lists_read_like_upstream() {
        let p: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"},
            "spec": {
                "containers": [{"name": "a"}, {"name": "b", "ports": [{"name": "http", "containerPort": 8080}]}],
                "initContainers": [{"name": "i"}]
            }
        }))
        .unwrap();
        assert_eq!(all_container_names(&p), "a, b, i (init)");
        assert_eq!(choose_container(&p, None, true).unwrap(), "a");
        assert_eq!(choose_container(&p, Some("b"), true).unwrap(), "b");
        assert_eq!(container_port(&p, "http").unwrap(), 8080);
        assert_eq!(container_port(&p, "9000").unwrap(), 9000);
        assert!(container_port(&p, "nope").is_err());
    }
}
