//! `kubectl get`: server-side Tables printed as upstream prints them, the object formats of
//! `-o`, selectors, several kinds at once, and `-w` watches.

use std::collections::BTreeMap;
use std::io::Write as _;

use anyhow::bail;
use http::Method;
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::Value;

use super::{list_query, Ctx, Target};
use crate::discovery::ResourceType;
use crate::output::{self, Format};
use crate::printers;
use crate::rest::{RestError, TABLE_ACCEPT};

#[derive(clap::Args, Debug)]
pub struct GetArgs {
    /// TYPE[.VERSION][.GROUP] [NAME...] or TYPE/NAME...
    pub args: Vec<String>,
    /// Output format: json, yaml, name, wide, jsonpath=..., custom-columns=...
    #[arg(short = 'o', long)]
    pub output: Option<String>,
    /// Selector (label query) to filter on.
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
    /// Selector (field query) to filter on.
    #[arg(long)]
    pub field_selector: Option<String>,
    /// List the requested object(s) across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Show all labels as the last column.
    #[arg(long)]
    pub show_labels: bool,
    /// Show the resource type in the name column.
    #[arg(long)]
    pub show_kind: bool,
    /// Label keys to show as columns.
    #[arg(short = 'L', long = "label-columns", value_delimiter = ',')]
    pub label_columns: Vec<String>,
    /// After listing/getting the requested object, watch for changes.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Watch for changes to the requested object(s), without listing/getting first.
    #[arg(long)]
    pub watch_only: bool,
    /// Output watch event objects when --watch or --watch-only is used.
    #[arg(long)]
    pub output_watch_events: bool,
    /// Don't print headers.
    #[arg(long)]
    pub no_headers: bool,
    /// Return large lists in chunks rather than all at once.
    #[arg(long, default_value_t = 500)]
    pub chunk_size: i64,
    /// Suppress NotFound errors for named objects.
    #[arg(long)]
    pub ignore_not_found: bool,
    /// Keep metadata.managedFields in json and yaml output.
    #[arg(long)]
    pub show_managed_fields: bool,
    /// Raw URI to request from the server.
    #[arg(long)]
    pub raw: Option<String>,
    /// Sort list types using this field specification (a JSONPath expression, e.g.
    /// '{.metadata.name}').
    #[arg(long)]
    pub sort_by: Option<String>,
}

#[derive(Deserialize)]
struct TablePage {
    #[serde(default)]
    kind: String,
    #[serde(default, rename = "columnDefinitions")]
    columns: Vec<ColumnDef>,
    #[serde(default)]
    rows: Vec<Row>,
    #[serde(default)]
    metadata: ListMeta,
}

#[derive(Deserialize, Clone, Debug)]
struct ColumnDef {
    name: String,
    #[serde(default)]
    priority: i64,
}

#[derive(Deserialize)]
struct Row {
    #[serde(default)]
    cells: Vec<Value>,
    #[serde(default)]
    object: Option<RowObject>,
}

#[derive(Deserialize, Default)]
struct RowObject {
    #[serde(default)]
    metadata: RowMeta,
}

#[derive(Deserialize, Default)]
struct RowMeta {
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
struct ListMeta {
    #[serde(default, rename = "continue")]
    cont: Option<String>,
    #[serde(default, rename = "resourceVersion")]
    resource_version: Option<String>,
}

/// How rows of one kind print.
struct TableStyle<'a> {
    wide: bool,
    with_namespace: bool,
    kind_prefix: Option<String>,
    show_labels: bool,
    label_columns: &'a [String],
}

impl TableStyle<'_> {
    fn headers(&self, columns: &[ColumnDef]) -> Vec<String> {
        let mut h = Vec::new();
        if self.with_namespace {
            h.push("NAMESPACE".to_string());
        }
        for c in columns {
            if self.wide || c.priority == 0 {
                h.push(c.name.to_uppercase());
            }
        }
        for l in self.label_columns {
            h.push(l.rsplit('/').next().unwrap_or(l).to_uppercase());
        }
        if self.show_labels {
            h.push("LABELS".to_string());
        }
        h
    }

    fn row(&self, columns: &[ColumnDef], row: &Row) -> Vec<String> {
        let meta = row.object.as_ref().map(|o| &o.metadata);
        let mut out = Vec::with_capacity(row.cells.len() + 2);
        if self.with_namespace {
            out.push(meta.map(|m| m.namespace.clone()).unwrap_or_default());
        }
        for (i, cell) in row.cells.iter().enumerate() {
            let priority = columns.get(i).map(|c| c.priority).unwrap_or(0);
            if !(self.wide || priority == 0) {
                continue;
            }
            let text = cell_text(cell);
            match (&self.kind_prefix, i) {
                (Some(k), 0) => out.push(format!("{k}/{text}")),
                _ => out.push(text),
            }
        }
        for l in self.label_columns {
            out.push(
                meta.and_then(|m| m.labels.get(l).cloned())
                    .unwrap_or_default(),
            );
        }
        if self.show_labels {
            out.push(format_labels(meta.map(|m| &m.labels)));
        }
        out
    }
}

/// Go's `fmt.Fprint` of a decoded cell.
fn cell_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".to_string(),
        other => output::go_value(other),
    }
}

/// `a=b,c=d` sorted by key, or `<none>`.
fn format_labels(labels: Option<&BTreeMap<String, String>>) -> String {
    match labels {
        Some(l) if !l.is_empty() => l
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
        _ => "<none>".to_string(),
    }
}

pub async fn run(ctx: &mut Ctx, a: GetArgs) -> anyhow::Result<()> {
    if let Some(raw) = &a.raw {
        let body = ctx.rest.get(raw).await?;
        let mut out = std::io::stdout().lock();
        out.write_all(&body)?;
        return Ok(());
    }
    let format = Format::parse(a.output.as_deref())?;
    let sort = a.sort_by.as_deref().map(SortKey::parse).transpose()?;
    if a.args.is_empty() {
        eprintln!("You must specify the type of resource to get. Use \"kubectl api-resources\" for a complete list of supported resources.\n");
        bail!("Required resource not specified.\nUse \"kubectl explain <resource>\" for a detailed description of that resource (e.g. kubectl explain pods).\nSee 'kubectl get -h' for help and examples");
    }
    let (targets, multiple) = super::resolve_args(ctx, &a.args).await?;
    if a.watch || a.watch_only {
        if targets.len() != 1 {
            bail!(
                "you may only specify a single resource type when watching, got {}",
                targets.len()
            );
        }
        return watch(ctx, &a, &format, &targets[0]).await;
    }
    let namespace = ctx.namespace.clone();
    let list_ns = if a.all_namespaces {
        None
    } else {
        Some(namespace.as_str())
    };
    let mut errors: Vec<anyhow::Error> = Vec::new();
    let mut printed_any = false;
    let mut stdout = std::io::stdout().lock();
    if let Format::Table { wide } = format {
        for t in &targets {
            let style = TableStyle {
                wide,
                with_namespace: a.all_namespaces && t.resource.namespaced,
                kind_prefix: (multiple || a.show_kind).then(|| t.resource.kind_prefix()),
                show_labels: a.show_labels,
                label_columns: &a.label_columns,
            };
            let mut columns: Vec<ColumnDef> = Vec::new();
            // Rows with their whole objects when sorting (else `Null`).
            let mut rows: Vec<(Row, Value)> = Vec::new();
            let mut add_page = |(page, objects): (TablePage, Vec<Value>),
                                rows: &mut Vec<(Row, Value)>| {
                if columns.is_empty() && !page.columns.is_empty() {
                    columns = page.columns;
                }
                let objects = objects.into_iter().chain(std::iter::repeat(Value::Null));
                rows.extend(page.rows.into_iter().zip(objects));
            };
            // Sorting needs the objects, not only their metadata.
            let include = if sort.is_some() {
                "includeObject=Object"
            } else {
                ""
            };
            if t.names.is_empty() {
                let mut cont: Option<String> = None;
                loop {
                    let path = with_query(
                        format!(
                            "{}{}",
                            t.resource.collection_path(list_ns),
                            list_query(
                                a.selector.as_deref(),
                                a.field_selector.as_deref(),
                                Some(a.chunk_size),
                                cont.as_deref()
                            )
                        ),
                        include,
                    );
                    let page = match fetch_table_objects(ctx, &path).await {
                        Ok(p) => p,
                        Err(e) => {
                            errors.push(e.into());
                            break;
                        }
                    };
                    cont = page.0.metadata.cont.clone().filter(|c| !c.is_empty());
                    add_page(page, &mut rows);
                    if cont.is_none() {
                        break;
                    }
                }
            } else {
                for name in &t.names {
                    let path = with_query(
                        t.resource.object_path(Some(namespace.as_str()), name),
                        include,
                    );
                    match fetch_table_objects(ctx, &path).await {
                        Ok(page) => add_page(page, &mut rows),
                        Err(e) if e.is_not_found() && a.ignore_not_found => {}
                        Err(e) => errors.push(e.into()),
                    }
                }
            }
            if let Some(key) = &sort {
                if let Err(e) = key.sort(&mut rows, |(_, o)| o) {
                    errors.push(e.into());
                    continue;
                }
            }
            let lines: Vec<Vec<String>> = rows
                .iter()
                .map(|(row, _)| style.row(&columns, row))
                .collect();
            if lines.is_empty() {
                continue;
            }
            let mut all = Vec::with_capacity(lines.len() + 1);
            if !a.no_headers {
                all.push(style.headers(&columns));
            }
            all.extend(lines);
            if printed_any {
                writeln!(stdout)?;
            }
            stdout.write_all(printers::align(&all).as_bytes())?;
            printed_any = true;
        }
    } else {
        let mut items = Vec::new();
        let single = targets.len() == 1 && targets[0].names.len() == 1 && !multiple;
        for t in &targets {
            if t.names.is_empty() {
                // `-o name` (unsorted) needs only names: keep nothing else of each object.
                let listed = if matches!(format, Format::Name) && sort.is_none() {
                    super::list_names(
                        ctx,
                        &t.resource,
                        list_ns,
                        a.selector.as_deref(),
                        a.field_selector.as_deref(),
                    )
                    .await
                } else {
                    super::list_objects(
                        ctx,
                        &t.resource,
                        list_ns,
                        a.selector.as_deref(),
                        a.field_selector.as_deref(),
                    )
                    .await
                };
                match listed {
                    Ok(objs) => items.extend(objs),
                    Err(e) => errors.push(e),
                }
            } else {
                for name in &t.names {
                    let path = t.resource.object_path(Some(namespace.as_str()), name);
                    match ctx.rest.get_json(&path).await {
                        Ok(obj) => items.push(obj),
                        Err(e) if e.is_not_found() && a.ignore_not_found => {}
                        Err(e) => errors.push(e.into()),
                    }
                }
            }
        }
        if !a.show_managed_fields {
            items.iter_mut().for_each(strip_managed_fields);
        }
        if let Some(key) = &sort {
            key.sort(&mut items, |o| o)?;
        }
        let lists = targets.iter().all(|t| t.names.is_empty());
        if !items.is_empty() || (lists && !matches!(format, Format::Name)) {
            printed_any = !items.is_empty() || !matches!(format, Format::CustomColumns(_));
            let text = output::print_objects(&format, items, single, a.no_headers)?;
            stdout.write_all(text.as_bytes())?;
        }
    }
    stdout.flush()?;
    drop(stdout);
    let all_lists = targets.iter().all(|t| t.names.is_empty());
    if !printed_any && errors.is_empty() && all_lists && format.is_table() {
        let all_namespaced = !a.all_namespaces && targets.iter().all(|t| t.resource.namespaced);
        if all_namespaced {
            eprintln!("No resources found in {namespace} namespace.");
        } else {
            eprintln!("No resources found");
        }
    }
    finish(errors)
}

/// Drops `metadata.managedFields`, as upstream does unless asked to show them.
pub fn strip_managed_fields(obj: &mut Value) {
    if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
        m.shift_remove("managedFields");
    }
}

/// Reports every error but the last, which becomes the command's error (exit 1).
pub fn finish(mut errors: Vec<anyhow::Error>) -> anyhow::Result<()> {
    let last = errors.pop();
    for e in &errors {
        crate::report(e);
    }
    match last {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

async fn fetch_table(ctx: &Ctx, path: &str) -> Result<TablePage, RestError> {
    let bytes = ctx
        .rest
        .send(Method::GET, path, Some(TABLE_ACCEPT), None, Vec::new())
        .await?;
    parse_table(&bytes)
}

/// A Table page with each row's object as a whole (asked for with `includeObject=Object`).
async fn fetch_table_objects(ctx: &Ctx, path: &str) -> Result<(TablePage, Vec<Value>), RestError> {
    let bytes = ctx
        .rest
        .send(Method::GET, path, Some(TABLE_ACCEPT), None, Vec::new())
        .await?;
    let page = parse_table(&bytes)?;
    let objects = if path.contains("includeObject=Object") {
        let raw: Value =
            serde_json::from_slice(&bytes).map_err(|e| RestError::Invalid(e.to_string()))?;
        raw.get("rows")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| r.get("object").cloned().unwrap_or(Value::Null))
            .collect()
    } else {
        Vec::new()
    };
    Ok((page, objects))
}

/// `path` with one more query parameter (none when `param` is empty).
fn with_query(path: String, param: &str) -> String {
    match (param.is_empty(), path.contains('?')) {
        (true, _) => path,
        (false, true) => format!("{path}&{param}"),
        (false, false) => format!("{path}?{param}"),
    }
}

/// `--sort-by`: a single JSONPath field; objects sort by its first value, those without
/// it first, numbers by value and strings in natural order (`a2` before `a10`).
pub struct SortKey {
    spec: String,
    template: crate::jsonpath::Template,
}

/// Sorting failures, worded as upstream's.
#[derive(Debug, thiserror::Error)]
pub enum SortError {
    #[error("unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{{name1.name2}}' or '{{.name1.name2}}'")]
    Path,
    #[error("couldn't find any field with path \"{0}\" in the list of objects")]
    Missing(String),
    #[error("field {0} is an unsortable type: {1}")]
    Unsortable(String, &'static str),
}

impl SortKey {
    pub fn parse(spec: &str) -> anyhow::Result<Self> {
        let spec = output::relaxed(spec);
        let template = crate::jsonpath::Template::parse(&spec).map_err(|source| {
            output::OutputError::JsonPath {
                template: spec.clone(),
                source,
            }
        })?;
        if !template.is_single_path() {
            return Err(SortError::Path.into());
        }
        Ok(SortKey { spec, template })
    }

    /// Sorts `items` (stably) by the key of the object `object_of` finds in each.
    pub fn sort<T>(
        &self,
        items: &mut [T],
        object_of: impl Fn(&T) -> &Value,
    ) -> Result<(), SortError> {
        if items.len() < 2 {
            return Ok(());
        }
        let keys: Vec<Option<Value>> = items
            .iter()
            .map(|i| self.template.values(object_of(i)).into_iter().next())
            .collect();
        if keys.iter().all(Option::is_none) {
            return Err(SortError::Missing(self.spec.clone()));
        }
        for k in keys.iter().flatten() {
            match k {
                Value::Object(_) => return Err(SortError::Unsortable(self.spec.clone(), "map")),
                Value::Array(_) => return Err(SortError::Unsortable(self.spec.clone(), "slice")),
                _ => {}
            }
        }
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by(|&x, &y| compare_keys(keys[x].as_ref(), keys[y].as_ref()));
        apply_order(items, &order);
        Ok(())
    }
}

/// Puts `items` in the order `order` gives (a permutation of their indexes).
fn apply_order<T>(items: &mut [T], order: &[usize]) {
    // Follow each cycle of the permutation once, swapping into place.
    let mut done = vec![false; items.len()];
    for start in 0..items.len() {
        if done[start] {
            continue;
        }
        let mut at = start;
        loop {
            done[at] = true;
            let next = order[at];
            if next == start {
                break;
            }
            items.swap(at, next);
            at = next;
        }
    }
}

fn compare_keys(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            _ => 4,
        }
    }
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(Value::Number(x)), Some(Value::Number(y))) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Some(Value::String(x)), Some(Value::String(y))) => natural_cmp(x, y),
        (Some(Value::Bool(x)), Some(Value::Bool(y))) => x.cmp(y),
        (Some(x), Some(y)) => rank(x).cmp(&rank(y)),
    }
}

/// Natural order: runs of digits compare by their numeric value, the rest by character.
pub fn natural_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (mut a, mut b) = (a, b);
    loop {
        match (a.chars().next(), b.chars().next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let da = a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len());
                let db = b.find(|c: char| !c.is_ascii_digit()).unwrap_or(b.len());
                let (na, nb) = (
                    a[..da].trim_start_matches('0'),
                    b[..db].trim_start_matches('0'),
                );
                let o = na.len().cmp(&nb.len()).then_with(|| na.cmp(nb));
                if o != Ordering::Equal {
                    return o;
                }
                a = &a[da..];
                b = &b[db..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(&y);
                }
                a = &a[x.len_utf8()..];
                b = &b[y.len_utf8()..];
            }
        }
    }
}

fn parse_table(bytes: &[u8]) -> Result<TablePage, RestError> {
    let page: TablePage =
        serde_json::from_slice(bytes).map_err(|e| RestError::Invalid(e.to_string()))?;
    if page.kind != "Table" {
        return Err(RestError::Invalid(format!(
            "expected a Table from the server, got {:?}",
            page.kind
        )));
    }
    Ok(page)
}

/// `get -w`: the current state (unless `--watch-only`), then a row per change.
async fn watch(ctx: &mut Ctx, a: &GetArgs, format: &Format, t: &Target) -> anyhow::Result<()> {
    let r: &ResourceType = &t.resource;
    let ns = if a.all_namespaces {
        None
    } else {
        Some(ctx.namespace.clone())
    };
    let mut field_selector = a.field_selector.clone();
    if let Some(name) = t.names.first() {
        let f = format!("metadata.name={name}");
        field_selector = Some(match field_selector {
            Some(other) => format!("{other},{f}"),
            None => f,
        });
    }
    let wide = matches!(format, Format::Table { wide: true });
    let style = TableStyle {
        wide,
        with_namespace: a.all_namespaces && r.namespaced,
        kind_prefix: a.show_kind.then(|| r.kind_prefix()),
        show_labels: a.show_labels,
        label_columns: &a.label_columns,
    };
    let collection = r.collection_path(ns.as_deref());
    let mut columns: Vec<ColumnDef> = Vec::new();
    let mut headers_printed = a.no_headers;
    let mut resource_version = String::new();
    let mut stdout = std::io::stdout();
    let event_col = |ev: &str| format!("{ev:<8}");
    let with_event_header = |mut h: Vec<String>, events: bool| {
        if events {
            h.insert(0, "EVENT".to_string());
        }
        h
    };
    if !a.watch_only {
        let path = format!(
            "{collection}{}",
            list_query(a.selector.as_deref(), field_selector.as_deref(), None, None)
        );
        if format.is_table() {
            let page = fetch_table(ctx, &path).await?;
            resource_version = page.metadata.resource_version.clone().unwrap_or_default();
            columns = page.columns.clone();
            let mut lines = Vec::new();
            if !page.rows.is_empty() {
                if !headers_printed {
                    lines.push(with_event_header(
                        style.headers(&columns),
                        a.output_watch_events,
                    ));
                    headers_printed = true;
                }
                for row in &page.rows {
                    let mut l = style.row(&columns, row);
                    if a.output_watch_events {
                        l.insert(0, event_col("ADDED"));
                    }
                    lines.push(l);
                }
            }
            stdout.write_all(printers::align(&lines).as_bytes())?;
        } else {
            let list = ctx.rest.get_json(&path).await?;
            resource_version = list
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            if let Some(items) = list.get("items").and_then(Value::as_array) {
                for item in items {
                    let mut item = item.clone();
                    if let Some(m) = item.as_object_mut() {
                        m.entry("apiVersion")
                            .or_insert_with(|| r.api_version().into());
                        m.entry("kind").or_insert_with(|| r.kind.clone().into());
                    }
                    print_watch_object(format, "ADDED", item, a.output_watch_events)?;
                }
            }
        }
        stdout.flush()?;
    }
    let mut q = list_query(a.selector.as_deref(), field_selector.as_deref(), None, None);
    q.push(if q.is_empty() { '?' } else { '&' });
    q.push_str("watch=true");
    if !resource_version.is_empty() {
        q.push_str(&format!("&resourceVersion={resource_version}"));
    }
    let accept = if format.is_table() {
        TABLE_ACCEPT
    } else {
        "application/json"
    };
    let resp = ctx
        .rest
        .start(
            Method::GET,
            &format!("{collection}{q}"),
            Some(accept),
            None,
            Vec::new(),
        )
        .await?;
    let mut body = resp.into_body();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| anyhow::anyhow!("reading the watch: {e}"))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        buf.extend_from_slice(&data);
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            #[derive(Deserialize)]
            struct Event {
                #[serde(rename = "type")]
                kind: String,
                object: Value,
            }
            let ev: Event = serde_json::from_slice(&line)?;
            match ev.kind.as_str() {
                "BOOKMARK" => continue,
                "ERROR" => {
                    let msg = ev
                        .object
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or("watch error");
                    bail!("{msg}");
                }
                _ => {}
            }
            if format.is_table() {
                let page: TablePage = serde_json::from_value(ev.object)?;
                if columns.is_empty() {
                    columns = page.columns.clone();
                }
                let mut lines = Vec::new();
                if !headers_printed {
                    lines.push(with_event_header(
                        style.headers(&columns),
                        a.output_watch_events,
                    ));
                    headers_printed = true;
                }
                for row in &page.rows {
                    let mut l = style.row(&columns, row);
                    if a.output_watch_events {
                        l.insert(0, event_col(&ev.kind));
                    }
                    lines.push(l);
                }
                stdout.write_all(printers::align(&lines).as_bytes())?;
            } else {
                print_watch_object(format, &ev.kind, ev.object, a.output_watch_events)?;
            }
            stdout.flush()?;
        }
    }
    Ok(())
}

fn print_watch_object(
    format: &Format,
    event: &str,
    mut obj: Value,
    with_events: bool,
) -> anyhow::Result<()> {
    strip_managed_fields(&mut obj);
    let obj = if with_events {
        serde_json::json!({"type": event, "object": obj})
    } else {
        obj
    };
    let text = match format {
        Format::Yaml => format!("---\n{}", printers::to_yaml(&obj)),
        Format::Name if with_events => format!("{event} {}", output::object_name(&obj["object"])),
        _ => output::print_objects(format, vec![obj], true, true)?,
    };
    print!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_compares_numbers_by_value() {
        let mut v = vec!["b10", "a2", "b9", "a10", "a", "b09x"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["a", "a2", "a10", "b9", "b09x", "b10"]);
    }

    #[test]
    fn sort_by_orders_objects_missing_fields_first() {
        let key = SortKey::parse(".spec.n").unwrap();
        let mut items = vec![
            serde_json::json!({"id": 0, "spec": {"n": 10}}),
            serde_json::json!({"id": 1}),
            serde_json::json!({"id": 2, "spec": {"n": 2}}),
            serde_json::json!({"id": 3, "spec": {"n": 2.5}}),
        ];
        key.sort(&mut items, |o| o).unwrap();
        let ids: Vec<i64> = items.iter().map(|o| o["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [1, 2, 3, 0]);
        let missing = SortKey::parse("{.nope}").unwrap().sort(&mut items, |o| o);
        assert_eq!(
            missing.unwrap_err().to_string(),
            "couldn't find any field with path \"{.nope}\" in the list of objects"
        );
        assert!(SortKey::parse("{.a}{.b}").is_err());
        assert!(SortKey::parse(".spec")
            .unwrap()
            .sort(&mut items, |o| o)
            .is_err());
    }

    #[test]
    fn permutations_apply_in_place() {
        for order in [
            vec![2, 0, 1],
            vec![1, 2, 0],
            vec![0, 1, 2],
            vec![3, 2, 1, 0],
        ] {
            let mut items: Vec<usize> = (0..order.len()).map(|i| i * 10).collect();
            apply_order(&mut items, &order);
            let want: Vec<usize> = order.iter().map(|i| i * 10).collect();
            assert_eq!(items, want);
        }
    }

    #[test]
    fn rows_print_like_upstream() {
        let page = parse_table(br#"{"kind":"Table","apiVersion":"meta.k8s.io/v1","metadata":{"resourceVersion":"5"},
            "columnDefinitions":[{"name":"Name","type":"string","priority":0},{"name":"Data","type":"integer","priority":0},{"name":"Extra","type":"string","priority":1}],
            "rows":[{"cells":["a",1,"x"],"object":{"kind":"PartialObjectMetadata","metadata":{"name":"a","namespace":"ns","labels":{"z":"1","b":"2"}}}}]}"#).unwrap();
        let style = TableStyle {
            wide: false,
            with_namespace: true,
            kind_prefix: Some("configmap".into()),
            show_labels: true,
            label_columns: &[],
        };
        assert_eq!(
            style.headers(&page.columns),
            ["NAMESPACE", "NAME", "DATA", "LABELS"]
        );
        assert_eq!(
            style.row(&page.columns, &page.rows[0]),
            ["ns", "configmap/a", "1", "b=2,z=1"]
        );
        assert!(parse_table(br#"{"kind":"ConfigMapList"}"#).is_err());
    }
}
