//! `logs`, `auth can-i`, `auth whoami` and `wait`: thin verbs over subresources, review
//! objects and polling.

use std::time::{Duration, Instant};

use anyhow::bail;
use http::Method;
use serde_json::{json, Value};

use super::Ctx;
use crate::printers;

#[derive(clap::Args, Debug)]
pub struct LogsArgs {
    /// POD or TYPE/NAME.
    pub name: String,
    /// Print the logs of this container.
    #[arg(short = 'c', long)]
    pub container: Option<String>,
    /// Stream the logs.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Lines of recent log file to display.
    #[arg(long)]
    pub tail: Option<i64>,
    /// Print the logs of the previous instance of the container.
    #[arg(short = 'p', long)]
    pub previous: bool,
    /// Include timestamps on each line.
    #[arg(long)]
    pub timestamps: bool,
}

/// `kubectl logs`: the pod's `log` subresource.
pub async fn logs(ctx: &mut Ctx, a: LogsArgs) -> anyhow::Result<()> {
    let name = match a.name.split_once('/') {
        Some((ty, n)) => {
            let r = ctx.disco.resolve(ty).await?;
            if r[0].kind != "Pod" {
                bail!(
                    "cannot get the logs from {}: only pods are supported",
                    r[0].qualified_plural()
                );
            }
            n.to_string()
        }
        None => a.name.clone(),
    };
    // Without -c, upstream picks the default container itself (and says so when the pod has
    // several) rather than leaving the server to refuse.
    let path = format!("/api/v1/namespaces/{}/pods/{name}", ctx.namespace);
    let pod: k8s_openapi::api::core::v1::Pod = match ctx.rest.get_json(&path).await {
        Ok(p) => serde_json::from_value(p)?,
        Err(e) if e.is_not_found() => bail!(
            "error from server (NotFound): pods \"{name}\" not found in namespace \"{}\"",
            ctx.namespace
        ),
        Err(e) => return Err(e.into()),
    };
    let container = super::stream::choose_container(&pod, a.container.as_deref(), false)?;
    let mut q = vec![format!("container={}", crate::rest::encode(&container))];
    if a.follow {
        q.push("follow=true".into());
    }
    if let Some(t) = a.tail {
        q.push(format!("tailLines={t}"));
    }
    if a.previous {
        q.push("previous=true".into());
    }
    if a.timestamps {
        q.push("timestamps=true".into());
    }
    let mut path = format!("/api/v1/namespaces/{}/pods/{name}/log", ctx.namespace);
    if !q.is_empty() {
        path = format!("{path}?{}", q.join("&"));
    }
    let resp = ctx
        .rest
        .start(Method::GET, &path, Some("*/*"), None, Vec::new())
        .await?;
    use http_body_util::BodyExt as _;
    use std::io::Write as _;
    let mut body = resp.into_body();
    let mut out = std::io::stdout();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| anyhow::anyhow!("reading the log: {e}"))?;
        if let Ok(data) = frame.into_data() {
            out.write_all(&data)?;
            out.flush()?;
        }
    }
    Ok(())
}

#[derive(clap::Subcommand, Debug)]
pub enum AuthCommand {
    /// Check whether an action is allowed.
    CanI {
        /// VERB
        verb: String,
        /// TYPE, TYPE/NAME or a non-resource URL.
        resource: Option<String>,
        /// Across all namespaces.
        #[arg(short = 'A', long)]
        all_namespaces: bool,
        /// Only print the answer through the exit code.
        #[arg(short = 'q', long)]
        quiet: bool,
        /// The subresource.
        #[arg(long)]
        subresource: Option<String>,
    },
    /// Experimental: check self subject attributes.
    Whoami {
        /// Output format: yaml or json.
        #[arg(short = 'o', long)]
        output: Option<String>,
    },
}

pub async fn auth(ctx: &mut Ctx, c: AuthCommand) -> anyhow::Result<()> {
    match c {
        AuthCommand::CanI {
            verb,
            resource,
            all_namespaces,
            quiet,
            subresource,
        } => {
            let mut attrs = json!({"verb": verb});
            match resource.as_deref() {
                Some(url) if url.starts_with('/') => {
                    let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                        "spec": {"nonResourceAttributes": {"path": url, "verb": verb}}});
                    return can_i_answer(ctx, review, quiet).await;
                }
                Some(res) => {
                    let (ty, name) = match res.split_once('/') {
                        Some((t, n)) => (t, Some(n)),
                        None => (res, None),
                    };
                    let r = ctx.disco.resolve(ty).await?.remove(0);
                    attrs["resource"] = json!(r.plural);
                    attrs["group"] = json!(r.group);
                    if let Some(n) = name {
                        attrs["name"] = json!(n);
                    }
                    if r.namespaced && !all_namespaces {
                        attrs["namespace"] = json!(ctx.namespace);
                    }
                }
                None => bail!(
                    "you must specify two arguments: verb resource or verb resource/resourceName."
                ),
            }
            if let Some(s) = subresource {
                attrs["subresource"] = json!(s);
            }
            let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                "spec": {"resourceAttributes": attrs}});
            can_i_answer(ctx, review, quiet).await
        }
        AuthCommand::Whoami { output } => {
            let review =
                json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
            let res = ctx
                .rest
                .send_json(
                    Method::POST,
                    "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                    "application/json",
                    &review,
                )
                .await?;
            match output.as_deref() {
                Some("json") => print!("{}", printers::to_json(&res)),
                Some("yaml") => print!("{}", printers::to_yaml(&res)),
                Some(o) => bail!("unsupported output format {o:?}"),
                None => {
                    let ui = &res["status"]["userInfo"];
                    let mut rows = vec![vec!["ATTRIBUTE".to_string(), "VALUE".to_string()]];
                    if let Some(u) = ui.get("username").and_then(Value::as_str) {
                        rows.push(vec!["Username".into(), u.into()]);
                    }
                    if let Some(u) = ui.get("uid").and_then(Value::as_str) {
                        rows.push(vec!["UID".into(), u.into()]);
                    }
                    if let Some(g) = ui.get("groups").and_then(Value::as_array) {
                        let g: Vec<&str> = g.iter().filter_map(Value::as_str).collect();
                        rows.push(vec!["Groups".into(), format!("[{}]", g.join(" "))]);
                    }
                    print!("{}", printers::align(&rows));
                }
            }
            Ok(())
        }
    }
}

async fn can_i_answer(ctx: &Ctx, review: Value, quiet: bool) -> anyhow::Result<()> {
    let res = ctx
        .rest
        .send_json(
            Method::POST,
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            "application/json",
            &review,
        )
        .await?;
    let allowed = res
        .pointer("/status/allowed")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if !quiet {
        println!("{}", if allowed { "yes" } else { "no" });
    }
    if allowed {
        Ok(())
    } else {
        Err(crate::Reported.into())
    }
}

#[derive(clap::Args, Debug)]
pub struct WaitArgs {
    /// TYPE/NAME... or TYPE NAME...
    pub args: Vec<String>,
    /// delete, condition=NAME[=VALUE] or jsonpath='{path}'=VALUE.
    #[arg(long = "for")]
    pub for_: String,
    /// How long to wait.
    #[arg(long, default_value = "30s")]
    pub timeout: String,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Select all resources of the type in the namespace.
    #[arg(long)]
    pub all: bool,
}

enum Wanted {
    Delete,
    Condition(String, String),
    JsonPath(crate::jsonpath::Template, Option<String>),
}

pub async fn wait(ctx: &mut Ctx, a: WaitArgs) -> anyhow::Result<()> {
    let wanted = if a.for_ == "delete" {
        Wanted::Delete
    } else if let Some(c) = a.for_.strip_prefix("condition=") {
        let (name, value) = c.split_once('=').unwrap_or((c, "True"));
        Wanted::Condition(name.to_lowercase(), value.to_lowercase())
    } else if let Some(j) = a.for_.strip_prefix("jsonpath=") {
        let (expr, value) = match j.rfind("}=") {
            Some(i) => (&j[..=i], Some(j[i + 2..].to_string())),
            None => (j, None),
        };
        Wanted::JsonPath(crate::jsonpath::Template::parse(expr)?, value)
    } else {
        bail!("unrecognized condition: {:?}", a.for_);
    };
    let timeout = super::parse_duration(&a.timeout).unwrap_or(Duration::from_secs(30));
    let deadline = Instant::now() + timeout;
    let (targets, _) = super::resolve_args(ctx, &a.args).await?;
    let mut errors = Vec::new();
    for t in targets {
        let r = &t.resource;
        let ns = super::ns_for(r, &ctx.namespace).map(str::to_string);
        let names =
            super::target_names(ctx, &t, ns.as_deref(), a.all, a.selector.as_deref()).await?;
        for name in names {
            let path = r.object_path(ns.as_deref(), &name);
            loop {
                let met = match (ctx.rest.get_json(&path).await, &wanted) {
                    (Err(e), Wanted::Delete) if e.is_not_found() => true,
                    (Err(e), _) => {
                        errors.push(e.into());
                        break;
                    }
                    (Ok(_), Wanted::Delete) => false,
                    (Ok(o), Wanted::Condition(c, v)) => o
                        .pointer("/status/conditions")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .any(|cond| {
                            cond.get("type")
                                .and_then(Value::as_str)
                                .map(str::to_lowercase)
                                .as_deref()
                                == Some(c)
                                && cond
                                    .get("status")
                                    .and_then(Value::as_str)
                                    .map(str::to_lowercase)
                                    .as_deref()
                                    == Some(v)
                        }),
                    (Ok(o), Wanted::JsonPath(tpl, v)) => {
                        let got = tpl.values(&o);
                        match v {
                            Some(v) => {
                                got.first().map(crate::jsonpath::text).as_deref()
                                    == Some(v.as_str())
                            }
                            None => !got.is_empty(),
                        }
                    }
                };
                if met {
                    println!("{}/{name} condition met", r.kind_prefix());
                    break;
                }
                if Instant::now() >= deadline {
                    errors.push(anyhow::anyhow!(
                        "timed out waiting for the condition on {}/{name}",
                        r.plural
                    ));
                    break;
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
    super::get::finish(errors)
}
