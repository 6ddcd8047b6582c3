//! `kubectl edit`: the object as YAML in `$KUBE_EDITOR` (or `$EDITOR`, or `vi`), then a patch
//! of what changed (strategic for built-in kinds, JSON merge for others).

use anyhow::{bail, Context as _};
use http::Method;
use serde_json::Value;

use super::Ctx;
use crate::apply::{three_way, Kind};
use crate::printers;

#[derive(clap::Args, Debug)]
pub struct EditArgs {
    /// TYPE NAME or TYPE/NAME.
    pub args: Vec<String>,
    /// Output format: name, yaml, json.
    #[arg(short = 'o', long)]
    pub output: Option<String>,
}

const HEADER: &str = "# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
";

pub async fn run(ctx: &mut Ctx, a: EditArgs) -> anyhow::Result<()> {
    let (targets, _) = super::resolve_args(ctx, &a.args).await?;
    let format = match &a.output {
        Some(o) => Some(crate::output::Format::parse(Some(o))?),
        None => None,
    };
    let editor = std::env::var("KUBE_EDITOR")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_string());
    for t in targets {
        if t.names.is_empty() {
            bail!("resource(s) were provided, but no name was specified");
        }
        for name in &t.names {
            let r = &t.resource;
            let ns = super::ns_for(r, &ctx.namespace);
            let path = r.object_path(ns, name);
            let mut original = ctx.rest.get_json(&path).await?;
            super::get::strip_managed_fields(&mut original);
            let file = tempfile::Builder::new()
                .prefix("kubectl-edit-")
                .suffix(".yaml")
                .tempfile()?;
            std::fs::write(
                file.path(),
                format!("{HEADER}{}", printers::to_yaml(&original)),
            )?;
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("{editor} \"$1\""))
                .arg("kubectl-edit")
                .arg(file.path())
                .status()
                .with_context(|| format!("running the editor {editor:?}"))?;
            if !status.success() {
                bail!("there was a problem with the editor \"{editor}\"");
            }
            let text = std::fs::read_to_string(file.path())?;
            let body: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with('#'))
                .map(|l| format!("{l}\n"))
                .collect();
            if body.trim().is_empty() {
                println!("Edit cancelled, no changes made.");
                continue;
            }
            let edited: Value = match serde_yaml::from_str(&body) {
                Ok(v) => v,
                Err(e) => {
                    let (_, kept) = file.keep()?;
                    bail!(
                        "error parsing the edited object: {e}\nA copy of your changes has been stored to \"{}\"",
                        kept.display()
                    );
                }
            };
            let builtin =
                api_types::resources::find_by_kind(&r.group, &r.version, &r.kind).is_some();
            let kind = Kind {
                group: &r.group,
                kind: &r.kind,
                strategic: builtin,
            };
            let Some(patch) = three_way(&original, &edited, &original, kind) else {
                println!("Edit cancelled, no changes made.");
                continue;
            };
            let ct = if builtin {
                "application/strategic-merge-patch+json"
            } else {
                "application/merge-patch+json"
            };
            match ctx.rest.send_json(Method::PATCH, &path, ct, &patch).await {
                Ok(obj) => super::create::print_result(&format, r, &obj, "edited", "")?,
                Err(e) => {
                    let (_, kept) = file.keep()?;
                    eprintln!(
                        "error: {} could not be patched: {}\nA copy of your changes has been stored to \"{}\"",
                        r.qualified_plural() + " \"" + name + "\"",
                        e.user_message(),
                        kept.display()
                    );
                    return Err(crate::Reported.into());
                }
            }
        }
    }
    Ok(())
}
