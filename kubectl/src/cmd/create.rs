//! `kubectl create -f`: POST each manifest object to its collection, going on past failures;
//! `kubectl create <generator>` hands over to [`super::generate`].

use http::Method;
use serde_json::Value;

use super::Ctx;
use crate::discovery::ResourceType;
use crate::manifest::{self, Manifest};
use crate::output::{self, Format};
use crate::rest::RestError;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CreateArgs {
    /// Make one object from flags instead of files.
    #[command(subcommand)]
    pub generator: Option<super::generate::Generator>,
    /// Filename, directory, or URL to files to use to create the resource ('-' for stdin).
    #[arg(short = 'f', long = "filename")]
    pub filenames: Vec<String>,
    /// Process the directory used in -f recursively.
    #[arg(short = 'R', long)]
    pub recursive: bool,
    /// Output format: name, yaml, json.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// none, server or client.
    #[arg(long, default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: String,
    /// Save the configuration in the last-applied-configuration annotation.
    #[arg(long)]
    pub save_config: bool,
    /// Schema validation (accepted for compatibility; the server validates).
    #[arg(long, default_value = "strict", num_args = 0..=1, require_equals = true, default_missing_value = "strict")]
    pub validate: String,
}

/// The namespace an object goes to, refusing a `-n` that contradicts the manifest.
pub fn target_namespace(
    ctx: &Ctx,
    r: &ResourceType,
    m: &Manifest,
) -> anyhow::Result<Option<String>> {
    if !r.namespaced {
        return Ok(None);
    }
    match m.namespace() {
        Some(ns) if ctx.explicit_namespace && ns != ctx.namespace => anyhow::bail!(
            "the namespace from the provided object \"{ns}\" does not match the namespace \"{}\". You must pass '--namespace={ns}' to perform this operation.",
            ctx.namespace
        ),
        Some(ns) => Ok(Some(ns.to_string())),
        None => Ok(Some(ctx.namespace.clone())),
    }
}

/// `Error from server (Reason): error when creating "file": message`.
pub fn when(verb: &str, source: &str, e: RestError) -> anyhow::Error {
    Sourced(e.with_prefix(&format!("error when {verb} \"{source}\": "))).into()
}

/// A server error about one object of a manifest, printed as `Error from server (...)`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Sourced(pub RestError);

/// Upstream's message for a manifest whose kind the server does not serve.
pub fn mapping_error(m: &Manifest, e: crate::discovery::DiscoveryError) -> anyhow::Error {
    match e {
        crate::discovery::DiscoveryError::Rest(r) => r.into(),
        e => anyhow::anyhow!(
            "resource mapping not found for name: \"{}\" namespace: \"{}\" from \"{}\": {e}\nensure CRDs are installed first",
            m.name(),
            m.namespace().unwrap_or(""),
            m.source
        ),
    }
}

/// The `dryRun` query parameter for `--dry-run`.
pub fn dry_run_query(dry_run: &str) -> anyhow::Result<(bool, &'static str)> {
    match dry_run {
        "none" | "false" => Ok((false, "")),
        "server" => Ok((true, "dryRun=All")),
        "client" | "true" => Ok((true, "")),
        other => anyhow::bail!(
            "Invalid dry-run value ({other}). Must be \"none\", \"server\", or \"client\"."
        ),
    }
}

pub async fn run(ctx: &mut Ctx, a: CreateArgs) -> anyhow::Result<()> {
    if let Some(g) = a.generator {
        return super::generate::run(ctx, g).await;
    }
    if a.filenames.is_empty() {
        anyhow::bail!("must specify one of -f and -k");
    }
    let format = match &a.output {
        Some(o) => Some(Format::parse(Some(o))?),
        None => None,
    };
    let (dry, dry_q) = dry_run_query(&a.dry_run)?;
    let suffix = match a.dry_run.as_str() {
        "server" => " (server dry run)",
        "client" | "true" => " (dry run)",
        _ => "",
    };
    let objects = manifest::read_all(&a.filenames, a.recursive)?;
    if objects.is_empty() {
        anyhow::bail!("no objects passed to create");
    }
    let mut errors: Vec<anyhow::Error> = Vec::new();
    for m in objects {
        let mut m = match m {
            Ok(m) => m,
            Err(e) => {
                errors.push(e.into());
                continue;
            }
        };
        let r = match ctx.disco.for_kind(m.api_version(), m.kind()).await {
            Ok(r) => r,
            Err(e) => {
                errors.push(mapping_error(&m, e));
                continue;
            }
        };
        let ns = match target_namespace(ctx, &r, &m) {
            Ok(ns) => ns,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        if a.save_config {
            crate::apply::set_last_applied(&mut m.object)?;
        }
        let created = if dry && dry_q.is_empty() {
            m.object.clone()
        } else {
            let mut path = r.collection_path(ns.as_deref());
            if !dry_q.is_empty() {
                path = format!("{path}?{dry_q}");
            }
            match ctx
                .rest
                .send_json(Method::POST, &path, "application/json", &m.object)
                .await
            {
                Ok(v) => v,
                Err(e) => {
                    errors.push(when("creating", &m.source, e));
                    continue;
                }
            }
        };
        print_result(&format, &r, &created, "created", suffix)?;
    }
    super::get::finish(errors)
}

/// `configmap/x created`, or the object in the `-o` format.
pub fn print_result(
    format: &Option<Format>,
    r: &ResourceType,
    obj: &Value,
    verb: &str,
    suffix: &str,
) -> anyhow::Result<()> {
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    match format {
        None => println!("{}/{name} {verb}{suffix}", r.kind_prefix()),
        Some(Format::Name) => println!("{}/{name}", r.kind_prefix()),
        Some(f) => print!(
            "{}",
            output::print_objects(
                f,
                vec![{
                    let mut o = obj.clone();
                    super::get::strip_managed_fields(&mut o);
                    o
                }],
                true,
                false
            )?
        ),
    }
    Ok(())
}
