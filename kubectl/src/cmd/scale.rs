//! `kubectl scale --replicas=N`: through the `scale` subresource when the server serves it,
//! else a merge patch of `spec.replicas`.

use anyhow::bail;
use http::Method;
use serde_json::{json, Value};

use super::Ctx;

#[derive(clap::Args, Debug)]
pub struct ScaleArgs {
    /// TYPE NAME or TYPE/NAME.
    pub args: Vec<String>,
    /// The new desired number of replicas.
    #[arg(long)]
    pub replicas: i64,
    /// Precondition for the current size.
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    pub current_replicas: i64,
    /// Precondition for the resource version.
    #[arg(long)]
    pub resource_version: Option<String>,
    /// Select all resources of the type in the namespace.
    #[arg(long)]
    pub all: bool,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
}

pub async fn run(ctx: &mut Ctx, a: ScaleArgs) -> anyhow::Result<()> {
    if a.replicas < 0 {
        bail!(
            "The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0"
        );
    }
    let (targets, _) = super::resolve_args(ctx, &a.args).await?;
    let mut errors = Vec::new();
    for t in targets {
        let r = &t.resource;
        let ns = super::ns_for(r, &ctx.namespace).map(str::to_string);
        let names =
            super::target_names(ctx, &t, ns.as_deref(), a.all, a.selector.as_deref()).await?;
        for name in names {
            let path = r.object_path(ns.as_deref(), &name);
            if a.current_replicas >= 0 || a.resource_version.is_some() {
                let cur = match ctx.rest.get_json(&path).await {
                    Ok(c) => c,
                    Err(e) => {
                        errors.push(e.into());
                        continue;
                    }
                };
                let have = cur
                    .pointer("/spec/replicas")
                    .and_then(Value::as_i64)
                    .unwrap_or(1);
                if a.current_replicas >= 0 && have != a.current_replicas {
                    errors.push(anyhow::anyhow!(
                        "Expected replicas to be {}, was {have}",
                        a.current_replicas
                    ));
                    continue;
                }
            }
            let mut patch = json!({"spec": {"replicas": a.replicas}});
            if let Some(rv) = &a.resource_version {
                patch["metadata"] = json!({"resourceVersion": rv});
            }
            let ct = "application/merge-patch+json";
            let result = match ctx
                .rest
                .send_json(Method::PATCH, &format!("{path}/scale"), ct, &patch)
                .await
            {
                Err(e) if e.is_not_found() || e.code() == Some(405) => {
                    // No scale subresource served: patch the object itself, if it exists.
                    ctx.rest.send_json(Method::PATCH, &path, ct, &patch).await
                }
                other => other,
            };
            match result {
                Ok(_) => println!("{}/{name} scaled", r.kind_prefix()),
                Err(e) => errors.push(e.into()),
            }
        }
    }
    super::get::finish(errors)
}
