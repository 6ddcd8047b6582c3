//! `kubectl delete`: by name, `-f`, `-l` or `--all`, with `--cascade`, `--grace-period`,
//! `--now`, `--force`, `--ignore-not-found` and `--wait`.

use std::time::{Duration, Instant};

use anyhow::bail;
use http::Method;
use serde_json::{json, Value};

use super::{Ctx, Target};
use crate::discovery::ResourceType;
use crate::manifest;

#[derive(clap::Args, Debug)]
pub struct DeleteArgs {
    /// TYPE [NAME...] or TYPE/NAME...
    pub args: Vec<String>,
    /// Files containing the resources to delete ('-' for stdin).
    #[arg(short = 'f', long = "filename")]
    pub filenames: Vec<String>,
    /// Process the directory used in -f recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Selector (field query) to filter on.
    #[arg(long)]
    pub field_selector: Option<String>,
    /// Delete all resources of the given types in the namespace.
    #[arg(long)]
    pub all: bool,
    /// Across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// background, foreground or orphan.
    #[arg(long, default_value = "background", num_args = 0..=1, default_missing_value = "background")]
    pub cascade: String,
    /// Seconds given to the resource to terminate gracefully (-1: the resource's default).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub grace_period: i64,
    /// Signal the resources to shut down immediately (grace period 1).
    #[arg(long)]
    pub now: bool,
    /// Immediate removal (grace period 0).
    #[arg(long)]
    pub force: bool,
    /// Treat "resource not found" as a successful delete.
    #[arg(long)]
    pub ignore_not_found: bool,
    /// Wait for resources to be gone before returning.
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub wait: bool,
    /// How long to wait for the deletion (0: long enough).
    #[arg(long, default_value = "0s")]
    pub timeout: String,
    /// Output mode: `name` prints `kind/name`.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// none, server or client.
    #[arg(long, default_value = "none", num_args = 0..=1, default_missing_value = "client")]
    pub dry_run: String,
}

/// One object to delete.
struct Victim {
    resource: ResourceType,
    namespace: Option<String>,
    name: String,
    source: Option<String>,
}

pub async fn run(ctx: &mut Ctx, a: DeleteArgs) -> anyhow::Result<()> {
    let policy = match a.cascade.as_str() {
        "background" | "true" => "Background",
        "foreground" => "Foreground",
        "orphan" | "false" => "Orphan",
        other => bail!(
            "invalid cascade value ({other}). Must be \"background\", \"foreground\", or \"orphan\""
        ),
    };
    let grace = if a.force {
        Some(0)
    } else if a.now {
        Some(1)
    } else if a.grace_period >= 0 {
        Some(a.grace_period)
    } else {
        None
    };
    let (dry, dry_q) = super::create::dry_run_query(&a.dry_run)?;
    let mut errors: Vec<anyhow::Error> = Vec::new();
    let mut victims: Vec<Victim> = Vec::new();
    if !a.filenames.is_empty() {
        if !a.args.is_empty() {
            bail!("cannot specify both resource and file name arguments");
        }
        for m in manifest::read_all(&a.filenames, a.recursive)? {
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    errors.push(e.into());
                    continue;
                }
            };
            match ctx.disco.for_kind(m.api_version(), m.kind()).await {
                Ok(r) => {
                    let ns = super::create::target_namespace(ctx, &r, &m)?;
                    victims.push(Victim {
                        resource: r,
                        namespace: ns,
                        name: m.name().to_string(),
                        source: Some(m.source.clone()),
                    });
                }
                Err(e) => errors.push(super::create::mapping_error(&m, e)),
            }
        }
        if victims.is_empty() && errors.is_empty() {
            // Files without objects: upstream says so on stdout and succeeds.
            println!("No resources found");
        }
    } else {
        if a.args.is_empty() {
            bail!("You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'");
        }
        let (targets, _) = super::resolve_args(ctx, &a.args).await?;
        for Target { resource, names } in targets {
            if names.is_empty() {
                if !a.all && a.selector.is_none() && a.field_selector.is_none() {
                    bail!("resource(s) were provided, but no name was specified");
                }
                let ns = if a.all_namespaces {
                    None
                } else {
                    Some(ctx.namespace.as_str())
                };
                let items = super::list_objects(
                    ctx,
                    &resource,
                    super::ns_for(&resource, ns.unwrap_or("")).filter(|_| ns.is_some()),
                    a.selector.as_deref(),
                    a.field_selector.as_deref(),
                )
                .await?;
                for item in items {
                    victims.push(Victim {
                        resource: resource.clone(),
                        namespace: item
                            .pointer("/metadata/namespace")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        name: item
                            .pointer("/metadata/name")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        source: None,
                    });
                }
            } else {
                if a.all || a.selector.is_some() {
                    bail!("name cannot be provided when a selector or --all is specified");
                }
                for name in names {
                    victims.push(Victim {
                        namespace: resource.namespaced.then(|| ctx.namespace.clone()),
                        resource: resource.clone(),
                        name,
                        source: None,
                    });
                }
            }
        }
        if victims.is_empty() && errors.is_empty() && !a.ignore_not_found {
            let all_ns = a.all_namespaces;
            if all_ns {
                eprintln!("No resources found");
            } else {
                eprintln!("No resources found in {} namespace.", ctx.namespace);
            }
        }
    }
    if a.force {
        eprintln!("Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.");
    }
    let mut body =
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": policy});
    if let Some(g) = grace {
        body["gracePeriodSeconds"] = json!(g);
    }
    let mut deleted: Vec<(Victim, String)> = Vec::new();
    for v in victims {
        let mut path = v.resource.object_path(v.namespace.as_deref(), &v.name);
        if !dry_q.is_empty() {
            path = format!("{path}?{dry_q}");
        }
        let result = if dry && dry_q.is_empty() {
            ctx.rest.get_json(&path).await
        } else {
            ctx.rest
                .send_json(Method::DELETE, &path, "application/json", &body)
                .await
        };
        match result {
            Ok(obj) => {
                let suffix = match a.dry_run.as_str() {
                    "server" => " (server dry run)",
                    "client" | "true" => " (dry run)",
                    _ => "",
                };
                if a.output.as_deref() == Some("name") {
                    println!("{}/{}", v.resource.kind_prefix(), v.name);
                } else {
                    println!(
                        "{} \"{}\" deleted{suffix}",
                        v.resource.kind_prefix(),
                        v.name
                    );
                }
                let uid = obj
                    .pointer("/metadata/uid")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                if !dry {
                    deleted.push((v, uid));
                }
            }
            Err(e) if e.is_not_found() && a.ignore_not_found => {}
            Err(e) => match &v.source {
                Some(src) => errors.push(super::create::when("deleting", src, e)),
                None => errors.push(e.into()),
            },
        }
    }
    if a.wait && !deleted.is_empty() {
        let timeout = super::parse_duration(&a.timeout)
            .filter(|d| !d.is_zero())
            .unwrap_or(Duration::from_secs(7 * 24 * 3600));
        let deadline = Instant::now() + timeout;
        for (v, uid) in &deleted {
            let path = v.resource.object_path(v.namespace.as_deref(), &v.name);
            loop {
                match ctx.rest.get_json(&path).await {
                    Err(e) if e.is_not_found() => break,
                    Ok(o)
                        if o.pointer("/metadata/uid").and_then(Value::as_str)
                            != Some(uid.as_str()) =>
                    {
                        break
                    }
                    Err(e) => {
                        errors.push(e.into());
                        break;
                    }
                    Ok(_) => {}
                }
                if Instant::now() > deadline {
                    errors.push(anyhow::anyhow!(
                        "timed out waiting for the condition on {}/{}",
                        v.resource.qualified_plural(),
                        v.name
                    ));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    super::get::finish(errors)
}
