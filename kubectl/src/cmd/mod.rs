//! The verbs, and what they share: the connection context (client, discovery, namespace) and
//! the parsing of `TYPE NAME...` / `TYPE/NAME` arguments.

pub mod create;
pub mod delete;
pub mod edit;
pub mod explain;
pub mod generate;
pub mod get;
pub mod info;
pub mod label;
pub mod misc;
pub mod patch;
pub mod rollout;
pub mod scale;
pub mod stream;

use anyhow::{bail, Context as _};

use crate::discovery::{Discovery, ResourceType};
use crate::rest::Rest;
use crate::GlobalFlags;

/// What every server-facing command works with.
pub struct Ctx {
    pub rest: Rest,
    pub disco: Discovery,
    /// The namespace from `-n` or the context (or `default`).
    pub namespace: String,
    /// Whether `-n` was given.
    pub explicit_namespace: bool,
    pub server: String,
}

impl Ctx {
    pub async fn new(g: &GlobalFlags) -> anyhow::Result<Self> {
        let config = load_config(g).await?;
        let server = config
            .cluster_url
            .to_string()
            .trim_end_matches('/')
            .to_string();
        let namespace = g
            .namespace
            .clone()
            .unwrap_or_else(|| config.default_namespace.clone());
        let url = config.cluster_url.clone();
        let client = kube::Client::try_from(config).context("building the client")?;
        let authority = match (url.host(), url.port_u16()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => format!(
                "{h}:{}",
                if url.scheme_str() == Some("http") {
                    80
                } else {
                    443
                }
            ),
            _ => server.clone(),
        };
        let rest = Rest::new(client, authority);
        Ok(Ctx {
            disco: Discovery::new(rest.clone()),
            rest,
            namespace,
            explicit_namespace: g.namespace.is_some(),
            server,
        })
    }
}

/// Where upstream kubectl goes when nothing configures a server.
pub const DEFAULT_SERVER: &str = "http://localhost:8080";

/// No `--kubeconfig`, `$KUBECONFIG`, `~/.kube/config` or in-cluster environment.
fn no_configuration_at_all(g: &GlobalFlags) -> bool {
    let home_config = std::env::var_os("HOME")
        .map(|h| std::path::Path::new(&h).join(".kube/config"))
        .is_some_and(|p| p.exists());
    g.kubeconfig.is_none()
        && g.context.is_none()
        && std::env::var_os("KUBECONFIG").is_none_or(|k| k.is_empty())
        && !home_config
        && std::env::var_os("KUBERNETES_SERVICE_HOST").is_none()
}

/// The client configuration: the kubeconfig (`--kubeconfig`, else `$KUBECONFIG`, else
/// `~/.kube/config`) with `--context`, then `--server`, `--token` and
/// `--insecure-skip-tls-verify` on top.
pub async fn load_config(g: &GlobalFlags) -> anyhow::Result<kube::Config> {
    let mut config = if no_configuration_at_all(g) {
        // Upstream's default without any kubeconfig: an insecure local server. Commands that
        // never reach a server (`--dry-run=client`) work; the rest fail to connect.
        kube::Config::new(DEFAULT_SERVER.parse().expect("a valid URL"))
    } else {
        client::config::load_config(g.kubeconfig.as_deref(), g.context.as_deref())
            .await
            .map_err(|e| match &g.context {
                Some(c) => anyhow::anyhow!("context was not found for specified context: {c}"),
                None => anyhow::Error::new(e),
            })?
    };
    if let Some(server) = &g.server {
        config.cluster_url = server
            .parse()
            .with_context(|| format!("invalid server {server:?}"))?;
    }
    if let Some(token) = &g.token {
        config.auth_info.token = Some(token.clone().into());
        config.auth_info.token_file = None;
    }
    if g.insecure_skip_tls_verify {
        config.accept_invalid_certs = true;
    }
    if let Some(t) = &g.request_timeout {
        if let Some(d) = parse_duration(t) {
            if !d.is_zero() {
                config.read_timeout = Some(d);
            }
        }
    }
    Ok(config)
}

/// Go-style durations as flags take them: `30s`, `2m`, `1h`, `500ms`, or bare seconds.
pub fn parse_duration(s: &str) -> Option<std::time::Duration> {
    if let Ok(n) = s.parse::<u64>() {
        return Some(std::time::Duration::from_secs(n));
    }
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while let Some(&n) = chars.peek() {
            if n.is_ascii_alphabetic() {
                unit.push(n);
                chars.next();
            } else {
                break;
            }
        }
        let v: f64 = num.parse().ok()?;
        num.clear();
        total += v * match unit.as_str() {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
    }
    if !num.is_empty() {
        return None;
    }
    Some(std::time::Duration::from_secs_f64(total))
}

/// One resource type with the names asked for (none: the whole collection).
#[derive(Debug, Clone)]
pub struct Target {
    pub resource: ResourceType,
    pub names: Vec<String>,
}

/// Parses `TYPE[,TYPE...] [NAME...]` or `TYPE/NAME...` into targets, resolving each type by
/// discovery. Returns the targets and whether several kinds were asked for.
pub async fn resolve_args(ctx: &mut Ctx, args: &[String]) -> anyhow::Result<(Vec<Target>, bool)> {
    if args.is_empty() {
        bail!("Required resource not specified.");
    }
    let mut targets: Vec<Target> = Vec::new();
    let mut multiple = false;
    if args.iter().any(|a| a.contains('/')) {
        for a in args {
            let Some((ty, name)) = a.split_once('/') else {
                bail!("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'");
            };
            if name.is_empty() {
                bail!("arguments in resource/name form must have a single resource and name");
            }
            let resources = ctx.disco.resolve(ty).await?;
            let r = resources[0].clone();
            match targets.last_mut() {
                Some(t) if t.resource == r => t.names.push(name.to_string()),
                _ => targets.push(Target {
                    resource: r,
                    names: vec![name.to_string()],
                }),
            }
        }
        let mut kinds: Vec<&ResourceType> = targets.iter().map(|t| &t.resource).collect();
        kinds.dedup();
        multiple = kinds.len() > 1;
    } else {
        let types: Vec<&str> = args[0].split(',').filter(|s| !s.is_empty()).collect();
        let names: Vec<String> = args[1..].to_vec();
        for ty in &types {
            let resources = ctx.disco.resolve(ty).await?;
            if resources.len() > 1 {
                multiple = true;
            }
            for r in resources {
                if targets.iter().any(|t| t.resource == r) {
                    continue;
                }
                targets.push(Target {
                    resource: r,
                    names: names.clone(),
                });
            }
        }
        if types.len() > 1 {
            multiple = true;
        }
    }
    Ok((targets, multiple))
}

/// Query string for list requests.
pub fn list_query(
    label_selector: Option<&str>,
    field_selector: Option<&str>,
    limit: Option<i64>,
    cont: Option<&str>,
) -> String {
    let mut q: Vec<String> = Vec::new();
    if let Some(l) = label_selector {
        q.push(format!("labelSelector={}", crate::rest::encode(l)));
    }
    if let Some(f) = field_selector {
        q.push(format!("fieldSelector={}", crate::rest::encode(f)));
    }
    if let Some(l) = limit {
        if l > 0 {
            q.push(format!("limit={l}"));
        }
    }
    if let Some(c) = cont {
        q.push(format!("continue={}", crate::rest::encode(c)));
    }
    if q.is_empty() {
        String::new()
    } else {
        format!("?{}", q.join("&"))
    }
}

/// Lists a collection as plain objects, page by page, with each item's `apiVersion` and
/// `kind` filled in as upstream's decoder does.
pub async fn list_objects(
    ctx: &Ctx,
    r: &ResourceType,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    field_selector: Option<&str>,
) -> anyhow::Result<Vec<serde_json::Value>> {
    list_pages(ctx, r, namespace, label_selector, field_selector, false).await
}

/// Like [`list_objects`], but keeps only each object's name and namespace (with its kind and
/// apiVersion): enough for `-o name`. Pages are fetched as for whole objects, but each is
/// parsed into names only, so memory stays near the size of one page.
pub async fn list_names(
    ctx: &Ctx,
    r: &ResourceType,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    field_selector: Option<&str>,
) -> anyhow::Result<Vec<serde_json::Value>> {
    list_pages(ctx, r, namespace, label_selector, field_selector, true).await
}

/// A list page read for names only.
#[derive(serde::Deserialize)]
struct NamesPage {
    #[serde(default)]
    metadata: NamesListMeta,
    #[serde(default)]
    items: Vec<NamedItem>,
}

#[derive(serde::Deserialize, Default)]
struct NamesListMeta {
    #[serde(default, rename = "continue")]
    continue_: Option<String>,
}

#[derive(serde::Deserialize)]
struct NamedItem {
    #[serde(default)]
    metadata: ItemName,
}

#[derive(serde::Deserialize, Default)]
struct ItemName {
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

async fn list_pages(
    ctx: &Ctx,
    r: &ResourceType,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    field_selector: Option<&str>,
    names_only: bool,
) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut items = Vec::new();
    let mut cont: Option<String> = None;
    loop {
        let path = format!(
            "{}{}",
            r.collection_path(namespace),
            list_query(label_selector, field_selector, Some(500), cont.as_deref())
        );
        let next = if names_only {
            let page: NamesPage = serde_json::from_slice(&ctx.rest.get(&path).await?)?;
            items.extend(page.items.into_iter().map(|item| {
                let mut meta = serde_json::Map::new();
                meta.insert("name".into(), item.metadata.name.into());
                if let Some(ns) = item.metadata.namespace {
                    meta.insert("namespace".into(), ns.into());
                }
                serde_json::json!({"apiVersion": r.api_version(), "kind": r.kind, "metadata": meta})
            }));
            page.metadata.continue_
        } else {
            let mut page = ctx.rest.get_json(&path).await?;
            if let Some(serde_json::Value::Array(list)) = page.get_mut("items").map(std::mem::take)
            {
                for mut item in list {
                    if let Some(m) = item.as_object_mut() {
                        m.entry("apiVersion")
                            .or_insert_with(|| r.api_version().into());
                        m.entry("kind").or_insert_with(|| r.kind.clone().into());
                    }
                    items.push(item);
                }
            }
            page.pointer("/metadata/continue")
                .and_then(|c| c.as_str())
                .map(str::to_string)
        };
        cont = next.filter(|c| !c.is_empty());
        if cont.is_none() {
            break;
        }
    }
    Ok(items)
}

/// The objects a `TYPE [NAME...]` target names: the names given, else (with `--all` or a
/// selector) every object listed, else upstream's error.
pub async fn target_names(
    ctx: &Ctx,
    t: &Target,
    ns: Option<&str>,
    all: bool,
    selector: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    if !t.names.is_empty() {
        return Ok(t.names.clone());
    }
    if !all && selector.is_none() {
        bail!("resource(s) were provided, but no name was specified");
    }
    Ok(list_names(ctx, &t.resource, ns, selector, None)
        .await?
        .iter()
        .filter_map(|o| o.pointer("/metadata/name")?.as_str().map(str::to_string))
        .collect())
}

/// The namespace of a request for `r`: none for cluster-scoped resources.
pub fn ns_for<'a>(r: &ResourceType, ns: &'a str) -> Option<&'a str> {
    r.namespaced.then_some(ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(
            parse_duration("30s"),
            Some(std::time::Duration::from_secs(30))
        );
        assert_eq!(
            parse_duration("1m30s"),
            Some(std::time::Duration::from_secs(90))
        );
        assert_eq!(parse_duration("5"), Some(std::time::Duration::from_secs(5)));
        assert_eq!(parse_duration("x"), None);
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            list_query(Some("app=a"), None, Some(500), None),
            "?labelSelector=app%3Da&limit=500"
        );
        assert_eq!(list_query(None, None, None, None), "");
    }
}
