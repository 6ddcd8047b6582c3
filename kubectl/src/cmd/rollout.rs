//! `rollout status|restart|history|undo`. A deployment's revisions are its ReplicaSets:
//! those it controls (owner reference), numbered by their `deployment.kubernetes.io/revision`
//! annotation, with the pod template the deployment had at that revision. A daemon set's or
//! stateful set's revisions are its ControllerRevisions, numbered by their `revision` field,
//! whose `data` is the patch that restores the template.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::bail;
use http::Method;
use serde_json::{json, Map, Value};

use super::{Ctx, Target};
use crate::discovery::ResourceType;
use crate::output::Format;
use crate::printers;

pub const REVISION: &str = "deployment.kubernetes.io/revision";
pub const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// Deployment annotations a rollback leaves alone: the deployment controller's bookkeeping and
/// kubectl's own; the rest come from the ReplicaSet rolled back to.
const KEPT_ON_ROLLBACK: &[&str] = &[
    crate::apply::LAST_APPLIED,
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// Rollout errors, worded as upstream's.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum RolloutError {
    #[error("required resource not specified")]
    NoResource,
    #[error("revision must be a positive integer: {0}")]
    NegativeRevision(i64),
    #[error("unable to find the specified revision")]
    NoSuchRevision,
    #[error("unable to find specified revision {0} in history")]
    NoSuchRevisionInHistory(i64),
    #[error("no rollout history found for deployment {0:?}")]
    NoHistory(String),
    #[error("you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again")]
    Paused,
    #[error(
        "error retrieving {what} for {kind:?}, no visitor method exists for {{{group} {kind}}}"
    )]
    Unsupported {
        what: &'static str,
        group: String,
        kind: String,
    },
    #[error("no last revision to roll back to")]
    NoLastRevision,
}

#[derive(clap::Subcommand, Debug)]
pub enum RolloutCommand {
    /// Show the status of the rollout.
    Status {
        /// TYPE NAME or TYPE/NAME.
        args: Vec<String>,
        /// Wait for the rollout to finish.
        #[arg(short = 'w', long, default_value = "true", num_args = 0..=1, require_equals = true, default_missing_value = "true", action = clap::ArgAction::Set)]
        watch: bool,
        /// How long to wait (0: forever).
        #[arg(long, default_value = "0s")]
        timeout: String,
    },
    /// Restart a resource: new pods through a template annotation.
    Restart {
        /// TYPE NAME or TYPE/NAME.
        args: Vec<String>,
    },
    /// View rollout history.
    History(HistoryArgs),
    /// Undo a previous rollout.
    Undo(UndoArgs),
}

#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    /// TYPE NAME or TYPE/NAME.
    pub args: Vec<String>,
    /// See the details, including podTemplate of the revision specified.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub revision: i64,
    /// Output format: json, yaml, name, jsonpath=...
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct UndoArgs {
    /// TYPE NAME or TYPE/NAME.
    pub args: Vec<String>,
    /// The revision to rollback to. Default to 0 (last revision).
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub to_revision: i64,
    /// Must be "none", "server", or "client".
    #[arg(long, default_value = "none", num_args = 0..=1, require_equals = true, default_missing_value = "client")]
    pub dry_run: String,
    /// Output format: json, yaml, name, jsonpath=...
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
}

pub async fn rollout(ctx: &mut Ctx, c: RolloutCommand) -> anyhow::Result<()> {
    match c {
        RolloutCommand::History(a) => history(ctx, a).await,
        RolloutCommand::Undo(a) => undo(ctx, a).await,
        RolloutCommand::Restart { args } => {
            let (targets, _) = super::resolve_args(ctx, &args).await?;
            let now = jiff::Timestamp::now()
                .strftime("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            let patch = json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}}}});
            for t in targets {
                if !matches!(
                    t.resource.kind.as_str(),
                    "Deployment" | "DaemonSet" | "StatefulSet"
                ) {
                    bail!(
                        "{}s {:?} restarting is not supported",
                        t.resource.kind_prefix(),
                        t.names.first().cloned().unwrap_or_default()
                    );
                }
                for name in &t.names {
                    let ns = super::ns_for(&t.resource, &ctx.namespace);
                    ctx.rest
                        .send_json(
                            Method::PATCH,
                            &t.resource.object_path(ns, name),
                            "application/strategic-merge-patch+json",
                            &patch,
                        )
                        .await?;
                    println!("{}/{name} restarted", t.resource.kind_prefix());
                }
            }
            Ok(())
        }
        RolloutCommand::Status {
            args,
            watch,
            timeout,
        } => {
            let (targets, _) = super::resolve_args(ctx, &args).await?;
            let Some(t) = targets.first() else {
                bail!("required resource not specified");
            };
            let Some(name) = t.names.first() else {
                bail!("required resource name not specified");
            };
            if t.resource.kind != "Deployment" {
                bail!(
                    "no status viewer has been implemented for {}",
                    t.resource.kind
                );
            }
            let ns = super::ns_for(&t.resource, &ctx.namespace);
            let path = t.resource.object_path(ns, name);
            let limit = super::parse_duration(&timeout).filter(|d| !d.is_zero());
            let deadline = limit.map(|d| Instant::now() + d);
            let mut last = String::new();
            loop {
                let d = ctx.rest.get_json(&path).await?;
                let (done, msg) = deployment_status(&d, name);
                if done {
                    println!("{msg}");
                    return Ok(());
                }
                if msg != last {
                    println!("{msg}");
                    last = msg;
                }
                if !watch {
                    return Ok(());
                }
                if deadline.is_some_and(|dl| Instant::now() >= dl) {
                    bail!("timed out waiting for the condition");
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// Upstream's deployment status viewer: whether the rollout is done, and what to say.
pub fn deployment_status(d: &Value, name: &str) -> (bool, String) {
    let n = |p: &str| d.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let generation = n("/metadata/generation");
    let observed = n("/status/observedGeneration");
    if generation > observed {
        return (
            false,
            "Waiting for deployment spec update to be observed...".into(),
        );
    }
    let progress_failed = d
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded");
    if progress_failed {
        return (
            false,
            format!("deployment {name:?} exceeded its progress deadline"),
        );
    }
    let desired = d
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let updated = n("/status/updatedReplicas");
    let replicas = n("/status/replicas");
    let available = n("/status/availableReplicas");
    if updated < desired {
        return (false, format!("Waiting for deployment {name:?} rollout to finish: {updated} out of {desired} new replicas have been updated..."));
    }
    if replicas > updated {
        return (false, format!("Waiting for deployment {name:?} rollout to finish: {} old replicas are pending termination...", replicas - updated));
    }
    if available < updated {
        return (false, format!("Waiting for deployment {name:?} rollout to finish: {available} of {updated} updated replicas are available..."));
    }
    (true, format!("deployment {name:?} successfully rolled out"))
}

/// How a kind keeps its history.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Keeper {
    /// Deployments: ReplicaSets.
    ReplicaSets,
    /// Daemon sets and stateful sets: ControllerRevisions.
    ControllerRevisions,
}

/// The workloads named by `TYPE NAME...`, `TYPE/NAME...` or `TYPE -l selector` / `TYPE`
/// (all of them), checked to be a kind with a rollout history.
async fn workloads(
    ctx: &mut Ctx,
    args: &[String],
    selector: Option<&str>,
    what: &'static str,
) -> anyhow::Result<Vec<(ResourceType, Keeper, Value)>> {
    if args.is_empty() {
        bail!(RolloutError::NoResource);
    }
    let (targets, _) = super::resolve_args(ctx, args).await?;
    let mut out = Vec::new();
    for Target { resource, names } in targets {
        let ns = super::ns_for(&resource, &ctx.namespace).map(str::to_string);
        let objects = if names.is_empty() {
            super::list_objects(ctx, &resource, ns.as_deref(), selector, None).await?
        } else {
            let mut v = Vec::new();
            for n in &names {
                v.push(
                    ctx.rest
                        .get_json(&resource.object_path(ns.as_deref(), n))
                        .await?,
                );
            }
            v
        };
        let keeper = match (resource.group.as_str(), resource.kind.as_str()) {
            ("apps", "Deployment") => Keeper::ReplicaSets,
            ("apps", "DaemonSet" | "StatefulSet") => Keeper::ControllerRevisions,
            _ if objects.is_empty() => continue,
            _ => bail!(RolloutError::Unsupported {
                what,
                group: resource.group.clone(),
                kind: resource.kind.clone()
            }),
        };
        out.extend(objects.into_iter().map(|o| (resource.clone(), keeper, o)));
    }
    Ok(out)
}

fn annotation<'a>(obj: &'a Value, key: &str) -> Option<&'a str> {
    obj.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(Value::as_str)
}

/// A ReplicaSet's revision number (one without a readable annotation counts as 0), or a
/// ControllerRevision's.
pub fn revision_of(rs: &Value) -> i64 {
    if let Some(r) = rs.get("revision").and_then(Value::as_i64) {
        return r;
    }
    annotation(rs, REVISION)
        .and_then(|r| r.parse().ok())
        .unwrap_or(0)
}

/// The pod template a revision holds: a ReplicaSet's own, or the one a ControllerRevision's
/// patch puts back.
pub fn revision_template(keeper_object: &Value) -> Value {
    if let Some(t) = keeper_object.pointer("/data/spec/template") {
        let mut t = t.clone();
        if let Some(m) = t.as_object_mut() {
            m.remove("$patch");
        }
        return t;
    }
    keeper_object["spec"]["template"].clone()
}

/// The ReplicaSets or ControllerRevisions a workload controls, by revision.
async fn revisions(
    ctx: &mut Ctx,
    keeper: Keeper,
    deployment: &Value,
) -> anyhow::Result<BTreeMap<i64, Value>> {
    let uid = deployment
        .pointer("/metadata/uid")
        .and_then(Value::as_str)
        .unwrap_or("");
    let ns = deployment
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or(&ctx.namespace)
        .to_string();
    let selector: Vec<String> = deployment
        .pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    let kind = match keeper {
        Keeper::ReplicaSets => "ReplicaSet",
        Keeper::ControllerRevisions => "ControllerRevision",
    };
    let rs = ctx.disco.for_kind("apps/v1", kind).await?;
    let selector = selector.join(",");
    let items = super::list_objects(
        ctx,
        &rs,
        Some(&ns),
        (!selector.is_empty()).then_some(selector.as_str()),
        None,
    )
    .await?;
    Ok(items
        .into_iter()
        .filter(|rs| controlled_by(rs, uid))
        .map(|rs| (revision_of(&rs), rs))
        .collect())
}

/// Whether `obj` has a controller owner reference to the object with this uid.
pub fn controlled_by(obj: &Value, uid: &str) -> bool {
    obj.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|o| o["uid"] == uid && o["controller"] == true)
}

fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `REVISION  CHANGE-CAUSE` rows.
pub fn history_table(revs: &BTreeMap<i64, Value>) -> String {
    let mut rows = vec![vec!["REVISION".to_string(), "CHANGE-CAUSE".to_string()]];
    for (rev, rs) in revs {
        let cause = annotation(rs, CHANGE_CAUSE).unwrap_or("<none>");
        rows.push(vec![rev.to_string(), cause.to_string()]);
    }
    printers::tabwrite(
        &rows.iter().map(|r| r.join("\t") + "\n").collect::<String>(),
        0,
        2,
    )
}

/// The pod template a revision describes, in `describe`'s layout but, as upstream prints it
/// here, with its tabs left as they are and continuation lines starting at the tab.
fn template_text(template: &Value) -> String {
    let mut out = String::new();
    crate::describe::pod_template(&mut out, template);
    out.lines()
        .map(|l| {
            let rest = l.trim_start_matches(' ');
            if rest.starts_with('\t') {
                rest.to_string() + "\n"
            } else {
                l.to_string() + "\n"
            }
        })
        .collect()
}

async fn history(ctx: &mut Ctx, a: HistoryArgs) -> anyhow::Result<()> {
    if a.revision < 0 {
        bail!(RolloutError::NegativeRevision(a.revision));
    }
    let format = match a.output.as_deref() {
        Some(o) => Some(Format::parse(Some(o))?),
        None => None,
    };
    for (r, keeper, d) in workloads(ctx, &a.args, a.selector.as_deref(), "history").await? {
        let revs = revisions(ctx, keeper, &d).await?;
        let prefix = format!("{}/{}", r.kind_prefix(), name_of(&d));
        if let Some(f) = &format {
            let chosen: Vec<Value> = if a.revision > 0 {
                vec![revs
                    .get(&a.revision)
                    .cloned()
                    .ok_or(RolloutError::NoSuchRevision)?]
            } else {
                revs.into_values().collect()
            };
            // A ControllerRevision prints as the workload it would give back.
            let chosen: Vec<Value> = match keeper {
                Keeper::ReplicaSets => chosen,
                Keeper::ControllerRevisions => chosen
                    .iter()
                    .map(|cr| {
                        let mut w = d.clone();
                        w["spec"]["template"] = revision_template(cr);
                        w
                    })
                    .collect(),
            };
            for (i, mut rs) in chosen.into_iter().enumerate() {
                super::get::strip_managed_fields(&mut rs);
                if i > 0 && matches!(f, Format::Yaml) {
                    println!("---");
                }
                print!(
                    "{}",
                    crate::output::print_objects(f, vec![rs], true, false)?
                );
            }
            continue;
        }
        if a.revision > 0 {
            if revs.is_empty() {
                println!("{prefix} with revision #{}", a.revision);
                println!("No rollout history found.");
                continue;
            }
            let rs = revs.get(&a.revision).ok_or(RolloutError::NoSuchRevision)?;
            println!("{prefix} with revision #{}", a.revision);
            let mut template = revision_template(rs);
            // A deployment's change cause lives on the ReplicaSet; show it with the template.
            if let Some(cause) =
                annotation(rs, CHANGE_CAUSE).filter(|_| keeper == Keeper::ReplicaSets)
            {
                let meta = &mut template["metadata"];
                if !meta.is_object() {
                    *meta = json!({});
                }
                let ann = &mut meta["annotations"];
                if !ann.is_object() {
                    *ann = json!({});
                }
                ann[CHANGE_CAUSE] = cause.into();
            }
            print!("{}", template_text(&template));
            println!();
            continue;
        }
        println!("{prefix} ");
        if revs.is_empty() {
            println!("No rollout history found.");
            continue;
        }
        print!("{}", history_table(&revs));
        println!();
    }
    Ok(())
}

/// What `undo` would do to a deployment, decided from its ReplicaSets.
#[derive(Debug, PartialEq)]
pub enum Rollback {
    /// The deployment already runs that template.
    Skip,
    /// Replace the template and annotations (a JSON patch).
    Patch(Box<RollbackPatch>),
}

#[derive(Debug, PartialEq)]
pub struct RollbackPatch {
    pub template: Value,
    pub annotations: Value,
    /// The ReplicaSet's own template, which a client dry run prints.
    pub shown: Value,
}

/// Picks the revision (0: the one before the latest), and works out the new template (the
/// ReplicaSet's, without its `pod-template-hash` label) and annotations.
pub fn plan_rollback(
    deployment: &Value,
    revs: &BTreeMap<i64, Value>,
    to_revision: i64,
) -> Result<Rollback, RolloutError> {
    let name = name_of(deployment).to_string();
    if deployment
        .pointer("/spec/paused")
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        return Err(RolloutError::Paused);
    }
    let rs = if to_revision == 0 {
        // The latest revision is the running one; go back to the one before it.
        let mut newest_first = revs.iter().rev();
        newest_first.next();
        match newest_first.next() {
            Some((_, rs)) => rs,
            None => return Err(RolloutError::NoHistory(name)),
        }
    } else {
        revs.get(&to_revision)
            .ok_or(RolloutError::NoSuchRevisionInHistory(to_revision))?
    };
    let mut template = rs["spec"]["template"].clone();
    if let Some(labels) = template
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(POD_TEMPLATE_HASH);
    }
    if same_template(&template, &deployment["spec"]["template"]) {
        return Ok(Rollback::Skip);
    }
    let mut annotations = Map::new();
    for (k, v) in deployment
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if KEPT_ON_ROLLBACK.contains(&k.as_str()) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    for (k, v) in rs
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if !KEPT_ON_ROLLBACK.contains(&k.as_str()) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    Ok(Rollback::Patch(Box::new(RollbackPatch {
        template,
        annotations: Value::Object(annotations),
        shown: rs["spec"]["template"].clone(),
    })))
}

/// Templates compare as values, where an empty map or list is the same as none.
fn same_template(a: &Value, b: &Value) -> bool {
    fn prune(v: &Value) -> Option<Value> {
        match v {
            Value::Null => None,
            Value::Object(m) => {
                let m: Map<String, Value> = m
                    .iter()
                    .filter_map(|(k, v)| prune(v).map(|v| (k.clone(), v)))
                    .collect();
                (!m.is_empty()).then_some(Value::Object(m))
            }
            Value::Array(a) if a.is_empty() => None,
            Value::Array(a) => Some(Value::Array(
                a.iter().map(|v| prune(v).unwrap_or(Value::Null)).collect(),
            )),
            other => Some(other.clone()),
        }
    }
    prune(a) == prune(b)
}

/// A ControllerRevision rollback: the revision's `data` is a strategic merge patch that puts
/// its template back; `None` when the workload already runs that template.
pub fn plan_revision_rollback(
    workload: &Value,
    revs: &BTreeMap<i64, Value>,
    to_revision: i64,
) -> Result<Option<(Value, Value)>, RolloutError> {
    let cr = if to_revision == 0 {
        let mut newest_first = revs.iter().rev();
        newest_first.next();
        match newest_first.next() {
            Some((_, cr)) => cr,
            None => return Err(RolloutError::NoLastRevision),
        }
    } else {
        revs.get(&to_revision)
            .ok_or(RolloutError::NoSuchRevisionInHistory(to_revision))?
    };
    let template = revision_template(cr);
    if same_template(&template, &workload["spec"]["template"]) {
        return Ok(None);
    }
    Ok(Some((cr["data"].clone(), template)))
}

async fn undo(ctx: &mut Ctx, a: UndoArgs) -> anyhow::Result<()> {
    let format = match a.output.as_deref() {
        Some(o) => Some(Format::parse(Some(o))?),
        None => None,
    };
    let (dry, dry_q) = super::create::dry_run_query(&a.dry_run)?;
    let mut errors = Vec::new();
    for (r, keeper, d) in workloads(ctx, &a.args, a.selector.as_deref(), "rollbacker").await? {
        let revs = revisions(ctx, keeper, &d).await?;
        let prefix = format!("{}/{}", r.kind_prefix(), name_of(&d));
        let skipped = || {
            println!(
                "{prefix} skipped rollback (current template already matches revision {})",
                a.to_revision
            )
        };
        // The patch, its content type, and what a client dry run prints before the template.
        let (patch, content_type, shown, dry_words) = match keeper {
            Keeper::ReplicaSets => match plan_rollback(&d, &revs, a.to_revision) {
                Ok(Rollback::Patch(p)) => {
                    let RollbackPatch {
                        template,
                        annotations,
                        shown,
                    } = *p;
                    let patch = json!([
                        {"op": "replace", "path": "/spec/template", "value": template},
                        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
                    ]);
                    (patch, "application/json-patch+json", shown, "")
                }
                Ok(Rollback::Skip) => {
                    skipped();
                    continue;
                }
                Err(e) => {
                    errors.push(e.into());
                    continue;
                }
            },
            Keeper::ControllerRevisions => match plan_revision_rollback(&d, &revs, a.to_revision) {
                Ok(Some((patch, shown))) => (
                    patch,
                    "application/strategic-merge-patch+json",
                    shown,
                    "will roll back to ",
                ),
                Ok(None) => {
                    skipped();
                    continue;
                }
                Err(e) => {
                    errors.push(e.into());
                    continue;
                }
            },
        };
        if dry && dry_q.is_empty() {
            // Upstream shows the template it would roll back to.
            let text = template_text(&shown);
            println!("{prefix} {dry_words}{text} (dry run)");
            continue;
        }
        let ns = super::ns_for(&r, &ctx.namespace);
        let mut path = r.object_path(ns, name_of(&d));
        if !dry_q.is_empty() {
            path = format!("{path}?{dry_q}");
        }
        let patched = match ctx
            .rest
            .send_json(Method::PATCH, &path, content_type, &patch)
            .await
        {
            Ok(v) => v,
            Err(e) => {
                errors.push(e.into());
                continue;
            }
        };
        let suffix = if dry { " (server dry run)" } else { "" };
        super::create::print_result(&format, &r, &patched, "rolled back", suffix)?;
    }
    super::get::finish(errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(rev: &str, cause: Option<&str>, image: &str, hash: &str) -> Value {
        let mut ann = json!({ REVISION: rev, "deployment.kubernetes.io/max-replicas": "3" });
        if let Some(c) = cause {
            ann[CHANGE_CAUSE] = c.into();
        }
        json!({
            "metadata": {"name": format!("web-{hash}"), "annotations": ann,
                "ownerReferences": [{"uid": "u1", "controller": true}]},
            "spec": {"template": {
                "metadata": {"labels": {"app": "web", POD_TEMPLATE_HASH: hash}},
                "spec": {"containers": [{"name": "web", "image": image}]},
            }},
        })
    }

    fn history() -> BTreeMap<i64, Value> {
        [
            rs("1", None, "nginx:1.25", "a1"),
            rs("2", Some("set image v2"), "nginx:1.26", "b2"),
            rs("3", Some("set image v3"), "nginx:1.27", "c3"),
        ]
        .into_iter()
        .map(|r| (revision_of(&r), r))
        .collect()
    }

    fn deployment() -> Value {
        json!({
            "metadata": {"name": "web", "uid": "u1", "annotations": {
                REVISION: "3", CHANGE_CAUSE: "set image v3", "other": "x"}},
            "spec": {"template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            }},
        })
    }

    #[test]
    fn controller_revisions_give_back_their_templates() {
        let cr = |rev: i64, image: &str| {
            json!({"revision": rev, "data": {"spec": {"template": {"$patch": "replace",
                "metadata": {"labels": {"app": "ds"}},
                "spec": {"containers": [{"name": "c", "image": image}]}}}}})
        };
        let revs: BTreeMap<i64, Value> = [cr(1, "nginx:1"), cr(2, "nginx:2")]
            .into_iter()
            .map(|c| (revision_of(&c), c))
            .collect();
        assert_eq!(revs.keys().copied().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(
            revision_template(&revs[&1]),
            json!({"metadata": {"labels": {"app": "ds"}}, "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}})
        );
        let ds = json!({"spec": {"template": revision_template(&revs[&2])}});
        let (patch, shown) = plan_revision_rollback(&ds, &revs, 0).unwrap().unwrap();
        assert_eq!(patch, revs[&1]["data"]);
        assert_eq!(shown["spec"]["containers"][0]["image"], "nginx:1");
        assert_eq!(plan_revision_rollback(&ds, &revs, 2), Ok(None));
        let one: BTreeMap<i64, Value> = revs.into_iter().take(1).collect();
        assert_eq!(
            plan_revision_rollback(&ds, &one, 0),
            Err(RolloutError::NoLastRevision)
        );
    }

    #[test]
    fn history_lists_revisions_and_causes() {
        assert_eq!(
            history_table(&history()),
            "REVISION  CHANGE-CAUSE\n1         <none>\n2         set image v2\n3         set image v3\n"
        );
        assert!(controlled_by(&rs("1", None, "x", "h"), "u1"));
        assert!(!controlled_by(&rs("1", None, "x", "h"), "u2"));
    }

    #[test]
    fn undo_goes_to_the_previous_revision_without_the_hash_label() {
        let Ok(Rollback::Patch(p)) = plan_rollback(&deployment(), &history(), 0) else {
            panic!("expected a patch");
        };
        let RollbackPatch {
            template,
            annotations,
            shown,
        } = *p;
        assert_eq!(template["spec"]["containers"][0]["image"], "nginx:1.26");
        assert_eq!(template["metadata"]["labels"], json!({"app": "web"}));
        assert_eq!(shown["metadata"]["labels"][POD_TEMPLATE_HASH], "b2");
        // The deployment keeps its revision; other annotations come from the ReplicaSet.
        assert_eq!(
            annotations,
            json!({REVISION: "3", CHANGE_CAUSE: "set image v2"})
        );
        assert_eq!(
            plan_rollback(&deployment(), &history(), 3),
            Ok(Rollback::Skip)
        );
        assert_eq!(
            plan_rollback(&deployment(), &history(), 9)
                .unwrap_err()
                .to_string(),
            "unable to find specified revision 9 in history"
        );
        let one: BTreeMap<i64, Value> = history().into_iter().take(1).collect();
        assert_eq!(
            plan_rollback(&deployment(), &one, 0)
                .unwrap_err()
                .to_string(),
            "no rollout history found for deployment \"web\""
        );
        let mut paused = deployment();
        paused["spec"]["paused"] = true.into();
        assert!(matches!(
            plan_rollback(&paused, &history(), 0),
            Err(RolloutError::Paused)
        ));
    }

    #[test]
    fn deployment_rollout_messages() {
        let d = json!({"metadata": {"generation": 2}, "status": {"observedGeneration": 1}});
        assert_eq!(
            deployment_status(&d, "x").1,
            "Waiting for deployment spec update to be observed..."
        );
        let d = json!({"metadata": {"generation": 1}, "spec": {"replicas": 2}, "status": {"observedGeneration": 1, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 1}});
        assert_eq!(deployment_status(&d, "x").1, "Waiting for deployment \"x\" rollout to finish: 1 of 2 updated replicas are available...");
        let d = json!({"metadata": {"generation": 1}, "spec": {"replicas": 2}, "status": {"observedGeneration": 1, "updatedReplicas": 2, "replicas": 2, "availableReplicas": 2}});
        assert_eq!(
            deployment_status(&d, "x"),
            (true, "deployment \"x\" successfully rolled out".to_string())
        );
    }
}
