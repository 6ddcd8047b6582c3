//! `kubectl config`: `view`, `current-context`, `use-context`, `get-contexts` and
//! `set-context`, over the kubeconfig files (`--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`)
//! merged as upstream merges them.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use serde_json::{json, Map, Value};

use crate::output::{self, Format};
use crate::printers;
use crate::GlobalFlags;

#[derive(clap::Subcommand, Debug)]
pub enum ConfigCommand {
    /// Display merged kubeconfig settings or a specified kubeconfig file.
    View(ViewArgs),
    /// Display the current-context.
    CurrentContext,
    /// Set the current-context in a kubeconfig file.
    UseContext { name: String },
    /// Describe one or many contexts.
    GetContexts {
        names: Vec<String>,
        /// Output format: name.
        #[arg(short = 'o', long)]
        output: Option<String>,
        /// Don't print headers.
        #[arg(long)]
        no_headers: bool,
    },
    /// Set a context entry in kubeconfig.
    SetContext {
        name: Option<String>,
        /// Modify the current context.
        #[arg(long)]
        current: bool,
        #[arg(long)]
        cluster: Option<String>,
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(clap::Args, Debug)]
pub struct ViewArgs {
    /// Remove all information not used by the current-context.
    #[arg(long)]
    pub minify: bool,
    /// Display raw byte data and sensitive data.
    #[arg(long)]
    pub raw: bool,
    /// Flatten the resulting kubeconfig file into self-contained output.
    #[arg(long)]
    pub flatten: bool,
    /// Output format: yaml (default), json, jsonpath=...
    #[arg(short = 'o', long)]
    pub output: Option<String>,
}

/// The kubeconfig files in precedence order.
fn files(g: &GlobalFlags) -> Vec<PathBuf> {
    if let Some(p) = &g.kubeconfig {
        return vec![p.clone()];
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        return std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    vec![home.join(".kube").join("config")]
}

fn read(path: &PathBuf) -> anyhow::Result<Value> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(json!({})),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let v: Value = serde_yaml::from_str(&text)
        .with_context(|| format!("error loading config file \"{}\"", path.display()))?;
    Ok(if v.is_null() { json!({}) } else { v })
}

/// The merged configuration: the first definition of each named entry wins, as does the
/// first `current-context`.
fn merged(g: &GlobalFlags) -> anyhow::Result<Value> {
    let mut out = Map::new();
    let mut lists: [(&str, Vec<Value>); 3] = [
        ("clusters", vec![]),
        ("contexts", vec![]),
        ("users", vec![]),
    ];
    for f in files(g) {
        let v = read(&f)?;
        if !out.contains_key("current-context") {
            if let Some(c) = v
                .get("current-context")
                .filter(|c| c.as_str().is_some_and(|s| !s.is_empty()))
            {
                out.insert("current-context".into(), c.clone());
            }
        }
        for (key, list) in lists.iter_mut() {
            for e in v.get(*key).and_then(Value::as_array).into_iter().flatten() {
                let name = e.get("name");
                if !list.iter().any(|x| x.get("name") == name) {
                    list.push(e.clone());
                }
            }
        }
    }
    out.insert("apiVersion".into(), json!("v1"));
    out.insert("kind".into(), json!("Config"));
    out.insert("preferences".into(), json!({}));
    out.entry("current-context").or_insert(json!(""));
    for (key, list) in lists {
        out.insert(
            key.into(),
            if list.is_empty() {
                Value::Null
            } else {
                Value::Array(list)
            },
        );
    }
    Ok(Value::Object(out))
}

fn current_context(cfg: &Value) -> Option<String> {
    cfg.get("current-context")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn redact(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for (k, val) in m.iter_mut() {
                match k.as_str() {
                    "certificate-authority-data"
                    | "client-certificate-data"
                    | "client-key-data" => *val = json!("DATA+OMITTED"),
                    "token" | "password" => *val = json!("REDACTED"),
                    _ => redact(val),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(redact),
        _ => {}
    }
}

fn flatten(v: &mut Value) -> anyhow::Result<()> {
    use base64::Engine as _;
    if let Value::Object(m) = v {
        for (file_key, data_key) in [
            ("certificate-authority", "certificate-authority-data"),
            ("client-certificate", "client-certificate-data"),
            ("client-key", "client-key-data"),
        ] {
            if let Some(path) = m.get(file_key).and_then(Value::as_str).map(str::to_string) {
                let bytes = std::fs::read(&path).with_context(|| format!("reading {path}"))?;
                m.remove(file_key);
                m.insert(
                    data_key.into(),
                    json!(base64::engine::general_purpose::STANDARD.encode(bytes)),
                );
            }
        }
        for val in m.values_mut() {
            flatten(val)?;
        }
    } else if let Value::Array(a) = v {
        for val in a {
            flatten(val)?;
        }
    }
    Ok(())
}

pub fn run(g: &GlobalFlags, c: ConfigCommand) -> anyhow::Result<()> {
    match c {
        ConfigCommand::View(a) => {
            let mut cfg = merged(g)?;
            if a.minify {
                let Some(cur) = g.context.clone().or_else(|| current_context(&cfg)) else {
                    bail!("current-context must exist in order to minify");
                };
                let ctx = cfg["contexts"]
                    .as_array()
                    .and_then(|l| l.iter().find(|c| c["name"] == json!(cur)).cloned());
                let Some(ctx) = ctx else {
                    bail!("cannot locate context {cur}");
                };
                let keep = |key: &str, name: &Value| -> Value {
                    let found: Vec<Value> = cfg[key]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|e| &e["name"] == name)
                        .cloned()
                        .collect();
                    if found.is_empty() {
                        Value::Null
                    } else {
                        Value::Array(found)
                    }
                };
                let clusters = keep("clusters", &ctx["context"]["cluster"]);
                let users = keep("users", &ctx["context"]["user"]);
                cfg["clusters"] = clusters;
                cfg["users"] = users;
                cfg["contexts"] = json!([ctx]);
                cfg["current-context"] = json!(cur);
            }
            if a.flatten {
                flatten(&mut cfg)?;
            }
            if !a.raw && !a.flatten {
                redact(&mut cfg);
            }
            match a.output.as_deref() {
                None | Some("yaml") => print!("{}", printers::to_yaml(&cfg)),
                Some("json") => print!("{}", printers::to_json_in_order(&struct_order(&cfg))),
                o => {
                    let f = Format::parse(o)?;
                    print!("{}", output::print_objects(&f, vec![cfg], true, false)?);
                }
            }
            Ok(())
        }
        ConfigCommand::CurrentContext => {
            let cfg = merged(g)?;
            match current_context(&cfg) {
                Some(c) => {
                    println!("{c}");
                    Ok(())
                }
                None => bail!("current-context is not set"),
            }
        }
        ConfigCommand::UseContext { name } => {
            let cfg = merged(g)?;
            let exists = cfg["contexts"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["name"] == json!(name));
            if !exists {
                bail!("no context exists with the name: \"{name}\"");
            }
            let target = destination(g)?;
            let mut v = read(&target)?;
            v["current-context"] = json!(name);
            write(&target, v)?;
            println!("Switched to context \"{name}\".");
            Ok(())
        }
        ConfigCommand::GetContexts {
            names,
            output,
            no_headers,
        } => {
            let cfg = merged(g)?;
            let cur = current_context(&cfg).unwrap_or_default();
            let mut contexts: Vec<Value> = cfg["contexts"].as_array().cloned().unwrap_or_default();
            contexts.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
            let mut missing = Vec::new();
            if !names.is_empty() {
                for n in &names {
                    if !contexts.iter().any(|c| c["name"] == json!(n)) {
                        missing.push(n.clone());
                    }
                }
                contexts.retain(|c| names.iter().any(|n| c["name"] == json!(n)));
            }
            if output.as_deref() == Some("name") {
                for c in &contexts {
                    println!("{}", c["name"].as_str().unwrap_or(""));
                }
            } else if let Some(o) = output {
                bail!("output must be one of '' or 'name': {o}");
            } else {
                let mut rows = Vec::new();
                if !no_headers {
                    rows.push(
                        ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
                            .iter()
                            .map(|s| s.to_string())
                            .collect(),
                    );
                }
                for c in &contexts {
                    let name = c["name"].as_str().unwrap_or("").to_string();
                    let s = |k: &str| c["context"][k].as_str().unwrap_or("").to_string();
                    rows.push(vec![
                        if name == cur {
                            "*".to_string()
                        } else {
                            String::new()
                        },
                        name,
                        s("cluster"),
                        s("user"),
                        s("namespace"),
                    ]);
                }
                print!("{}", printers::align(&rows));
            }
            if let Some(m) = missing.first() {
                bail!("context {m} not found");
            }
            Ok(())
        }
        ConfigCommand::SetContext {
            name,
            current,
            cluster,
            user,
        } => {
            let cfg = merged(g)?;
            let name = match (name, current) {
                (Some(n), false) => n,
                (None, true) => current_context(&cfg).context("no current context is set")?,
                _ => bail!("you must specify a non-empty context name or --current"),
            };
            let namespace = g.namespace.clone();
            let target = destination(g)?;
            let mut v = read(&target)?;
            if !v["contexts"].is_array() {
                v["contexts"] = json!([]);
            }
            let list = v["contexts"].as_array_mut().expect("made an array above");
            let existed = list.iter().any(|c| c["name"] == json!(name));
            if !existed {
                list.push(json!({"name": name, "context": {}}));
            }
            let entry = list
                .iter_mut()
                .find(|c| c["name"] == json!(name))
                .expect("present");
            if !entry["context"].is_object() {
                entry["context"] = json!({});
            }
            for (k, val) in [
                ("cluster", cluster),
                ("user", user),
                ("namespace", namespace),
            ] {
                if let Some(val) = val {
                    entry["context"][k] = json!(val);
                }
            }
            write(&target, v)?;
            println!(
                "Context \"{name}\" {}.",
                if existed { "modified" } else { "created" }
            );
            Ok(())
        }
    }
}

/// The kubeconfig with its keys in the order of upstream's Go structs (its JSON form).
fn struct_order(cfg: &Value) -> Value {
    fn order(v: &Value, keys: &[&str]) -> Value {
        let Some(m) = v.as_object() else {
            return v.clone();
        };
        let mut out = Map::new();
        for k in keys {
            if let Some(x) = m.get(*k) {
                out.insert(k.to_string(), x.clone());
            }
        }
        for (k, x) in m {
            if !out.contains_key(k) {
                out.insert(k.clone(), x.clone());
            }
        }
        Value::Object(out)
    }
    let named = |list: &Value, inner: &str, keys: &[&str]| -> Value {
        match list.as_array() {
            Some(a) => Value::Array(
                a.iter()
                    .map(|e| {
                        let mut e = order(e, &["name", inner]);
                        if let Some(x) = e.get(inner).cloned() {
                            e[inner] = order(&x, keys);
                        }
                        e
                    })
                    .collect(),
            ),
            None => list.clone(),
        }
    };
    let mut out = order(
        cfg,
        &[
            "kind",
            "apiVersion",
            "preferences",
            "clusters",
            "users",
            "contexts",
            "current-context",
        ],
    );
    out["clusters"] = named(
        &cfg["clusters"],
        "cluster",
        &[
            "server",
            "tls-server-name",
            "insecure-skip-tls-verify",
            "certificate-authority",
            "certificate-authority-data",
            "proxy-url",
            "disable-compression",
        ],
    );
    out["users"] = named(
        &cfg["users"],
        "user",
        &[
            "client-certificate",
            "client-certificate-data",
            "client-key",
            "client-key-data",
            "token",
            "tokenFile",
            "as",
            "as-uid",
            "as-groups",
            "as-user-extra",
            "username",
            "password",
            "auth-provider",
            "exec",
        ],
    );
    out["contexts"] = named(
        &cfg["contexts"],
        "context",
        &["cluster", "user", "namespace"],
    );
    out
}

/// The file that changes go to: `--kubeconfig`, else the first file that sets a current
/// context, else the first file.
fn destination(g: &GlobalFlags) -> anyhow::Result<PathBuf> {
    let list = files(g);
    for f in &list {
        if read(f)?
            .get("current-context")
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
        {
            return Ok(f.clone());
        }
    }
    list.into_iter().next().context("no kubeconfig file")
}

fn write(path: &PathBuf, mut v: Value) -> anyhow::Result<()> {
    if let Some(m) = v.as_object_mut() {
        m.entry("apiVersion").or_insert(json!("v1"));
        m.entry("kind").or_insert(json!("Config"));
        m.entry("preferences").or_insert(json!({}));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ok();
    }
    std::fs::write(path, printers::to_yaml(&v))
        .with_context(|| format!("writing {}", path.display()))
}
