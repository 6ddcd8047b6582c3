//! Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`), read into the JSON
//! form of the same object.
//!
//! client-go's typed clients (and so upstream kubectl's `create namespace|deployment|...`
//! generators and every Go controller) send request bodies as protobuf: the four bytes
//! `k8s\0`, then a `runtime.Unknown` message whose `typeMeta` names the kind and whose `raw`
//! holds the object's own message. The apiserver keeps JSON, so a body is transcoded here and
//! then takes the JSON path (typed decoding, defaulting, validation).
//!
//! The wire schema (field numbers, JSON names, types) is the generated table in `schema.rs`
//! (`hack/gen-proto-schema.py`). A few apimachinery messages have a JSON form of their own
//! (times, durations, quantities, int-or-string, raw JSON, string lists) and are mapped by
//! hand. Go's protobuf encoding writes non-pointer fields even when they hold the zero value;
//! empty strings and the zero time are therefore left out, as Go's JSON encoding leaves them
//! out with `omitempty`. Zero numbers and `false` are kept, because for pointer fields
//! (`replicas: 0`, `automountServiceAccountToken: false`) they carry meaning, except in the
//! common non-pointer fields of [`NON_POINTER_SCALARS`].

#[rustfmt::skip]
mod schema;

use base64::Engine as _;
use serde_json::{Map, Number, Value};

/// One protobuf message: its fields sorted by number.
pub struct Message {
    /// The k8s-pb module path and type name, e.g. `api.core.v1.Pod`.
    pub name: &'static str,
    pub fields: &'static [Field],
}

/// One field of a message.
pub struct Field {
    pub tag: u32,
    /// The JSON name; empty for an embedded (`json:",inline"`) struct whose fields belong to
    /// the parent object.
    pub json: &'static str,
    pub ty: Ty,
    pub repeated: bool,
}

/// A field's type.
pub enum Ty {
    Str,
    Bool,
    I32,
    I64,
    F64,
    Bytes,
    /// Another message, by name.
    Msg(&'static str),
    /// `map<string, V>`.
    Map(&'static Ty),
}

/// The prefix of every Kubernetes protobuf body.
pub const MAGIC: &[u8; 4] = b"k8s\0";

/// Why a protobuf body could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    #[error("the body does not start with the Kubernetes protobuf prefix \"k8s\\x00\"")]
    NoPrefix,
    #[error("malformed protobuf data at {at}: {what}")]
    Malformed { at: String, what: &'static str },
    #[error("no protobuf message is known for kind {kind:?} in {api_version:?}")]
    UnknownKind { api_version: String, kind: String },
    #[error("protobuf content encoding {0:?} is not supported")]
    ContentEncoding(String),
}

const TIME: &str = "apimachinery.pkg.apis.meta.v1.Time";
const MICRO_TIME: &str = "apimachinery.pkg.apis.meta.v1.MicroTime";
const DURATION: &str = "apimachinery.pkg.apis.meta.v1.Duration";
const FIELDS_V1: &str = "apimachinery.pkg.apis.meta.v1.FieldsV1";
const VERBS: &str = "apimachinery.pkg.apis.meta.v1.Verbs";
const QUANTITY: &str = "apimachinery.pkg.api.resource.Quantity";
const INT_OR_STRING: &str = "apimachinery.pkg.util.intstr.IntOrString";
const RAW_EXTENSION: &str = "apimachinery.pkg.runtime.RawExtension";

/// Number and boolean fields that are not pointers in Go's types, so that a zero value on the
/// wire means "not set" and Go's JSON leaves it out (`omitempty`): (message, JSON field).
const NON_POINTER_SCALARS: &[(&str, &str)] = &[
    ("api.apps.v1.DaemonSetSpec", "minReadySeconds"),
    ("api.apps.v1.DeploymentSpec", "minReadySeconds"),
    ("api.apps.v1.DeploymentSpec", "paused"),
    ("api.apps.v1.ReplicaSetSpec", "minReadySeconds"),
    ("api.apps.v1.StatefulSetSpec", "minReadySeconds"),
    ("api.core.v1.Container", "stdin"),
    ("api.core.v1.Container", "stdinOnce"),
    ("api.core.v1.Container", "tty"),
    ("api.core.v1.ContainerPort", "hostPort"),
    ("api.core.v1.PodSpec", "hostIPC"),
    ("api.core.v1.PodSpec", "hostNetwork"),
    ("api.core.v1.PodSpec", "hostPID"),
    ("api.core.v1.Probe", "failureThreshold"),
    ("api.core.v1.Probe", "initialDelaySeconds"),
    ("api.core.v1.Probe", "periodSeconds"),
    ("api.core.v1.Probe", "successThreshold"),
    ("api.core.v1.Probe", "timeoutSeconds"),
    ("api.core.v1.ReplicationControllerSpec", "minReadySeconds"),
    ("api.core.v1.ServicePort", "nodePort"),
    ("api.core.v1.ServiceSpec", "healthCheckNodePort"),
    ("api.core.v1.ServiceSpec", "publishNotReadyAddresses"),
    ("api.core.v1.VolumeMount", "readOnly"),
    ("apimachinery.pkg.apis.meta.v1.ObjectMeta", "generation"),
];

/// Go's zero `time.Time` (0001-01-01T00:00:00Z) in Unix seconds: what a never-set
/// `metav1.Time` (e.g. `creationTimestamp` of a new object) is encoded as.
const GO_ZERO_TIME: i64 = -62_135_596_800;

/// Decodes a whole body (`k8s\0` + `runtime.Unknown`) into the object's JSON, with `kind` and
/// `apiVersion` set from the envelope.
pub fn decode(body: &[u8]) -> Result<Value, Error> {
    decode_nested(body, 0)
}

/// Objects embedded in objects (`RawExtension`) nest at most this deep.
const MAX_NESTING: u32 = 8;

fn decode_nested(body: &[u8], depth: u32) -> Result<Value, Error> {
    if depth > MAX_NESTING {
        return Err(Error::Malformed {
            at: "RawExtension".into(),
            what: "objects embedded too deep",
        });
    }
    let rest = body.strip_prefix(MAGIC).ok_or(Error::NoPrefix)?;
    let mut api_version = String::new();
    let mut kind = String::new();
    let mut raw: &[u8] = &[];
    let mut r = Reader::new(rest, "Unknown");
    while let Some((tag, wire)) = r.key()? {
        match (tag, wire) {
            (1, 2) => {
                let mut t = Reader::new(r.bytes()?, "Unknown.typeMeta");
                while let Some((tag, wire)) = t.key()? {
                    match (tag, wire) {
                        (1, 2) => api_version = t.string()?,
                        (2, 2) => kind = t.string()?,
                        _ => t.skip(wire)?,
                    }
                }
            }
            (2, 2) => raw = r.bytes()?,
            (3, 2) => {
                let enc = r.string()?;
                if !enc.is_empty() {
                    return Err(Error::ContentEncoding(enc));
                }
            }
            _ => r.skip(wire)?,
        }
    }
    let msg = message_for(&api_version, &kind).ok_or_else(|| Error::UnknownKind {
        api_version: api_version.clone(),
        kind: kind.clone(),
    })?;
    let mut out = Map::new();
    out.insert("kind".into(), Value::String(kind));
    out.insert("apiVersion".into(), Value::String(api_version));
    decode_into(msg, raw, &mut out, msg.name, depth)?;
    Ok(Value::Object(out))
}

/// Whether a media type is Kubernetes' protobuf.
pub fn is_protobuf(media_type: &str) -> bool {
    media_type
        .split(';')
        .next()
        .is_some_and(|m| m.trim() == "application/vnd.kubernetes.protobuf")
}

/// The message of a top-level kind: the table of resources first, then a type of that name
/// in the group-version's package (kinds that are not resources: `DeleteOptions`, `Scale`,
/// `Eviction`, ...), then the meta package.
pub fn message_for(api_version: &str, kind: &str) -> Option<&'static Message> {
    if let Ok(i) = schema::KINDS.binary_search_by(|(av, k, _)| (*av, *k).cmp(&(api_version, kind)))
    {
        return message(schema::KINDS[i].2);
    }
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let package = match group {
        "" => "api.core".to_string(),
        "meta.k8s.io" => "apimachinery.pkg.apis.meta".to_string(),
        "internal.apiserver.k8s.io" => "api.apiserverinternal".to_string(),
        g => format!("api.{}", g.split('.').next().unwrap_or(g)),
    };
    let find = |module: &str| {
        schema::MESSAGES.iter().find(|m| {
            m.name
                .strip_prefix(module)
                .and_then(|rest| rest.strip_prefix('.'))
                .is_some_and(|name| name.eq_ignore_ascii_case(kind))
        })
    };
    find(&format!("{package}.{version}")).or_else(|| find("apimachinery.pkg.apis.meta.v1"))
}

fn message(name: &str) -> Option<&'static Message> {
    schema::MESSAGES
        .binary_search_by(|m| m.name.cmp(name))
        .ok()
        .map(|i| &schema::MESSAGES[i])
}

/// Decodes `data` as `msg`, adding its fields to `out` (fields of embedded structs too).
fn decode_into(
    msg: &Message,
    data: &[u8],
    out: &mut Map<String, Value>,
    at: &str,
    depth: u32,
) -> Result<(), Error> {
    let mut r = Reader::new(data, at);
    while let Some((tag, wire)) = r.key()? {
        let Ok(i) = msg.fields.binary_search_by_key(&tag, |f| f.tag) else {
            // Fields newer than our schema are skipped, as Go's decoder skips them.
            r.skip(wire)?;
            continue;
        };
        let field = &msg.fields[i];
        let at = if field.json.is_empty() {
            at.to_string()
        } else {
            format!("{at}.{}", field.json)
        };
        match &field.ty {
            Ty::Map(value_ty) => {
                let (key, value) = map_entry(value_ty, r.expect_bytes(wire)?, &at, depth)?;
                let entry = out
                    .entry(field.json)
                    .or_insert_with(|| Value::Object(Map::new()));
                if let (Value::Object(m), Some(v)) = (entry, value) {
                    m.insert(key, v);
                }
            }
            Ty::Msg(name) if field.json.is_empty() => {
                let inner = message(name).ok_or(Error::Malformed {
                    at: at.clone(),
                    what: "unknown embedded message",
                })?;
                decode_into(inner, r.expect_bytes(wire)?, out, &at, depth)?;
            }
            ty if field.repeated => {
                let mut items = Vec::new();
                if wire == 2 && matches!(ty, Ty::Bool | Ty::I32 | Ty::I64 | Ty::F64) {
                    // Packed numbers.
                    let mut p = Reader::new(r.bytes()?, &at);
                    while !p.done() {
                        let w = if matches!(ty, Ty::F64) { 1 } else { 0 };
                        items.push(scalar(ty, w, &mut p)?);
                    }
                } else {
                    items.push(value(ty, wire, &mut r, &at, true, depth)?.unwrap_or(Value::Null));
                }
                let entry = out
                    .entry(field.json)
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(a) = entry {
                    a.extend(items);
                }
            }
            ty => match value(ty, wire, &mut r, &at, false, depth)? {
                Some(Value::Object(new)) => match out.get_mut(field.json) {
                    // A message seen twice is merged, as protobuf merges it.
                    Some(Value::Object(old)) => old.extend(new),
                    _ => {
                        out.insert(field.json.into(), Value::Object(new));
                    }
                },
                Some(v) if is_zero(&v) && NON_POINTER_SCALARS.contains(&(msg.name, field.json)) => {
                }
                Some(v) => {
                    out.insert(field.json.into(), v);
                }
                None => {}
            },
        }
    }
    Ok(())
}

fn is_zero(v: &Value) -> bool {
    matches!(v, Value::Bool(false)) || v.as_i64() == Some(0)
}

/// One `map<string, V>` entry: key = 1, value = 2.
fn map_entry(ty: &Ty, data: &[u8], at: &str, depth: u32) -> Result<(String, Option<Value>), Error> {
    let mut r = Reader::new(data, at);
    let mut key = String::new();
    let mut val = None;
    while let Some((tag, wire)) = r.key()? {
        match tag {
            1 => key = r.string_wire(wire)?,
            2 => val = value(ty, wire, &mut r, at, true, depth)?,
            _ => r.skip(wire)?,
        }
    }
    // An absent value is the type's zero value.
    let val = val.or(match ty {
        Ty::Str | Ty::Bytes => Some(Value::String(String::new())),
        Ty::Msg(_) => Some(Value::Object(Map::new())),
        _ => None,
    });
    Ok((key, val))
}

/// One value; `None` when it stands for an absent field (an empty string or the zero time in a
/// singular field). `keep_empty` keeps empty strings (list items and map values).
fn value(
    ty: &Ty,
    wire: u8,
    r: &mut Reader<'_, '_>,
    at: &str,
    keep_empty: bool,
    depth: u32,
) -> Result<Option<Value>, Error> {
    match ty {
        Ty::Str => {
            let s = r.string_wire(wire)?;
            Ok((keep_empty || !s.is_empty()).then_some(Value::String(s)))
        }
        Ty::Bytes => {
            let b = r.expect_bytes(wire)?;
            Ok(Some(Value::String(
                base64::engine::general_purpose::STANDARD.encode(b),
            )))
        }
        Ty::Msg(name) => {
            let data = r.expect_bytes(wire)?;
            special(name, data, at, depth)?.map_or_else(
                || {
                    let msg = message(name).ok_or(Error::Malformed {
                        at: at.to_string(),
                        what: "unknown message type",
                    })?;
                    let mut m = Map::new();
                    decode_into(msg, data, &mut m, at, depth)?;
                    Ok(Some(Value::Object(m)))
                },
                Ok,
            )
        }
        Ty::Map(_) => Err(r.malformed("a map inside a map")),
        _ => scalar(ty, wire, r).map(Some),
    }
}

fn scalar(ty: &Ty, wire: u8, r: &mut Reader<'_, '_>) -> Result<Value, Error> {
    match (ty, wire) {
        (Ty::Bool, 0) => Ok(Value::Bool(r.varint()? != 0)),
        // int32 values are sign-extended to 64 bits on the wire.
        (Ty::I32, 0) => Ok(Value::from(r.varint()? as i64 as i32)),
        (Ty::I64, 0) => Ok(Value::from(r.varint()? as i64)),
        (Ty::F64, 1) => Number::from_f64(f64::from_bits(r.fixed64()?))
            .map(Value::Number)
            .ok_or_else(|| r.malformed("a number that is not finite")),
        _ => Err(r.malformed("wire type does not match the field's type")),
    }
}

/// The apimachinery messages whose JSON form is not an object of their fields. `Ok(None)`
/// when `name` is an ordinary message; `Ok(Some(None))` for a value that means "absent".
fn special(name: &str, data: &[u8], at: &str, depth: u32) -> Result<Option<Option<Value>>, Error> {
    let fields = || raw_fields(data, at);
    let num = |fs: &[RawField<'_>], tag: u32| {
        fs.iter()
            .rev()
            .find(|f| f.tag == tag && f.wire == 0)
            .map_or(0, |f| f.num)
    };
    let bytes = |fs: &[RawField<'_>], tag: u32| {
        fs.iter()
            .rev()
            .find(|f| f.tag == tag && f.wire == 2)
            .map(|f| f.data.to_vec())
    };
    let text = |b: Vec<u8>| {
        String::from_utf8(b).map_err(|_| Error::Malformed {
            at: at.to_string(),
            what: "a string that is not UTF-8",
        })
    };
    let raw_json = |b: &[u8]| -> Result<Value, Error> {
        if b.starts_with(MAGIC) {
            return decode_nested(b, depth + 1);
        }
        serde_json::from_slice(b).map_err(|_| Error::Malformed {
            at: at.to_string(),
            what: "embedded raw data that is not JSON",
        })
    };
    let v = match name {
        TIME | MICRO_TIME => {
            let fs = fields()?;
            let secs = num(&fs, 1) as i64;
            let nanos = num(&fs, 2) as i64 as i32;
            // The zero time is sent as Go's zero or as an empty message (the Unix epoch).
            if (secs == GO_ZERO_TIME || secs == 0) && nanos == 0 {
                return Ok(Some(None));
            }
            let micro = name == MICRO_TIME;
            let ts = jiff::Timestamp::new(secs, if micro { nanos / 1000 * 1000 } else { 0 })
                .map_err(|_| Error::Malformed {
                    at: at.to_string(),
                    what: "a time out of range",
                })?;
            let fmt = if micro {
                "%Y-%m-%dT%H:%M:%S%.6fZ"
            } else {
                "%Y-%m-%dT%H:%M:%SZ"
            };
            Value::String(ts.strftime(fmt).to_string())
        }
        DURATION => Value::String(go_duration(num(&fields()?, 1) as i64)),
        QUANTITY => {
            let s = bytes(&fields()?, 1).map(text).transpose()?;
            Value::String(s.filter(|s| !s.is_empty()).unwrap_or_else(|| "0".into()))
        }
        INT_OR_STRING => {
            let fs = fields()?;
            if num(&fs, 1) == 1 {
                Value::String(bytes(&fs, 3).map(text).transpose()?.unwrap_or_default())
            } else {
                Value::from(num(&fs, 2) as i64 as i32)
            }
        }
        RAW_EXTENSION | FIELDS_V1 => match bytes(&fields()?, 1) {
            Some(b) if !b.is_empty() => raw_json(&b)?,
            _ => return Ok(Some(None)),
        },
        n if n == VERBS || n.ends_with(".ExtraValue") => Value::Array(
            fields()?
                .into_iter()
                .filter(|f| f.tag == 1 && f.wire == 2)
                .map(|f| text(f.data.to_vec()).map(Value::String))
                .collect::<Result<_, _>>()?,
        ),
        _ => return Ok(None),
    };
    Ok(Some(Some(v)))
}

/// A field of a small message read without its schema (varints and length-delimited data).
struct RawField<'a> {
    tag: u32,
    wire: u8,
    data: &'a [u8],
    num: u64,
}

fn raw_fields<'a>(data: &'a [u8], at: &str) -> Result<Vec<RawField<'a>>, Error> {
    let mut r = Reader::new(data, at);
    let mut out = Vec::new();
    while let Some((tag, wire)) = r.key()? {
        match wire {
            0 => out.push(RawField {
                tag,
                wire,
                data: &[],
                num: r.varint()?,
            }),
            2 => out.push(RawField {
                tag,
                wire,
                data: r.bytes()?,
                num: 0,
            }),
            _ => r.skip(wire)?,
        }
    }
    Ok(out)
}

/// Go's `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`.
pub fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    // `value / 10^digits` with the fraction's trailing zeros removed.
    let frac = |value: u64, digits: usize| {
        let unit = 10u64.pow(digits as u32);
        let (whole, rest) = (value / unit, value % unit);
        if rest == 0 {
            whole.to_string()
        } else {
            format!("{whole}.{rest:0digits$}")
                .trim_end_matches('0')
                .to_string()
        }
    };
    let n = nanos.unsigned_abs();
    let s = if n < 1_000 {
        format!("{n}ns")
    } else if n < 1_000_000 {
        format!("{}µs", frac(n, 3))
    } else if n < 1_000_000_000 {
        format!("{}ms", frac(n, 6))
    } else {
        let secs = n / 1_000_000_000;
        let (h, m) = (secs / 3600, secs / 60 % 60);
        let sec = frac(secs % 60 * 1_000_000_000 + n % 1_000_000_000, 9);
        match (h, m) {
            (0, 0) => format!("{sec}s"),
            (0, m) => format!("{m}m{sec}s"),
            (h, m) => format!("{h}h{m}m{sec}s"),
        }
    };
    if nanos < 0 {
        format!("-{s}")
    } else {
        s
    }
}

/// A cursor over protobuf wire data.
struct Reader<'a, 'b> {
    buf: &'a [u8],
    pos: usize,
    /// Where in the object the data is, for errors.
    at: &'b str,
}

impl<'a, 'b> Reader<'a, 'b> {
    fn new(buf: &'a [u8], at: &'b str) -> Self {
        Reader { buf, pos: 0, at }
    }

    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn malformed(&self, what: &'static str) -> Error {
        Error::Malformed {
            at: self.at.to_string(),
            what,
        }
    }

    fn varint(&mut self) -> Result<u64, Error> {
        let mut v: u64 = 0;
        for shift in (0..70).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| self.malformed("truncated varint"))?;
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(self.malformed("varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(self.malformed("varint longer than 10 bytes"))
    }

    /// The next field's number and wire type, `None` at the end.
    fn key(&mut self) -> Result<Option<(u32, u8)>, Error> {
        if self.done() {
            return Ok(None);
        }
        let k = self.varint()?;
        let tag = u32::try_from(k >> 3).map_err(|_| self.malformed("field number too large"))?;
        if tag == 0 {
            return Err(self.malformed("field number 0"));
        }
        Ok(Some((tag, (k & 7) as u8)))
    }

    fn fixed64(&mut self) -> Result<u64, Error> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(b.try_into().expect("eight bytes")))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| self.malformed("truncated data"))?;
        let b = &self.buf[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    fn bytes(&mut self) -> Result<&'a [u8], Error> {
        let n = self.varint()?;
        let n = usize::try_from(n).map_err(|_| self.malformed("length too large"))?;
        self.take(n)
    }

    fn expect_bytes(&mut self, wire: u8) -> Result<&'a [u8], Error> {
        if wire != 2 {
            return Err(self.malformed("wire type does not match the field's type"));
        }
        self.bytes()
    }

    fn string(&mut self) -> Result<String, Error> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| self.malformed("a string that is not UTF-8"))
    }

    fn string_wire(&mut self, wire: u8) -> Result<String, Error> {
        if wire != 2 {
            return Err(self.malformed("wire type does not match the field's type"));
        }
        self.string()
    }

    fn skip(&mut self, wire: u8) -> Result<(), Error> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.take(8).map(drop),
            2 => self.bytes().map(drop),
            5 => self.take(4).map(drop),
            _ => Err(self.malformed("unsupported wire type")),
        }
    }
}

#[cfg(test)]
mod tests;
