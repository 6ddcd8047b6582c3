//! `kubectl patch`: strategic merge (the default), JSON merge or JSON patches from `-p` or
//! `--patch-file`, given as JSON or YAML.

use anyhow::{bail, Context as _};
use http::Method;
use serde_json::Value;

use super::Ctx;

#[derive(clap::Args, Debug)]
pub struct PatchArgs {
    /// TYPE NAME or TYPE/NAME.
    pub args: Vec<String>,
    /// The patch to be applied to the resource JSON file.
    #[arg(short = 'p', long)]
    pub patch: Option<String>,
    /// A file containing the patch.
    #[arg(long)]
    pub patch_file: Option<String>,
    /// The type of patch: json, merge or strategic.
    #[arg(long = "type", default_value = "strategic")]
    pub patch_type: String,
    /// Patch a subresource (status, scale) instead.
    #[arg(long)]
    pub subresource: Option<String>,
    /// Output format: name, yaml, json.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// none, server or client.
    #[arg(long, default_value = "none", num_args = 0..=1, default_missing_value = "client")]
    pub dry_run: String,
}

/// The content type of a patch type.
pub fn content_type(t: &str) -> anyhow::Result<&'static str> {
    Ok(match t {
        "strategic" => "application/strategic-merge-patch+json",
        "merge" => "application/merge-patch+json",
        "json" => "application/json-patch+json",
        other => bail!("--type must be one of [json merge strategic], not \"{other}\""),
    })
}

/// A patch given as JSON or YAML.
pub fn parse_patch(text: &str) -> anyhow::Result<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    serde_yaml::from_str::<Value>(text).context("unable to parse the patch as JSON or YAML")
}

pub async fn run(ctx: &mut Ctx, a: PatchArgs) -> anyhow::Result<()> {
    let text = match (&a.patch, &a.patch_file) {
        (Some(p), None) => p.clone(),
        (None, Some(f)) => std::fs::read_to_string(f).with_context(|| format!("reading {f}"))?,
        (Some(_), Some(_)) => bail!("cannot specify --patch and --patch-file together"),
        (None, None) => {
            bail!("must specify --patch or --patch-file containing the contents of the patch")
        }
    };
    let ct = content_type(&a.patch_type)?;
    let patch = parse_patch(&text)?;
    let format = match &a.output {
        Some(o) => Some(crate::output::Format::parse(Some(o))?),
        None => None,
    };
    let (_, dry_q) = super::create::dry_run_query(&a.dry_run)?;
    let (targets, _) = super::resolve_args(ctx, &a.args).await?;
    let mut errors = Vec::new();
    for t in targets {
        if t.names.is_empty() {
            bail!("resource(s) were provided, but no name was specified");
        }
        for name in &t.names {
            let ns = super::ns_for(&t.resource, &ctx.namespace);
            let mut path = t.resource.object_path(ns, name);
            if let Some(s) = &a.subresource {
                path = format!("{path}/{s}");
            }
            let before = ctx.rest.get_json(&path).await;
            if !dry_q.is_empty() {
                path = format!("{path}?{dry_q}");
            }
            match ctx.rest.send_json(Method::PATCH, &path, ct, &patch).await {
                Ok(obj) => {
                    let unchanged = before
                        .as_ref()
                        .ok()
                        .and_then(|b| b.pointer("/metadata/resourceVersion"))
                        == obj.pointer("/metadata/resourceVersion");
                    let verb = if unchanged {
                        "patched (no change)"
                    } else {
                        "patched"
                    };
                    super::create::print_result(&format, &t.resource, &obj, verb, "")?;
                }
                Err(e) => errors.push(e.into()),
            }
        }
    }
    super::get::finish(errors)
}
