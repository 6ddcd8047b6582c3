//! Field paths and sets of them: path elements (`f:`, `k:`, `v:`), the set operations apply
//! and update need, and the `fieldsV1` encoding.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::Value;

use super::Obj;

/// One step of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Pe {
    /// A struct or map field.
    Field(String),
    /// An associative-list element, by its key fields (sorted by name).
    Key(Vec<(String, Value)>),
    /// A set element, by value.
    Val(Value),
    /// A list element by position (read from `fieldsV1`, never produced).
    Index(usize),
}

impl Pe {
    fn rank(&self) -> u8 {
        match self {
            Pe::Field(_) => 0,
            Pe::Key(_) => 1,
            Pe::Val(_) => 2,
            Pe::Index(_) => 3,
        }
    }

    /// The `fieldsV1` key: `f:name`, `k:{"name":"c"}`, `v:"x"`, `i:0`.
    fn encode(&self) -> String {
        match self {
            Pe::Field(n) => format!("f:{n}"),
            Pe::Key(kv) => {
                let m: Obj = kv.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                format!("k:{}", Value::Object(m))
            }
            Pe::Val(v) => format!("v:{v}"),
            Pe::Index(i) => format!("i:{i}"),
        }
    }

    fn decode(s: &str) -> Option<Pe> {
        let (prefix, rest) = s.split_at_checked(2)?;
        match prefix {
            "f:" => Some(Pe::Field(rest.to_string())),
            "k:" => match serde_json::from_str::<Value>(rest).ok()? {
                Value::Object(m) => {
                    let mut kv: Vec<(String, Value)> = m.into_iter().collect();
                    kv.sort_by(|a, b| a.0.cmp(&b.0));
                    Some(Pe::Key(kv))
                }
                _ => None,
            },
            "v:" => serde_json::from_str(rest).ok().map(Pe::Val),
            "i:" => rest.parse().ok().map(Pe::Index),
            _ => None,
        }
    }

    /// As upstream prints it: `.name`, `[name="c"]`, `[="x"]`, `[0]`.
    pub(super) fn display(&self) -> String {
        match self {
            Pe::Field(n) => format!(".{n}"),
            Pe::Key(kv) => {
                let parts: Vec<String> = kv.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("[{}]", parts.join(","))
            }
            Pe::Val(v) => format!("[={v}]"),
            Pe::Index(i) => format!("[{i}]"),
        }
    }
}

impl Ord for Pe {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Pe::Field(a), Pe::Field(b)) => a.cmp(b),
            (Pe::Key(a), Pe::Key(b)) => {
                for ((ak, av), (bk, bv)) in a.iter().zip(b) {
                    let o = ak.cmp(bk).then_with(|| cmp_value(av, bv));
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Pe::Val(a), Pe::Val(b)) => cmp_value(a, b),
            (Pe::Index(a), Pe::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for Pe {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A total order on JSON values (numbers, strings, booleans, lists, maps, null), consistent
/// with equality.
fn cmp_value(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Number(_) => 0,
            Value::String(_) => 1,
            Value::Bool(_) => 2,
            Value::Array(_) => 3,
            Value::Object(_) => 4,
            Value::Null => 5,
        }
    }
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (fx, fy) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            fx.partial_cmp(&fy)
                .unwrap_or(Ordering::Equal)
                .then_with(|| x.to_string().cmp(&y.to_string()))
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let o = cmp_value(p, q);
                if o != Ordering::Equal {
                    return o;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut xs: Vec<(&String, &Value)> = x.iter().collect();
            let mut ys: Vec<(&String, &Value)> = y.iter().collect();
            xs.sort_by(|p, q| p.0.cmp(q.0));
            ys.sort_by(|p, q| p.0.cmp(q.0));
            for ((pk, pv), (qk, qv)) in xs.iter().zip(&ys) {
                let o = pk.cmp(qk).then_with(|| cmp_value(pv, qv));
                if o != Ordering::Equal {
                    return o;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// A string quoted as Go's `%q` does (for the printable strings manager names are).
pub(super) fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

pub(super) fn path_string(path: &[Pe]) -> String {
    path.iter().map(Pe::display).collect()
}

/// A set of field paths, as a tree: `member` says the path leading here is in the set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Set {
    pub(super) member: bool,
    pub(super) children: BTreeMap<Pe, Set>,
}

impl Set {
    pub(super) fn leaf() -> Set {
        Set {
            member: true,
            children: BTreeMap::new(),
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        !self.member && self.children.is_empty()
    }

    pub(super) fn insert(&mut self, path: &[Pe]) {
        let mut cur = self;
        for pe in path {
            cur = cur.children.entry(pe.clone()).or_default();
        }
        cur.member = true;
    }

    pub(super) fn union_with(&mut self, other: &Set) {
        self.member |= other.member;
        for (pe, c) in &other.children {
            self.children.entry(pe.clone()).or_default().union_with(c);
        }
    }

    /// The paths of `self` that are not paths of `other` (exactly; children stay).
    pub(super) fn difference(&self, other: &Set) -> Set {
        let mut out = Set {
            member: self.member && !other.member,
            children: BTreeMap::new(),
        };
        for (pe, c) in &self.children {
            let d = match other.children.get(pe) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                out.children.insert(pe.clone(), d);
            }
        }
        out
    }

    pub(super) fn intersection(&self, other: &Set) -> Set {
        let mut out = Set {
            member: self.member && other.member,
            children: BTreeMap::new(),
        };
        for (pe, c) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    out.children.insert(pe.clone(), i);
                }
            }
        }
        out
    }

    /// Removes the path and everything under it.
    pub(super) fn remove_tree(&mut self, path: &[Pe]) {
        let Some((first, rest)) = path.split_first() else {
            *self = Set::default();
            return;
        };
        if rest.is_empty() {
            self.children.remove(first);
            return;
        }
        if let Some(c) = self.children.get_mut(first) {
            c.remove_tree(rest);
            if c.is_empty() {
                self.children.remove(first);
            }
        }
    }

    /// Removes exactly the path (its children stay).
    pub(super) fn remove_member(&mut self, path: &[Pe]) {
        let Some((first, rest)) = path.split_first() else {
            self.member = false;
            return;
        };
        if let Some(c) = self.children.get_mut(first) {
            c.remove_member(rest);
            if c.is_empty() {
                self.children.remove(first);
            }
        }
    }

    /// The member paths in upstream's order: at each level the members, then the subtrees.
    pub(super) fn paths(&self) -> Vec<Vec<Pe>> {
        let mut out = Vec::new();
        self.collect_paths(&mut Vec::new(), &mut out);
        out
    }

    fn collect_paths(&self, prefix: &mut Vec<Pe>, out: &mut Vec<Vec<Pe>>) {
        for (pe, c) in &self.children {
            if c.member {
                let mut p = prefix.clone();
                p.push(pe.clone());
                out.push(p);
            }
        }
        for (pe, c) in &self.children {
            if !c.children.is_empty() {
                prefix.push(pe.clone());
                c.collect_paths(prefix, out);
                prefix.pop();
            }
        }
    }

    pub(super) fn to_fields_v1(&self) -> Value {
        let mut m = Obj::new();
        for (pe, c) in &self.children {
            let mut inner = Obj::new();
            if c.member && !c.children.is_empty() {
                inner.insert(".".into(), Value::Object(Obj::new()));
            }
            if let Value::Object(grand) = c.to_fields_v1() {
                inner.extend(grand);
            }
            m.insert(pe.encode(), Value::Object(inner));
        }
        Value::Object(m)
    }

    pub(super) fn from_fields_v1(v: &Value) -> Option<Set> {
        let m = v.as_object()?;
        let mut out = Set::default();
        for (k, c) in m {
            if k == "." {
                out.member = true;
                continue;
            }
            let pe = Pe::decode(k)?;
            let mut cs = Set::from_fields_v1(c)?;
            if c.as_object().is_some_and(Obj::is_empty) {
                cs.member = true;
            }
            out.children.insert(pe, cs);
        }
        Some(out)
    }
}

/// A path being walked: the field names (what the schema is keyed on; list elements add
/// none) and the full path.
#[derive(Debug, Default)]
pub(super) struct Trail {
    pub(super) fields: Vec<String>,
    pub(super) pes: Vec<Pe>,
}

impl Trail {
    pub(super) fn push_field(&mut self, name: &str) {
        self.fields.push(name.to_string());
        self.pes.push(Pe::Field(name.to_string()));
    }

    pub(super) fn pop_field(&mut self) {
        self.fields.pop();
        self.pes.pop();
    }

    pub(super) fn push_item(&mut self, pe: Pe) {
        self.pes.push(pe);
    }

    pub(super) fn pop_item(&mut self) {
        self.pes.pop();
    }

    pub(super) fn is_root(&self) -> bool {
        self.pes.is_empty()
    }

    /// Whether the path ends at a field (not at a list element).
    pub(super) fn at_field(&self) -> bool {
        matches!(self.pes.last(), Some(Pe::Field(_)))
    }

    pub(super) fn last_field(&self) -> &str {
        self.fields.last().map_or("", String::as_str)
    }
}
