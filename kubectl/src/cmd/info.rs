//! `version`, `api-resources`, `api-versions` and `cluster-info`.

use anyhow::bail;
use serde_json::{json, Value};

use super::Ctx;
use crate::printers;
use crate::GlobalFlags;

#[derive(clap::Args, Debug)]
pub struct VersionArgs {
    /// If true, shows client version only (no server required).
    #[arg(long)]
    pub client: bool,
    /// One of 'yaml' or 'json'.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
}

/// The version this kubectl reports: the Kubernetes API level it speaks.
fn client_version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0",
        "gitCommit": env!("CARGO_PKG_VERSION"),
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "rust",
        "compiler": "rustc",
        "platform": format!("{}/{}", std::env::consts::OS, match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        }),
    })
}

pub async fn version(g: &GlobalFlags, a: VersionArgs) -> anyhow::Result<()> {
    let mut doc = json!({ "clientVersion": client_version() });
    let mut server_err = None;
    if !a.client {
        match Ctx::new(g).await {
            Ok(ctx) => match ctx.rest.get_json("/version").await {
                Ok(v) => doc["serverVersion"] = v,
                Err(e) => server_err = Some(anyhow::Error::from(e)),
            },
            Err(e) => server_err = Some(e),
        }
    }
    match a.output.as_deref() {
        None => {
            println!(
                "Client Version: {}",
                doc["clientVersion"]["gitVersion"].as_str().unwrap_or("")
            );
            if let Some(s) = doc.get("serverVersion") {
                println!("Server Version: {}", s["gitVersion"].as_str().unwrap_or(""));
            }
        }
        Some("yaml") => print!("{}", printers::to_yaml(&doc)),
        Some("json") => print!("{}", printers::to_json(&doc)),
        Some(o) => bail!("--output must be 'yaml' or 'json', not {o:?}"),
    }
    match server_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[derive(clap::Args, Debug)]
pub struct ApiResourcesArgs {
    /// Only resources of this API group ("" for the core group).
    #[arg(long)]
    pub api_group: Option<String>,
    /// true: only namespaced resources; false: only cluster-scoped ones.
    #[arg(long)]
    pub namespaced: Option<bool>,
    /// wide or name.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Don't print headers.
    #[arg(long)]
    pub no_headers: bool,
    /// Only resources supporting these verbs.
    #[arg(long, value_delimiter = ',')]
    pub verbs: Vec<String>,
    /// name or kind.
    #[arg(long)]
    pub sort_by: Option<String>,
    /// Only resources in this category.
    #[arg(long)]
    pub categories: Vec<String>,
}

pub async fn api_resources(ctx: &mut Ctx, a: ApiResourcesArgs) -> anyhow::Result<()> {
    let mut all = ctx.disco.preferred_resources().await?;
    all.retain(|r| {
        a.api_group.as_ref().is_none_or(|g| &r.group == g)
            && a.namespaced.is_none_or(|n| r.namespaced == n)
            && a.verbs.iter().all(|v| r.verbs.contains(v))
            && a.categories.iter().all(|c| r.categories.contains(c))
    });
    match a.sort_by.as_deref() {
        Some("name") => all.sort_by(|x, y| x.plural.cmp(&y.plural)),
        Some("kind") => all.sort_by(|x, y| x.kind.cmp(&y.kind)),
        Some(o) => bail!("--sort-by accepts only name or kind, got {o:?}"),
        None => {}
    }
    let wide = match a.output.as_deref() {
        None => false,
        Some("wide") => true,
        Some("name") => {
            for r in &all {
                println!("{}", r.qualified_plural());
            }
            return Ok(());
        }
        Some(o) => bail!("--output {o} is not available"),
    };
    let mut rows = Vec::new();
    if !a.no_headers {
        let mut h: Vec<String> = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if wide {
            h.push("VERBS".into());
            h.push("CATEGORIES".into());
        }
        rows.push(h);
    }
    for r in &all {
        let mut row = vec![
            r.plural.clone(),
            r.short_names.join(","),
            r.api_version(),
            r.namespaced.to_string(),
            r.kind.clone(),
        ];
        if wide {
            let mut verbs = r.verbs.clone();
            verbs.sort();
            row.push(verbs.join(","));
            row.push(r.categories.join(","));
        }
        rows.push(row);
    }
    print!("{}", printers::align(&rows));
    Ok(())
}

pub async fn api_versions(ctx: &mut Ctx) -> anyhow::Result<()> {
    let groups = ctx.disco.groups().await?;
    let mut out: Vec<String> = Vec::new();
    for g in groups {
        for v in g.versions {
            out.push(if g.name.is_empty() {
                v
            } else {
                format!("{}/{v}", g.name)
            });
        }
    }
    out.sort();
    for v in out {
        println!("{v}");
    }
    Ok(())
}

pub async fn cluster_info(ctx: &mut Ctx) -> anyhow::Result<()> {
    // Fails like any request would when the server is unreachable.
    ctx.rest.get("/api").await?;
    println!("Kubernetes control plane is running at {}", ctx.server);
    println!("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.");
    Ok(())
}
