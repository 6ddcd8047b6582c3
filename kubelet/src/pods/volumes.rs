//! Pod volumes under `<root-dir>/pods/<uid>/volumes/<plugin>/<name>`: emptyDir (a directory,
//! or tmpfs for `medium: Memory`), hostPath, and configMap, secret, downwardAPI and projected
//! volumes written as upstream's atomic writer does (files in a timestamped directory that a
//! `..data` symlink points at, swapped in one rename so readers never see half an update).

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{ConfigMap, KeyToPath, Pod, Secret, Volume};

use super::env::{field_value, resource_value, PodContext};

/// Errors preparing volumes (the pod waits with `ContainerCreating` and an event-like log).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("volume {volume:?}: {path}: {source}")]
    Io {
        volume: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("volume {volume:?}: configmap {name:?} not found")]
    ConfigMapNotFound { volume: String, name: String },
    #[error("volume {volume:?}: secret {name:?} not found")]
    SecretNotFound { volume: String, name: String },
    #[error("volume {volume:?}: key {key:?} not found")]
    Key { volume: String, key: String },
    #[error("volume {volume:?}: {message}")]
    Invalid { volume: String, message: String },
}

/// The pod's directory under the root dir.
pub fn pod_dir(root: &Path, uid: &str) -> PathBuf {
    root.join("pods").join(uid)
}

/// The ConfigMaps and Secrets the pod's volumes name.
pub fn references(pod: &Pod) -> (Vec<String>, Vec<String>) {
    let (mut cms, mut secrets) = (Vec::new(), Vec::new());
    for v in volumes(pod) {
        if let Some(c) = &v.config_map {
            cms.push(c.name.clone());
        }
        if let Some(s) = &v.secret {
            secrets.extend(s.secret_name.clone());
        }
        for src in v.projected.iter().flat_map(|p| p.sources.iter().flatten()) {
            if let Some(c) = &src.config_map {
                cms.push(c.name.clone());
            }
            if let Some(s) = &src.secret {
                secrets.push(s.name.clone());
            }
        }
    }
    (cms, secrets)
}

fn volumes(pod: &Pod) -> &[Volume] {
    pod.spec
        .as_ref()
        .and_then(|s| s.volumes.as_deref())
        .unwrap_or(&[])
}

/// A file of a volume: its bytes and mode.
type Payload = BTreeMap<String, (Vec<u8>, u32)>;

/// Prepares every volume of the pod (or refreshes its files) and returns the host path of
/// each by name.
pub fn setup(
    pod: &Pod,
    root: &Path,
    config_maps: &HashMap<String, ConfigMap>,
    secrets: &HashMap<String, Secret>,
    ctx: &PodContext,
) -> Result<HashMap<String, PathBuf>, Error> {
    let uid = pod.metadata.uid.as_deref().unwrap_or_default();
    let base = pod_dir(root, uid).join("volumes");
    let mut out = HashMap::new();
    for v in volumes(pod) {
        let name = v.name.clone();
        let io = |path: &Path| {
            let volume = name.clone();
            let path = path.to_path_buf();
            move |source| Error::Io {
                volume,
                path,
                source,
            }
        };
        let dir_for = |plugin: &str| base.join(format!("kubernetes.io~{plugin}")).join(&name);
        let path = if let Some(h) = &v.host_path {
            let p = PathBuf::from(&h.path);
            match h.type_.as_deref().unwrap_or("") {
                "DirectoryOrCreate" => std::fs::create_dir_all(&p).map_err(io(&p))?,
                "FileOrCreate" if !p.exists() => std::fs::write(&p, b"").map_err(io(&p))?,
                "Directory" if !p.is_dir() => {
                    return Err(Error::Invalid {
                        volume: name,
                        message: format!(
                            "hostPath type check failed: {} is not a directory",
                            h.path
                        ),
                    })
                }
                "File" if !p.is_file() => {
                    return Err(Error::Invalid {
                        volume: name,
                        message: format!("hostPath type check failed: {} is not a file", h.path),
                    })
                }
                _ => {}
            }
            p
        } else if let Some(e) = &v.empty_dir {
            let p = dir_for("empty-dir");
            std::fs::create_dir_all(&p).map_err(io(&p))?;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o777)).map_err(io(&p))?;
            if e.medium.as_deref() == Some("Memory") && !is_mount_point(&p) {
                let size = e.size_limit.as_ref().map(|q| format!("size={}", q.0));
                mount_tmpfs(&p, size.as_deref()).map_err(io(&p))?;
            }
            p
        } else if let Some(c) = &v.config_map {
            let p = dir_for("configmap");
            let mode = c.default_mode.unwrap_or(0o644) as u32;
            let payload = match config_maps.get(&c.name) {
                Some(cm) => config_map_payload(cm, c.items.as_deref(), mode, &name)?,
                None if c.optional == Some(true) => Payload::new(),
                None => {
                    return Err(Error::ConfigMapNotFound {
                        volume: name,
                        name: c.name.clone(),
                    })
                }
            };
            write_atomic(&p, &payload).map_err(io(&p))?;
            p
        } else if let Some(s) = &v.secret {
            let p = dir_for("secret");
            let sname = s.secret_name.clone().unwrap_or_default();
            let mode = s.default_mode.unwrap_or(0o644) as u32;
            let payload = match secrets.get(&sname) {
                Some(sec) => secret_payload(sec, s.items.as_deref(), mode, &name)?,
                None if s.optional == Some(true) => Payload::new(),
                None => {
                    return Err(Error::SecretNotFound {
                        volume: name,
                        name: sname,
                    })
                }
            };
            write_atomic(&p, &payload).map_err(io(&p))?;
            p
        } else if let Some(d) = &v.downward_api {
            let p = dir_for("downward-api");
            let mode = d.default_mode.unwrap_or(0o644) as u32;
            let payload =
                downward_payload(pod, d.items.as_deref().unwrap_or(&[]), mode, ctx, &name)?;
            write_atomic(&p, &payload).map_err(io(&p))?;
            p
        } else if let Some(pr) = &v.projected {
            let p = dir_for("projected");
            let mode = pr.default_mode.unwrap_or(0o644) as u32;
            let mut payload = Payload::new();
            for src in pr.sources.iter().flatten() {
                if let Some(c) = &src.config_map {
                    match config_maps.get(&c.name) {
                        Some(cm) => {
                            payload.extend(config_map_payload(cm, c.items.as_deref(), mode, &name)?)
                        }
                        None if c.optional == Some(true) => {}
                        None => {
                            return Err(Error::ConfigMapNotFound {
                                volume: name,
                                name: c.name.clone(),
                            })
                        }
                    }
                }
                if let Some(s) = &src.secret {
                    match secrets.get(&s.name) {
                        Some(sec) => {
                            payload.extend(secret_payload(sec, s.items.as_deref(), mode, &name)?)
                        }
                        None if s.optional == Some(true) => {}
                        None => {
                            return Err(Error::SecretNotFound {
                                volume: name,
                                name: s.name.clone(),
                            })
                        }
                    }
                }
                if let Some(d) = &src.downward_api {
                    payload.extend(downward_payload(
                        pod,
                        d.items.as_deref().unwrap_or(&[]),
                        mode,
                        ctx,
                        &name,
                    )?);
                }
            }
            write_atomic(&p, &payload).map_err(io(&p))?;
            p
        } else {
            return Err(Error::Invalid {
                volume: name,
                message: "unsupported volume type".into(),
            });
        };
        out.insert(v.name.clone(), path);
    }
    Ok(out)
}

fn items_payload(
    data: BTreeMap<String, Vec<u8>>,
    items: Option<&[KeyToPath]>,
    mode: u32,
    volume: &str,
) -> Result<Payload, Error> {
    let mut out = Payload::new();
    match items {
        None => {
            for (k, v) in data {
                out.insert(k, (v, mode));
            }
        }
        Some(items) => {
            for item in items {
                let Some(v) = data.get(&item.key) else {
                    return Err(Error::Key {
                        volume: volume.into(),
                        key: item.key.clone(),
                    });
                };
                let m = item.mode.map(|m| m as u32).unwrap_or(mode);
                out.insert(item.path.clone(), (v.clone(), m));
            }
        }
    }
    for path in out.keys() {
        if path.starts_with('/') || path.split('/').any(|c| c == ".." || c.starts_with("..")) {
            return Err(Error::Invalid {
                volume: volume.into(),
                message: format!("invalid path {path:?}"),
            });
        }
    }
    Ok(out)
}

fn config_map_payload(
    cm: &ConfigMap,
    items: Option<&[KeyToPath]>,
    mode: u32,
    volume: &str,
) -> Result<Payload, Error> {
    let mut data: BTreeMap<String, Vec<u8>> = cm
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone().into_bytes()))
        .collect();
    data.extend(
        cm.binary_data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.0.clone())),
    );
    items_payload(data, items, mode, volume)
}

fn secret_payload(
    s: &Secret,
    items: Option<&[KeyToPath]>,
    mode: u32,
    volume: &str,
) -> Result<Payload, Error> {
    let data = s
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.0.clone()))
        .collect();
    items_payload(data, items, mode, volume)
}

fn downward_payload(
    pod: &Pod,
    items: &[k8s_openapi::api::core::v1::DownwardAPIVolumeFile],
    mode: u32,
    ctx: &PodContext,
    volume: &str,
) -> Result<Payload, Error> {
    let mut out = Payload::new();
    let invalid = |message: String| Error::Invalid {
        volume: volume.into(),
        message,
    };
    for item in items {
        let value = if let Some(f) = &item.field_ref {
            field_value(pod, &f.field_path, ctx).map_err(|e| invalid(e.to_string()))?
        } else if let Some(r) = &item.resource_field_ref {
            let spec = pod.spec.as_ref();
            let c = spec
                .and_then(|s| {
                    s.containers
                        .iter()
                        .find(|c| Some(&c.name) == r.container_name.as_ref())
                })
                .ok_or_else(|| invalid(format!("container {:?} not found", r.container_name)))?;
            resource_value(
                c,
                &r.resource,
                r.divisor.as_ref().map(|d| d.0.as_str()),
                ctx,
            )
            .map_err(|e| invalid(e.to_string()))?
        } else {
            String::new()
        };
        let m = item.mode.map(|m| m as u32).unwrap_or(mode);
        out.insert(item.path.clone(), (value.into_bytes(), m));
    }
    Ok(out)
}

const DATA: &str = "..data";

/// Writes `payload` into `dir` through a new `..<timestamp>` directory and a `..data` symlink
/// swap; top-level names are symlinks through `..data`. Does nothing when the files already
/// hold `payload`.
pub fn write_atomic(dir: &Path, payload: &Payload) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let data = dir.join(DATA);
    if let Ok(current) = std::fs::read_link(&data) {
        let current = dir.join(current);
        if same_files(&current, payload) {
            return Ok(());
        }
    }
    let stamp = jiff::Timestamp::now()
        .strftime("%Y_%m_%d_%H_%M_%S.%f")
        .to_string();
    let new_dir = dir.join(format!("..{stamp}"));
    std::fs::create_dir_all(&new_dir)?;
    for (path, (bytes, mode)) in payload {
        let file = new_dir.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, bytes)?;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(*mode))?;
    }
    let old = std::fs::read_link(&data).ok();
    let tmp = dir.join("..data_tmp");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(new_dir.file_name().unwrap_or_default(), &tmp)?;
    std::fs::rename(&tmp, &data)?;
    // Top-level entries: one symlink per first path component.
    let wanted: std::collections::BTreeSet<String> = payload
        .keys()
        .filter_map(|p| p.split('/').next().map(str::to_string))
        .collect();
    for name in &wanted {
        let link = dir.join(name);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(Path::new(DATA).join(name), &link)?;
        }
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with("..") && !wanted.contains(&name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
    if let Some(old) = old {
        let _ = std::fs::remove_dir_all(dir.join(old));
    }
    Ok(())
}

fn same_files(dir: &Path, payload: &Payload) -> bool {
    let mut count = 0;
    for (path, (bytes, mode)) in payload {
        let file = dir.join(path);
        match (std::fs::read(&file), std::fs::metadata(&file)) {
            (Ok(b), Ok(m)) if &b == bytes && m.permissions().mode() & 0o7777 == *mode => count += 1,
            _ => return false,
        }
    }
    count_files(dir) == count
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        count_files(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn is_mount_point(path: &Path) -> bool {
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let p = path.to_string_lossy();
    mounts
        .lines()
        .any(|l| l.split(' ').nth(4).is_some_and(|m| m == p))
}

fn mount_tmpfs(path: &Path, options: Option<&str>) -> std::io::Result<()> {
    let data = std::ffi::CString::new(options.unwrap_or("")).map_err(std::io::Error::other)?;
    rustix::mount::mount(
        "tmpfs",
        path,
        "tmpfs",
        rustix::mount::MountFlags::empty(),
        Some(data.as_c_str()),
    )
    .map_err(std::io::Error::from)
}

/// Removes the pod's directory, unmounting any tmpfs volumes under it first.
pub fn teardown(root: &Path, uid: &str) -> std::io::Result<()> {
    let dir = pod_dir(root, uid);
    if !dir.exists() {
        return Ok(());
    }
    let prefix = format!("{}/", dir.display());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut points: Vec<&str> = mounts
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .filter(|m| m.starts_with(&prefix))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in points {
        rustix::mount::unmount(p, rustix::mount::UnmountFlags::DETACH)
            .map_err(std::io::Error::from)?;
    }
    std::fs::remove_dir_all(&dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(pairs: &[(&str, &str)]) -> Payload {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), (v.as_bytes().to_vec(), 0o644)))
            .collect()
    }

    #[test]
    fn atomic_writes_swap_data_and_prune_keys() {
        let dir = tempfile::tempdir().unwrap();
        let vol = dir.path().join("v");
        write_atomic(&vol, &payload(&[("a", "1"), ("b", "2")])).unwrap();
        assert_eq!(std::fs::read_to_string(vol.join("a")).unwrap(), "1");
        assert_eq!(
            std::fs::read_link(vol.join("a")).unwrap(),
            Path::new("..data/a")
        );
        let first = std::fs::read_link(vol.join(DATA)).unwrap();
        // Unchanged content: no new directory.
        write_atomic(&vol, &payload(&[("a", "1"), ("b", "2")])).unwrap();
        assert_eq!(std::fs::read_link(vol.join(DATA)).unwrap(), first);
        write_atomic(&vol, &payload(&[("a", "3")])).unwrap();
        assert_eq!(std::fs::read_to_string(vol.join("a")).unwrap(), "3");
        assert!(!vol.join("b").exists());
        assert_ne!(std::fs::read_link(vol.join(DATA)).unwrap(), first);
        assert!(!vol.join(first).exists(), "the old generation is removed");
    }

    #[test]
    fn config_map_items_and_bad_paths() {
        let cm: ConfigMap = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "c"}, "data": {"k": "v", "other": "x"}
        }))
        .unwrap();
        let items = [KeyToPath {
            key: "k".into(),
            path: "dir/file".into(),
            mode: Some(0o600),
        }];
        let p = config_map_payload(&cm, Some(&items), 0o644, "vol").unwrap();
        assert_eq!(p["dir/file"], (b"v".to_vec(), 0o600));
        assert_eq!(p.len(), 1);
        let bad = [KeyToPath {
            key: "k".into(),
            path: "../x".into(),
            mode: None,
        }];
        assert!(config_map_payload(&cm, Some(&bad), 0o644, "vol").is_err());
        let missing = [KeyToPath {
            key: "nope".into(),
            path: "x".into(),
            mode: None,
        }];
        let err = config_map_payload(&cm, Some(&missing), 0o644, "vol").unwrap_err();
        assert_eq!(err.to_string(), "volume \"vol\": key \"nope\" not found");
    }

    #[test]
    fn setup_writes_every_kind_and_teardown_removes_them() {
        let root = tempfile::tempdir().unwrap();
        let host = root.path().join("host");
        let pod: Pod = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p", "namespace": "ns", "uid": "u1", "labels": {"a": "b"}},
            "spec": {"containers": [{"name": "c"}], "volumes": [
                {"name": "scratch", "emptyDir": {}},
                {"name": "h", "hostPath": {"path": host.to_str().unwrap(), "type": "DirectoryOrCreate"}},
                {"name": "cfg", "configMap": {"name": "cm"}},
                {"name": "sec", "secret": {"secretName": "s", "defaultMode": 0o400}},
                {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
            ]}
        }))
        .unwrap();
        let cm: ConfigMap = serde_json::from_value(
            serde_json::json!({"metadata": {"name": "cm"}, "data": {"x": "1"}}),
        )
        .unwrap();
        let s: Secret = serde_json::from_value(
            serde_json::json!({"metadata": {"name": "s"}, "data": {"p": "cGFzcw=="}}),
        )
        .unwrap();
        let paths = setup(
            &pod,
            root.path(),
            &[("cm".to_string(), cm)].into(),
            &[("s".to_string(), s)].into(),
            &PodContext::default(),
        )
        .unwrap();
        assert!(paths["scratch"].is_dir());
        assert!(host.is_dir());
        assert_eq!(
            std::fs::read_to_string(paths["cfg"].join("x")).unwrap(),
            "1"
        );
        let secret = paths["sec"].join("p");
        assert_eq!(std::fs::read_to_string(&secret).unwrap(), "pass");
        assert_eq!(
            std::fs::metadata(&secret).unwrap().permissions().mode() & 0o777,
            0o400
        );
        assert_eq!(
            std::fs::read_to_string(paths["info"].join("labels")).unwrap(),
            "a=\"b\""
        );
        teardown(root.path(), "u1").unwrap();
        assert!(!pod_dir(root.path(), "u1").exists());
        assert!(host.exists(), "hostPath contents are never removed");
        // A missing ConfigMap is an error naming it.
        let err = setup(
            &pod,
            root.path(),
            &HashMap::new(),
            &HashMap::new(),
            &PodContext::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "volume \"cfg\": configmap \"cm\" not found"
        );
    }
}
