//! `kubectl describe`: upstream's layouts for pods, deployments, services, nodes,
//! configmaps and namespaces, a generic one for everything else, and the Events section.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

use crate::cmd::{self, Ctx};
use crate::discovery::ResourceType;
use crate::printers;

#[derive(clap::Args, Debug)]
pub struct DescribeArgs {
    /// TYPE [NAME_PREFIX...] or TYPE/NAME...
    pub args: Vec<String>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Show events related to the described object.
    #[arg(long, default_value = "true", num_args = 0..=1, default_missing_value = "true", action = clap::ArgAction::Set)]
    pub show_events: bool,
}

pub async fn run(ctx: &mut Ctx, a: DescribeArgs) -> anyhow::Result<()> {
    let (targets, _) = cmd::resolve_args(ctx, &a.args).await?;
    let mut errors = Vec::new();
    let mut first = true;
    for t in targets {
        let r = &t.resource;
        let ns = cmd::ns_for(r, &ctx.namespace).map(str::to_string);
        let mut objects = Vec::new();
        let mut by_prefix = Vec::new();
        if t.names.is_empty() {
            let list_ns = if a.all_namespaces {
                None
            } else {
                ns.as_deref()
            };
            objects = cmd::list_objects(ctx, r, list_ns, a.selector.as_deref(), None).await?;
        } else {
            for name in &t.names {
                match ctx.rest.get_json(&r.object_path(ns.as_deref(), name)).await {
                    Ok(o) => objects.push(o),
                    Err(e) if e.is_not_found() => {
                        // Upstream describes every object whose name starts with the argument.
                        let all = cmd::list_objects(ctx, r, ns.as_deref(), None, None).await?;
                        let matching: Vec<Value> = all
                            .into_iter()
                            .filter(|o| {
                                o.pointer("/metadata/name")
                                    .and_then(Value::as_str)
                                    .is_some_and(|n| n.starts_with(name.as_str()))
                            })
                            .collect();
                        if matching.is_empty() {
                            errors.push(e.into());
                        }
                        by_prefix.extend(matching);
                    }
                    Err(e) => errors.push(e.into()),
                }
            }
        }
        for obj in by_prefix {
            let text = describe(ctx, r, &obj, a.show_events).await?;
            println!("{text}");
            first = false;
        }
        for obj in objects {
            let text = describe(ctx, r, &obj, a.show_events).await?;
            if first {
                print!("{text}");
                first = false;
            } else {
                print!("\n\n{text}");
            }
        }
    }
    if first && errors.is_empty() && a.args.len() == 1 && !a.args[0].contains('/') {
        if a.all_namespaces {
            eprintln!("No resources found");
        } else {
            eprintln!("No resources found in {} namespace.", ctx.namespace);
        }
    }
    cmd::get::finish(errors)
}

fn s<'a>(v: &'a Value, ptr: &str) -> &'a str {
    v.pointer(ptr).and_then(Value::as_str).unwrap_or("")
}

fn or_none(v: &str) -> &str {
    if v.is_empty() {
        "<none>"
    } else {
        v
    }
}

/// `Mon, 23 Nov 2026 15:05:50 +0000`.
fn timestamp(ts: &str) -> String {
    match ts.parse::<jiff::Timestamp>() {
        Ok(t) => t.strftime("%a, %d %b %Y %H:%M:%S +0000").to_string(),
        Err(_) => ts.to_string(),
    }
}

/// Upstream's `duration.HumanDuration`.
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (m, h) = (secs / 60, secs / 3600);
    if secs < 120 {
        format!("{secs}s")
    } else if m < 10 {
        match secs % 60 {
            0 => format!("{m}m"),
            s => format!("{m}m{s}s"),
        }
    } else if m < 180 {
        format!("{m}m")
    } else if h < 8 {
        match m % 60 {
            0 => format!("{h}h"),
            mm => format!("{h}h{mm}m"),
        }
    } else if h < 48 {
        format!("{h}h")
    } else if h < 24 * 8 {
        match h % 24 {
            0 => format!("{}d", h / 24),
            hh => format!("{}d{hh}h", h / 24),
        }
    } else if h < 24 * 365 * 2 {
        format!("{}d", h / 24)
    } else if h < 24 * 365 * 8 {
        let y = h / (24 * 365);
        match (h / 24) % 365 {
            0 => format!("{y}y"),
            d => format!("{y}y{d}d"),
        }
    } else {
        format!("{}y", h / (24 * 365))
    }
}

fn age_of(ts: &str) -> Option<i64> {
    let t: jiff::Timestamp = ts.parse().ok()?;
    Some(jiff::Timestamp::now().as_second() - t.as_second())
}

fn map_of(v: &Value, ptr: &str) -> BTreeMap<String, String> {
    v.pointer(ptr)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// `Labels:\ta=b` with further labels on their own lines.
fn labels(out: &mut String, indent: &str, title: &str, m: &BTreeMap<String, String>) {
    let _ = write!(out, "{indent}{title}:\t");
    if m.is_empty() {
        out.push_str("<none>\n");
        return;
    }
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            let _ = write!(out, "{indent}\t");
        }
        let _ = writeln!(out, "{k}={v}");
    }
}

fn annotations(out: &mut String, indent: &str, m: &BTreeMap<String, String>) {
    let _ = write!(out, "{indent}Annotations:\t");
    let shown: Vec<(&String, &String)> = m
        .iter()
        .filter(|(k, _)| k.as_str() != crate::apply::LAST_APPLIED)
        .collect();
    if shown.is_empty() {
        out.push_str("<none>\n");
        return;
    }
    for (i, (k, v)) in shown.into_iter().enumerate() {
        if i > 0 {
            let _ = write!(out, "{indent}\t");
        }
        let v = if v.chars().count() > 140 {
            v.chars().take(140).collect::<String>() + "..."
        } else {
            v.to_string()
        };
        let _ = writeln!(out, "{k}: {v}");
    }
}

/// `Pod Template:` and the template's labels, annotations, containers, volumes and
/// scheduling, with tabs for [`printers::tabwrite`] to align (also `rollout history`).
pub fn pod_template(o: &mut String, template: &Value) {
    o.push_str("Pod Template:\n");
    labels(o, "  ", "Labels", &map_of(template, "/metadata/labels"));
    let ann = map_of(template, "/metadata/annotations");
    if !ann.is_empty() {
        annotations(o, "  ", &ann);
    }
    let sa = s(template, "/spec/serviceAccountName");
    if !sa.is_empty() {
        let _ = writeln!(o, "  Service Account:\t{sa}");
    }
    containers(o, &template["spec"], None, "  ");
    volumes(o, &template["spec"], "  ");
    tolerations_and_selectors(o, &template["spec"], "  ");
}

fn header(out: &mut String, obj: &Value, namespaced: bool, creation: bool) {
    let _ = writeln!(out, "Name:\t{}", s(obj, "/metadata/name"));
    if namespaced {
        let _ = writeln!(out, "Namespace:\t{}", s(obj, "/metadata/namespace"));
    }
    if creation {
        let _ = writeln!(
            out,
            "CreationTimestamp:\t{}",
            timestamp(s(obj, "/metadata/creationTimestamp"))
        );
    }
    labels(out, "", "Labels", &map_of(obj, "/metadata/labels"));
    annotations(out, "", &map_of(obj, "/metadata/annotations"));
}

fn selector_text(sel: &Value) -> String {
    let mut parts: Vec<String> = map_of(sel, "/matchLabels")
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for e in sel
        .get("matchExpressions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let key = s(e, "/key");
        let vals: Vec<&str> = e
            .get("values")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        parts.push(match s(e, "/operator") {
            "In" => format!("{key} in ({})", vals.join(",")),
            "NotIn" => format!("{key} notin ({})", vals.join(",")),
            "Exists" => key.to_string(),
            "DoesNotExist" => format!("!{key}"),
            op => format!("{key} {op} {}", vals.join(",")),
        });
    }
    parts.join(",")
}

fn ports_text(c: &Value, field: &str) -> String {
    let ports: Vec<String> = c
        .get("ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
            let n = p.get(field).and_then(Value::as_i64).unwrap_or(0);
            format!("{n}/{proto}")
        })
        .collect();
    if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports.join(", ")
    }
}

fn containers(out: &mut String, spec: &Value, statuses: Option<&Value>, indent: &str) {
    let _ = writeln!(out, "{indent}Containers:");
    // Container names sit two spaces in (three in a pod template), their fields at four.
    let name_indent = if indent.is_empty() { "  " } else { "   " };
    for c in spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = s(c, "/name");
        let status = statuses.and_then(Value::as_array).and_then(|a| {
            a.iter()
                .find(|st| st.get("name").and_then(Value::as_str) == Some(name))
        });
        let _ = writeln!(out, "{name_indent}{name}:");
        let i = "    ";
        if let Some(st) = status {
            let _ = writeln!(out, "{i}Container ID:\t{}", s(st, "/containerID"));
        }
        let _ = writeln!(out, "{i}Image:\t{}", s(c, "/image"));
        if let Some(st) = status {
            let _ = writeln!(out, "{i}Image ID:\t{}", s(st, "/imageID"));
        }
        let _ = writeln!(out, "{i}Port:\t{}", ports_text(c, "containerPort"));
        let _ = writeln!(out, "{i}Host Port:\t{}", ports_text(c, "hostPort"));
        for (title, key) in [("Command", "command"), ("Args", "args")] {
            if let Some(list) = c.get(key).and_then(Value::as_array) {
                let _ = writeln!(out, "{i}{title}:");
                for a in list {
                    let _ = writeln!(out, "{i}  {}", a.as_str().unwrap_or(""));
                }
            }
        }
        if let Some(st) = status {
            let state = st
                .get("state")
                .and_then(Value::as_object)
                .and_then(|m| m.keys().next().cloned())
                .unwrap_or_default();
            let mut chars = state.chars();
            let state = match chars.next() {
                Some(f) => f.to_uppercase().collect::<String>() + chars.as_str(),
                None => String::new(),
            };
            let _ = writeln!(out, "{i}State:\t{state}");
            let ready = st.get("ready").and_then(Value::as_bool).unwrap_or(false);
            let _ = writeln!(out, "{i}Ready:\t{ready}");
            let rc = st.get("restartCount").and_then(Value::as_i64).unwrap_or(0);
            let _ = writeln!(out, "{i}Restart Count:\t{rc}");
        }
        for (title, key) in [("Limits", "limits"), ("Requests", "requests")] {
            let m = map_of(c, &format!("/resources/{key}"));
            if !m.is_empty() {
                let _ = writeln!(out, "{i}{title}:");
                for (k, v) in m {
                    let _ = writeln!(out, "{i}  {k}:\t{v}");
                }
            }
        }
        match c
            .get("env")
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
        {
            None => {
                let _ = writeln!(out, "{i}Environment:\t<none>");
            }
            Some(env) => {
                let _ = writeln!(out, "{i}Environment:");
                for e in env {
                    let value = match e.get("value") {
                        Some(v) => v.as_str().unwrap_or("").to_string(),
                        None if e.get("valueFrom").is_some() => {
                            "<set from a reference>".to_string()
                        }
                        None => String::new(),
                    };
                    let _ = writeln!(out, "{i}  {}:\t{value}", s(e, "/name"));
                }
            }
        }
        match c
            .get("volumeMounts")
            .and_then(Value::as_array)
            .filter(|m| !m.is_empty())
        {
            None => {
                let _ = writeln!(out, "{i}Mounts:\t<none>");
            }
            Some(mounts) => {
                let _ = writeln!(out, "{i}Mounts:");
                for m in mounts {
                    let ro = if m.get("readOnly").and_then(Value::as_bool) == Some(true) {
                        "ro"
                    } else {
                        "rw"
                    };
                    let _ = writeln!(
                        out,
                        "{i}  {} from {} ({ro})",
                        s(m, "/mountPath"),
                        s(m, "/name")
                    );
                }
            }
        }
    }
}

fn volumes(out: &mut String, spec: &Value, indent: &str) {
    match spec
        .get("volumes")
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty())
    {
        None => {
            let _ = writeln!(out, "{indent}Volumes:\t<none>");
        }
        Some(vols) => {
            let _ = writeln!(out, "{indent}Volumes:");
            for v in vols {
                let _ = writeln!(out, "{indent}  {}:", s(v, "/name"));
                let kind = v
                    .as_object()
                    .and_then(|m| m.keys().find(|k| k.as_str() != "name").cloned())
                    .unwrap_or_default();
                let _ = writeln!(out, "{indent}    Type:\t{kind}");
            }
        }
    }
}

fn tolerations_and_selectors(out: &mut String, spec: &Value, indent: &str) {
    let sel: Vec<String> = map_of(spec, "/nodeSelector")
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let _ = writeln!(out, "{indent}Node-Selectors:\t{}", or_none(&sel.join(",")));
    let tols: Vec<String> = spec
        .get("tolerations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|t| {
            let mut x = s(t, "/key").to_string();
            let op = s(t, "/operator");
            let val = s(t, "/value");
            if op == "Exists" && x.is_empty() {
                x = "op=Exists".to_string();
            } else if !val.is_empty() {
                x = format!("{x}={val}");
            }
            let effect = s(t, "/effect");
            if !effect.is_empty() {
                x = format!("{x}:{effect}");
            }
            if let Some(secs) = t.get("tolerationSeconds").and_then(Value::as_i64) {
                x = format!("{x} for {secs}s");
            }
            x
        })
        .collect();
    let _ = write!(out, "{indent}Tolerations:\t");
    if tols.is_empty() {
        out.push_str("<none>\n");
    }
    for (i, t) in tols.iter().enumerate() {
        if i > 0 {
            let _ = write!(out, "{indent}\t");
        }
        let _ = writeln!(out, "{t}");
    }
}

fn qos_class(spec: &Value) -> &'static str {
    let mut any = false;
    let mut guaranteed = true;
    for c in spec
        .get("containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let req = map_of(c, "/resources/requests");
        let lim = map_of(c, "/resources/limits");
        if !req.is_empty() || !lim.is_empty() {
            any = true;
        }
        for r in ["cpu", "memory"] {
            match (lim.get(r), req.get(r)) {
                (Some(l), Some(q)) if l == q => {}
                (Some(_), None) => {}
                _ => guaranteed = false,
            }
        }
    }
    match (any, guaranteed) {
        (false, _) => "BestEffort",
        (true, true) => "Guaranteed",
        (true, false) => "Burstable",
    }
}

fn conditions(out: &mut String, obj: &Value, with_reason: bool) {
    let Some(conds) = obj
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
    else {
        return;
    };
    out.push_str("Conditions:\n");
    if with_reason {
        out.push_str("  Type\tStatus\tReason\n  ----\t------\t------\n");
    } else {
        out.push_str("  Type\tStatus\n  ----\t------\n");
    }
    for c in conds {
        if with_reason {
            let _ = writeln!(
                out,
                "  {}\t{}\t{}",
                s(c, "/type"),
                s(c, "/status"),
                s(c, "/reason")
            );
        } else {
            let _ = writeln!(out, "  {} \t{} ", s(c, "/type"), s(c, "/status"));
        }
    }
}

async fn events(ctx: &Ctx, obj: &Value, out: &mut String) {
    let mut fields = vec![format!("involvedObject.name={}", s(obj, "/metadata/name"))];
    let ns = s(obj, "/metadata/namespace");
    fields.push(format!("involvedObject.namespace={ns}"));
    let uid = s(obj, "/metadata/uid");
    if !uid.is_empty() {
        fields.push(format!("involvedObject.uid={uid}"));
    }
    let base = if ns.is_empty() {
        "/api/v1/events".to_string()
    } else {
        format!("/api/v1/namespaces/{ns}/events")
    };
    let path = format!(
        "{base}{}",
        cmd::list_query(None, Some(&fields.join(",")), None, None)
    );
    let list = match ctx.rest.get_json(&path).await {
        Ok(l) => l,
        Err(_) => {
            out.push_str("Events:\t<none>\n");
            return;
        }
    };
    let mut items: Vec<Value> = list
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if items.is_empty() {
        out.push_str("Events:\t<none>\n");
        return;
    }
    let last = |e: &Value| -> String {
        [
            "/lastTimestamp",
            "/eventTime",
            "/firstTimestamp",
            "/metadata/creationTimestamp",
        ]
        .iter()
        .map(|p| s(e, p))
        .find(|v| !v.is_empty())
        .unwrap_or("")
        .to_string()
    };
    items.sort_by_key(|e| last(e).parse::<jiff::Timestamp>().ok());
    out.push_str(
        "Events:\n  Type\tReason\tAge\tFrom\tMessage\n  ----\t------\t----\t----\t-------\n",
    );
    for e in &items {
        let count = e.get("count").and_then(Value::as_i64).unwrap_or(1);
        let last_age = age_of(&last(e)).map(human_duration).unwrap_or_default();
        let first = s(e, "/firstTimestamp");
        let age = if count > 1 && !first.is_empty() {
            let first_age = age_of(first).map(human_duration).unwrap_or_default();
            format!("{last_age} (x{count} over {first_age})")
        } else {
            last_age
        };
        let mut from = s(e, "/source/component").to_string();
        if from.is_empty() {
            from = s(e, "/reportingComponent").to_string();
        }
        let _ = writeln!(
            out,
            "  {}\t{}\t{age}\t{from}\t{}",
            s(e, "/type"),
            s(e, "/reason"),
            s(e, "/message").trim()
        );
    }
}

async fn describe(
    ctx: &Ctx,
    r: &ResourceType,
    obj: &Value,
    show_events: bool,
) -> anyhow::Result<String> {
    let mut out = String::new();
    let o = &mut out;
    let mut with_events = show_events;
    match (r.group.as_str(), r.kind.as_str()) {
        ("", "ConfigMap") => {
            header(o, obj, true, false);
            o.push_str("\nData\n====\n");
            for (k, v) in obj
                .get("data")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let _ = write!(o, "{k}:\n----\n{}\n\n", v.as_str().unwrap_or(""));
            }
            o.push_str("\nBinaryData\n====\n");
            for (k, v) in obj
                .get("binaryData")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                use base64::Engine as _;
                let n = base64::engine::general_purpose::STANDARD
                    .decode(v.as_str().unwrap_or(""))
                    .map(|b| b.len())
                    .unwrap_or(0);
                let _ = writeln!(o, "{k}: {n} bytes");
            }
            o.push('\n');
        }
        ("", "Namespace") => {
            with_events = false;
            header(o, obj, false, false);
            let _ = writeln!(o, "Status:\t{}", s(obj, "/status/phase"));
            let name = s(obj, "/metadata/name");
            let quotas = ctx
                .rest
                .get_json(&format!("/api/v1/namespaces/{name}/resourcequotas"))
                .await
                .ok();
            let count = |l: &Option<Value>| {
                l.as_ref()
                    .and_then(|l| l.get("items"))
                    .and_then(Value::as_array)
                    .map(Vec::len)
                    .unwrap_or(0)
            };
            if count(&quotas) == 0 {
                o.push_str("\nNo resource quota.\n");
            } else {
                let _ = writeln!(o, "\nResource Quotas");
                for q in quotas
                    .as_ref()
                    .and_then(|l| l["items"].as_array())
                    .into_iter()
                    .flatten()
                {
                    let _ = writeln!(o, "  Name:\t{}", s(q, "/metadata/name"));
                    o.push_str("  Resource\tUsed\tHard\n  --------\t---\t---\n");
                    let hard = map_of(q, "/status/hard");
                    let used = map_of(q, "/status/used");
                    for (k, v) in hard {
                        let _ = writeln!(
                            o,
                            "  {k}\t{}\t{v}",
                            used.get(&k).cloned().unwrap_or_default()
                        );
                    }
                }
            }
            let limits = ctx
                .rest
                .get_json(&format!("/api/v1/namespaces/{name}/limitranges"))
                .await
                .ok();
            if count(&limits) == 0 {
                o.push_str("\nNo LimitRange resource.\n");
            } else {
                o.push_str("\nResource Limits\n");
                for l in limits
                    .as_ref()
                    .and_then(|l| l["items"].as_array())
                    .into_iter()
                    .flatten()
                {
                    let _ = writeln!(o, " Name:\t{}", s(l, "/metadata/name"));
                }
            }
        }
        ("", "Pod") => {
            let spec = &obj["spec"];
            let _ = writeln!(o, "Name:\t{}", s(obj, "/metadata/name"));
            let _ = writeln!(o, "Namespace:\t{}", s(obj, "/metadata/namespace"));
            if let Some(p) = spec.get("priority").and_then(Value::as_i64) {
                let _ = writeln!(o, "Priority:\t{p}");
            }
            let pc = s(spec, "/priorityClassName");
            if !pc.is_empty() {
                let _ = writeln!(o, "Priority Class Name:\t{pc}");
            }
            let sa = s(spec, "/serviceAccountName");
            if !sa.is_empty() {
                let _ = writeln!(o, "Service Account:\t{sa}");
            }
            let node = s(spec, "/nodeName");
            if node.is_empty() {
                o.push_str("Node:\t<none>\n");
            } else {
                let _ = writeln!(o, "Node:\t{node}/{}", s(obj, "/status/hostIP"));
            }
            let start = s(obj, "/status/startTime");
            if !start.is_empty() {
                let _ = writeln!(o, "Start Time:\t{}", timestamp(start));
            }
            labels(o, "", "Labels", &map_of(obj, "/metadata/labels"));
            annotations(o, "", &map_of(obj, "/metadata/annotations"));
            let deletion = s(obj, "/metadata/deletionTimestamp");
            if deletion.is_empty() {
                let _ = writeln!(o, "Status:\t{}", s(obj, "/status/phase"));
            } else {
                let _ = writeln!(
                    o,
                    "Status:\tTerminating (lasts {})",
                    age_of(deletion)
                        .map(|a| human_duration(-a))
                        .unwrap_or_default()
                );
            }
            for (t, p) in [("Reason", "/status/reason"), ("Message", "/status/message")] {
                let v = s(obj, p);
                if !v.is_empty() {
                    let _ = writeln!(o, "{t}:\t{v}");
                }
            }
            let _ = writeln!(o, "IP:\t{}", s(obj, "/status/podIP"));
            match obj
                .pointer("/status/podIPs")
                .and_then(Value::as_array)
                .filter(|a| !a.is_empty())
            {
                None => o.push_str("IPs:\t<none>\n"),
                Some(ips) => {
                    o.push_str("IPs:\n");
                    for ip in ips {
                        let _ = writeln!(o, "  IP:\t{}", s(ip, "/ip"));
                    }
                }
            }
            if let Some(owner) = obj
                .pointer("/metadata/ownerReferences")
                .and_then(Value::as_array)
                .and_then(|a| {
                    a.iter()
                        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
                })
            {
                let _ = writeln!(
                    o,
                    "Controlled By:\t{}/{}",
                    s(owner, "/kind"),
                    s(owner, "/name")
                );
            }
            containers(o, spec, obj.pointer("/status/containerStatuses"), "");
            conditions(o, obj, false);
            volumes(o, spec, "");
            let _ = writeln!(o, "QoS Class:\t{}", qos_class(spec));
            tolerations_and_selectors(o, spec, "");
        }
        ("apps", "Deployment") => {
            header(o, obj, true, true);
            let _ = writeln!(o, "Selector:\t{}", selector_text(&obj["spec"]["selector"]));
            let n = |p: &str| obj.pointer(p).and_then(Value::as_i64).unwrap_or(0);
            let desired = obj
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let _ = writeln!(
                o,
                "Replicas:\t{desired} desired | {} updated | {} total | {} available | {} unavailable",
                n("/status/updatedReplicas"),
                n("/status/replicas"),
                n("/status/availableReplicas"),
                n("/status/unavailableReplicas")
            );
            let strategy = s(obj, "/spec/strategy/type");
            let _ = writeln!(o, "StrategyType:\t{strategy}");
            let _ = writeln!(o, "MinReadySeconds:\t{}", n("/spec/minReadySeconds"));
            if strategy == "RollingUpdate" {
                let v = |p: &str| match obj.pointer(p) {
                    Some(Value::String(x)) => x.clone(),
                    Some(Value::Number(x)) => x.to_string(),
                    _ => String::new(),
                };
                let _ = writeln!(
                    o,
                    "RollingUpdateStrategy:\t{} max unavailable, {} max surge",
                    v("/spec/strategy/rollingUpdate/maxUnavailable"),
                    v("/spec/strategy/rollingUpdate/maxSurge")
                );
            }
            pod_template(o, &obj["spec"]["template"]);
            conditions(o, obj, true);
        }
        ("", "Service") => {
            header(o, obj, true, false);
            let spec = &obj["spec"];
            let sel: Vec<String> = map_of(spec, "/selector")
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let _ = writeln!(o, "Selector:\t{}", sel.join(","));
            let _ = writeln!(o, "Type:\t{}", s(spec, "/type"));
            let _ = writeln!(o, "IP Family Policy:\t{}", s(spec, "/ipFamilyPolicy"));
            let list = |p: &str| -> String {
                spec.pointer(p)
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(",")
                    })
                    .unwrap_or_default()
            };
            let _ = writeln!(o, "IP Families:\t{}", or_none(&list("/ipFamilies")));
            let _ = writeln!(o, "IP:\t{}", s(spec, "/clusterIP"));
            let _ = writeln!(o, "IPs:\t{}", or_none(&list("/clusterIPs")));
            let ext = list("/externalIPs");
            if !ext.is_empty() {
                let _ = writeln!(o, "External IPs:\t{ext}");
            }
            for p in spec
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let proto = p.get("protocol").and_then(Value::as_str).unwrap_or("TCP");
                let name = p.get("name").and_then(Value::as_str).unwrap_or("<unset>");
                let port = p.get("port").and_then(Value::as_i64).unwrap_or(0);
                let _ = writeln!(o, "Port:\t{name}  {port}/{proto}");
                let target = match p.get("targetPort") {
                    Some(Value::Number(n)) => n.to_string(),
                    Some(Value::String(x)) => x.clone(),
                    _ => port.to_string(),
                };
                let _ = writeln!(o, "TargetPort:\t{target}/{proto}");
                if let Some(np) = p.get("nodePort").and_then(Value::as_i64) {
                    let _ = writeln!(o, "NodePort:\t{name}  {np}/{proto}");
                }
                let _ = writeln!(o, "Endpoints:\t{}", endpoints(ctx, obj, p).await);
            }
            let _ = writeln!(o, "Session Affinity:\t{}", s(spec, "/sessionAffinity"));
            let etp = s(spec, "/externalTrafficPolicy");
            if !etp.is_empty() {
                let _ = writeln!(o, "External Traffic Policy:\t{etp}");
            }
            let itp = s(spec, "/internalTrafficPolicy");
            if !itp.is_empty() {
                let _ = writeln!(o, "Internal Traffic Policy:\t{itp}");
            }
        }
        ("", "Node") => {
            let m = map_of(obj, "/metadata/labels");
            let roles: Vec<&str> = m
                .keys()
                .filter_map(|k| k.strip_prefix("node-role.kubernetes.io/"))
                .collect();
            let _ = writeln!(o, "Name:\t{}", s(obj, "/metadata/name"));
            let _ = writeln!(o, "Roles:\t{}", or_none(&roles.join(",")));
            labels(o, "", "Labels", &m);
            annotations(o, "", &map_of(obj, "/metadata/annotations"));
            let _ = writeln!(
                o,
                "CreationTimestamp:\t{}",
                timestamp(s(obj, "/metadata/creationTimestamp"))
            );
            let taints: Vec<String> = obj
                .pointer("/spec/taints")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|t| {
                    let v = s(t, "/value");
                    if v.is_empty() {
                        format!("{}:{}", s(t, "/key"), s(t, "/effect"))
                    } else {
                        format!("{}={v}:{}", s(t, "/key"), s(t, "/effect"))
                    }
                })
                .collect();
            let _ = write!(o, "Taints:\t");
            if taints.is_empty() {
                o.push_str("<none>\n");
            }
            for (i, t) in taints.iter().enumerate() {
                if i > 0 {
                    o.push('\t');
                }
                let _ = writeln!(o, "{t}");
            }
            let unsched = obj
                .pointer("/spec/unschedulable")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let _ = writeln!(o, "Unschedulable:\t{unsched}");
            let name = s(obj, "/metadata/name");
            match ctx
                .rest
                .get_json(&format!(
                    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
                ))
                .await
            {
                Ok(lease) => {
                    o.push_str("Lease:\n");
                    let _ = writeln!(
                        o,
                        "  HolderIdentity:\t{}",
                        or_none(s(&lease, "/spec/holderIdentity"))
                    );
                    let _ = writeln!(
                        o,
                        "  AcquireTime:\t{}",
                        or_none(s(&lease, "/spec/acquireTime"))
                    );
                    let _ = writeln!(
                        o,
                        "  RenewTime:\t{}",
                        timestamp(s(&lease, "/spec/renewTime"))
                    );
                }
                Err(e) => {
                    let _ = writeln!(o, "Lease:\tFailed to get lease: {}", e.message());
                }
            }
            conditions(o, obj, true);
            o.push_str("Addresses:\n");
            for a in obj
                .pointer("/status/addresses")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let _ = writeln!(o, "  {}:\t{}", s(a, "/type"), s(a, "/address"));
            }
            for (title, p) in [
                ("Capacity", "/status/capacity"),
                ("Allocatable", "/status/allocatable"),
            ] {
                let m = map_of(obj, p);
                if !m.is_empty() {
                    let _ = writeln!(o, "{title}:");
                    for (k, v) in m {
                        let _ = writeln!(o, "  {k}:\t{v}");
                    }
                }
            }
            o.push_str("System Info:\n");
            for (t, k) in [
                ("Machine ID", "machineID"),
                ("System UUID", "systemUUID"),
                ("Boot ID", "bootID"),
                ("Kernel Version", "kernelVersion"),
                ("OS Image", "osImage"),
                ("Operating System", "operatingSystem"),
                ("Architecture", "architecture"),
                ("Container Runtime Version", "containerRuntimeVersion"),
                ("Kubelet Version", "kubeletVersion"),
                ("Kube-Proxy Version", "kubeProxyVersion"),
            ] {
                let _ = writeln!(o, "  {t}:\t{}", s(obj, &format!("/status/nodeInfo/{k}")));
            }
            let cidr = s(obj, "/spec/podCIDR");
            if !cidr.is_empty() {
                let _ = writeln!(o, "PodCIDR:\t{cidr}");
            }
            let pods = ctx
                .rest
                .get_json(&format!(
                    "/api/v1/pods{}",
                    cmd::list_query(
                        None,
                        Some(&format!(
                            "spec.nodeName={name},status.phase!=Failed,status.phase!=Succeeded"
                        )),
                        None,
                        None
                    )
                ))
                .await
                .ok();
            let pods: Vec<Value> = pods
                .and_then(|p| p.get("items").and_then(Value::as_array).cloned())
                .unwrap_or_default();
            let _ = writeln!(o, "Non-terminated Pods:\t({} in total)", pods.len());
            o.push_str("  Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n");
            o.push_str("  ---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n");
            for p in &pods {
                let age = age_of(s(p, "/metadata/creationTimestamp"))
                    .map(human_duration)
                    .unwrap_or_default();
                let _ = writeln!(
                    o,
                    "  {}\t{}\t\t0 (0%)\t0 (0%)\t0 (0%)\t0 (0%)\t{age}",
                    s(p, "/metadata/namespace"),
                    s(p, "/metadata/name")
                );
            }
            o.push_str("Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n");
            o.push_str("  Resource\tRequests\tLimits\n  --------\t--------\t------\n");
            for r in ["cpu", "memory", "ephemeral-storage"] {
                let _ = writeln!(o, "  {r}\t0 (0%)\t0 (0%)");
            }
        }
        _ => {
            header(o, obj, r.namespaced, false);
            let _ = writeln!(o, "API Version:\t{}", s(obj, "/apiVersion"));
            let _ = writeln!(o, "Kind:\t{}", s(obj, "/kind"));
            let mut rest = printers::sorted(obj);
            if let Some(meta) = rest.get_mut("metadata").and_then(Value::as_object_mut) {
                for k in [
                    "name",
                    "namespace",
                    "labels",
                    "annotations",
                    "managedFields",
                ] {
                    meta.shift_remove(k);
                }
            }
            if let Some(m) = rest.as_object() {
                for (k, v) in m {
                    if matches!(k.as_str(), "apiVersion" | "kind") {
                        continue;
                    }
                    if v.as_object().is_some_and(|m| m.is_empty()) {
                        continue;
                    }
                    generic_field(o, k, v, 0);
                }
            }
        }
    }
    if with_events {
        events(ctx, obj, o).await;
    }
    Ok(printers::tabwrite(&out, 0, 2))
}

/// Upstream's generic layout: `camelCase` keys as `Camel Case:`, nested two spaces deeper.
fn generic_field(o: &mut String, key: &str, v: &Value, level: usize) {
    let indent = "  ".repeat(level);
    let mut words: Vec<String> = Vec::new();
    for c in key.chars() {
        if c.is_uppercase() || words.is_empty() {
            words.push(String::new());
        }
        words.last_mut().expect("a word").push(c);
    }
    let title = words
        .iter()
        .map(|w| {
            let lower = w.to_lowercase();
            if [
                "api", "uid", "ip", "url", "id", "cidr", "tls", "dns", "http", "https",
            ]
            .contains(&lower.as_str())
            {
                lower.to_uppercase()
            } else {
                let mut ch = w.chars();
                ch.next()
                    .map(|f| f.to_uppercase().collect::<String>() + ch.as_str())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    match v {
        Value::Object(m) => {
            let _ = writeln!(o, "{indent}{title}:");
            for (k, x) in m {
                generic_field(o, k, x, level + 1);
            }
        }
        Value::Array(a) => {
            let _ = writeln!(o, "{indent}{title}:");
            for x in a {
                match x {
                    Value::Object(m) => {
                        for (k, y) in m {
                            generic_field(o, k, y, level + 1);
                        }
                    }
                    other => {
                        let _ = writeln!(o, "{indent}  {}", crate::jsonpath::text(other));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(o, "{indent}{title}:\t{}", crate::jsonpath::text(other));
        }
    }
}

/// The ready addresses serving a service port, from its Endpoints.
async fn endpoints(ctx: &Ctx, svc: &Value, port: &Value) -> String {
    let path = format!(
        "/api/v1/namespaces/{}/endpoints/{}",
        s(svc, "/metadata/namespace"),
        s(svc, "/metadata/name")
    );
    let Ok(ep) = ctx.rest.get_json(&path).await else {
        return "<none>".to_string();
    };
    let pname = port.get("name").and_then(Value::as_str).unwrap_or("");
    let mut out = Vec::new();
    for subset in ep
        .get("subsets")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let p = subset
            .get("ports")
            .and_then(Value::as_array)
            .and_then(|ps| {
                ps.iter()
                    .find(|p| p.get("name").and_then(Value::as_str).unwrap_or("") == pname)
            })
            .and_then(|p| p.get("port").and_then(Value::as_i64));
        for a in subset
            .get("addresses")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            match p {
                Some(p) => out.push(format!("{}:{p}", s(a, "/ip"))),
                None => out.push(s(a, "/ip").to_string()),
            }
        }
    }
    if out.is_empty() {
        "<none>".to_string()
    } else {
        out.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(150), "2m30s");
        assert_eq!(human_duration(3600 * 5 + 60), "5h1m");
        assert_eq!(human_duration(3600 * 30), "30h");
        assert_eq!(human_duration(3600 * 24 * 3), "3d");
    }

    #[test]
    fn timestamps_read_like_rfc1123z() {
        assert_eq!(
            timestamp("2026-11-23T15:05:50Z"),
            "Mon, 23 Nov 2026 15:05:50 +0000"
        );
    }
}
